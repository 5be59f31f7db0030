"""Smoke training: a run folder with config, metrics, transcripts and a checkpoint; resume is exact."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("vaderSentiment")

from aitheory.llm.config import get_config  # noqa: E402
from aitheory.llm.ppo import CHECKPOINT, TRAIN_KIND, discounted_returns, train  # noqa: E402
from aitheory.results import RunFolderError, fingerprint  # noqa: E402

pytestmark = pytest.mark.usefixtures("restore_torch_threads")


def test_discounted_returns_per_environment() -> None:
    rewards = torch.tensor([0.0, 1.0, 0.0, 0.5, 2.0])
    env = torch.tensor([0, 1, 0, 1, 0])
    assert discounted_returns(rewards, env, 1.0).tolist() == [2.0, 1.5, 2.0, 0.5, 2.0]
    assert discounted_returns(rewards, env, 0.5).tolist() == [0.5, 1.25, 1.0, 0.5, 2.0]


def test_smoke_run_writes_its_folder(smoke_run: Path) -> None:
    config = json.loads((smoke_run / "config.json").read_text())
    assert config["config"]["name"] == "smoke" and config["provenance"]["seed"] == 0
    assert config["kind"] == TRAIN_KIND and config["code_version"]  # identity, as for every run folder
    assert config["fingerprint"] == fingerprint(TRAIN_KIND, get_config("smoke"))
    rows = list(csv.DictReader((smoke_run / "metrics.csv").open()))
    cfg = get_config("smoke")
    assert len(rows) >= 2 and int(rows[-1]["agent_tokens"]) >= cfg.total_tokens
    assert float(rows[0]["budget"]) < cfg.budget  # ramp
    transcripts = sorted((smoke_run / "transcripts").glob("*.jsonl"))
    assert len(transcripts) == len(rows)
    episode = json.loads(transcripts[0].read_text().splitlines()[0])
    assert len(episode["token_ids"]) == episode["episode_tokens"]
    assert (smoke_run / CHECKPOINT).exists()
    summary = json.loads((smoke_run / "summary.json").read_text())
    assert summary["finished"] is True


def test_resume_after_interruption_gives_the_same_state(smoke_run: Path, tmp_path: Path) -> None:
    cfg = get_config("smoke")
    out = tmp_path / "interrupted"
    train(cfg, out=out, max_iterations=1)
    first = list(csv.DictReader((out / "metrics.csv").open()))
    assert len(first) == 1
    train(cfg, out=out, resume=True)
    a = torch.load(smoke_run / CHECKPOINT, weights_only=True)
    b = torch.load(out / CHECKPOINT, weights_only=True)
    assert a["iteration"] == b["iteration"] and a["agent_tokens"] == b["agent_tokens"]
    for key in ("actor", "critic"):
        for name, value in a[key].items():
            assert torch.equal(value, b[key][name]), f"{key}.{name} differs after resume"
    assert torch.equal(a["generator"], b["generator"])
    drop = {"seconds"}
    assert [{k: v for k, v in r.items() if k not in drop} for r in a["metrics"]] == [
        {k: v for k, v in r.items() if k not in drop} for r in b["metrics"]
    ]
    last = sorted((out / "transcripts").glob("*.jsonl"))[-1].name
    assert (out / "transcripts" / last).read_text() == (smoke_run / "transcripts" / last).read_text()


def test_full_vocabulary_head_trains(tmp_path: Path) -> None:
    """The paper's head (1 + V outputs, no tail atom) runs through the same training code."""
    from aitheory.llm.config import with_overrides

    cfg = with_overrides(get_config("smoke"), {"head": "full", "n_envs": 2, "long_tokens": 0, "full_tokens": 0})
    run = train(cfg, out=tmp_path / "full")
    state = torch.load(run / CHECKPOINT, weights_only=True)
    weight = state["actor"]["linear.weight"]
    from aitheory.llm.models import tiny_tokenizer

    assert weight.shape[0] == 1 + len(tiny_tokenizer(cfg.tiny_vocab))  # budget neuron + one row per token
    assert float(weight.abs().sum()) > 0  # the zero-initialised head moved
    episode = json.loads(sorted((run / "transcripts").glob("*.jsonl"))[-1].read_text().splitlines()[0])
    assert len(episode["token_ids"]) == cfg.episode_tokens


