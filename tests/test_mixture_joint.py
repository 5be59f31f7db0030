"""The joint-mode mixture (xi over actions and observations): exact against the brute-force Fraction reference,
online == batch, identities, the posterior ratio of MIX, and policy mode left as it was."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from aitheory.dsl import STATUSES, TILDE_ACTION, Switch, interleave, split_history
from aitheory.mixture import BUCKETS, ClassConfig, ModelClass, OnlineMixture, build_class, predict_batch
from aitheory.mixture.classes import CODE_LOST_BASE, CODE_MIX, CODE_TILDE
from aitheory.mixture.engine import mix_posterior_ratio
from aitheory.mixture.reference import _plan, class_programs, reference_predictions

_CACHE: dict[tuple, ModelClass] = {}

CONFIGS = [
    dict(max_bits=15, k=2, horizon=3, switch=True, mix=True),
    dict(max_bits=15, k=3, horizon=3, switch=True, mix=True),
    dict(max_bits=15, k=2, horizon=3, switch=False, mix=True),
    dict(max_bits=15, k=2, horizon=3, switch=True, mix=False),
    # SWITCH(E, P, MIX) with events of up to 4 tokens, which do hold (at 15 bits no event of 2 tokens ever does)
    dict(max_bits=15, k=2, horizon=3, switch_max_bits=27, switch_event_max_bits=12, switch_policy_max_bits=9,
         switch_plain_before=False),
]


def joint_class(**params: object) -> ModelClass:
    """A joint-mode class on every interleaved history (built once per configuration)."""
    key = tuple(sorted(params.items()))
    if key not in _CACHE:
        _CACHE[key] = build_class(ClassConfig(mode="joint", **params), all_histories=True)  # type: ignore[arg-type]
    return _CACHE[key]


def sample_joint(mc: ModelClass, rng: np.random.Generator, symbols: int) -> list[int]:
    """A history of ``symbols`` symbols drawn from the mixture's own normalised predictions, both roles."""
    online = OnlineMixture(mc)
    for _ in range(symbols):
        x = int(rng.choice(mc.config.k, p=online.predict().normalised))
        if online.role == "action":
            online.update(x)
        else:
            online.observe(x)
    return list(online.history)


def _trace(mc: ModelClass, history: list[int]):
    actions, observations = split_history(history)
    return predict_batch(mc, actions, observations)


@pytest.mark.parametrize("params", CONFIGS, ids=lambda p: "-".join(f"{k}{v}" for k, v in p.items()))
@pytest.mark.parametrize("seed", range(3))
def test_joint_fast_equals_exact_brute_force(params: dict, seed: int) -> None:
    """Raw predictions of both roles, every bucket and the evidence equal the Fraction reference everywhere."""
    mc = joint_class(**params)
    history = sample_joint(mc, np.random.default_rng(seed), mc.positions - 1)
    ref = reference_predictions(ClassConfig(mode="joint", **params), *split_history(history))
    trace = _trace(mc, history)
    assert trace.roles == tuple(r.role for r in ref) == ("action", "observation") * params["horizon"]
    for n, r in enumerate(ref):
        np.testing.assert_allclose(trace.raw[n], [float(x) for x in r.raw], rtol=1e-10, atol=1e-14)
        for b, name in enumerate(BUCKETS):
            assert trace.missing[n, b] == pytest.approx(float(r.missing.get(name, 0)), rel=1e-10, abs=1e-14)
        assert math.exp(trace.log_evidence[n]) == pytest.approx(float(r.evidence), rel=1e-10)


def _codes_of_plan(plan: list[int | str]) -> tuple[int, ...]:
    def code(step: int | str) -> int:
        if step == "MIX":
            return CODE_MIX
        if isinstance(step, str):
            return CODE_LOST_BASE - STATUSES.index(step)
        return CODE_TILDE if step == TILDE_ACTION else int(step)

    return tuple(code(s) for s in plan)


