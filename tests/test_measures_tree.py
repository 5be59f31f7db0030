"""Tests of the tree-level measures (:mod:`aitheory.measures.tree`), Definition 2 of the paper.

Oracles: (1) the brute-force joint-sequence functions of ``tree.py``; (2) independent joint probability
vectors built here and fed to the pmf-level ``kl``/``tvd`` (scipy ``rel_entr``); (3) the chain rule
``E_pi[sum_t KL(pi(.|h_t) || beta(.|h_t))]`` computed here by recursion. Property tests state their
theorem in the docstring. Trees are kept small (tree_size <= 300) so the module runs in seconds.
"""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from aitheory.measures import (
    DEFAULT_MAX_NODES,
    History,
    Policy,
    TreeDivergence,
    TreeTooLargeError,
    kl,
    sequence_kl,
    sequence_kl_exact,
    sequence_tvd,
    tree_kl,
    tree_kl_adaptive,
    tree_kl_brute_force,
    tree_kl_expected,
    tree_report,
    tree_size,
    tree_tvd,
    tree_tvd_adaptive,
    tree_tvd_brute_force,
    tree_tvd_expected,
    tvd,
)
from aitheory.measures.strategies import policy_strategy, random_pmf, random_policy

PROPS = settings(max_examples=40, deadline=None)
F = Fraction


# ------------------------------------------------------------------------------------- helpers


def close(x: float, y: float, tol: float = 1e-9) -> bool:
    """Equal infinities, or finite and within ``tol`` (absolute and relative)."""
    if math.isinf(x) or math.isinf(y):
        return x == y
    return math.isclose(x, y, rel_tol=tol, abs_tol=tol)


def constant(p: list) -> Policy:
    return lambda h: p


def next_history(h: History, a: int, obs: History, t: int) -> History:
    return (*h, a, obs[t]) if t < len(obs) else (*h, a)


def joint_vectors(pi: Policy, beta: Policy, obs: History, k_a: int, start: History = ()) -> tuple[list, list]:
    """The vectors ``P_pi(a|o)``, ``P_beta(a|o)`` over all action sequences (the open-loop joint)."""
    ps, bs = [], []
    for actions in itertools.product(range(k_a), repeat=len(obs) + 1):
        h, p, b = start, 1.0, 1.0
        for t, a in enumerate(actions):
            p, b = p * float(pi(h)[a]), b * float(beta(h)[a])
            h = next_history(h, a, obs, t)
        ps.append(p)
        bs.append(b)
    return ps, bs


def interaction_vectors(
    pi: Policy, beta: Policy, env: Callable[[History], list], k_a: int, k_o: int, horizon: int
) -> tuple[list, list]:
    """Joint probabilities of complete histories ``a_1 o_1 ... a_N`` under (pi, env) and (beta, env)."""
    ps, bs = [], []
    for xs in itertools.product(range(max(k_a, k_o)), repeat=2 * horizon - 1):
        if any(x >= (k_a if i % 2 == 0 else k_o) for i, x in enumerate(xs)):
            continue
        p = b = 1.0
        for i, x in enumerate(xs):
            h = xs[:i]
            if i % 2 == 0:
                p, b = p * float(pi(h)[x]), b * float(beta(h)[x])
            else:
                w = float(env(h)[x])
                p, b = p * w, b * w
        ps.append(p)
        bs.append(b)
    return ps, bs


def chain_rule_kl(pi: Policy, beta: Policy, obs: History, k_a: int, start: History = ()) -> float:
    """``E_pi[sum_t KL(pi(.|h_t) || beta(.|h_t))]`` for fixed observations (valid for a measure pi)."""

    def rec(h: History, t: int, weight: float) -> float:
        if t == len(obs) + 1:
            return 0.0
        p = pi(h)
        total = weight * kl(p, beta(h))
        for a in range(k_a):
            if p[a] > 0:
                total += rec(next_history(h, a, obs, t), t + 1, weight * float(p[a]))
        return total

    return rec(start, 0, 1.0)


def random_env(seed: int, k_o: int, reactive: bool, zero_prob: float = 0.0) -> Callable[[History], list]:
    """A measure over observations; if not ``reactive`` it depends only on the past observations."""

    def env(h: History) -> list:
        key = h if reactive else h[1::2]
        return random_pmf(np.random.default_rng([seed, 7, len(h), *key]), k_o, zero_prob=zero_prob)

    return env


