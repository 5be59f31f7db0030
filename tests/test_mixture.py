"""The Bayes mixture over BF-8 programs: exact against a brute-force reference, online == batch, identities."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from aitheory.dsl import Mix, Plain, Switch, kraft_mass_bits
from aitheory.mixture import BUCKETS, ClassConfig, OnlineMixture, build_class, predict_batch
from aitheory.mixture.classes import CODE_MIX, CODE_TILDE
from aitheory.mixture.reference import class_programs, reference_predictions

# Small classes, built once per configuration (numba compile and enumeration are the slow part).
_CACHE: dict[tuple, object] = {}


def small_class(max_bits: int = 15, k: int = 2, horizon: int = 5, switch: bool = True, mix: bool = True,
                all_histories: bool = True):
    key = (max_bits, k, horizon, switch, mix, all_histories)
    if key not in _CACHE:
        cfg = ClassConfig(max_bits=max_bits, k=k, horizon=horizon, switch=switch, mix=mix)
        _CACHE[key] = build_class(cfg, all_histories=all_histories)
    return _CACHE[key]


def sample_history(mc, rng: np.random.Generator, length: int) -> tuple[list[int], list[int]]:
    """Actions drawn from the mixture's own normalised predictions (so the history has positive probability)."""
    online = OnlineMixture(mc)
    actions, obs = [], []
    for _ in range(length):
        step = online.predict()
        a = int(rng.choice(mc.config.k, p=step.normalised))
        o = int(rng.integers(mc.config.k))
        online.update(a, o)
        actions.append(a)
        obs.append(o)
    return actions, obs


CONFIGS = [
    dict(max_bits=15, k=2, horizon=5, switch=True, mix=True),
    dict(max_bits=12, k=3, horizon=4, switch=True, mix=True),
    dict(max_bits=15, k=2, horizon=5, switch=False, mix=True),
    dict(max_bits=15, k=2, horizon=5, switch=True, mix=False),
]


@pytest.mark.parametrize("params", CONFIGS, ids=lambda p: "-".join(f"{k}{v}" for k, v in p.items()))
@pytest.mark.parametrize("seed", range(3))
def test_fast_equals_exact_brute_force(params: dict, seed: int) -> None:
    """Raw predictions and every missing-mass bucket equal the Fraction reference at every step."""
    mc = small_class(**params)
    rng = np.random.default_rng(seed)
    actions, obs = sample_history(mc, rng, params["horizon"] - 1)
    cfg = ClassConfig(**params)
    ref = reference_predictions(cfg, actions, obs)
    trace = predict_batch(mc, actions, obs)
    for t, r in enumerate(ref):
        np.testing.assert_allclose(trace.raw[t], [float(x) for x in r.raw], rtol=1e-10, atol=1e-14)
        for b, name in enumerate(BUCKETS):
            assert trace.missing[t, b] == pytest.approx(float(r.missing.get(name, 0)), rel=1e-10, abs=1e-14)
        assert math.exp(trace.log_evidence[t]) == pytest.approx(float(r.evidence), rel=1e-10)


def test_class_contents_match_the_explicit_list() -> None:
    """Program counts per kind and the exact enumerated mass agree with listing every program."""
    params = CONFIGS[0]
    mc = small_class(**params)
    programs = class_programs(ClassConfig(**params))
    assert mc.programs_by_kind["plain"] == sum(isinstance(p, Plain) for p in programs)
    assert mc.programs_by_kind["switch"] == sum(isinstance(p, Switch) for p in programs)
    assert mc.programs_by_kind["mix"] == sum(isinstance(p, Mix) for p in programs) == 1
    mass = mc.enumerated_mass()
    assert mass["plain"] == kraft_mass_bits(params["max_bits"]) / 2
    assert mass["mix"] == Fraction(1, 4)
    from aitheory.dsl import expr_bits

    assert mass["switch"] == sum(Fraction(1, 2 ** expr_bits(p)) for p in programs if isinstance(p, Switch))
    assert mc.not_enumerated_mass() == 1 - sum(mass.values())


