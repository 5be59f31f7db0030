"""Theorem 1 (little constraint in novel situations) on the enumerated class."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from aitheory.dsl import all_programs, event_holds, unprecedented_at
from aitheory.dsl.parser import Plain
from aitheory.mixture import predict_batch
from aitheory.theory import theorem1
from aitheory.theory.common import CHECKS, run_check


@pytest.mark.parametrize("obs", [(0, 0, 0, 0, 0), (0, 1, 1, 0, 1), (1, 0, 0, 1, 0)])
def test_detector_first_holds_matches_the_reference(obs: tuple[int, ...]) -> None:
    """First-hold times of every detector up to 12 bits equal event_holds/unprecedented_at (reference)."""
    fast = theorem1.detector_first_holds(obs, 12)
    programs = list(all_programs(12))
    assert len(fast) == len(programs)
    for first, codes in zip(fast, programs, strict=True):
        holds = event_holds(Plain(codes), 2, len(obs) + 1, list(obs))
        expected = unprecedented_at(holds) or 0
        assert first == expected


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("theorem1")
    run_check("theorem1", theorem1.Config.quick(), out)
    return out


def test_quick_check_holds_and_writes_its_folder(quick_run: Path) -> None:
    summary = json.loads((quick_run / "summary.json").read_text())
    assert summary["held"] is True
    assert summary["d_bits"] == 6
    assert summary["novel_event"] == "+[,.+]]" and summary["novel_event_bits"] == 21
    assert summary["novel_bound"] == pytest.approx((21 + 15 + 6) * math.log(2))
    assert summary["max_kl_novel"] <= summary["novel_bound"]
    assert summary["pessimistic_infinite"] is True
    assert summary["pessimistic_agent_value_zero"] is True and summary["budget_solver_failures"] == 0
    novel_values = summary["value_at_largest_budget"]["novel"]
    assert novel_values and all(0.99 < v <= 1.0 + 1e-9 for v in novel_values.values())
    for stem in summary["figures"]:
        assert (quick_run / f"{stem}.png").stat().st_size > 1000
    rows = (quick_run / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("world,t,k,kl_bayes")
    assert len(rows) == 1 + 2 + 2 * 3  # two pattern worlds, then novel and precedented at three k


def test_kl_is_the_log_loss_along_the_worst_observations() -> None:
    """For the deterministic switch, Definition 2's KL = -sum ln xi(1 | h_s) along the maximising sequence,
    recomputed here with the batch mixture (a separate code path from the tree recursion)."""
    config = theorem1.Config.quick()
    obs = (0, 0, 1)
    t = 4
    cost = theorem1.switch_cost(config, "novel", obs, t, event_bits=math.inf)
    continuation = cost.maximiser
    from aitheory.mixture import build_class

    mc = build_class(config.class_config(t + config.switch_steps - 1), observations=[obs + continuation])
    actions = [0] * (t - 1) + [1] * config.switch_steps
    trace = predict_batch(mc, actions[:-1], list(obs + continuation))
    steps = range(t - 1, t - 1 + config.switch_steps)
    log_loss = -sum(math.log(trace.raw[s, 1]) for s in steps)
    assert cost.kl_bayes == pytest.approx(log_loss, rel=1e-9)
    assert cost.kl_bayes <= cost.bound_posterior + 1e-9
    assert all(math.isinf(v) for v in cost.kl_pessimistic.values())


def test_registered_and_config_validates() -> None:
    assert CHECKS["theorem1"] == "aitheory.theory.theorem1"
    with pytest.raises(ValueError, match="argument switch_steps"):
        theorem1.Config(switch_steps=0)
    with pytest.raises(ValueError, match="multiples of 3"):
        theorem1.Config(event_max_bits=20)
    assert np.isfinite(theorem1.LN2)


def test_points_below_ratio_one_are_reported_not_skipped_silently() -> None:
    """A point whose shortest program has posterior ratio < 1 is not checked against len(nu) ln 2 (that bound
    assumes ratio >= 1) but listed, with the bound -ln w(nu|h) = len(nu) ln 2 - ln(ratio) that holds there."""
    readings = {"absolute": False, "prior_relative": False}
    kl = {"absolute": math.inf, "prior_relative": math.inf}
    costs = [theorem1.SwitchCost("novel", 2, 1, 14.2, (), 2.0, 20, "+~..]", 0.5, 9.0, kl, {}, readings),
             theorem1.SwitchCost("novel", 3, 2, 3.0, (), 2.0, 20, "+~..]", 1.5, 9.0, kl, {}, readings)]
    summary = theorem1._summarise(costs, 15, (9.0, "+.]"))
    assert summary["length_bound_skipped_points"] == 1
    (point,) = summary["length_bound_skipped"]
    assert (point["world"], point["t"], point["posterior_ratio"]) == ("novel", 2, 0.5)
    assert point["bound_with_ratio"] == pytest.approx(20 * math.log(2) + math.log(2))
    assert point["kl_bayes"] > point["bound_length"] and point["held_with_ratio"] is True
    assert summary["length_bound_held"] is True  # the skipped point does not count, as before; now it is visible