shapes = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)).filter(
    lambda s: tree_size(*s) <= 300
)
seeds = st.integers(0, 2**32 - 1)


def kw(shape: tuple[int, int, int]) -> dict:
    return dict(n_actions=shape[0], n_observations=shape[1], horizon=shape[2])


# ------------------------------------------------------------------------------------- hand-computed cases


def test_horizon_one_is_the_pmf_kl() -> None:
    """With one action step there are no observations: tree KL = KL(pi(.|h) || beta(.|h))."""
    r = tree_kl(constant([0.5, 0.5]), constant([0.25, 0.75]), n_actions=2, n_observations=3, horizon=1)
    assert isinstance(r, TreeDivergence)
    assert r.value == pytest.approx(0.5 * math.log(4 / 3), abs=1e-15)
    assert r.maximiser == ()
    assert r.unit == "nats"
    assert r.reading == "open-loop"


def test_iid_policies_add_up() -> None:
    """History-blind policies: every reading equals N * KL(pi || beta) (chain rule; the adversary is idle)."""
    pi, beta = constant([0.5, 0.5]), constant([0.25, 0.75])
    one = kl([0.5, 0.5], [0.25, 0.75])
    shape = dict(n_actions=2, n_observations=2, horizon=4)
    assert tree_kl(pi, beta, **shape).value == pytest.approx(4 * one, abs=1e-12)
    assert tree_kl_adaptive(pi, beta, **shape).value == pytest.approx(4 * one, abs=1e-12)
    assert tree_kl_expected(pi, beta, constant([0.3, 0.7]), **shape).value == pytest.approx(
        4 * one, abs=1e-12
    )
    assert tree_kl(pi, beta, base=2, **shape).value == pytest.approx(4 * one / math.log(2), abs=1e-12)
    assert tree_kl(pi, beta, base=2, **shape).unit == "bits"


def matching_policies() -> tuple[Policy, Policy, float]:
    """pi = beta = uniform, except at step 2 after (a_1, o_1) with o_1 = a_1, where pi = [0.9, 0.1].

    Open loop: for o_1 = 0 only a_1 = 0 (prob 1/2) hits the difference, so each o-sequence gives d/2 with
    d = KL([0.9, 0.1] || [0.5, 0.5]). Adaptive: the adversary copies a_1 into o_1 and always hits: d.
    """
    pi = lambda h: [0.9, 0.1] if len(h) == 2 and h[0] == h[1] else [0.5, 0.5]  # noqa: E731
    return pi, constant([0.5, 0.5]), kl([0.9, 0.1], [0.5, 0.5])


def test_open_loop_vs_adaptive_vs_reactive_environment() -> None:
    """Open loop d/2 < adaptive d; a reactive environment (o_1 = a_1) reaches d > the open-loop maximum."""
    pi, beta, d = matching_policies()
    shape = dict(n_actions=2, n_observations=2, horizon=2)
    open_loop = tree_kl(pi, beta, per_sequence=True, **shape)
    assert open_loop.per_sequence == {(0,): pytest.approx(d / 2), (1,): pytest.approx(d / 2)}
    assert open_loop.value == pytest.approx(d / 2, abs=1e-12)
    assert tree_kl_adaptive(pi, beta, **shape).value == pytest.approx(d, abs=1e-12)
    copy_action = lambda h: [1.0, 0.0] if h[-1] == 0 else [0.0, 1.0]  # noqa: E731
    assert tree_kl_expected(pi, beta, copy_action, **shape).value == pytest.approx(d, abs=1e-12)
    assert tree_kl_expected(pi, beta, constant([0.5, 0.5]), **shape).value == pytest.approx(d / 2, abs=1e-12)
    t = tvd([0.9, 0.1], [0.5, 0.5])
    assert tree_tvd(pi, beta, **shape).value == pytest.approx(t / 2, abs=1e-12)
    assert tree_tvd_adaptive(pi, beta, **shape).value == pytest.approx(t, abs=1e-12)
    assert dict(tree_kl_adaptive(pi, beta, strategy=True, **shape).strategy or {}) == {(0,): 0, (1,): 1}


