"""Every experiment script runs end to end at its quick scale and writes its run folder (smoke tests)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUICK = ["theorem1_switch_length.py", "prop2_environments.py", "pessimistic_help.py"]
#: Options given next to --quick, which must win over it (``--set`` and a generated option), and what they set.
EXTRA = {"prop2_environments.py": (["--set", "seed=3", "--max-bits", "18"], {"seed": 3, "max_bits": 18})}


def _load_script(name: str) -> Any:
    """Import ``experiments/<name>.py`` as a module."""
    spec = importlib.util.spec_from_file_location(f"_{name}", ROOT / "experiments" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


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

    from aitheory.theory.pessimistic import MAX_HORIZON

    module: Any = _load_script("pessimistic_help")
    config = module.Config()
    assert config.horizon > MAX_HORIZON
    exploit = dataclasses.replace(config, horizon=config.demo_steps + config.exploit_steps)
    assert exploit.horizon == config.demo_steps + config.exploit_steps
    with pytest.raises(ValueError, match="argument p_one"):
        module.Config(p_one=0.5)
    with pytest.raises(ValueError, match="argument max_bits"):
        module.Config(max_bits=10**3)


def test_llm_keep_run_keeps_each_ended_phase_and_never_deletes(tmp_path: Path) -> None:
    """Iteration 1, the last 4 of the ramp and of full/256 (ended) and the update after each (it may straddle the
    boundary), the latest 4 of full/512; a kept file of an earlier snapshot stays; a folder that is not a run is
    refused with exit code 2."""
    keep = _load_script("llm_keep_run")
    src, dst = tmp_path / "run", tmp_path / "kept"
    (src / "checkpoints").mkdir(parents=True)
    (src / "transcripts").mkdir()
    (src / "config.json").write_text(json.dumps({"config": {"budget": 10.0}}))
    (src / "checkpoints" / "latest.pt").write_bytes(b"state")
    rows = ["iteration,budget,episode_tokens"]
    for it in range(1, 31):
        budget, length = (it / 2, 256) if it <= 10 else (10.0, 256 if it <= 20 else 512)
        rows.append(f"{it},{budget},{length}")
        (src / "transcripts" / f"iter_{it:05d}.jsonl").write_text("{}\n")
    (src / "metrics.csv").write_text("\n".join(rows) + "\n")
    (dst / "kept-transcripts").mkdir(parents=True)
    (dst / "kept-transcripts" / "iter_00013.jsonl").write_text("{}\n")
    assert keep.main([str(src), str(dst)]) == 0
    kept = sorted(int(p.stem[5:]) for p in (dst / "kept-transcripts").glob("iter_*.jsonl"))
    assert kept == [1, 7, 8, 9, 10, 11, 13, 17, 18, 19, 20, 21, 27, 28, 29, 30]
    assert (dst / "checkpoints" / "latest.pt").read_bytes() == b"state"
    assert not list(dst.rglob("*.tmp"))
    assert keep.main([str(tmp_path / "nothing"), str(dst)]) == 2
