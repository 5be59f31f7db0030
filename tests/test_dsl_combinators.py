"""SWITCH / MIX semantics: predictions as semimeasures, events and unprecedented times."""

from __future__ import annotations

import numpy as np
import pytest

from aitheory.dsl.combinators import event_holds, predict, unprecedented_at
from aitheory.dsl.parser import expr_bits, parse_expr


def test_plain_predictions_are_semimeasure_rows() -> None:
    p = predict("~+.]", k=3, horizon=3)
    assert np.allclose(p[0], 1 / 3) and np.array_equal(p[1], [0, 1, 0])
    assert p[2].sum() == 0  # halted: the mass is lost, not renormalised


def test_event_holds_on_observation() -> None:
    # detector: emit o_{t-1} (0 at t = 1): holds at t iff o_{t-1} = 1
    detector = ",.,.,.,.]"
    holds = event_holds(detector, k=2, horizon=4, obs=[0, 1, 0])
    assert holds.tolist() == [False, False, True, False]
    assert unprecedented_at(holds) == 3
    assert unprecedented_at(np.zeros(3, dtype=bool)) is None


def test_switch_uses_q_before_and_p_from_the_event_on() -> None:
    expr = parse_expr("SWITCH(,.,.,.,.], +[.]], +[>.<]])")  # Q emits 0 forever, P emits 1 forever
    pred = predict(expr, k=2, horizon=4, obs=[0, 1, 0])
    assert pred.tolist() == [[1, 0], [1, 0], [0, 1], [0, 1]]  # switched at t = 3 and stays switched
    assert expr_bits(expr) == 2 + (1 + 27) + (1 + 15) + (1 + 21)


def test_switch_with_mix() -> None:
    expr = parse_expr("SWITCH(+.], .], MIX)")
    with pytest.raises(ValueError, match="MIX needs"):
        predict(expr, k=2, horizon=2)
    pred = predict(expr, k=2, horizon=2, mix=lambda t, obs: np.array([0.25, 0.5]))
    assert np.array_equal(pred[0], [1, 0]) and pred[1].sum() == 0  # P halts after one action