@pytest.mark.parametrize("which", [0, 1, 4])
def test_joint_posterior_equals_the_programs_posterior(which: int) -> None:
    """Grouped by behaviour on the history, the rows' posterior equals the sum of the programs' exact posterior;
    and SWITCH programs do switch on these histories (both roles from P), so the check covers them."""
    params = CONFIGS[which]
    mc = joint_class(**params)
    cfg = ClassConfig(mode="joint", **params)
    programs = class_programs(cfg)
    history = sample_joint(mc, np.random.default_rng(7), mc.positions - 1)
    ref = reference_predictions(cfg, *split_history(history))
    trace = _trace(mc, history)
    inputs = (history + [0] * mc.positions)[: mc.positions - 1]
    keys = [_codes_of_plan(_plan(e, cfg, inputs)) for e in programs]
    g = mc.history_index(history)
    row_keys = [tuple(int(c) for c in mc.codes[r, g]) for r in range(mc.rows)]
    for n, r in enumerate(ref):
        exact: dict[tuple[int, ...], Fraction] = {}
        for key, w in zip(keys, r.posterior, strict=True):
            exact[key] = exact.get(key, Fraction(0)) + w
        fast: dict[tuple[int, ...], float] = {}
        for key, w in zip(row_keys, trace.posterior[n], strict=True):
            fast[key] = fast.get(key, 0.0) + float(w)
        for key, w in exact.items():
            assert fast.get(key, 0.0) == pytest.approx(float(w), rel=1e-9, abs=1e-15)
    switched = [e for e, key in zip(programs, keys, strict=True) if isinstance(e, Switch)
                and key != _codes_of_plan(_plan(e.before, cfg, inputs))]
    if which == 4:
        assert switched, "no SWITCH program switched on this history: the check would not cover SWITCH"


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([0, 1, 2, 3, 4]))
def test_joint_raw_plus_missing_is_one_and_posterior_sums_to_one(seed: int, which: int) -> None:
    mc = joint_class(**CONFIGS[which])
    history = sample_joint(mc, np.random.default_rng(seed), mc.positions - 1)
    trace = _trace(mc, history)
    np.testing.assert_allclose(trace.raw.sum(axis=1) + trace.missing.sum(axis=1), 1.0, atol=1e-12)
    assert (trace.raw >= 0).all() and (trace.missing >= -1e-15).all()
    total = trace.posterior.sum(axis=1)
    assert total[0] == pytest.approx(1 - float(mc.not_enumerated_mass()), rel=1e-12)
    np.testing.assert_allclose(total[1:], 1.0, atol=1e-12)
    assert trace.missing[1:, BUCKETS.index("not_enumerated")].max() == 0.0


def _joint_probability(mc: ModelClass, history: list[int]) -> float:
    """xi(x_1..x_n) = sum_i w_i prod_m nu_i(x_m | x_<m), MIX with the product of plain-mixture ratios."""
    k = mc.config.k
    g = mc.history_index(history)
    prior = mc.weight_by_kind.astype(float) / mc.unit
    lik = np.ones(mc.rows)
    plain_lik = np.ones(mc.rows)
    plain_joint = 0.5
    for m, x in enumerate(history):
        codes = mc.codes[:, g, m]
        p_rows = np.where(codes == x, 1.0, np.where(codes == CODE_TILDE, 1.0 / k, 0.0))
        new_plain = float((prior[:, 0] * plain_lik * p_rows).sum())
        lik = lik * np.where(codes == CODE_MIX, new_plain / plain_joint if plain_joint > 0 else 0.0, p_rows)
        plain_lik = plain_lik * p_rows
        plain_joint = new_plain
    return float((prior.sum(axis=1) * lik).sum())


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_joint_predictions_are_ratios_of_joint_probabilities(seed: int) -> None:
    """xi(a | h) = xi(h a) / xi(h) and xi(o | h a) = xi(h a o) / xi(h a), the joints computed directly."""
    mc = joint_class(**CONFIGS[0])
    history = sample_joint(mc, np.random.default_rng(seed), mc.positions - 1)
    trace = _trace(mc, history)
    for n in range(len(history) + 1):
        past = history[:n]
        xi_h = _joint_probability(mc, past) if n else 1.0  # xi(empty) = 1: the not-enumerated prior too
        for x in range(mc.config.k):
            assert trace.raw[n, x] == pytest.approx(_joint_probability(mc, [*past, x]) / xi_h, rel=1e-10,
                                                    abs=1e-15)