def test_a_resume_with_another_configuration_is_refused(smoke_run: Path, tmp_path: Path) -> None:
    """The run folder's identity (RunFolder.open) refuses the resume before the model loads; nothing is written."""
    import shutil

    from aitheory.llm.config import with_overrides

    run = tmp_path / "run"
    shutil.copytree(smoke_run, run)
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    with pytest.raises(RunFolderError, match=r"another configuration \(budget .* there, 7\.0 here\)"):
        train(with_overrides(get_config("smoke"), {"budget": 7.0}), out=run, resume=True)
    with pytest.raises(RunFolderError, match="another configuration"):  # a new run into it likewise
        train(with_overrides(get_config("smoke"), {"budget": 7.0}), out=run)
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


def test_a_folder_written_before_fingerprints_resumes_and_is_compared_by_its_config(tmp_path: Path) -> None:
    """config.json without kind/fingerprint (as written before, e.g. /work/llm-runs/cpu16-b10): the same saved
    configuration resumes, from the command line too, and config.json is left as it was; another is refused."""
    from aitheory.cli import main
    from aitheory.llm.config import with_overrides

    cfg = get_config("smoke")
    out = tmp_path / "legacy"
    train(cfg, out=out, max_iterations=1)
    saved = json.loads((out / "config.json").read_text())
    legacy = json.dumps({"config": saved["config"], "provenance": saved["provenance"]}, indent=2)
    (out / "config.json").write_text(legacy)
    with pytest.raises(RunFolderError, match=r"another configuration \(seed 0 there, 1 here\)"):
        train(with_overrides(cfg, {"seed": 1}), out=out, resume=True)
    assert main(["llm", "train", "--resume", "--out", str(out), "--max-iterations", "1"]) == 0
    assert len(list(csv.DictReader((out / "metrics.csv").open()))) == 2
    assert (out / "config.json").read_text() == legacy


def test_resume_without_checkpoint_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        train(get_config("smoke"), out=tmp_path, resume=True)


class _Payload:
    """Unpickling this runs code: it touches a file (what a malicious checkpoint could do)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (Path.touch, (self.marker,))


def test_a_checkpoint_carrying_a_pickled_object_is_refused(smoke_run: Path, tmp_path: Path) -> None:
    """weights_only=True: the payload is not run, train --resume exits 2 with a one-line message."""
    import shutil

    from aitheory.cli import main
    from aitheory.llm.ppo import CheckpointError, load_checkpoint

    run = tmp_path / "shared"
    shutil.copytree(smoke_run, run)
    marker = tmp_path / "code-ran"
    state = torch.load(run / CHECKPOINT, weights_only=True)
    state["metrics"] = [_Payload(marker)]
    torch.save(state, run / CHECKPOINT)
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(run / CHECKPOINT)
    assert main(["llm", "train", "--resume", "--out", str(run)]) == 2
    assert not marker.exists()


def test_standardised_embed_head_run_resumes_exactly(tmp_path: Path) -> None:
    """cpu16's head and features on the tiny model: statistics set and saved, checkpoint without E, exact resume."""
    from aitheory.llm.config import with_overrides

    cfg = with_overrides(
        get_config("smoke"), {"head": "embed", "feature_norm": "standard", "n_envs": 2, "long_tokens": 0}
    )
    whole = train(cfg, out=tmp_path / "whole")
    part = tmp_path / "part"
    train(cfg, out=part, max_iterations=1)
    train(cfg, out=part, resume=True)
    a = torch.load(whole / CHECKPOINT, weights_only=True)
    b = torch.load(part / CHECKPOINT, weights_only=True)
    assert "embedding" not in a["actor"] and not any(k.startswith("linear") for k in a["actor"])
    scale = a["actor"]["norm.scale"]
    assert float((scale[:-2] - 1).abs().max()) > 0 and torch.equal(scale[-2:], torch.ones(2))
    assert torch.equal(a["critic"]["norm.shift"], a["actor"]["norm.shift"])
    assert float(a["actor"]["readout.weight"].abs().sum()) > 0  # the zero-initialised head moved
    for key in ("actor", "critic"):
        for name, value in a[key].items():
            assert torch.equal(value, b[key][name]), f"{key}.{name} differs after resume"
