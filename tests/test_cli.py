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
