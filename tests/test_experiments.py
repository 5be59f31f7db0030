"""Every experiment script runs end to end at its quick scale and writes its run folder (smoke tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUICK = ["theorem1_switch_length.py", "prop2_environments.py", "pessimistic_help.py"]


@pytest.mark.parametrize("script", QUICK)
def test_experiment_runs_quick(script: str, tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, str(ROOT / "experiments" / script), "--quick", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (out / "config.json").is_file()
    assert any(p.suffix == ".png" for p in out.iterdir()), "the experiment draws its figure"