def test_semimeasure_environment_loses_whole_histories() -> None:
    """Missing environment mass contributes 0: with env = [1/2, 0] after a_1, only half of the complete
    histories a_1 o_1 a_2 survive, so the i.i.d. two-step KL 2d becomes (1/2)(2d) = d (the log-ratio of the
    first step is lost with the history, as for any sum over complete histories)."""
    pi, beta = constant([0.5, 0.5]), constant([0.25, 0.75])
    d = kl([0.5, 0.5], [0.25, 0.75])
    shape = dict(n_actions=2, n_observations=2, horizon=2)
    assert tree_kl_expected(pi, beta, constant([0.5, 0.0]), **shape).value == pytest.approx(d, abs=1e-15)
    assert tree_kl_expected(pi, beta, constant([0.5, 0.5]), **shape).value == pytest.approx(2 * d, abs=1e-15)
    assert tree_tvd_expected(pi, beta, constant([0.5, 0.0]), **shape).value == pytest.approx(
        0.5 * float(tree_tvd(pi, beta, **shape).value), abs=1e-15
    )


def test_maximiser_picks_the_worst_observation_sequence() -> None:
    """beta differs only after o_1 = 2: the maximiser is (2,), and per-sequence values are 0 elsewhere."""
    beta = lambda h: [0.2, 0.8] if len(h) == 2 and h[1] == 2 else [0.5, 0.5]  # noqa: E731
    r = tree_kl(constant([0.5, 0.5]), beta, n_actions=2, n_observations=3, horizon=2, per_sequence=True)
    assert r.maximiser == (2,)
    assert r.per_sequence is not None
    assert r.per_sequence[(0,)] == 0.0 and r.per_sequence[(1,)] == 0.0
    assert r.value == pytest.approx(kl([0.5, 0.5], [0.2, 0.8]), abs=1e-12)
    assert tree_kl(constant([0.5, 0.5]), beta, n_actions=2, n_observations=3, horizon=2).per_sequence is None


def test_horizon_zero() -> None:
    r = tree_kl(constant([1.0]), constant([1.0]), n_actions=1, n_observations=1, horizon=0)
    assert (r.value, r.maximiser, r.policy_calls) == (0.0, (), 0)
    assert (
        tree_tvd_adaptive(constant([1.0]), constant([1.0]), n_actions=1, n_observations=1, horizon=0).value
        == 0
    )


# ------------------------------------------------------------------------------------- infinities


def inf_policies(root: list[float]) -> tuple[Policy, Policy]:
    """beta forbids action 1 after (a_1, o_1) = (0, 1); pi plays uniformly there and ``root`` at the start."""
    pi = lambda h: root if h == () else [0.5, 0.5]  # noqa: E731
    beta = lambda h: [1.0, 0.0] if h == (0, 1) else [0.5, 0.5]  # noqa: E731
    return pi, beta


def test_infinite_where_pi_reaches_beta_zero() -> None:
    """Reachable support failure: KL = inf on o_1 = 1 only; the maximiser is (1,); TVD stays <= 1."""
    pi, beta = inf_policies([0.5, 0.5])
    shape = dict(n_actions=2, n_observations=2, horizon=2)
    r = tree_kl(pi, beta, per_sequence=True, **shape)
    assert r.value == math.inf
    assert r.maximiser == (1,)
    assert r.per_sequence is not None and r.per_sequence[(0,)] == 0.0
    assert tree_kl_brute_force(pi, beta, **shape).value == math.inf
    assert tree_kl_adaptive(pi, beta, **shape).value == math.inf
    assert tree_kl_expected(pi, beta, constant([0.5, 0.5]), **shape).value == math.inf
    assert tree_kl_expected(pi, beta, constant([1.0, 0.0]), **shape).value == 0.0  # never observes o_1 = 1
    assert tree_tvd(pi, beta, **shape).value == pytest.approx(0.25, abs=1e-15)


