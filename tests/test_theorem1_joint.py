"""Theorem 1 in the joint setting (aitheory.theory.theorem1_joint): exact KL, controls, broken claims."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import pytest

from aitheory.dsl import parse
from aitheory.dsl.combinators import utility_value
from aitheory.measures import tree_kl
from aitheory.mixture import ClassConfig
from aitheory.planning.opt import policy_table
from aitheory.planning.reference import exact_tree, opt_choice_exact
from aitheory.theory import theorem1, theorem1_joint
from aitheory.theory.common import held_with_controls, run_check


def _small(**changes: object) -> theorem1.Config:
    """A small joint check: 15-bit class, k = 1, two decisions; the policy-mode worlds at their smallest."""
    base = dataclasses.replace(theorem1.Config.quick(), max_bits=15, class_sizes=(21,), patterns=("1",),
                               pattern_k=8, k_grid=(8,), budgets=(), plot=False, joint_max_bits=15,
                               joint_k_grid=(1,), joint_precedented_k=2, joint_tradeoff_k=1, joint_tradeoff_levels=2,
                               joint_horizons=(1, 2, 4, 8), joint_exact_horizon=4, joint_pattern_k=8,
                               joint_patterns=("1", "10"), joint_pattern_events=("+[,.+]]", "+~[,~.+]]"))
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(("observations", "event"), [((1,), None), ((1, 0), "+~[,~.+]]")])
def test_kl_and_value_equal_the_exact_fraction_computation(observations: tuple[int, ...], event: str | None) -> None:
    """On a 15-bit joint class after h = (0, 1) (E unprecedented at t = 2, two decisions), and after
    h = (0, 1, 0, 0) with the patterns world's 28-bit event of the pattern "10" (unprecedented at t = 3): OPT's
    choice is the exact first policy above u, and Definition 2's KL and V^{pi*}_{xi,U}(h) of the check equal those
    of the Fraction mixture xi_base + 2^-len(nu*) nu*, nu* built from its definition (MIX before t, pi*'s actions
    from t, MIX's observations), maximised over every open-loop observation sequence."""
    config = _small()
    point = theorem1_joint.joint_point(config, "novel", observations, event_text=event)
    h: tuple[int, ...] = tuple(x for o in observations for x in (0, o))
    m = len(observations) + 2
    assert point.unprecedented and point.t == len(observations) + 1 and point.d_bits == 7
    cc = ClassConfig(max_bits=15, k=2, horizon=m, mode="joint", switch=False, mix=True, steps=config.steps)
    exact = exact_tree(cc, h, m)
    u = Fraction(point.u)
    first, _ = opt_choice_exact(exact, config.joint_utility, u, model="mix")
    assert first is not None
    steps = config.joint_steps  # decisions from t to m
    table = policy_table(first, 2, steps)
    assert table == point.plan
    nodes = [(), (0,), (1,)]
    weight = Fraction(1, 2**point.construction_bits)

    def action(x: tuple[int, ...]) -> int:
        return table[nodes.index(tuple(x[len(h):][1::2]))]

    def joint(x: tuple[int, ...]) -> Fraction:
        """xi_grown(x) for x extending h (or h itself)."""
        base, star = exact.evidence, exact.model_evidence("mix")
        for n in range(len(h), len(x)):
            base *= exact.predictions(x[:n])[x[n]]
            star *= Fraction(int(x[n] == action(x[:n]))) if n % 2 == 0 else exact.predictions(x[:n], "mix")[x[n]]
        return base + weight * star

    worst = 0.0
    for o in itertools.product((0, 1), repeat=steps - 1):  # o_t .. o_{m-1}; the last one moves no action
        x: tuple[int, ...] = h
        product = Fraction(1)
        for s in range(steps):
            a = action(x)
            product *= joint((*x, a)) / joint(x)
            x = (*x, a, o[s]) if s < len(o) else (*x, a)
        worst = max(worst, -math.log(product))
    assert point.kl_nats == pytest.approx(worst, rel=1e-9)
    utility = parse(config.joint_utility)
    value = Fraction(0)
    for suffix in itertools.product((0, 1), repeat=2 * steps):
        x = h + suffix
        if all(x[n] == action(x[:n]) for n in range(len(h), 2 * m, 2)):  # pi* deterministic
            reach = Fraction(1)
            for n in range(len(h) + 1, 2 * m, 2):  # xi(o | h a) at every observation
                reach *= joint(x[: n + 1]) / joint(x[:n])
            value += reach * utility_value(utility, 2, x)
    assert point.value_xi == pytest.approx(float(value), rel=1e-9)
    assert point.value_xi > point.v and point.kl_nats < point.bound_nats


def test_handmade_class_kl_is_the_open_loop_maximum() -> None:
    """The hand-made class: up to the enumerated horizon the worst case is the adversarial sequence (all 1s);
    without the copy model the KL grows with the horizon past len(C) ln 2, with it it stays below."""
    rows = theorem1_joint.handmade_kl((1, 2, 4, 8, 16), copy_bits=12, exact_horizon=8)
    for r in rows[:4]:
        assert r.kl_worst == pytest.approx(r.kl_adversarial, rel=1e-12)
        assert r.kl_worst_copy == pytest.approx(r.kl_adversarial_copy, rel=1e-12)
    kl = [r.kl for r in rows]
    assert all(b > a + 1 for a, b in itertools.pairwise(kl))
    assert kl[-1] > 12 * math.log(2) and all(r.kl_copy <= 12 * math.log(2) for r in rows)
    # one step by hand: xi(1 | empty) = (1/4 * 1/8 + 1/8) / (1/2 + 1/4 + 1/8)
    assert rows[0].kl_adversarial == pytest.approx(-math.log((1 / 32 + 1 / 8) / (7 / 8)), rel=1e-12)


def _handmade_xi(copy_bits: int | None) -> Callable[[tuple[int, ...]], list[float]]:
    """xi(a | h) of the hand-made class from scratch at each history (every model's likelihood of the whole
    history; C's observations by the plain models' mixture), floats: a second code path for the KL."""
    models = theorem1_joint.HANDMADE

    def likelihoods(h: tuple[int, ...]) -> tuple[list[float], float]:
        lik, lik_c = [1.0] * len(models), 1.0
        for n, x in enumerate(h):
            if n % 2 == 0:
                p = [float(m.p_action) if x == 1 else 1 - float(m.p_action) for m in models]
                lik_c *= float(x == 1)
            else:
                p = [float(m.p_observation) if x == 1 else 1 - float(m.p_observation) for m in models]
                plain = sum(float(m.weight) * v for m, v in zip(models, lik, strict=True))
                lik_c *= sum(float(m.weight) * v * q for m, v, q in zip(models, lik, p, strict=True)) / plain
            lik = [v * q for v, q in zip(lik, p, strict=True)]
        return lik, lik_c

    w_c = 0.0 if copy_bits is None else 2.0**-copy_bits

    def xi(h: tuple[int, ...]) -> list[float]:
        lik, lik_c = likelihoods(tuple(h))
        den = sum(float(m.weight) * v for m, v in zip(models, lik, strict=True)) + w_c * lik_c
        one = sum(float(m.weight) * v * float(m.p_action) for m, v in zip(models, lik, strict=True)) + w_c * lik_c
        return [1 - one / den, one / den]

    return xi


@pytest.mark.parametrize("copy_bits", [None, 12])
def test_handmade_kl_equals_tree_kl_of_the_mixture_written_from_scratch(copy_bits: int | None) -> None:
    """The hand-made class's worst-case KL (incremental Fractions) equals aitheory.measures.tree_kl of "always 1"
    against xi recomputed from scratch at every history (floats), at horizons 1 to 6."""
    xi = _handmade_xi(copy_bits)
    rows = theorem1_joint.handmade_kl(range(1, 7), copy_bits=12, exact_horizon=6)
    for r in rows:
        want = tree_kl(lambda h: [0.0, 1.0], xi, n_actions=2, n_observations=2, horizon=r.horizon).value
        assert (r.kl_worst if copy_bits is None else r.kl_worst_copy) == pytest.approx(want, rel=1e-10)


def _joint(config: theorem1.Config) -> tuple[bool, bool, dict]:
    """(joint claim, joint verdict, controls by name) of the joint part alone."""
    summary, controls = theorem1_joint.summarise_joint(config, theorem1_joint.measure_joint(config))
    claim = bool(summary.joint_claim)
    return claim, held_with_controls(claim, controls), {c.name: c for c in controls}


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The joint check at the small scale beside the policy-mode quick worlds, through run_check."""
    out = tmp_path_factory.mktemp("theorem1-joint")
    config = dataclasses.replace(theorem1.Config.quick(), **{f.name: getattr(_small(), f.name)
                                                            for f in dataclasses.fields(theorem1.Config)
                                                            if f.name.startswith("joint_")})
    run_check("theorem1", config, out)
    return out


def test_small_joint_check_holds_and_its_controls_fail(small_run: Path) -> None:
    """The done-when keys at the top of summary.json, every control failed, rows saved, figures drawn."""
    out = json.loads((small_run / "summary.json").read_text())
    for key in ("mode", "k_event_bits", "k_utility_bits", "k_value_bits", "d_bits", "kl_nats", "bound_nats", "held"):
        assert key in out, key
    assert out["held"] is True and out["claim_held"] is True and out["mode"] == "joint"
    assert out["d_bits"] == out["construction_bits"] - out["k_event_bits"] - out["k_utility_bits"] - out["k_value_bits"]
    assert out["bound_nats"] == pytest.approx(out["construction_bits"] * math.log(2))
    assert out["kl_nats"] < out["bound_nats"] and out["value"] > out["v"]
    controls = out["controls"]
    assert {"precedented", "no_mix", "policy_precedented", "policy_no_event", "policy_no_mix"} <= set(controls)
    for name, control in controls.items():
        assert control["held"] is False and {"measured", "bound", "held"} <= set(control), name
    assert controls["precedented"]["bound"] == "inf" and controls["precedented"]["unprecedented"] is False
    assert controls["no_mix"]["measured"] > controls["no_mix"]["bound"]
    assert out["policy_mode"]["held"] is True and out["policy_mode"]["d_bits"] == 6
    assert [r["level"] for r in out["tradeoff"]] == [0, 1, 2]
    lines = (small_run / theorem1_joint.TRADEOFF_CSV).read_text().splitlines()
    assert lines[0].startswith("level,fraction,u,k_value_bits") and len(lines) == 4
    assert [r["k_event_bits"] for r in out["patterns"]] == out["patterns_event_bits"] == [22, 28]
    assert out["patterns_held"] is True and math.isfinite(out["patterns_slope_nats_per_bit"])
    lines = (small_run / theorem1_joint.PATTERNS_CSV).read_text().splitlines()
    assert lines[0].startswith("pattern,event,k_event_bits") and len(lines) == 3
    for stem in ("theorem1_joint_tradeoff", "theorem1_joint_no_mix", "theorem1_joint_patterns"):
        assert (small_run / f"{stem}.png").stat().st_size > 1000


def test_a_broken_claim_turns_held_false(monkeypatch: pytest.MonkeyPatch) -> None:
    """Break the claim (every KL 100 nats above its computed value) and the verdict turns false."""
    real = theorem1_joint.joint_point

    def inflated(*args: object, **kwargs: object) -> theorem1_joint.JointPoint:
        p = real(*args, **kwargs)  # type: ignore[arg-type]
        return dataclasses.replace(p, kl_nats=p.kl_nats + 100.0)

    assert _joint(_small())[:2] == (True, True)
    monkeypatch.setattr(theorem1_joint, "joint_point", inflated)
    assert _joint(_small())[:2] == (False, False)


def test_a_bound_large_enough_lets_the_no_mix_control_hold_and_the_verdict_fail() -> None:
    """With the copy model's length raised to 40 bits (27.7 nats) the no-MIX class's KL up to horizon 8 stays
    below that bound: the control holds, so the check must not, although its claim still does."""
    claim, held, controls = _joint(_small(joint_copy_bits=40))
    assert claim is True and controls["no_mix"].held is True and held is False


def test_patterns_world_rows_slope_and_a_bound_a_few_bits_lower_breaks_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The patterns world at the small scale: one row per event, K(E) read off the event, every point held and
    the slope computed from the rows; then every bound lowered to 2 bits below the KL measured there (d lowered
    by as many bits as that takes): each point, the patterns world and the joint claim turn false."""
    config = _small()
    rows = theorem1_joint.pattern_rows(config)
    assert [r.k_event_bits for r in rows] == [22, 28] and all(r.held and r.unprecedented for r in rows)
    assert all(r.kl_nats < r.bound_nats and r.kl_nats <= r.bound_posterior_nats + 1e-9 for r in rows)
    summary, _ = theorem1_joint.summarise_joint(config, theorem1_joint.measure_joint(config))
    assert summary.patterns_held is True and summary.joint_claim is True
    assert summary.patterns_slope_nats_per_bit == pytest.approx(
        (rows[1].kl_nats - rows[0].kl_nats) / (rows[1].k_event_bits - rows[0].k_event_bits))
    real = theorem1_joint.joint_point

    def lowered(*args: object, **kwargs: object) -> theorem1_joint.JointPoint:
        p = real(*args, **kwargs)  # type: ignore[arg-type]
        if p.world != "patterns":
            return p
        cut = math.ceil((p.bound_nats - p.kl_nats) / math.log(2)) + 2
        return dataclasses.replace(p, d_bits=p.d_bits - cut)

    monkeypatch.setattr(theorem1_joint, "joint_point", lowered)
    assert not any(r.held for r in theorem1_joint.pattern_rows(config))
    summary, _ = theorem1_joint.summarise_joint(config, theorem1_joint.measure_joint(config))
    assert summary.patterns_held is False and summary.joint_claim is False


def test_config_refuses_bad_joint_settings() -> None:
    with pytest.raises(ValueError, match="argument mode"):
        theorem1.Config(mode="both")
    with pytest.raises(ValueError, match="argument joint_event"):
        theorem1.Config(joint_event="MIX")
    with pytest.raises(ValueError, match="argument joint_max_bits"):
        theorem1.Config(joint_max_bits=27)
    with pytest.raises(ValueError, match="argument joint_pattern_events"):
        theorem1.Config(joint_pattern_events=("+[,.+]]",))
    with pytest.raises(ValueError, match="argument joint_patterns"):
        theorem1.Config(joint_patterns=("12",), joint_pattern_events=("+[,.+]]",))
