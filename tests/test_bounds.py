"""``aitheory.bounds.switch_cost`` against an exact Fraction computation and against Theorem 1's own numbers.

Claims tested: (1) ``kl_nats`` is Definition 2's open-loop maximum, computed exactly from the brute-force mixture
of :mod:`aitheory.mixture.reference` (programs of any length included with prior ``2^-len``); (2) on the worlds of
``aitheory check theorem1`` it reproduces that check's KL and posterior bound; (3) the chain
``KL <= -ln w(S|h) <= -ln w(nu*|h) = len(nu*) ln 2 - ln r`` holds and ``d`` is the construction's code overhead;
(4) each claim can fail: a precedented event is reported as not promised, and the telescoping bound of a switch set
that misses the policy's behaviour is exceeded.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from aitheory.bounds import LN2, default_class, switch_cost
from aitheory.dsl import TILDE_ACTION, Mix, Switch, expr_bits, parse, run_reference
from aitheory.mixture.classes import add_programs, build_class, in_class
from aitheory.mixture.reference import reference_predictions
from aitheory.theory import theorem1

LONG_EVENT = "><" * 11 + "+[,.+]]"  # 29 tokens: 87 bits, beyond any int64 weight unit


def _policy_probs(policy: str, k: int, horizon: int, obs: tuple[int, ...]) -> list[list[Fraction]]:
    run = run_reference(parse(policy), k, horizon, list(obs))
    out = []
    for s in range(horizon):
        row = [Fraction(0)] * k
        if s < len(run.actions):
            a = run.actions[s]
            row = [Fraction(1, k)] * k if a == TILDE_ACTION else [Fraction(int(b == a)) for b in range(k)]
        out.append(row)
    return out


def _brute_force_kl(config, obs: tuple[int, ...], acts: tuple[int, ...], event: str, policy: str,
                    horizon: int) -> tuple[float, tuple[int, ...]]:
    """Definition 2 from the exact mixture: max over o_t..o_{m-1} of sum_a P_pi ln(P_pi / P_xi)."""
    k, t = config.k, len(obs) + 1
    cfg = dataclasses.replace(config, horizon=t + horizon - 1)
    e, p = parse(event), parse(policy)
    extra = [e, p, Switch(e, p, Mix())]
    best, arg = -math.inf, ()
    for cont in itertools.product(range(k), repeat=horizon - 1):
        full_obs = obs + cont
        pi = _policy_probs(policy, k, cfg.horizon, full_obs)
        total = 0.0
        for a_seq in itertools.product(range(k), repeat=horizon):
            p_pi = math.prod(pi[t - 1 + j][a] for j, a in enumerate(a_seq))
            if p_pi == 0:
                continue
            p_xi = Fraction(1)
            for j, a in enumerate(a_seq):  # stop where xi gives the action 0: the branch's KL is inf
                p_xi *= reference_predictions(cfg, acts + a_seq[:j], full_obs, extra=extra)[t - 1 + j].raw[a]
                if p_xi == 0:
                    break
            total += math.inf if p_xi == 0 else float(p_pi) * math.log(p_pi / p_xi)
        if total > best:
            best, arg = total, cont
    return best, arg


@pytest.mark.parametrize(
    ("obs", "event", "policy", "horizon", "switch_bits"),
    [
        ((0, 1), "+[,.+]]", "+[.]]", 2, 0),  # novel observation, then always 1
        ((0, 0, 1), LONG_EVENT, "+[.]]", 2, 0),  # 87-bit event: only its 108-bit SWITCH predicts the 1 (KL 74.6)
        ((0, 1), "+[,.+]]", "+[~]]", 2, 0),  # a stochastic policy
        ((1, 0), "+[,.+]]", "+[.]]", 2, 0),  # precedented: E held at step 2 < t = 3
        ((0, 1), "+[,.+]]", "+[.]]", 3, 6),  # enumerated SWITCH(E', P', MIX) with parts of up to 2 tokens
    ],
)
def test_kl_equals_the_exact_fraction_mixture(obs: tuple[int, ...], event: str, policy: str, horizon: int,
                                              switch_bits: int) -> None:
    config = default_class(class_bits=9, switch_bits=switch_bits)
    r = switch_cost(obs, event, policy, horizon=horizon, class_config=config)
    exact, worst = _brute_force_kl(config, obs, (0,) * len(obs), event, policy, horizon)
    assert r.kl_nats == pytest.approx(exact, rel=1e-9, abs=1e-12)
    assert r.worst_observations == worst or r.kl_nats == pytest.approx(exact)  # ties may pick another maximiser


def test_long_event_enters_with_its_exact_prior_and_the_chain_of_bounds_holds() -> None:
    r = switch_cost([0] * 9 + [1], LONG_EVENT, "+[.]]", horizon=3)
    construction = Switch(parse(LONG_EVENT), parse("+[.]]"), Mix())
    assert r.event_bits == 87 > 64 and r.policy_bits == 15
    assert r.d_bits == expr_bits(construction) - 87 - 15 == 6
    assert r.bound_nats == pytest.approx(expr_bits(construction) * LN2)
    assert str(construction) in r.added_programs and LONG_EVENT in r.added_programs
    assert r.unprecedented and r.bound_promised and r.held
    assert r.kl_nats <= r.switch_bound_nats + 1e-9 <= r.construction_bound_nats + 2e-9
    assert r.construction_bound_nats == pytest.approx(r.bound_nats - math.log(r.posterior_ratio))
    assert 1 <= r.posterior_ratio <= 4 / 3 + 1e-9
    assert sum(c.share for c in r.carriers) == pytest.approx(1.0)
    assert any(c.program == str(construction) for c in r.carriers)


def test_added_programs_have_exact_prior_mass() -> None:
    config = dataclasses.replace(default_class(class_bits=9), horizon=3)
    mc = build_class(config, observations=[(0, 1)])
    e = parse(LONG_EVENT)
    grown, added = add_programs(mc, [e, parse("+]"), Switch(e, parse("+[.]]"), Mix()), e])
    assert added == (e, Switch(e, parse("+[.]]"), Mix()))  # "+]" is enumerated, e is listed twice
    assert not in_class(config, e) and in_class(config, parse("+]"))
    gained = grown.enumerated_mass()["plain"] - mc.enumerated_mass()["plain"]
    assert gained == Fraction(1, 2**88)
    assert grown.enumerated_mass()["switch"] == Fraction(1, 2 ** expr_bits(added[1]))
    assert grown.not_enumerated_mass() == 1 - sum(grown.enumerated_mass().values())
    assert grown.prior()[-2] == 2.0**-88


def _theorem1_small() -> theorem1.Config:
    return dataclasses.replace(theorem1.Config.quick(), switch_steps=2, k_grid=(1, 3, 5), period=2, budgets=())


def _theorem1_points() -> list[tuple[str, tuple[int, ...], int]]:
    config = _theorem1_small()
    return [p for p in theorem1._worlds(config) if p[0] in ("novel", "precedented") and p[2] <= 6]


@pytest.mark.parametrize(("world", "obs", "t"), _theorem1_points())
def test_reproduces_theorem1_on_its_worlds(world: str, obs: tuple[int, ...], t: int) -> None:
    config = _theorem1_small()
    theirs = theorem1.switch_cost(config, world, obs, t, "+[.]]")
    ours = switch_cost(obs[: t - 1], "+[,.+]]", "+[.]]", horizon=config.switch_steps,
                       class_config=config.class_config(1))
    assert ours.added_programs == ()  # the check's class already holds E, P and the construction
    assert ours.kl_nats == pytest.approx(theirs.kl_bayes, rel=1e-12, abs=1e-12)
    assert ours.switch_bound_nats == pytest.approx(theirs.bound_posterior, rel=1e-12)
    assert ours.worst_observations == theirs.maximiser
    novel = obs[: t - 1].count(1) == 1  # the detector "the last observation was 1" first holds at t
    assert ours.unprecedented == novel and ours.bound_promised == novel
    assert world == "precedented" or novel
    if novel:
        assert ours.held and ours.kl_nats <= ours.bound_nats


def test_shortest_prices_the_shortest_equivalent_programs() -> None:
    long_policy = "><" + "+[.]]"
    r = switch_cost([0, 0, 1], "+[,.+]]", long_policy, horizon=2, class_config=default_class(class_bits=15),
                    shortest=True)
    assert r.policy_bits < 3 * len(long_policy)
    assert r.policy == "+[.]]" or r.policy_bits <= 15
    plain = switch_cost([0, 0, 1], "+[,.+]]", long_policy, horizon=2, class_config=default_class(class_bits=15))
    assert plain.policy_bits == 21 and r.bound_nats < plain.bound_nats


def test_control_without_the_construction_the_kl_exceeds_the_bound() -> None:
    """Negative control: a class without MIX and without the construction (nothing added) has no model that copies
    the mixture until E; after 60 demonstrator steps the KL of the switch then exceeds [K(E) + K(P) + d] ln 2 (it
    grows by about ln 2 per step: only the random-action programs still predict the switch), and the result says the
    bound is not promised. With the construction added (and MIX with it), the same point holds."""
    config = dataclasses.replace(default_class(class_bits=21), mix=False)
    obs = [0] * 59 + [1]
    control = switch_cost(obs, "+[,.+]]", "+[.]]", horizon=2, class_config=config, add=False)
    assert not control.held and not control.bound_promised and control.kl_nats > control.bound_nats
    assert any(n.startswith("missing:") for n in control.notes)
    fixed = switch_cost(obs, "+[,.+]]", "+[.]]", horizon=2, class_config=config)
    assert fixed.held and fixed.bound_promised and "MIX" in fixed.added_programs


def test_bad_input_is_refused_with_the_argument_named() -> None:
    with pytest.raises(ValueError, match=r"argument event.*never holds"):
        switch_cost([0, 0], "+[,.+]]", "+[.]]", horizon=2, class_config=default_class(class_bits=9))
    with pytest.raises(ValueError, match="position 3"):
        switch_cost([0, 1], "+[,", "+[.]]", horizon=2)
    with pytest.raises(ValueError, match="argument horizon"):
        switch_cost([0, 1], "+[,.+]]", "+[.]]", horizon=20)
    with pytest.raises(ValueError, match="argument mode"):
        switch_cost([0, 1], "+[,.+]]", "+[.]]", horizon=2, mode="environment")
    with pytest.raises(ValueError, match="argument actions"):
        switch_cost([0, 1], "+[,.+]]", "+[.]]", horizon=2, actions=[0])


def test_demonstrator_program_gives_the_actions() -> None:
    r = switch_cost([0, 1], "+[,.+]]", "+[.]]", horizon=2, demonstrator="+[>.<]]", class_config=default_class(9))
    assert r.actions == (0, 0)
    assert np.isfinite(r.kl_nats)


def test_mixture_with_added_programs_matches_the_exact_reference() -> None:
    """Online and batch engines over a class grown by add_programs agree with the Fraction reference (extra=...)."""
    from aitheory.mixture import OnlineMixture, predict_batch

    config = dataclasses.replace(default_class(class_bits=9), horizon=4)
    obs, acts = (0, 1, 0), (0, 0, 1)
    e, p = parse(LONG_EVENT), parse("+[.]]")
    extra = [e, p, Switch(e, p, Mix()), parse("+[~]]")]
    grown, _ = add_programs(build_class(config, observations=[obs]), extra)
    exact = reference_predictions(config, acts, obs, extra=extra)
    batch = predict_batch(grown, acts, obs)
    online = OnlineMixture(grown)
    for t, ref in enumerate(exact):
        step = online.predict()
        assert np.allclose(step.raw, [float(x) for x in ref.raw], rtol=1e-12, atol=1e-15)
        assert np.allclose(batch.raw[t], [float(x) for x in ref.raw], rtol=1e-12, atol=1e-15)
        assert step.missing["not_enumerated"] == pytest.approx(float(ref.missing.get("not_enumerated", 0)))
        if t < len(acts):
            online.update(acts[t], obs[t])