def test_unreachable_support_failure_is_finite() -> None:
    """If pi never plays a_1 = 0, beta's zero after (0, 1) is unreachable: KL = KL([0, 1] || [1/2, 1/2])
    = ln 2 from the first step only (finite: 0 ln(0/q) = 0 along the unreachable branch)."""
    pi, beta = inf_policies([0.0, 1.0])
    shape = dict(n_actions=2, n_observations=2, horizon=2)
    assert tree_kl(pi, beta, **shape).value == pytest.approx(math.log(2), abs=1e-15)
    assert tree_kl_adaptive(pi, beta, **shape).value == pytest.approx(math.log(2), abs=1e-15)
    assert tree_kl_brute_force(pi, beta, **shape).value == pytest.approx(math.log(2), abs=1e-15)


def test_fraction_policies_exact_tvd() -> None:
    """Fraction policies: TVD is an exact Fraction. pi = [1/3, 2/3], beta = [1/2, 1/2] i.i.d. for 2 steps:
    joint TVD = (1/2)(5 + 1 + 1 + 7)/36 = 7/36 ({1/9, 2/9, 2/9, 4/9} against 1/4 each)."""
    pi, beta = constant([F(1, 3), F(2, 3)]), constant([F(1, 2), F(1, 2)])
    shape = dict(n_actions=2, n_observations=2, horizon=2)
    for f in (tree_tvd, tree_tvd_brute_force, tree_tvd_adaptive):
        value = f(pi, beta, **shape).value
        assert isinstance(value, Fraction) and value == F(7, 36)
    env_value = tree_tvd_expected(pi, beta, constant([F(1, 4), F(3, 4)]), **shape).value
    assert isinstance(env_value, Fraction) and env_value == F(7, 36)
    assert tree_kl(pi, beta, **shape).value == pytest.approx(2 * kl([1 / 3, 2 / 3], [0.5, 0.5]), abs=1e-15)


def test_exact_closed_form_matches_sympy() -> None:
    """Two i.i.d. steps of pi = [1/3, 2/3] against beta = [1/2, 1/2]: the joint KL is 2 KL(pi || beta) =
    (2/3) ln(2/3) + (4/3) ln(4/3), checked symbolically from the exact sum over the four joint sequences."""
    pi, beta = constant([F(1, 3), F(2, 3)]), constant([F(1, 2), F(1, 2)])
    exact = sequence_kl_exact(pi, beta, (1,), n_actions=2, n_observations=2)
    target = sp.Rational(2, 3) * sp.log(sp.Rational(2, 3)) + sp.Rational(4, 3) * sp.log(sp.Rational(4, 3))
    assert sp.simplify(sp.expand_log(exact.to_sympy() - target, force=True)) == 0
    assert float(exact) == pytest.approx(tree_kl(pi, beta, n_actions=2, n_observations=2, horizon=2).value)
    with pytest.raises(ValueError, match="needs Fraction"):
        sequence_kl_exact(constant([0.5, 0.5]), beta, (0,), n_actions=2, n_observations=2)


def test_numpy_integer_history_is_accepted() -> None:
    start = np.array([1, 0])
    r = tree_kl(
        random_policy(1, 2), random_policy(2, 2), n_actions=2, n_observations=2, horizon=1, history=start
    )
    assert r.value == pytest.approx(kl(random_policy(1, 2)((1, 0)), random_policy(2, 2)((1, 0))), abs=1e-15)


