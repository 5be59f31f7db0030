"""Theorem 1 (little constraint in novel situations) on the enumerated class."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from aitheory.dsl import all_programs, event_holds, unprecedented_at
from aitheory.dsl.parser import Plain
from aitheory.mixture import build_class, predict_batch
from aitheory.results import RunFolder
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


def test_event_histogram_counts_every_detector_on_every_history() -> None:
    """The streamed histogram (history 0, reruns only where an observation past the common prefix is read) equals
    the first-hold vectors computed per history for every detector up to 15 bits."""
    histories = np.array([(0, 0, 1, 0, 0), (0, 0, 1, 0, 1), (0, 0, 1, 1, 0), (0, 0, 1, 1, 1)])
    times = theorem1.event_times(histories, 6, 15)
    full = np.stack([theorem1.detector_first_holds(tuple(h), 15) for h in histories], axis=1)
    vectors, counts = np.unique(full, axis=0, return_counts=True)
    assert times.programs == full.shape[0] and times.rerun < full.shape[0]
    got = {v.tobytes(): int(c.sum()) for v, c in zip(times.taus, times.counts, strict=True)}
    assert got == {v.tobytes(): int(c) for v, c in zip(vectors, counts, strict=True)}


@pytest.mark.parametrize(("obs", "t"), [((0, 0, 0, 1), 5), ((0, 1, 0, 0, 1), 6)])
def test_streamed_class_equals_build_class(obs: tuple[int, ...], t: int) -> None:
    """The class built from the event histogram equals aitheory.mixture.build_class's (which materialises every
    event's behaviour), row by row and integer weight by integer weight, at each event cap."""
    config = dataclasses.replace(theorem1.Config.quick(), max_bits=15, event_max_bits=15, class_sizes=(12, 15),
                                 policy_max_bits=9)
    point = theorem1.point_class(config, obs, t, 15)
    for cap in (12, 15):
        mine = point.model_class(cap)
        ref = build_class(config.class_config(point.horizon, cap), observations=[tuple(h) for h in point.histories])
        assert mine.config.unit_bits == ref.config.unit_bits and mine.programs_by_kind == ref.programs_by_kind
        a = {r.tobytes(): tuple(w) for r, w in zip(mine.codes, mine.weight_by_kind, strict=True)}
        b = {r.tobytes(): tuple(w) for r, w in zip(ref.codes, ref.weight_by_kind, strict=True)}
        assert a == b
        assert list(mine.rep_bits) == list(ref.rep_bits)


def _policy_quick() -> theorem1.Config:
    """The policy-mode worlds alone (``--mode policy``): the summary of the check before the joint mode."""
    return dataclasses.replace(theorem1.Config.quick(), mode="policy")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("theorem1")
    run_check("theorem1", _policy_quick(), out)
    return out


