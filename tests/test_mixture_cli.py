"""``aitheory mixture predict``: JSON per step, buckets adding up, errors for bad input."""

from __future__ import annotations

import json

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
