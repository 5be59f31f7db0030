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


def test_a_folder_of_another_scale_is_refused_and_the_report_never_mixes_scales(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The stale-report sequence: --quick, then a default-scale run into the same folder killed midway, then a
    rerun. The second step is refused (exit 2); with --overwrite it clears the folder, and after the kill the
    rerun reports default-scale numbers only."""
    out = str(tmp_path)
    assert main(["reproduce", "--quick", "--only", "prop1", "--out", out]) == 0
    quick_points = json.loads((tmp_path / "prop1" / "config.json").read_text())["config"]["sweep_points"]
    capsys.readouterr()
    assert main(["reproduce", "--only", "prop1", "--out", out]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "another configuration" in err and "--overwrite" in err

    import aitheory.theory.reproduce as rep

    def killed(task: tuple[str, bool]) -> tuple[str, list[tuple[str, bytes]]]:
        raise KeyboardInterrupt  # the run is killed after the folders were opened, before any check finished

    monkeypatch.setattr(rep, "_run_one", killed)
    assert main(["reproduce", "--only", "prop1", "--out", out, "--overwrite", "--workers", "1"]) == 130
    assert not (tmp_path / "prop1" / "summary.json").exists()
    monkeypatch.undo()
    assert main(["reproduce", "--only", "prop1", "--out", out]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    saved = json.loads((tmp_path / "prop1" / "config.json").read_text())
    assert report["scale"] == "default" and saved["config"]["sweep_points"] != quick_points
    assert "(default scale)" in (tmp_path / "report.md").read_text()


def test_results_land_in_a_relative_out_of_the_working_directory(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["reproduce", "--quick", "--only", "prop1", "--out", "relative/dir"]) == 0
    summary = json.loads((tmp_path / "relative/dir/prop1/summary.json").read_text())
    assert summary["run_folder"] == str(tmp_path / "relative/dir/prop1")
    assert {p.name for p in (tmp_path / "relative/dir").iterdir()} == {"prop1", "report.md", "report.html",
                                                                       "report.json"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["relative"]


def test_unknown_check_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "--quick", "--only", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown check 'nope'" in capsys.readouterr().err
