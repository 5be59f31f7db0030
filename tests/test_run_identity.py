"""Run folders with identity: fingerprints, refusal of another configuration, --overwrite, temporary files of
interrupted writes, and the checkpointed enumeration that resumes by block."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from aitheory.results import (
    RunFolder,
    RunFolderError,
    claim_new_run_folder,
    clean_temporary_files,
    fingerprint,
    read_json,
)


@dataclass(frozen=True)
class _Config:
    bits: int = 12
    budgets: tuple[float, ...] = (0.5, float("inf"))


def test_the_fingerprint_of_a_config_and_of_its_json_agree(tmp_path: Path) -> None:
    folder = RunFolder.open(tmp_path / "a", "demo", _Config())
    saved = read_json(folder.file("config.json"))
    assert saved["kind"] == "demo" and saved["code_version"] and saved["provenance"]["code_version"]
    assert saved["fingerprint"] == fingerprint("demo", _Config()) == fingerprint("demo", saved["config"])
    assert fingerprint("demo", _Config(bits=15)) != saved["fingerprint"] != fingerprint("other", _Config())
    assert folder.fingerprint == saved["fingerprint"]


def test_another_configuration_is_refused_and_overwrite_clears(tmp_path: Path) -> None:
    out = tmp_path / "run"
    RunFolder.open(out, "demo", _Config()).file("metrics.csv").write_text("a\n1\n")
    again = RunFolder.open(out, "demo", _Config())  # the same configuration: reused (resume)
    assert again.file("metrics.csv").exists()
    with pytest.raises(RunFolderError, match=r"another configuration \(bits 12 there, 15 here\)"):
        RunFolder.open(out, "demo", _Config(bits=15))
    with pytest.raises(RunFolderError, match="a demo run"):
        RunFolder.open(out, "other", _Config())
    cleared = RunFolder.open(out, "demo", _Config(bits=15), overwrite=True)
    assert not cleared.file("metrics.csv").exists()
    assert read_json(cleared.file("config.json"))["config"]["bits"] == 15


def test_a_code_version_difference_is_not_refused(tmp_path: Path) -> None:
    folder = RunFolder.open(tmp_path / "run", "demo", _Config())
    saved = read_json(folder.file("config.json"))
    saved["code_version"] = "0.0.1+gdeadbee"
    saved["provenance"]["git_sha"] = "deadbeef"
    folder.file("config.json").write_text(json.dumps(saved))
    assert RunFolder.open(tmp_path / "run", "demo", _Config()).path == folder.path


def test_a_folder_written_before_fingerprints_is_compared_by_its_config(tmp_path: Path) -> None:
    out = tmp_path / "old"
    out.mkdir()
    (out / "config.json").write_text(json.dumps({"config": {"bits": 12, "budgets": [0.5, "inf"]}}))
    RunFolder.open(out, "demo", _Config())
    with pytest.raises(RunFolderError, match=r"another configuration \(bits 12 there, 9 here\)"):
        RunFolder.open(out, "demo", _Config(bits=9))


def test_empty_and_file_outs_are_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    for bad in ("", tmp_path / "f"):
        with pytest.raises(RunFolderError):
            RunFolder.open(bad, "demo", _Config())
        with pytest.raises(RunFolderError):
            claim_new_run_folder(bad)


def test_a_new_run_never_overwrites_a_finished_one(tmp_path: Path) -> None:
    out = tmp_path / "run"
    RunFolder.open(out, "llm-train", _Config()).file("summary.json").write_text("{}")
    with pytest.raises(RunFolderError, match="already holds a run"):
        claim_new_run_folder(out)
    claim_new_run_folder(out, overwrite=True)
    assert list(out.iterdir()) == []
    claim_new_run_folder(out)  # empty: fine
    claim_new_run_folder(tmp_path / "new")  # absent: fine


def test_temporary_files_of_interrupted_writes_are_cleaned_on_the_next_run(tmp_path: Path) -> None:
    folder = RunFolder.open(tmp_path / "run", "demo", _Config())
    (folder.path / "figs").mkdir()
    stale = [folder.path / ".summary.json.abc123.tmp", folder.path / "figs" / ".f.png.x1y2.tmp"]
    for p in stale:
        p.write_bytes(b"half")
    (folder.path / "keep.tmp").write_text("a user's file")
    RunFolder.open(tmp_path / "run", "demo", _Config())
    assert not any(p.exists() for p in stale) and (folder.path / "keep.tmp").exists()
    assert clean_temporary_files(tmp_path / "absent") == []


def test_the_checkpointed_enumeration_resumes_and_matches(tmp_path: Path) -> None:
    from aitheory.dsl.behaviour import EnumConfig, _block_size, behaviour_table, tabulate_block
    from aitheory.dsl.checkpoint import checkpointed_table, load_checkpoint, save_checkpoint
    from aitheory.dsl.enumerate import blocks

    config = EnumConfig(max_bits=15, horizon=4, block_size=256)
    want = behaviour_table(config)
    block_list = list(blocks(config.max_bits, _block_size(config)))
    assert len(block_list) > 4
    # a run killed after blocks 1 and 3 (out of order, as from a pool): their rows are in the checkpoint
    from aitheory.dsl.behaviour import merge_partials

    part = merge_partials([tabulate_block(block_list[1], config), tabulate_block(block_list[3], config)])
    path = tmp_path / "enum.checkpoint.npz"
    save_checkpoint(path, config, part, {1, 3})
    got = checkpointed_table(config, path, every_seconds=0.0)
    for name in ("actions", "status", "weight", "count", "first"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
    assert got.total_steps == want.total_steps
    loaded = load_checkpoint(path, config)
    assert loaded is not None and loaded[1] == set(range(len(block_list)))
    with pytest.raises(ValueError, match="another enumeration"):
        load_checkpoint(path, EnumConfig(max_bits=15, horizon=5, block_size=256))


def test_the_checkpointed_enumeration_merges_pending_rows_in_bounded_memory(tmp_path: Path) -> None:
    from aitheory.dsl.behaviour import EnumConfig, behaviour_table
    from aitheory.dsl.checkpoint import checkpointed_table, load_checkpoint

    config = EnumConfig(max_bits=15, horizon=4, block_size=256)
    want = behaviour_table(config)
    for merge_rows in (1, 50, 1 << 30):  # merge after every block, every few blocks, only at the end
        path = tmp_path / f"m{merge_rows}.checkpoint.npz"
        got = checkpointed_table(config, path, every_seconds=1e9, merge_rows=merge_rows)
        for name in ("actions", "status", "weight", "count", "first"):
            np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
        assert got.total_steps == want.total_steps
        loaded = load_checkpoint(path, config)
        assert loaded is not None and loaded[0].programs == want.programs


def test_dsl_enumerate_cli_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from aitheory.cli import main

    out = tmp_path / "t.npz"
    assert main(["dsl", "enumerate", "--max-bits", "12", "--horizon", "4", "--out", str(out)]) == 0
    first = json.loads(capsys.readouterr().out)
    assert out.exists() and not (tmp_path / "t.npz.checkpoint.npz").exists()
    ck = tmp_path / "keep.npz"
    assert main(["dsl", "enumerate", "--max-bits", "12", "--horizon", "4", "--checkpoint", str(ck)]) == 0
    again = json.loads(capsys.readouterr().out)
    assert ck.exists() and again["mass_exact"] == first["mass_exact"] and again["behaviours"] == first["behaviours"]
    assert main(["dsl", "enumerate", "--max-bits", "12", "--horizon", "5", "--checkpoint", str(ck)]) == 2
    assert "another enumeration" in capsys.readouterr().err


def test_only_the_target_s_temporary_files_are_cleaned(tmp_path: Path) -> None:
    (tmp_path / ".t.npz.a1.tmp").write_bytes(b"x")
    (tmp_path / ".other.npz.b2.tmp").write_bytes(b"x")
    assert [p.name for p in clean_temporary_files(tmp_path, "t.npz")] == [".t.npz.a1.tmp"]
    assert (tmp_path / ".other.npz.b2.tmp").exists()
