"""Every experiment script runs end to end at its quick scale and writes its run folder (smoke tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUICK = ["theorem1_switch_length.py", "prop2_environments.py", "pessimistic_help.py"]
#: Options given next to --quick, which must win over it (``--set`` and a generated option), and what they set.
EXTRA = {"prop2_environments.py": (["--set", "seed=3", "--max-bits", "18"], {"seed": 3, "max_bits": 18})}


@pytest.mark.parametrize("script", QUICK)
def test_experiment_runs_quick(script: str, tmp_path: Path) -> None:
    out = tmp_path / "run"
    extra, expected = EXTRA.get(script, ([], {}))
    proc = subprocess.run([sys.executable, str(ROOT / "experiments" / script), "--quick", "--out", str(out), *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    config = json.loads((out / "config.json").read_text())
    assert {k: config["config"][k] for k in expected} == expected
    assert any(p.suffix == ".png" for p in out.iterdir()), "the experiment draws its figure"