def test_quick_check_holds_and_every_control_fails(quick_run: Path) -> None:
    summary = json.loads((quick_run / "summary.json").read_text())
    assert "mode" not in summary  # policy mode: today's summary, unchanged
    assert summary["held"] is True and summary["claim_held"] is True and summary["controls_failed"] is True
    assert summary["d_bits"] == 6
    assert summary["novel_event"] == "+[,.+]]" and summary["novel_event_bits"] == 21
    assert summary["novel_bound"] == pytest.approx((21 + 15 + 6) * math.log(2))
    assert summary["max_kl_novel"] <= summary["novel_bound"]
    assert summary["pessimistic_infinite"] is True
    assert summary["pessimistic_agent_value_zero"] is True and summary["budget_solver_failures"] == 0
    controls = summary["controls"]
    assert set(controls) == {"precedented", "no_event", "no_mix"}
    for name, control in controls.items():
        assert control["held"] is False, name
        assert {"measured", "bound", "relation", "description"} <= set(control)
    assert controls["precedented"]["measured"] > controls["precedented"]["bound"]
    assert controls["no_event"]["bound"] == "inf" and controls["no_event"]["event_cap"] < 21
    assert controls["no_mix"]["d_bits_in_class"] is None
    assert controls["no_mix"]["measured"] > controls["no_mix"]["bound"]
    study = summary["class_size_study"]
    assert set(study) == {"pattern 1", "pattern 11", "novel", "precedented"}
    assert study["pattern 11"]["event_bits"] == ["inf", 24.0]  # the 24-bit event enters with the larger class
    verdict = summary["verdict"]  # every number computed: the bound and the controls' values appear as measured
    assert f"{summary['novel_bound']:.4g}" in verdict and f"{controls['no_mix']['measured']:.4g}" in verdict
    for stem in summary["figures"]:
        assert (quick_run / f"{stem}.png").stat().st_size > 1000
    rows = (quick_run / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("world,t,k,event_cap,kl_bayes")


def _measured(config: theorem1.Config, tmp_path: Path) -> dict:
    result = theorem1.run(dataclasses.replace(config, plot=False), RunFolder.create(tmp_path / "r", "t1"))
    return {"held": result.held, "claim": result.claim_held, "verdict": result.verdict,
            "controls": {c.name: c.held for c in result.controls}, **result.details.fields()}


def test_no_event_under_the_cap_is_not_held(tmp_path: Path) -> None:
    """With events capped below every unprecedented event the bound is infinite: the claim is not held (an
    infinite bound certifies nothing), whatever the KL."""
    config = dataclasses.replace(_policy_quick(), max_bits=15, event_max_bits=18, class_sizes=(18,),
                                 patterns=("1",), pattern_k=8, k_grid=(8,), budgets=())
    out = _measured(config, tmp_path)
    assert out["novel_bound"] == math.inf and out["claim"] is False and out["held"] is False
    assert not any(out["controls"].values())  # no control holds against an infinite bound either
    assert out["d_bits"] is None or out["novel_event_bits"] == math.inf


def test_a_broken_claim_turns_held_false(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Break the claim: every measured KL above its bound (a wrong computation) must turn held false."""
    real = theorem1.switch_cost

    def inflated(*args: object, **kwargs: object) -> theorem1.SwitchCost:
        cost = real(*args, **kwargs)  # type: ignore[arg-type]
        return dataclasses.replace(cost, kl_bayes=cost.kl_bayes + 100.0)

    monkeypatch.setattr(theorem1, "switch_cost", inflated)
    config = dataclasses.replace(_policy_quick(), max_bits=15, class_sizes=(21,), patterns=("1",),
                                 pattern_k=8, k_grid=(8,), budgets=())
    out = _measured(config, tmp_path)
    assert out["claim"] is False and out["held"] is False
    assert out["theorem_bound_held"] is False and out["posterior_bound_held"] is False


def test_kl_is_the_log_loss_along_the_worst_observations() -> None:
    """For the deterministic switch, Definition 2's KL = -sum ln xi(1 | h_s) along the maximising sequence,
    recomputed here with the batch mixture (a separate code path from the tree recursion) on the same class."""
    config = dataclasses.replace(theorem1.Config.quick(), switch_steps=2, budgets=())
    obs = (0, 0, 1)
    t = 4
    point = theorem1.point_class(config, obs, t)
    cost = theorem1.switch_cost(config, "novel", obs, t, "+[.]]", point)
    continuation = cost.maximiser
    mc = point.model_class(None)
    g = mc.history_index(list(obs + continuation))
    actions = [0] * (t - 1) + [1] * config.switch_steps
    single = dataclasses.replace(mc, codes=mc.codes[:, g : g + 1], histories=mc.histories[g : g + 1])
    trace = predict_batch(single, actions[:-1], list(obs + continuation))
    steps = range(t - 1, t - 1 + config.switch_steps)
    log_loss = -sum(math.log(trace.raw[s, 1]) for s in steps)
    assert cost.kl_bayes == pytest.approx(log_loss, rel=1e-9)
    assert cost.kl_bayes <= cost.bound_posterior + 1e-9
    assert all(math.isinf(v) for v in cost.kl_pessimistic.values())


def test_registered_and_config_validates() -> None:
    assert CHECKS["theorem1"] == "aitheory.theory.theorem1"
    with pytest.raises(ValueError, match="argument switch_steps"):
        theorem1.Config(switch_steps=0)
    with pytest.raises(ValueError, match="multiples"):
        theorem1.Config(event_max_bits=20)
    with pytest.raises(ValueError, match="class_sizes"):
        theorem1.Config(class_sizes=(39,))
    assert np.isfinite(theorem1.LN2)


def test_points_below_ratio_one_are_reported_not_skipped_silently() -> None:
    """A point whose shortest program has posterior ratio < 1 is not checked against len(nu) ln 2 (that bound
    assumes ratio >= 1) but listed, with the bound -ln w(nu|h) = len(nu) ln 2 - ln(ratio) that holds there."""
    def point(t: int, kl: float, ratio: float) -> SimpleNamespace:
        return SimpleNamespace(world="novel", t=t, kl_bayes=kl, bound_length=20 * math.log(2),
                               shortest_program="+~..]", shortest_posterior_ratio=ratio)

    ok, skipped = theorem1._length_bound([point(2, 14.2, 0.5), point(3, 3.0, 1.5)])
    summary = {"length_bound_held": ok, "length_bound_skipped_points": len(skipped), "length_bound_skipped": skipped}
    assert summary["length_bound_skipped_points"] == 1
    (point,) = summary["length_bound_skipped"]
    assert (point["world"], point["t"], point["posterior_ratio"]) == ("novel", 2, 0.5)
    assert point["bound_with_ratio"] == pytest.approx(20 * math.log(2) + math.log(2))
    assert point["kl_bayes"] > point["bound_length"] and point["held_with_ratio"] is True
    assert summary["length_bound_held"] is True  # the skipped point does not count, as before; now it is visible
