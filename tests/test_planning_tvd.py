"""TVD-constrained optima (Definition 2's shape as an LP; the per-step variant) and Theorem 2's contrast.

Theorem 2 (TVD constraint): a TVD-constrained optimum raises the probability only of V-optimal actions; a
KL-constrained one keeps ``beta(a|h) = 0 => pi(a|h) = 0``. The joint-prefix reading is asserted; violations of
the per-step reading are counted and reported (printed, and recorded as test properties), not asserted.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from aitheory.planning import (
    InfeasibleBudgetError,
    kl_optimal_policy,
    off_support_probability,
    raised_actions,
    tvd_optimal_policy,
    tvd_optimal_policy_stepwise,
)
from aitheory.planning.tvd import _step_row
from tests.test_planning import (
    World,
    bf_definition2,
    bf_v_star,
    bf_value,
    decision_histories,
    make_world,
    random_policy,
    worlds,
)


def _feasible_random_values(world: World, eps: float, seed: int, tries: int = 12) -> list[float]:
    """Values of random mixtures (1-t) beta + t pi_random within eps in Definition 2's TVD."""
    out = []
    for k in range(tries):
        rand = random_policy(world, seed + k)
        t = (k + 1) / (tries + 1)

        def mix(h: tuple[int, ...], r=rand, t=t) -> np.ndarray:
            return (1 - t) * np.asarray(world.beta(h)) + t * np.asarray(r(h))

        if bf_definition2(world, mix, world.beta)[1] <= eps:
            out.append(bf_value(world, mix))
    return out


@settings(max_examples=15, deadline=None)
@given(worlds(max_histories=36, semimeasure_env=True, zero_beta=0.4), st.integers(0, 2**20))
def test_tvd_optimum(world: World, seed: int) -> None:
    """The per-sequence TVD holds (brute force); value grows from V^beta (eps = 0) to V* (eps = 1, outside
    beta's support too) and beats every feasible random policy."""
    problem = world.problem()
    values = []
    for eps in (0.0, 0.1, 0.3, 1.0):
        sol = tvd_optimal_policy(problem, world.beta, eps)
        _, worst = bf_definition2(world, sol.policy, world.beta)
        assert sol.achieved <= eps + 1e-12  # to rounding (solver overshoot is mixed back toward beta)
        assert worst <= eps + 1e-12
        assert sol.achieved == pytest.approx(worst, abs=1e-12)
        assert sol.value == pytest.approx(bf_value(world, sol.policy), abs=1e-12)
        assert sol.value == pytest.approx(sol.objective, abs=1e-7)
        assert all(v <= sol.value + 1e-7 for v in _feasible_random_values(world, eps, seed))
        values.append(sol.value)
    assert values[0] == pytest.approx(bf_value(world, world.beta), abs=1e-7)
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(values))
    assert values[-1] == pytest.approx(bf_v_star(world), abs=1e-7)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pinsker_tvd_optimum_beats_kl_optimum(seed: int) -> None:
    """Pinsker per observation sequence: TVD_o <= sqrt(KL_o / 2), so the Definition-2 KL optimum at eps is
    feasible for the TVD programme at sqrt(eps/2), whose optimum is therefore worth at least as much."""
    world = make_world(seed, 2, 2, 3, zero_beta=0.3)
    problem = world.problem()
    for eps in (0.01, 0.1, 0.5):
        k = kl_optimal_policy(problem, world.beta, eps)
        bkl, btvd = bf_definition2(world, k.policy, world.beta)
        assert btvd <= math.sqrt(bkl / 2) + 1e-12
        t = tvd_optimal_policy(problem, world.beta, math.sqrt(eps / 2))
        assert t.value >= k.value - 1e-6


@settings(max_examples=30, deadline=None)
@given(
    st.integers(2, 5).flatmap(lambda k: st.tuples(
        st.lists(st.floats(0, 1), min_size=k, max_size=k),
        st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=k, max_size=k),
    )),
    st.floats(0, 1),
    st.sampled_from([1.0, 0.8]),
)
def test_stepwise_greedy_row_is_the_lp_optimum(row: tuple[list[float], list[float]], eps: float,
                                               mass: float) -> None:
    """The greedy per-history step = linprog on ``max p.q s.t. sum p = 1, (1/2)|p - b|_1 <= eps, p >= 0``."""
    raw, q_list = row
    b = np.asarray(raw) + 1e-3
    b = mass * b / b.sum()
    q = np.asarray(q_list)
    k = b.size
    if eps < (1 - b.sum()) / 2 - 1e-12:
        with pytest.raises(InfeasibleBudgetError):
            _step_row(b, q, eps, 1e-10)
        return
    p = _step_row(b, q, eps, 1e-10)
    assert p.sum() == pytest.approx(1.0, abs=1e-12) and np.all(p >= 0)
    assert 0.5 * np.abs(p - b).sum() <= eps + 1e-12
    # variables p (k), u (k) with u >= |p - b|
    c = np.concatenate([-q, np.zeros(k)])
    eye = np.eye(k)
    a_ub = np.block([[eye, -eye], [-eye, -eye], [np.zeros((1, k)), 0.5 * np.ones((1, k))]])
    b_ub = np.concatenate([b, -b, [eps]])
    a_eq = np.concatenate([np.ones(k), np.zeros(k)])[None, :]
    tight = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[1.0], bounds=(0, None), method="highs", options=tight)
    assert res.status == 0
    assert p @ q == pytest.approx(-res.fun, abs=1e-9)