@settings(max_examples=30)
@given(st.integers(0, 2**32 - 1), st.sampled_from([0, 1, 2, 3]))
def test_raw_plus_missing_is_one_and_posterior_sums_to_one(seed: int, which: int) -> None:
    """sum_a xi(a|h) + sum of the missing-mass buckets = 1; the posterior (with not-enumerated mass) sums to 1."""
    mc = small_class(**CONFIGS[which])
    actions, obs = sample_history(mc, np.random.default_rng(seed), mc.config.horizon - 1)
    trace = predict_batch(mc, actions, obs)
    np.testing.assert_allclose(trace.raw.sum(axis=1) + trace.missing.sum(axis=1), 1.0, atol=1e-12)
    assert (trace.raw >= 0).all() and (trace.missing >= -1e-15).all()
    total = trace.posterior.sum(axis=1)
    assert total[0] == pytest.approx(1 - float(mc.not_enumerated_mass()), rel=1e-12)
    np.testing.assert_allclose(total[1:], 1.0, atol=1e-12)


def _joint(mc, actions: list[int], obs: list[int]) -> float:
    """xi(a_1..a_n) computed directly as sum_i w_i prod_s nu_i(a_s | h_<s), with MIX's product of plain ratios."""
    k = mc.config.k
    g = mc.history_index(obs)
    prior = mc.weight_by_kind.astype(float) / mc.unit
    lik = np.ones(mc.rows)
    lik_plain_joint = 0.5  # xi_plain(empty)
    plain_lik = np.ones(mc.rows)
    for s, a in enumerate(actions):
        codes = mc.codes[:, g, s]
        p_plain_rows = np.where(codes == a, 1.0, np.where(codes == CODE_TILDE, 1.0 / k, 0.0))
        new_plain_joint = float((prior[:, 0] * plain_lik * p_plain_rows).sum())
        ratio = new_plain_joint / lik_plain_joint if lik_plain_joint > 0 else 0.0
        lik = lik * np.where(codes == CODE_MIX, ratio, p_plain_rows)
        plain_lik = plain_lik * p_plain_rows
        lik_plain_joint = new_plain_joint
    return float((prior.sum(axis=1) * lik).sum())


@settings(max_examples=25)
@given(st.integers(0, 2**32 - 1))
def test_prediction_is_a_ratio_of_joint_probabilities(seed: int) -> None:
    """xi(a | h) = xi(h a) / xi(h), with the joints computed directly instead of via the posterior."""
    mc = small_class(**CONFIGS[0])
    actions, obs = sample_history(mc, np.random.default_rng(seed), mc.config.horizon - 1)
    trace = predict_batch(mc, actions, obs)
    for t in range(1, len(actions)):
        h = actions[:t]
        xi_h = _joint(mc, h, obs) if t else 1.0
        for a in range(mc.config.k):
            assert trace.raw[t, a] == pytest.approx(_joint(mc, [*h, a], obs) / xi_h, rel=1e-10, abs=1e-15)


@settings(max_examples=25)
@given(st.integers(0, 2**32 - 1))
def test_models_that_agree_keep_their_prior_ratio(seed: int) -> None:
    """Two rows with the same predictions on h have posterior ratio = prior ratio, at every data size."""
    mc = small_class(**CONFIGS[2])
    actions, obs = sample_history(mc, np.random.default_rng(seed), mc.config.horizon - 1)
    trace = predict_batch(mc, actions, obs)
    g = mc.history_index(obs)
    prior = mc.prior()
    for t in range(1, len(actions) + 1):
        codes = mc.codes[:, g, :t]
        alive = trace.posterior[t] > 0
        _, first, inverse = np.unique(codes[alive], axis=0, return_index=True, return_inverse=True)
        idx = np.flatnonzero(alive)
        for group in range(len(first)):
            members = idx[inverse.reshape(-1) == group]
            if len(members) >= 2:
                i, j = members[:2]
                assert trace.posterior[t, i] / trace.posterior[t, j] == pytest.approx(prior[i] / prior[j], rel=1e-9)


