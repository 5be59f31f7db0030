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


def test_pessimistic_help_default_config_is_accepted() -> None:
    """The script's default horizon (60) is past the check's limit (its class on all 2^(H-1) observation
    sequences) but allowed here (one observation sequence); the exploit's horizon too. A class of the check's size
    and an environment other than the all-0 stream are still refused."""
    import dataclasses
    import importlib.util

    from aitheory.theory.pessimistic import MAX_HORIZON

    spec = importlib.util.spec_from_file_location("_pessimistic_help", ROOT / "experiments" / "pessimistic_help.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    config = module.Config()
    assert config.horizon > MAX_HORIZON
    exploit = dataclasses.replace(config, horizon=config.demo_steps + config.exploit_steps)
    assert exploit.horizon == config.demo_steps + config.exploit_steps
    with pytest.raises(ValueError, match="argument p_one"):
        module.Config(p_one=0.5)
    with pytest.raises(ValueError, match="argument max_bits"):
        module.Config(max_bits=10**3)
