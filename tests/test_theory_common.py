"""``aitheory.theory.common``: negative controls and how they enter a check's verdict and summary.json."""

from __future__ import annotations

import math

import pytest

from aitheory.theory.common import CheckResult, Control, compare, controls_verdict, held_with_controls


def _control(held: bool, name: str = "c") -> Control:
    return Control(name=name, description="hypothesis false", measured=1.0, bound=0.0, relation="<=", held=held,
                   units="bits")


@pytest.mark.parametrize(("measured", "relation", "bound", "tol", "want"), [
    (1.0, "<=", 1.0, 0.0, True), (1.0 + 1e-12, "<=", 1.0, 1e-9, True), (2.0, "<=", 1.0, 0.0, False),
    (math.inf, "==", math.inf, 0.0, True), (1e300, "==", math.inf, 1.0, False), (0.5, "==", 0.5 + 1e-10, 1e-9, True),
    (math.nan, "<=", 1.0, 0.0, False), (3.0, ">=", 3.0, 0.0, True), (3.0, ">", 3.0, 0.0, False),
    (2.0, "<", 3.0, 0.0, True), (math.inf, "<=", math.inf, 0.0, True), (math.inf, "<", math.inf, 0.0, False),
])
def test_compare(measured: float, relation: str, bound: float, tol: float, want: bool) -> None:
    assert compare(measured, relation, bound, tol) is want


def test_compare_rejects_an_unknown_relation() -> None:
    with pytest.raises(ValueError, match="argument relation"):
        compare(1.0, "~", 1.0)


def test_held_requires_the_claim_and_every_control_to_fail() -> None:
    assert held_with_controls(True, [_control(False), _control(False, "d")])
    assert not held_with_controls(True, [_control(False), _control(True, "d")])
    assert not held_with_controls(False, [_control(False)])
    assert held_with_controls(True, [])


def test_check_result_refuses_held_with_a_control_that_held() -> None:
    kw = dict(name="x", statement="s", measured=0.0, bound=0.0, relation="<=", units="bits")
    with pytest.raises(ValueError, match="argument held"):
        CheckResult(held=True, controls=(_control(True),), **kw)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="argument held"):
        CheckResult(held=True, claim_held=False, **kw)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="distinct"):
        CheckResult(held=False, controls=(_control(False), _control(False)), **kw)  # type: ignore[arg-type]


def test_summary_carries_each_control_with_its_own_numbers() -> None:
    control = Control.compare("small_class", "too small", measured=math.inf, relation="<=", bound=30.0, units="bits",
                              details={"programs": 12})
    assert control.held is False
    result = CheckResult(name="x", statement="s", measured=0.0, bound=0.0, relation="<=", units="bits",
                         held=held_with_controls(True, [control]), claim_held=True, controls=(control,))
    s = result.summary()
    assert s["held"] is True and s["claim_held"] is True and s["controls_failed"] is True
    assert s["controls"]["small_class"] == {"description": "too small", "measured": math.inf, "bound": 30.0,
                                            "relation": "<=", "held": False, "units": "bits", "programs": 12}
    assert "small_class: inf <= 30 bits failed" in controls_verdict([control])
    legacy = CheckResult(name="x", statement="s", measured=0.0, bound=0.0, relation="<=", units="bits", held=True)
    assert legacy.summary()["controls"] == {} and legacy.summary()["claim_held"] is True


def test_verdict_says_why_a_control_within_its_relation_did_not_hold() -> None:
    infinite = Control("no_event", "events below the novel one", measured=43.05, bound=math.inf, relation="<=",
                       held=False, units="nats")
    vacuous = Control("alpha_too_large", "alpha above w(mu)", measured=0.0, bound=-3.0, relation=">=", held=False,
                      units="probability", details={"bound_vacuous": True})
    outside = Control.compare("plain", "measured above its bound", measured=2.0, relation="<=", bound=1.0,
                              units="nats")
    text = controls_verdict([infinite, vacuous, outside])
    assert "no_event: 43.05 <= inf nats failed (an infinite bound certifies nothing)" in text
    assert "alpha_too_large: 0 >= -3 probability failed (the bound is vacuous)" in text
    assert "plain: 2 <= 1 nats failed;" in text or text.endswith("plain: 2 <= 1 nats failed)")