class JointOnlineVersusBatch(RuleBasedStateMachine):
    """Random symbols of both roles through the online mixture; it always equals the batch computation."""

    @initialize(which=st.sampled_from([0, 1, 4]))
    def start(self, which: int) -> None:
        self.mc = joint_class(**CONFIGS[which])
        self.online = OnlineMixture(self.mc)

    @rule(choice=st.floats(0, 1, exclude_max=True))
    def push(self, choice: float) -> None:
        if self.online.position >= self.mc.positions:
            return
        step = self.online.predict()
        cdf = np.cumsum(step.normalised)
        x = min(int(np.searchsorted(cdf, choice * cdf[-1], side="right")), self.mc.config.k - 1)
        if step.raw[x] == 0:
            return
        if self.online.role == "action":
            self.online.update(x)
        else:
            self.online.observe(x)

    @invariant()
    def matches_batch(self) -> None:
        if not hasattr(self, "online"):
            return
        step = self.online.predict(top=3)
        trace = _trace(self.mc, list(self.online.history))
        n = self.online.position - 1
        assert step.role == trace.roles[n] == self.online.role
        np.testing.assert_allclose(step.raw, trace.raw[n], rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose([step.missing[b] for b in BUCKETS], trace.missing[n], rtol=1e-9, atol=1e-15)
        assert step.log_evidence == pytest.approx(trace.log_evidence[n], rel=1e-10, abs=1e-12)
        np.testing.assert_allclose(self.online.posterior(), trace.posterior[n], rtol=1e-9, atol=1e-15)
        assert self.online.mix_posterior_ratio() == pytest.approx(
            mix_posterior_ratio(trace, self.mc)[n], rel=1e-9)


TestJointOnlineVersusBatch = JointOnlineVersusBatch.TestCase
TestJointOnlineVersusBatch.settings = settings(max_examples=25, stateful_step_count=6, deadline=None)


@pytest.mark.parametrize("mode", ["policy", "joint"])
def test_mix_posterior_ratio_is_exactly_four_thirds_without_switch(mode: str) -> None:
    """w(MIX | h) / w(MIX) = 2 xi_plain(h) / xi(h): 1 at the empty history, then exactly 4/3 when the class has
    no SWITCH programs (xi = xi_plain + nu_MIX / 4), in both modes; the engine reports the same number."""
    params = dict(max_bits=15, k=2, horizon=3, switch=False, mix=True)
    cfg = ClassConfig(mode=mode, **params)  # type: ignore[arg-type]
    if mode == "joint":
        mc = joint_class(**params)
        history = sample_joint(mc, np.random.default_rng(3), mc.positions - 1)
        actions, observations = split_history(history)
    else:
        mc = build_class(cfg, all_histories=True)
        rng = np.random.default_rng(3)
        actions, observations = [1, 0], [int(o) for o in rng.integers(0, 2, 2)]
    ref = reference_predictions(cfg, actions, observations)
    exact = [2 * r.plain_evidence / r.evidence for r in ref]
    assert exact[0] == 1 and all(r == Fraction(4, 3) for r in exact[1:])
    np.testing.assert_allclose(mix_posterior_ratio(predict_batch(mc, actions, observations), mc),
                               [float(r) for r in exact], rtol=1e-12)


def test_mix_posterior_ratio_with_switch_is_below_four_thirds() -> None:
    """With SWITCH programs, 2 xi_plain(h) / xi(h) = 2 / (3/2 + S(h) / xi_plain(h)) < 4/3, exactly as computed."""
    params = CONFIGS[0]
    mc = joint_class(**params)
    history = sample_joint(mc, np.random.default_rng(11), mc.positions - 1)
    ref = reference_predictions(ClassConfig(mode="joint", **params), *split_history(history))
    exact = [2 * r.plain_evidence / r.evidence for r in ref]
    assert all(r < Fraction(4, 3) for r in exact[1:])
    np.testing.assert_allclose(mix_posterior_ratio(_trace(mc, history), mc), [float(r) for r in exact], rtol=1e-10)


def test_joint_online_api() -> None:
    """update(a) then predict() predicts o_t; observe(o) moves to a_{t+1}; update(a, o) does both at once."""
    mc = joint_class(**CONFIGS[0])
    one = OnlineMixture(mc)
    assert (one.position, one.role, one.t) == (1, "action", 1)
    lp_a = one.update(1)
    step = one.predict()
    assert (step.position, step.role, step.t) == (2, "observation", 1)
    lp_o = one.observe(0)
    two = OnlineMixture(mc)
    assert two.update(1, 0) == lp_a
    assert two.history == one.history == (1, 0) and (two.position, two.role, two.t) == (3, "action", 2)
    assert two.predict().log_evidence == pytest.approx(lp_a + lp_o, abs=1e-12)
    two.update(0)
    with pytest.raises(ValueError, match="argument action: step 2 is waiting"):
        two.update(0)
    two.observe(0)
    with pytest.raises(ValueError, match="argument observation: step 3 has no action"):
        two.observe(0)
    with pytest.raises(ValueError, match="argument observation"):
        OnlineMixture(build_class(ClassConfig(max_bits=9, horizon=2))).observe(0)


def test_joint_update_is_atomic() -> None:
    """update(a, o) with an o the class cannot take changes nothing (the action is not recorded either)."""
    mc = build_class(ClassConfig(max_bits=9, horizon=2, switch=False, mode="joint"))  # the all-0 history only
    online = OnlineMixture(mc)
    with pytest.raises(ValueError, match="argument history"):
        online.update(0, 1)
    assert online.history == () and online.position == 1
    assert online.update(0, 0) == OnlineMixture(mc).update(0)


def test_modes_are_explicit() -> None:
    assert ClassConfig().mode == "policy" and ClassConfig().positions == ClassConfig().horizon
    assert ClassConfig(mode="joint", horizon=4).positions == 8
    with pytest.raises(ValueError, match="argument mode"):
        ClassConfig(mode="both")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="argument observations: joint mode"):
        build_class(ClassConfig(max_bits=9, horizon=2, mode="joint"), observations=[(0,)])
    with pytest.raises(ValueError, match="argument histories"):
        build_class(ClassConfig(max_bits=9, horizon=2), histories=[(0, 0, 0)])
    mc = joint_class(**CONFIGS[0])
    with pytest.raises(ValueError, match="none can be left out"):
        predict_batch(mc, [0, 1, 1], [])
    assert interleave([1, 0], [1]) == (1, 1, 0) and split_history((1, 1, 0)) == ((1, 0), (1,))


