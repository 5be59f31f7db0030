"""The ``aitheory`` command: help on every subcommand, the prop1 check's run folder and verdict, bad input."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from aitheory.cli import build_parser, main

Named = list[tuple[str, argparse.ArgumentParser]]


def _all_parsers(parser: argparse.ArgumentParser, prefix: str = "aitheory") -> Named:
    found = [(prefix, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += _all_parsers(child, f"{prefix} {name}")
    return found


def test_every_subcommand_has_help() -> None:
    parsers = _all_parsers(build_parser())
    assert len(parsers) >= 3
    for name, parser in parsers:
        text = parser.format_help()
        assert text.startswith("usage:"), name
        assert len(text) > 40, f"{name} has no real help"


def test_python_dash_m_and_help_run() -> None:
    out = subprocess.run([sys.executable, "-m", "aitheory", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "check" in out.stdout


def test_check_prop1_writes_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "prop1", "--eps", "0.01", "--out", str(tmp_path), "--sweep-points", "7"])
    assert code == 0
    line = capsys.readouterr().out.strip()
    assert line.count("\n") == 0 and "HELD" in line
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["kl_pi_tau"] == "inf"
    assert summary["held"] is True
    assert summary["kl_pi_beta"] == 0.0
    assert 0 < summary["kl_tau_beta"] <= 0.01
    rows = (tmp_path / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("eps,") and len(rows) == 1 + 8  # 7 grid points plus the requested eps
    for ext in ("png", "svg"):
        assert (tmp_path / f"prop1_kl_vs_eps.{ext}").stat().st_size > 1000
    assert json.loads((tmp_path / "config.json").read_text())["config"]["eps"] == 0.01


@pytest.mark.parametrize("eps", ["-1", "0", "abc", "inf"])
def test_check_prop1_rejects_bad_eps(eps: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Bad --eps: exit code 2 and one message naming eps (argparse's for non-numbers, the config's otherwise)."""
    try:
        code = main(["check", "prop1", "--eps", eps])
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert "eps" in err and "Traceback" not in err


def test_explicit_options_win_over_quick(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``aitheory check pessimistic --quick --max-bits 24`` records max_bits 24 (quick's is smaller); the run
    itself is cut short once config.json is written."""
    from aitheory.theory import pessimistic

    assert pessimistic.Config.quick().max_bits != 24

    def stop(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pessimistic, "run", stop)
    out = tmp_path / "run"
    assert main(["check", "pessimistic", "--quick", "--max-bits", "24", "--out", str(out)]) == 130
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["max_bits"] == 24 and config["runs"] == pessimistic.Config.quick().runs


def test_help_and_version_import_no_heavy_module() -> None:
    code = ("import sys, contextlib, io\nfrom aitheory.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n    assert main(['--help']) == 0\n"
            "    assert main(['--version']) == 0\n"
            "heavy = [m for m in sys.modules if m.split('.')[0] in ('numba', 'scipy', 'torch', 'matplotlib')\n"
            "         or m.startswith(('aitheory.theory', 'aitheory.dsl', 'aitheory.planning'))]\n"
            "assert not heavy, heavy\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