class OnlineVersusBatch(RuleBasedStateMachine):
    """Drive the online mixture with random actions and observations; it always equals the batch computation."""

    @initialize(which=st.sampled_from([0, 1]))
    def start(self, which: int) -> None:
        self.mc = small_class(**CONFIGS[which])
        self.online = OnlineMixture(self.mc)

    @rule(choice=st.floats(0, 1, exclude_max=True), obs=st.integers(0, 2))
    def act(self, choice: float, obs: int) -> None:
        if self.online.t >= self.mc.config.horizon:
            return
        step = self.online.predict()
        cdf = np.cumsum(step.normalised)
        a = int(np.searchsorted(cdf, choice * cdf[-1], side="right"))
        a = min(a, self.mc.config.k - 1)
        if step.raw[a] == 0:
            return
        self.online.update(a, obs % self.mc.config.k)

    @invariant()
    def matches_batch(self) -> None:
        if not hasattr(self, "online"):
            return
        step = self.online.predict(top=3)
        trace = predict_batch(self.mc, self.online.actions, self.online.observations)
        t = self.online.t - 1
        np.testing.assert_allclose(step.raw, trace.raw[t], rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose([step.missing[b] for b in BUCKETS], trace.missing[t], rtol=1e-9, atol=1e-15)
        assert step.log_evidence == pytest.approx(trace.log_evidence[t], rel=1e-10, abs=1e-12)
        assert sum(step.kind_mass.values()) == pytest.approx(1.0, abs=1e-12)
        assert step.with_missing.sum() == pytest.approx(1.0, abs=1e-12)
        assert [p.posterior for p in step.top] == sorted((p.posterior for p in step.top), reverse=True)


TestOnlineVersusBatch = OnlineVersusBatch.TestCase
TestOnlineVersusBatch.settings = settings(max_examples=25, stateful_step_count=6, deadline=None)


def test_always_one_history_learns_and_names_short_programs() -> None:
    """On 1111..., xi(1|h) rises and the top rows are short 'always 1' programs."""
    mc = build_class(ClassConfig(max_bits=18, horizon=9), observations=[(0,) * 8])
    online = OnlineMixture(mc)
    p1 = []
    for _ in range(8):
        p1.append(online.predict().raw[1])
        online.update(1, 0)
    final = online.predict(top=3)
    assert final.raw[1] > 0.9 and final.raw[1] > p1[0]
    assert p1[-1] > p1[2] > p1[0]
    assert "+[.]]" in [p.program for p in final.top]


def test_errors_name_the_argument() -> None:
    mc = small_class(**CONFIGS[0])
    online = OnlineMixture(mc)
    with pytest.raises(ValueError, match="argument action"):
        online.update(5)
    with pytest.raises(ValueError, match="argument actions"):
        predict_batch(mc, [0] * 10)
    one = build_class(ClassConfig(max_bits=9, horizon=3), observations=[(0, 0)])
    with pytest.raises(ValueError, match="argument observations"):
        predict_batch(one, [0, 0], [1, 1])


@pytest.mark.parametrize(
    "params",
    [
        dict(max_bits=12, k=2, horizon=4, switch_max_bits=22, switch_event_max_bits=6, switch_policy_max_bits=6,
             switch_plain_before=False),
        dict(max_bits=12, k=2, horizon=4, switch_max_bits=19, switch_event_max_bits=3),
    ],
)
def test_switch_programs_longer_than_plain_ones(params: dict) -> None:
    """SWITCH bounds beyond L + 1 (with capped parts): contents and predictions still equal the explicit class."""
    cfg = ClassConfig(**params)
    mc = build_class(cfg, all_histories=True)
    programs = class_programs(cfg)
    from aitheory.dsl import expr_bits

    assert mc.programs_by_kind["switch"] == sum(isinstance(p, Switch) for p in programs) > 0
    assert mc.enumerated_mass()["switch"] == sum(Fraction(1, 2 ** expr_bits(p)) for p in programs
                                                 if isinstance(p, Switch))
    assert mc.enumerated_mass()["plain"] == kraft_mass_bits(cfg.max_bits) / 2
    for seed in range(3):
        actions, obs = sample_history(mc, np.random.default_rng(seed), cfg.horizon - 1)
        ref = reference_predictions(cfg, actions, obs)
        trace = predict_batch(mc, actions, obs)
        for t, r in enumerate(ref):
            np.testing.assert_allclose(trace.raw[t], [float(x) for x in r.raw], rtol=1e-10, atol=1e-14)
