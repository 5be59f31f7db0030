"""``aitheory reproduce``: runs checks, resumes finished ones, writes a report whose numbers come from the runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aitheory.cli import main
from aitheory.theory.reproduce import reproduce


def test_reproduce_writes_report_and_resumes(tmp_path: Path) -> None:
    first = reproduce(tmp_path, quick=True, only=("prop1",), workers=1)
    assert first.held and first.resumed == ()
    summary = json.loads((tmp_path / "prop1" / "summary.json").read_text())
    report = (tmp_path / "report.md").read_text()
    assert "| prop1 |" in report and "held" in report
    assert f"{summary['kl_tau_beta']:.6g}" in summary["verdict"] and summary["verdict"] in report
    html = (tmp_path / "report.html").read_text()
    assert "data:image/png;base64," in html
    again = reproduce(tmp_path, quick=True, only=("prop1",), workers=1)
    assert again.resumed == ("prop1",)
    forced = reproduce(tmp_path, quick=True, only=("prop1",), workers=1, force=True)
    assert forced.resumed == ()
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["held"] is True and data["results"]["prop1"]["kl_pi_tau"] == "inf"


def test_a_changed_configuration_is_not_resumed(tmp_path: Path) -> None:
    reproduce(tmp_path, quick=True, only=("prop1",), workers=1)
    full = reproduce(tmp_path, quick=False, only=("prop1",), workers=1)
    assert full.resumed == ()


def test_unknown_check_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "--quick", "--only", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown check 'nope'" in capsys.readouterr().err