def test_importing_measures_needs_no_optional_dependency() -> None:
    """The bottom layer imports only numpy, scipy and the standard library (hypothesis/sympy stay lazy)."""
    code = (
        "import sys, aitheory.measures, aitheory.measures.strategies\n"
        "bad = sorted(m for m in ('hypothesis', 'sympy', 'matplotlib', 'torch') if m in sys.modules)\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# ------------------------------------------------------------------------------------- properties


@PROPS
@given(shapes, seeds, seeds, st.sampled_from([0.0, 0.3]), st.booleans())
def test_chain_rule_identity(shape, s1, s2, zero_prob, semi_beta) -> None:
    """Chain rule (Definition 2 inner sum): for every open-loop o-sequence, the forward-pass value equals the
    brute-force joint sum sum_a P_pi ln(P_pi/P_beta), KL of the joint vectors, and
    E_pi[sum_t KL(pi(.|h_t) || beta(.|h_t))]; beta may be a semimeasure (pi a measure)."""
    k_a, k_o, n = shape
    pi = random_policy(s1, k_a, zero_prob=zero_prob)
    beta = random_policy(s2, k_a, zero_prob=zero_prob, semimeasure=semi_beta)
    dp = tree_kl(pi, beta, per_sequence=True, **kw(shape))
    bf = tree_kl_brute_force(pi, beta, per_sequence=True, **kw(shape))
    assert dp.per_sequence is not None and bf.per_sequence is not None
    assert set(dp.per_sequence) == set(itertools.product(range(k_o), repeat=max(n - 1, 0)))
    for obs, value in dp.per_sequence.items():
        assert close(value, bf.per_sequence[obs])
        assert close(value, kl(*joint_vectors(pi, beta, obs, k_a)))
        assert close(value, chain_rule_kl(pi, beta, obs, k_a))
        assert value >= -1e-12  # Gibbs: pi a measure, beta a semimeasure
    assert close(dp.value, bf.value) and dp.value == max(dp.per_sequence.values())
    assert dp.per_sequence[dp.maximiser] == dp.value  # type: ignore[index]


@PROPS
@given(shapes, seeds, seeds, st.booleans())
def test_semimeasure_pi_matches_definition(shape, s1, s2, semi_beta) -> None:
    """For a semimeasure pi the forward pass still equals the literal sum_a P_pi ln(P_pi/P_beta) of
    Definition 2 (the chain rule E_pi[sum_t KL_t] does not apply, and values may be negative)."""
    pi = random_policy(s1, shape[0], semimeasure=True)
    beta = random_policy(s2, shape[0], semimeasure=semi_beta)
    dp = tree_kl(pi, beta, per_sequence=True, **kw(shape))
    assert dp.per_sequence is not None
    for obs, value in dp.per_sequence.items():
        assert close(value, sequence_kl(pi, beta, obs, n_actions=shape[0], n_observations=shape[1]))
    tv = tree_tvd(pi, beta, per_sequence=True, **kw(shape))
    assert tv.per_sequence is not None
    for obs, value in tv.per_sequence.items():
        assert close(value, sequence_tvd(pi, beta, obs, n_actions=shape[0], n_observations=shape[1]))


@PROPS
@given(shapes, seeds, seeds, seeds, st.sampled_from([0.0, 0.3]))
def test_adaptive_dominates_open_loop_and_expectations(shape, s1, s2, s3, zero_prob) -> None:
    """Open-loop strategies are adaptive strategies: open loop <= adaptive (KL and TVD). For a measure env,
    E_env <= adaptive (max >= average at every observation node); for an env ignoring the actions,
    E_env <= open loop (average over o-sequences <= max)."""
    k_a, k_o, _ = shape
    pi = random_policy(s1, k_a, zero_prob=zero_prob)
    beta = random_policy(s2, k_a, zero_prob=zero_prob)
    open_kl, open_tvd = tree_kl(pi, beta, **kw(shape)).value, tree_tvd(pi, beta, **kw(shape)).value
    ad_kl, ad_tvd = (
        tree_kl_adaptive(pi, beta, **kw(shape)).value,
        tree_tvd_adaptive(pi, beta, **kw(shape)).value,
    )
    assert open_kl <= ad_kl + 1e-9 * (1 + abs(ad_kl))
    assert open_tvd <= ad_tvd + 1e-12
    reactive, blind = random_env(s3, k_o, reactive=True), random_env(s3, k_o, reactive=False, zero_prob=0.3)
    assert tree_kl_expected(pi, beta, reactive, **kw(shape)).value <= ad_kl + 1e-9 * (1 + abs(ad_kl))
    assert tree_tvd_expected(pi, beta, reactive, **kw(shape)).value <= ad_tvd + 1e-12
    assert tree_kl_expected(pi, beta, blind, **kw(shape)).value <= open_kl + 1e-9 * (1 + abs(open_kl))
    assert tree_tvd_expected(pi, beta, blind, **kw(shape)).value <= open_tvd + 1e-12


@settings(max_examples=25, deadline=None)
@given(shapes, seeds, seeds, st.sampled_from([0.0, 0.3]))
def test_adaptive_strategy_attains_the_adaptive_value(shape, s1, s2, zero_prob) -> None:
    """The returned adversary, used as a deterministic environment, attains the adaptive maximum exactly
    (the backward recursion's argmax is an optimal strategy), for KL and for TVD separately."""
    k_a, k_o, _ = shape
    pi = random_policy(s1, k_a, zero_prob=zero_prob)
    beta = random_policy(s2, k_a, zero_prob=zero_prob)
    for adaptive, expected in ((tree_kl_adaptive, tree_kl_expected), (tree_tvd_adaptive, tree_tvd_expected)):
        r = adaptive(pi, beta, strategy=True, **kw(shape))
        assert r.strategy is not None
        sigma = dict(r.strategy)
        env = lambda h, sigma=sigma: [1.0 if o == sigma.get(h, 0) else 0.0 for o in range(k_o)]  # noqa: E731
        assert close(float(expected(pi, beta, env, **kw(shape)).value), float(r.value))
    assert tree_kl_adaptive(pi, beta, **kw(shape)).strategy is None


@PROPS
@given(shapes, seeds, seeds, seeds, st.sampled_from([0.0, 0.3]))
def test_expected_is_kl_of_interaction_distributions(shape, s1, s2, s3, zero_prob) -> None:
    """For a measure env, tree_kl_expected = KL(P^{pi,env} || P^{beta,env}) and tree_tvd_expected =
    TVD(P^{pi,env}, P^{beta,env}) over complete histories a_1 o_1 ... a_N (pmf-level oracle)."""
    k_a, k_o, n = shape
    pi = random_policy(s1, k_a, zero_prob=zero_prob)
    beta = random_policy(s2, k_a, zero_prob=zero_prob)
    env = random_env(s3, k_o, reactive=True, zero_prob=zero_prob)
    ps, bs = interaction_vectors(pi, beta, env, k_a, k_o, n)
    assert close(tree_kl_expected(pi, beta, env, **kw(shape)).value, kl(ps, bs))
    assert close(float(tree_tvd_expected(pi, beta, env, **kw(shape)).value), tvd(ps, bs))


@PROPS
@given(shapes, seeds, seeds, st.sampled_from([0.0, 0.3]))
def test_tvd_bounds_and_pinsker(shape, s1, s2, zero_prob) -> None:
    """For measures, per o-sequence: 0 <= TVD <= 1 and Pinsker TVD <= sqrt(KL/2); hence also for the maxima
    (open loop and adaptive); and the TVD forward pass equals the pmf tvd of the joint vectors."""
    k_a = shape[0]
    pi = random_policy(s1, k_a, zero_prob=zero_prob)
    beta = random_policy(s2, k_a, zero_prob=zero_prob)
    kls = tree_kl(pi, beta, per_sequence=True, **kw(shape))
    tvs = tree_tvd(pi, beta, per_sequence=True, **kw(shape))
    assert kls.per_sequence is not None and tvs.per_sequence is not None
    for obs, t in tvs.per_sequence.items():
        assert -1e-15 <= t <= 1 + 1e-12
        assert t <= math.sqrt(kls.per_sequence[obs] / 2) + 1e-12
        assert close(t, tvd(*joint_vectors(pi, beta, obs, k_a)))
    assert tvs.value <= math.sqrt(kls.value / 2) + 1e-12
    ad_tvd = tree_tvd_adaptive(pi, beta, **kw(shape)).value
    assert ad_tvd <= 1 + 1e-12
    assert ad_tvd <= math.sqrt(tree_kl_adaptive(pi, beta, **kw(shape)).value / 2) + 1e-12
    assert close(tvs.value, tree_tvd_brute_force(pi, beta, **kw(shape)).value)


@settings(max_examples=15, deadline=None)
@given(shapes, policy_strategy(2, zero_prob=0.3, exact=True), policy_strategy(2, zero_prob=0.3, exact=True))
def test_fraction_policies_agree_with_floats(shape, pi, beta) -> None:
    """Exact (Fraction) policies: exact TVDs equal to brute force; KLs equal to the float computation."""
    shape = (2, *shape[1:])
    tv = tree_tvd(pi, beta, **kw(shape)).value
    assert isinstance(tv, Fraction)
    assert tv == tree_tvd_brute_force(pi, beta, **kw(shape)).value
    as_float = lambda f: lambda h: [float(x) for x in f(h)]  # noqa: E731
    assert close(float(tv), float(tree_tvd(as_float(pi), as_float(beta), **kw(shape)).value))
    assert close(
        tree_kl(pi, beta, **kw(shape)).value, tree_kl(as_float(pi), as_float(beta), **kw(shape)).value
    )


# ------------------------------------------------------------------------------ calls, size, validation


class Recorder:
    """Wraps a policy and counts calls per history."""

    def __init__(self, policy: Policy) -> None:
        self.policy, self.calls = policy, Counter[History]()

    def __call__(self, h: History) -> object:
        self.calls[h] += 1
        return self.policy(h)


@pytest.mark.parametrize(
    "fn", [tree_kl, tree_tvd, tree_kl_adaptive, tree_tvd_adaptive, tree_kl_brute_force, tree_tvd_brute_force]
)
def test_each_history_is_queried_once(fn: Callable[..., TreeDivergence]) -> None:
    """Full support: policies are called exactly once at each of the sum_{t<N} (K_a K_o)^t decision points."""
    pi, beta = Recorder(random_policy(1, 2)), Recorder(random_policy(2, 2))
    r = fn(pi, beta, n_actions=2, n_observations=3, horizon=3)
    decisions = 1 + 6 + 36
    assert r.policy_calls == decisions
    assert len(pi.calls) == len(beta.calls) == decisions
    assert set(pi.calls.values()) == {1} and set(beta.calls.values()) == {1}
    assert all(len(h) % 2 == 0 for h in pi.calls)


@settings(max_examples=15, deadline=None)
@given(shapes, seeds, seeds, seeds)
def test_report_equals_the_separate_functions_with_one_call_per_history(shape, s1, s2, s3) -> None:
    """tree_report gives the same six values as the six functions, calling pi and beta once per history."""
    pi, beta = Recorder(random_policy(s1, shape[0], zero_prob=0.2)), Recorder(random_policy(s2, shape[0]))
    env = random_env(s3, shape[1], reactive=True)
    report = tree_report(pi, beta, env, per_sequence=True, **kw(shape))
    assert set(pi.calls.values()) == {1} and set(beta.calls.values()) == {1}
    assert report.policy_calls == len(pi.calls) == report.kl.policy_calls
    plain_pi, plain_beta = random_policy(s1, shape[0], zero_prob=0.2), random_policy(s2, shape[0])
    pairs = [
        (report.kl, tree_kl(plain_pi, plain_beta, per_sequence=True, **kw(shape))),
        (report.tvd, tree_tvd(plain_pi, plain_beta, **kw(shape))),
        (report.kl_adaptive, tree_kl_adaptive(plain_pi, plain_beta, **kw(shape))),
        (report.tvd_adaptive, tree_tvd_adaptive(plain_pi, plain_beta, **kw(shape))),
        (report.kl_expected, tree_kl_expected(plain_pi, plain_beta, env, **kw(shape))),
        (report.tvd_expected, tree_tvd_expected(plain_pi, plain_beta, env, **kw(shape))),
    ]
    for got, want in pairs:
        assert got is not None
        assert (got.measure, got.reading, got.maximiser) == (want.measure, want.reading, want.maximiser)
        assert close(float(got.value), float(want.value))
    assert report.kl.per_sequence == pairs[0][1].per_sequence
    assert tree_report(plain_pi, plain_beta, **kw(shape)).kl_expected is None


def test_per_sequence_table_is_read_only() -> None:
    r = tree_kl(
        constant([0.5, 0.5]),
        constant([0.5, 0.5]),
        n_actions=2,
        n_observations=2,
        horizon=2,
        per_sequence=True,
    )
    assert r.per_sequence is not None
    with pytest.raises(TypeError):
        r.per_sequence[(0,)] = 1.0  # type: ignore[index]


def test_starting_history_is_prefixed() -> None:
    """From a starting history h every query extends h, and the answer is the KL of the shifted policies."""
    start = (1, 0, 0, 2)
    pi, beta = Recorder(random_policy(3, 2)), Recorder(random_policy(4, 2))
    r = tree_kl(pi, beta, n_actions=2, n_observations=3, horizon=2, history=start, per_sequence=True)
    assert all(h[: len(start)] == start for h in pi.calls)
    assert r.per_sequence is not None
    for obs, value in r.per_sequence.items():
        assert close(value, chain_rule_kl(pi, beta, obs, 2, start))


def test_tree_size_formula() -> None:
    assert tree_size(2, 2, 0) == 1
    assert tree_size(2, 2, 1) == 1 + 2
    assert tree_size(2, 2, 2) == (1 + 4) + 4 * 2
    assert tree_size(3, 1, 3) == (1 + 3 + 9) + 27
    assert DEFAULT_MAX_NODES == 10_000_000


@pytest.mark.parametrize(
    "fn", [tree_kl, tree_tvd, tree_kl_adaptive, tree_tvd_adaptive, tree_kl_brute_force, tree_tvd_brute_force]
)
def test_size_limit_refuses_before_enumerating(fn: Callable[..., TreeDivergence]) -> None:
    """Trees above max_nodes raise TreeTooLargeError (a ValueError) before any policy call."""
    pi = Recorder(constant([0.5, 0.5]))
    with pytest.raises(TreeTooLargeError, match=r"horizon=40 has .* nodes > max_nodes=10,000,000"):
        fn(pi, pi, n_actions=2, n_observations=2, horizon=40)
    with pytest.raises(ValueError, match="max_nodes=12"):
        fn(pi, pi, n_actions=2, n_observations=2, horizon=2, max_nodes=12)
    assert not pi.calls
    assert fn(pi, pi, n_actions=2, n_observations=2, horizon=2, max_nodes=13).value == 0


def test_size_limit_expected() -> None:
    pi = Recorder(constant([0.5, 0.5]))
    with pytest.raises(TreeTooLargeError):
        tree_kl_expected(pi, pi, constant([0.5, 0.5]), n_actions=2, n_observations=2, horizon=30)
    assert not pi.calls


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        (dict(history=(0,)), r"argument history: has odd length 1"),
        (dict(history=(2, 0)), r"argument history: entry 0 \(2\) is not an action in range\(2\)"),
        (dict(history=(0, 3)), r"argument history: entry 1 \(3\) is not an observation in range\(3\)"),
        (dict(n_actions=0), r"argument n_actions: expected an int >= 1"),
        (dict(horizon=-1), r"argument horizon: expected an int >= 0"),
        (dict(horizon=1.5), r"argument horizon"),
    ],
)
def test_bad_arguments(kwargs: dict, pattern: str) -> None:
    args = dict(n_actions=2, n_observations=3, horizon=2) | kwargs
    with pytest.raises(ValueError, match=pattern):
        tree_kl(constant([0.5, 0.5]), constant([0.5, 0.5]), **args)


