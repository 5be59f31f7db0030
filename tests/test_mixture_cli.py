"""``aitheory mixture predict``: JSON per step, buckets adding up, errors for bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aitheory.cli import main


def test_predict_always_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mixture", "predict", "--max-bits", "18", "--actions", "1111111", "--top", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    steps = out["steps"]
    assert [s["t"] for s in steps] == list(range(1, 9))
    assert [s["action"] for s in steps] == [1] * 7 + [None]
    for s in steps:
        assert sum(s["raw"]) + sum(s["missing"].values()) == pytest.approx(1.0, abs=1e-12)
        assert sum(s["with_missing"]) == pytest.approx(1.0, abs=1e-12)
        assert set(s["missing"]) == {"halted", "timed_out", "out_of_tape", "proven_silent", "not_enumerated"}
        assert len(s["top"]) == 3
    assert steps[-1]["raw"][1] > 0.9 > steps[0]["raw"][1]
    assert steps[0]["missing"]["not_enumerated"] > 0 and steps[1]["missing"]["not_enumerated"] == 0
    assert "+[.]]" in [p["program"] for p in steps[-1]["top"]]
    assert out["class"]["programs"]["plain"] == 11788


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--actions", "0120"], "--actions: symbol 3"),
        (["--actions", "01", "--obs", "011"], "--obs: 3 observations"),
        (["--actions", ""], "--actions"),
    ],
)
def test_bad_input_is_one_clear_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mixture", "predict", "--max-bits", "9", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


GOLDEN = {
    "ones18": ["--max-bits", "18", "--actions", "1111111", "--top", "3"],
    "obs15_k3": ["--max-bits", "15", "--actions", "0120210", "--obs", "121", "--K", "3", "--top", "4"],
    "noswitch18": ["--max-bits", "18", "--actions", "01010", "--obs", "11011", "--no-switch", "--top", "2"],
    "nomix18": ["--max-bits", "18", "--actions", "0011", "--obs", "0101", "--no-mix", "--steps", "200"],
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_policy_mode_output_is_byte_for_byte_unchanged(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Policy-mode output equals the output captured before joint mode existed (the build time masked)."""
    import re
    from pathlib import Path

    assert main(["mixture", "predict", *GOLDEN[name]]) == 0
    out = re.sub(r'"seconds": [0-9.e+-]+', '"seconds": 0.0', capsys.readouterr().out)
    golden = Path(__file__).parent / "golden" / f"mixture_predict_{name}.json"
    assert out == golden.read_text()


def _joint_vs_exact(argv: list[str], history: list[int], capsys: pytest.CaptureFixture[str], **config: object) -> None:
    """The CLI's joint predictions at every position equal the brute-force Fraction mixture over the class."""
    from aitheory.dsl import split_history
    from aitheory.mixture import BUCKETS, ClassConfig
    from aitheory.mixture.reference import reference_predictions

    assert main(["mixture", "predict", "--joint", *argv]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mode"] == "joint" and out["history"] == history
    steps = out["steps"]
    assert [s["position"] for s in steps] == list(range(1, len(history) + 2))
    assert [s["role"] for s in steps] == [("action", "observation")[n % 2] for n in range(len(history) + 1)]
    assert [s["t"] for s in steps] == [n // 2 + 1 for n in range(len(history) + 1)]
    assert [s["symbol"] for s in steps] == [*history, None]
    cfg = ClassConfig(horizon=len(history) // 2 + 1, mode="joint", **config)  # type: ignore[arg-type]
    exact = reference_predictions(cfg, *split_history(history))
    for s, r in zip(steps, exact, strict=True):
        assert s["raw"] == pytest.approx([float(x) for x in r.raw], rel=1e-10, abs=1e-15)
        for name in BUCKETS:
            assert s["missing"][name] == pytest.approx(float(r.missing.get(name, 0)), rel=1e-9, abs=1e-15)
        assert s["log_evidence"] == pytest.approx(float(np.log(float(r.evidence))), rel=1e-10, abs=1e-12)
        assert s["mix_posterior_ratio"] == pytest.approx(float(2 * r.plain_evidence / r.evidence), rel=1e-10)
        assert sum(s["raw"]) + sum(s["missing"].values()) == pytest.approx(1.0, abs=1e-12)



def test_joint_predict_agrees_with_the_exact_mixture(capsys: pytest.CaptureFixture[str]) -> None:
    _joint_vs_exact(["--max-bits", "15", "--history", "01101", "--K", "2", "--top", "2"], [0, 1, 1, 0, 1], capsys,
                    max_bits=15)
    _joint_vs_exact(["--max-bits", "12", "--history", "2,1,0", "--K", "3", "--no-switch"], [2, 1, 0], capsys,
                    max_bits=12, k=3, switch=False)


@pytest.mark.slow
def test_joint_predict_at_21_bits_agrees_with_the_exact_mixture(capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's command, ``--joint --max-bits 21 --history 0101``, against every program listed in Fractions."""
    _joint_vs_exact(["--max-bits", "21", "--history", "0101"], [0, 1, 0, 1], capsys, max_bits=21)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--history", "0101"], "--history: the interleaved history is read in joint mode only"),
        (["--joint"], "--joint: give the interleaved history"),
        (["--joint", "--history", "01", "--actions", "0"], "--joint: give the interleaved history with --history"),
        (["--joint", "--history", "0130"], "--history: symbol 3"),
        ([], "--actions"),
    ],
)
def test_joint_bad_input_is_one_clear_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mixture", "predict", "--max-bits", "9", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
