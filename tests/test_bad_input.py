"""Every bad input of issue 14 through the command line: exit code 2, a one-line message naming the input and the
reason, never a traceback; an internal error exits 3 (traceback only on request); run_batch refuses bad arrays."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from aitheory.cli import main


def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, (argv, code, err)
    assert "Traceback" not in err and err.count("\n") == 1 and err.endswith("\n"), err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


@pytest.mark.parametrize(("argv", "needles"), [
    (["check", "theorem1", "--quick", "--alpha", "2"], ("alpha", "(0, 1]")),
    (["check", "theorem1", "--quick", "--budgets", "-1"], ("budgets", ">= 0")),
    (["check", "theorem1", "--quick", "--max-bits", "0"], ("max_bits", ">= 3")),
    (["check", "theorem1", "--quick", "--max-bits", "60"], ("max_bits", "programs", "at most 42")),
    (["check", "theorem1", "--quick", "--alpha", "nan"], ("alpha", "nan")),
    (["check", "prop2", "--quick", "--seed", "-1"], ("seed", ">= 0")),
    (["check", "pessimistic", "--quick", "--seed", "-1"], ("seed", ">= 0")),
    (["check", "theorem2", "--quick", "--seed", "-1"], ("seed", ">= 0")),
    (["check", "pessimistic", "--quick", "--horizon", "40"], ("horizon", "observation sequences", "<= 17")),
    (["check", "prop1", "--eps", "abc"], ("--eps", "invalid float")),
    (["check", "prop1", "--out", ""], ("--out", "empty path")),
    (["dsl", "run", "+[,.+]]", "--obs", "\u00b2"], ("--obs", "'\u00b2'")),
    (["dsl", "run", "+[.+]]", "--actions", "100000000000"], ("--actions", "1..65536")),
    (["dsl", "run", "+[.+]]", "--steps", "100000000000000000000"], ("--steps", "1..10000000000")),
    (["dsl", "run", "+[.+]]", "--tape-bound", "100000000000000"], ("--tape-bound", "0..16777216")),
    (["dsl", "run", "+[.+]]", "--K", "1"], ("--K", "2..127")),
    (["dsl", "enumerate", "--max-bits", "60"], ("--max-bits", "1.08e+16 programs", "at most 42")),
    (["dsl", "enumerate", "--horizon", "1000000"], ("--horizon",)),
    (["dsl", "count", "--max-bits", "100000"], ("--max-bits",)),
    (["mixture", "predict", "--max-bits", "57", "--actions", "01"], ("--max-bits", "programs", "at most 42")),
    (["mixture", "predict", "--actions", "01", "--top", "-1"], ("--top",)),
    (["reproduce", "--out", ""], ("--out", "empty path")),
    (["reproduce", "--workers", "1000000000"], ("--workers", "1..1024")),
    (["dsl", "enumerate", "--workers", "0"], ("--workers",)),
    (["check", "prop2", "--quick", "--horizon", "1000000000000"], ("horizon", "GiB", "at most 1e7")),
    (["check", "prop1", "--sweep-points", "1000000000000"], ("sweep_points", "1..100000")),
    (["check", "pessimistic", "--quick", "--runs", "1000000000000"], ("runs", "at most 1e7")),
    (["check", "theorem1", "--quick", "--k-grid", "1000000000"], ("k_grid", "at most 1024")),
    (["check", "theorem2", "--quick", "--max-steps", "1000000"], ("max_steps", "1..32")),
    (["check", "theorem2", "--quick", "--budgets", "2"], ("budgets",)),
    (["reproduce", "--quick", "--only", "nope"], ("unknown check 'nope'",)),
])
def test_bad_option_values(argv: list[str], needles: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    _usage_error(argv, capsys, *needles)


def test_out_that_is_a_file_or_a_foreign_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("x")
    _usage_error(["check", "prop1", "--quick", "--out", str(tmp_path / "file")], capsys, "not a folder")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    _usage_error(["check", "prop1", "--quick", "--out", str(tmp_path / "mine")], capsys, "not a run folder")
    _usage_error(["check", "prop1", "--quick", "--out", str(tmp_path / "mine"), "--overwrite"], capsys,
                 "not a run folder")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_check_out_reused_by_another_configuration_or_check(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "run")
    assert main(["check", "prop1", "--quick", "--no-plot", "--out", out]) == 0
    assert main(["check", "prop1", "--quick", "--no-plot", "--out", out]) == 0  # same configuration: reused
    capsys.readouterr()
    _usage_error(["check", "prop1", "--quick", "--no-plot", "--eps", "0.5", "--out", out], capsys,
                 "another configuration", "eps 0.01 there, 0.5 here", "--overwrite")
    _usage_error(["check", "theorem2", "--quick", "--out", out], capsys, "a prop1 run")
    assert main(["check", "prop1", "--quick", "--no-plot", "--eps", "0.5", "--out", out, "--overwrite"]) == 0
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["eps"] == 0.5


def test_llm_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    run = tmp_path / "run"
    (run / "transcripts").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"config": {"name": "smoke"}}))
    (run / "transcripts" / "iter_00001.jsonl").write_text('{"turns": [1, 2\n')
    _usage_error(["llm", "evaluate", str(run)], capsys, str(run), "cannot be read")
    _usage_error(["llm", "figures", str(run), "--out", str(tmp_path / "figs")], capsys, str(run), "cannot be read")
    good = tmp_path / "good"
    (good / "transcripts").mkdir(parents=True)
    (good / "transcripts" / "iter_00001.jsonl").write_text('{"turns": [], "reward": 0.0, "kl_spent": 0.0}\n')
    missing = tmp_path / "no-control"
    _usage_error(["llm", "evaluate", str(good), "--control", str(missing)], capsys, "no transcripts", str(missing))
    # a finished run is never overwritten without --overwrite
    _usage_error(["llm", "train", "--config", "smoke", "--out", str(run)], capsys, "already holds a run", "--overwrite")
    _usage_error(["llm", "control", "--config", "smoke", "--out", str(run)], capsys, "already holds a run")
    # two runs with one folder name would share one label in the figures
    other = tmp_path / "elsewhere" / "run"
    other.mkdir(parents=True)
    _usage_error(["llm", "figures", str(run), str(other)], capsys, "the same name 'run'")


def test_internal_error_exits_3_with_a_short_message(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import aitheory.cli.dsl as dsl_cli

    def broken(args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(dsl_cli, "_count", broken)
    monkeypatch.delenv("AITHEORY_DEBUG", raising=False)
    assert main(["dsl", "count", "--max-bits", "6"]) == 3
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in err and "Traceback" not in err and err.count("\n") == 1
    assert main(["--debug", "dsl", "count", "--max-bits", "6"]) == 3
    assert "Traceback" in capsys.readouterr().err
    monkeypatch.setenv("AITHEORY_DEBUG", "1")
    assert main(["dsl", "count", "--max-bits", "6"]) == 3
    assert "Traceback" in capsys.readouterr().err


def test_subprocess_exit_codes(tmp_path: Path) -> None:
    """The installed entry point: a refused size is exit 2 on one line, before any enumeration starts."""
    done = subprocess.run([sys.executable, "-m", "aitheory", "dsl", "enumerate", "--max-bits", "60"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("codes", "lengths", "needle"), [
    (np.array([[9, 7]]), None, "token codes are 0..7"),
    (np.array([[-1, 7]]), None, "token codes are 0..7"),
    (np.array([[0, 7]]), np.array([3]), "lengths"),
    (np.array([[0, 7]]), np.array([0]), "lengths"),
    (np.array([[0.5, 7]]), None, "integer"),
    (np.array([1, 7]), None, "2-D"),
    (np.array([[0, 7]]), np.array([2, 2]), "lengths"),
])
def test_run_batch_refuses_invalid_arrays(codes: np.ndarray, lengths: np.ndarray | None, needle: str) -> None:
    from aitheory.dsl import run_batch, run_batch_all

    for run in (run_batch, run_batch_all):
        with pytest.raises(ValueError, match=needle):
            run(codes, lengths, 2, 4)


def test_run_batch_refuses_unbalanced_programs() -> None:
    from aitheory.dsl import run_batch
    from aitheory.dsl.codes import CLOSE, OPEN, PLUS

    with pytest.raises(ValueError, match="no matching"):
        run_batch(np.array([[CLOSE, CLOSE]]), None, 2, 4)
    with pytest.raises(ValueError, match="halting"):
        run_batch(np.array([[PLUS, PLUS]]), None, 2, 4)
    with pytest.raises(ValueError, match="unclosed"):
        run_batch(np.array([[OPEN, PLUS, CLOSE]]), None, 2, 4)
    ok = run_batch(np.array([[OPEN, CLOSE, CLOSE], [PLUS, CLOSE, 0]]), np.array([3, 2]), 2, 4)
    assert ok.status_names() == ["halted", "halted"]


def test_llm_resume_with_other_options_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    from aitheory.llm.config import get_config
    from aitheory.llm.ppo import CHECKPOINT
    from aitheory.results import RunFolder

    run = RunFolder.open(tmp_path / "run", "llm-train", get_config("smoke"))
    run.file(CHECKPOINT).parent.mkdir(parents=True, exist_ok=True)
    run.file(CHECKPOINT).write_bytes(b"not read: refused before")
    _usage_error(["llm", "train", "--resume", "--out", str(run.path), "--budget", "123"], capsys,
                 "--resume", "another configuration", "budget", "123")