def test_a_policy_only_row_takes_its_observations_from_mix() -> None:
    """A row built by policy_codes_in_joint_mode predicts its actions and xi_plain(o | h a) for the observations;
    its likelihood along h is then prod of its action probabilities times prod_t xi_plain(o_t | h a_t)."""
    import dataclasses

    from aitheory.mixture.classes import policy_codes_in_joint_mode

    base = joint_class(**CONFIGS[2])
    always_one = policy_codes_in_joint_mode(np.ones((1, base.codes.shape[1], base.config.horizon), dtype=np.int8))
    assert always_one[0, 0].tolist() == [1, CODE_MIX] * base.config.horizon
    weight = np.zeros((1, 3), dtype=np.int64)
    weight[0, 1] = 1 << (base.config.unit_bits - 8)  # an 8-bit row, booked as a combinator
    mc = dataclasses.replace(base, codes=np.concatenate([base.codes, always_one]),
                             weight_by_kind=np.concatenate([base.weight_by_kind, weight]),
                             rep_bits=np.append(base.rep_bits, 8), rep_text=(*base.rep_text, "ALWAYS1"))
    history = [1, 0, 1, 1, 1]
    online = OnlineMixture(mc)
    plain = OnlineMixture(joint_class(**{**CONFIGS[2], "mix": False}))  # the plain programs alone
    log_plain_obs = 0.0
    for x in history:
        row = online.row_predictions()[-1]
        if online.role == "action":
            assert row.tolist() == [0.0, 1.0]
            online.update(x)
            plain.update(x)
        else:
            # MIX's prediction: the plain mixture's conditional (a class of plain programs only, past position 1)
            np.testing.assert_allclose(row, plain.predict().raw, rtol=1e-12)
            log_plain_obs += math.log(row[x])
            online.observe(x)
            plain.observe(x)
    # ln nu(h) - ln xi(h) of the new row: all actions 1 (probability 1), observations from xi_plain
    assert online.log_likelihood_ratio()[-1] == pytest.approx(log_plain_obs - online.predict().log_evidence,
                                                              rel=1e-12)


def test_negative_control_the_exact_comparison_can_fail() -> None:
    """The brute-force comparison is sensitive to what the check is about: reading one observation differently
    (the engine on x with one o_t flipped), or predicting the observations as policy mode does (not at all),
    gives predictions that the exact joint mixture rejects."""
    params = CONFIGS[0]
    mc = joint_class(**params)
    history = sample_joint(mc, np.random.default_rng(5), mc.positions - 1)
    ref = reference_predictions(ClassConfig(mode="joint", **params), *split_history(history))
    exact = np.array([[float(x) for x in r.raw] for r in ref])
    flipped = list(history)
    flipped[1] = 1 - flipped[1]  # o_1
    wrong = _trace(mc, flipped).raw
    assert not np.allclose(wrong[2:], exact[2:], rtol=1e-6)
    policy = build_class(ClassConfig(**params), all_histories=True)
    actions, observations = split_history(history)
    policy_raw = predict_batch(policy, actions[:2], observations[:2]).raw  # xi(a_t | h), t = 1, 2, 3
    assert not np.allclose(policy_raw[1:], exact[2::2], rtol=1e-6)  # joint xi(a_t | h), t = 2, 3