@pytest.mark.parametrize(
    ("bad", "pattern"),
    [
        ([0.7, 0.7], r"argument pi\(history=\(\)\): sums to 1\.4"),
        ([0.5, float("nan")], r"argument pi\(history=\(\)\): entry 1 is NaN"),
        ([1.0], r"argument pi\(history=\(\)\): has 1 entries, expected 2"),
        ([F(3, 4), F(1, 2)], r"argument pi\(history=\(\)\): sums to 5/4"),
    ],
)
def test_bad_policy_output_names_policy_and_history(bad: list, pattern: str) -> None:
    for fn in (tree_kl, tree_tvd_adaptive, tree_kl_brute_force):
        with pytest.raises(ValueError, match=pattern):
            fn(constant(bad), constant([0.5, 0.5]), n_actions=2, n_observations=2, horizon=2)


def test_bad_beta_and_env_are_named() -> None:
    beta = lambda h: [0.5, 0.5] if h == () else [0.5, -0.5]  # noqa: E731
    with pytest.raises(ValueError, match=r"argument beta\(history=\(0, 0\)\): entry 1 is negative"):
        tree_kl(constant([0.5, 0.5]), beta, n_actions=2, n_observations=1, horizon=2)
    with pytest.raises(ValueError, match=r"argument env\(history=\(0,\)\): sums to"):
        tree_kl_expected(
            constant([0.5, 0.5]),
            constant([0.5, 0.5]),
            constant([0.9, 0.9]),
            n_actions=2,
            n_observations=2,
            horizon=2,
        )
    with pytest.raises(ValueError, match="argument pi: expected a callable"):
        tree_kl([0.5, 0.5], constant([0.5, 0.5]), n_actions=2, n_observations=2, horizon=2)  # type: ignore[arg-type]