@settings(max_examples=15, deadline=None)
@given(worlds(max_histories=36, semimeasure_env=True, zero_beta=0.4))
def test_stepwise_tvd_optimum(world: World) -> None:
    """Per-step TVD <= eps at every history; V^beta at 0, V* at 1; and, by coupling the steps, its joint TVD
    per sequence is at most 1 - (1 - eps)^n, so the Definition-2 LP at that budget is worth at least as much."""
    problem = world.problem()
    for eps in (0.0, 0.1, 0.3, 1.0):
        sol = tvd_optimal_policy_stepwise(problem, world.beta, eps)
        per_step = max(0.5 * np.abs(sol.policy(h) - world.beta(h)).sum() for h in decision_histories(world))
        assert per_step <= eps + 1e-12
        assert sol.achieved == pytest.approx(per_step, abs=1e-12)
        assert sol.value == pytest.approx(bf_value(world, sol.policy), abs=1e-12)
        joint_budget = 1 - (1 - eps) ** world.steps
        assert bf_definition2(world, sol.policy, world.beta)[1] <= joint_budget + 1e-9
        assert tvd_optimal_policy(problem, world.beta, joint_budget).value >= sol.value - 1e-7
        if eps == 0.0:
            assert sol.value == pytest.approx(bf_value(world, world.beta), abs=1e-12)
        if eps == 1.0:
            assert sol.value == pytest.approx(bf_v_star(world), abs=1e-12)


def test_semimeasure_beta_needs_a_budget() -> None:
    """beta summing to 0.8: every measure pi has per-sequence TVD >= (1 - 0.8^n)/2, per step >= 0.1."""
    world = make_world(2, 2, 2, 2)
    beta = lambda h: 0.8 * np.asarray(world.beta(h))  # noqa: E731
    problem = world.problem()
    least = (1 - 0.8**2) / 2
    with pytest.raises(InfeasibleBudgetError, match="eps"):
        tvd_optimal_policy(problem, beta, 0.9 * least)
    assert tvd_optimal_policy(problem, beta, 1.1 * least).achieved <= 1.1 * least + 1e-9
    with pytest.raises(InfeasibleBudgetError, match="eps"):
        tvd_optimal_policy_stepwise(problem, beta, 0.09)
    assert tvd_optimal_policy_stepwise(problem, beta, 0.11).achieved <= 0.11


def test_bad_arguments_are_named() -> None:
    world = make_world(0, 2, 2, 3)
    with pytest.raises(ValueError, match="eps"):
        tvd_optimal_policy(world.problem(), world.beta, -1.0)
    with pytest.raises(ValueError, match="max_variables"):
        tvd_optimal_policy(world.problem(), world.beta, 0.1, max_variables=10)
    with pytest.raises(ValueError, match="reading"):
        raised_actions(world.problem(), world.beta, world.beta, reading="both")  # type: ignore[arg-type]


# ----- Theorem 2 -----


def _theorem2_counts(seeds: range) -> dict[str, int]:
    keys = ("cases", "tvd_joint", "tvd_step", "kl_joint", "kl_step", "kl_zero_broken", "tvd_off_support_cases")
    counts = dict.fromkeys(keys, 0)
    shapes = [(2, 2, 3), (3, 2, 2), (2, 3, 2), (3, 1, 3)]
    for seed in seeds:
        ka, ko, m = shapes[seed % len(shapes)]
        world = make_world(seed, ka, ko, m, semimeasure_env=seed % 2 == 1, zero_beta=0.3, coarse_utility=seed % 3 == 0)
        problem = world.problem()
        for eps in (0.05, 0.2, 0.5):
            counts["cases"] += 1
            t = tvd_optimal_policy(problem, world.beta, eps)
            counts["tvd_joint"] += sum(not r.optimal for r in raised_actions(problem, t.policy, world.beta))
            counts["tvd_step"] += sum(not r.optimal for r in raised_actions(problem, t.policy, world.beta,
                                                                           reading="step"))
            counts["tvd_off_support_cases"] += off_support_probability(problem, t.policy, world.beta) > 1e-9
            k = kl_optimal_policy(problem, world.beta, eps)
            counts["kl_joint"] += sum(not r.optimal for r in raised_actions(problem, k.policy, world.beta))
            counts["kl_step"] += sum(not r.optimal for r in raised_actions(problem, k.policy, world.beta,
                                                                          reading="step"))
            counts["kl_zero_broken"] += sum(
                int(np.any(k.policy(h)[np.asarray(world.beta(h)) == 0] > 0)) for h in problem.decision_histories()
            )
            assert off_support_probability(problem, k.policy, world.beta) == 0.0
    return counts


def test_theorem2_tvd_raises_only_optimal_actions_and_kl_keeps_zeros(record_property) -> None:
    """Joint-prefix reading asserted on random small trees (semimeasure nu, ties, zeros in beta); per-step
    violations (TVD) and non-optimal raises (KL, which Theorem 2 does not restrict) are counted and reported."""
    counts = _theorem2_counts(range(16))
    for key, val in counts.items():
        record_property(key, val)
    print(f"\nTheorem 2 counts (violations = raised non-optimal actions): {counts}")
    assert counts["tvd_joint"] == 0
    assert counts["kl_zero_broken"] == 0
    assert counts["kl_joint"] > 0, "KL spreads mass: it raises non-optimal actions (the contrast)"
    assert counts["tvd_off_support_cases"] > 0, "TVD moves mass where beta has none (the contrast)"
