"""KL-constrained optima: the expected version (closed form, and convex cross-check) and Definition 2 (convex).

Brute-force references (values, expected KL, Definition-2 KL by enumerating observation and action sequences)
come from ``test_planning.py`` and share no code with :mod:`aitheory.planning`.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aitheory.planning import (
    InfeasibleBudgetError,
    PlanningProblem,
    kl_optimal_policy,
    kl_optimal_policy_expected,
)
from tests.test_planning import (
    World,
    bf_definition2,
    bf_expected_kl,
    bf_v_star,
    bf_value,
    complete_histories,
    make_world,
    random_policy,
    support_of,
    worlds,
)

BUDGETS = [0.0, 0.01, 0.1, 0.5, 2.0]


def assert_keeps_zeros(world: World, pi: object, problem: PlanningProblem) -> None:
    """``beta(a|h) = 0 => pi(a|h) = 0`` at every decision history, exactly."""
    for h in problem.decision_histories():
        b, p = np.asarray(world.beta(h)), pi(h)  # type: ignore[operator]
        assert np.all(p[b == 0] == 0.0), (h, b, p)


# ----- expected version, closed form -----


@settings(max_examples=20, deadline=None)
@given(worlds(semimeasure_env=True, zero_beta=0.4, coarse_utility=True))
def test_expected_kl_optimum_closed_form(world: World) -> None:
    """Value grows with eps from V^beta (eps = 0) to the best value within beta's support; the budget holds
    (and binds while it can); beta = 0 stays 0."""
    problem = world.problem()
    values = []
    for eps in BUDGETS:
        sol = kl_optimal_policy_expected(problem, world.beta, eps)
        got = bf_expected_kl(world, sol.policy, world.beta)
        assert got <= eps + 1e-9
        assert sol.achieved == pytest.approx(got, abs=1e-9)
        assert sol.value == pytest.approx(bf_value(world, sol.policy), abs=1e-12)
        if sol.status != "budget_not_binding" and eps > 0:
            assert got == pytest.approx(eps, abs=1e-7), "the constraint binds below the unconstrained optimum"
        assert_keeps_zeros(world, sol.policy, problem)
        values.append(sol.value)
    assert values[0] == pytest.approx(bf_value(world, world.beta), abs=1e-12)
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(values))
    big = kl_optimal_policy_expected(problem, world.beta, 1e3)
    assert big.status == "budget_not_binding"
    assert big.value == pytest.approx(bf_v_star(world, support_of(world.beta)), abs=1e-9)
    assert big.value <= bf_v_star(world) + 1e-12


def test_expected_kl_optimum_is_a_gibbs_tilt() -> None:
    """One step: pi(a) ∝ beta(a) exp(Q(a)/lambda) with the returned lambda, and KL(pi||beta) = eps."""
    world = make_world(11, 3, 2, 1)
    problem = world.problem()
    sol = kl_optimal_policy_expected(problem, world.beta, 0.2)
    lam = sol.lagrange_multiplier
    assert lam is not None and 0 < lam < math.inf
    q = np.array([sum(world.kernel((), a)[o] * world.utility((a, o)) for o in range(2)) for a in range(3)])
    tilt = world.beta(()) * np.exp(q / lam)
    np.testing.assert_allclose(sol.policy(()), tilt / tilt.sum(), rtol=1e-10)
    assert sol.achieved == pytest.approx(0.2, abs=1e-10)


@pytest.mark.parametrize(("seed", "semimeasure"), [(0, False), (1, True), (2, False)])
def test_convex_programme_agrees_with_the_closed_form(seed: int, semimeasure: bool) -> None:
    """The expected-KL programme solved by cvxpy/Clarabel = the soft-Bellman closed form (value and the
    environment-weighted joint distribution over complete histories)."""
    world = make_world(seed, 2, 2, 3, semimeasure_env=semimeasure, zero_beta=0.3)
    problem = world.problem()
    limit = kl_optimal_policy_expected(problem, world.beta, 1e3).achieved
    for eps in (0.05 * limit, 0.3 * limit, 0.8 * limit):
        closed = kl_optimal_policy_expected(problem, world.beta, eps)
        convex = kl_optimal_policy_expected(problem, world.beta, eps, method="convex")
        assert convex.solver.startswith("cvxpy")
        assert convex.value == pytest.approx(closed.value, abs=1e-6)
        assert convex.achieved <= eps + 1e-6
        p1 = {h: pa * po for h, pa, po in complete_histories(world, closed.policy)}
        p2 = {h: pa * po for h, pa, po in complete_histories(world, convex.policy)}
        assert max(abs(p1[h] - p2[h]) for h in p1) < 1e-4


def test_semimeasure_beta_has_a_least_kl() -> None:
    """beta summing to 0.9 at every history: every policy pays at least n ln(1/0.9) nats (measure nu)."""
    world = make_world(4, 2, 2, 2)
    beta = lambda h: 0.9 * np.asarray(world.beta(h))  # noqa: E731
    problem = world.problem()
    least = 2 * -math.log(0.9)
    for method in ("closed_form", "convex"):
        with pytest.raises(InfeasibleBudgetError, match="eps"):
            kl_optimal_policy_expected(problem, beta, 0.5 * least, method=method)  # type: ignore[arg-type]
        sol = kl_optimal_policy_expected(problem, beta, 2 * least, method=method)  # type: ignore[arg-type]
        assert least - 1e-9 <= bf_expected_kl(world, sol.policy, beta) <= 2 * least + 1e-6
    with pytest.raises(InfeasibleBudgetError, match="eps"):
        kl_optimal_policy(problem, beta, 0.0)


@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf, "x"])
def test_bad_budget_is_named(bad: object) -> None:
    world = make_world(0, 2, 2, 2)
    with pytest.raises(ValueError, match="eps"):
        kl_optimal_policy_expected(world.problem(), world.beta, bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="eps"):
        kl_optimal_policy(world.problem(), world.beta, bad)  # type: ignore[arg-type]


def test_too_many_cones_is_refused() -> None:
    world = make_world(0, 2, 2, 3)
    with pytest.raises(ValueError, match="max_cones"):
        kl_optimal_policy(world.problem(), world.beta, 0.1, max_cones=4)


# ----- Definition 2 -----


def _feasible_random_values(world: World, eps: float, seed: int, tries: int = 12) -> list[float]:
    """Values of random mixtures (1-t) beta + t pi_random that satisfy Definition 2's constraint."""
    out = []
    for k in range(tries):
        rand = random_policy(world, seed + k)
        t = (k + 1) / (tries + 1)

        def mix(h: tuple[int, ...], r=rand, t=t) -> np.ndarray:
            b = np.asarray(world.beta(h))
            p = (1 - t) * b + t * np.asarray(r(h)) * (b > 0)
            return p / p.sum()

        if bf_definition2(world, mix, world.beta)[0] <= eps:
            out.append(bf_value(world, mix))
    return out


@settings(max_examples=10, deadline=None)
@given(worlds(max_histories=36, semimeasure_env=True, zero_beta=0.4), st.integers(0, 2**20))
def test_definition2_optimum(world: World, seed: int) -> None:
    """Definition 2: the worst-case KL over open-loop o-sequences holds at the returned policy (brute force);
    value grows with eps from V^beta and beats every feasible random policy; beta = 0 stays 0."""
    problem = world.problem()
    values = []
    for eps in (0.0, 0.05, 0.5):
        sol = kl_optimal_policy(problem, world.beta, eps)
        worst, _ = bf_definition2(world, sol.policy, world.beta)
        assert sol.achieved <= eps + 1e-12, "overshoot is mixed back toward beta: the budget holds to rounding"
        assert worst <= eps + 1e-12
        assert sol.achieved == pytest.approx(worst, abs=1e-12)
        assert sol.value == pytest.approx(bf_value(world, sol.policy), abs=1e-12)
        assert_keeps_zeros(world, sol.policy, problem)
        assert all(v <= sol.value + 1e-6 for v in _feasible_random_values(world, eps, seed))
        values.append(sol.value)
    assert values[0] == pytest.approx(bf_value(world, world.beta), abs=1e-9)
    assert values[0] <= values[1] + 1e-7 <= values[2] + 2e-7


@pytest.mark.parametrize("seed", [0, 1])
def test_definition2_reaches_the_best_value_within_support(seed: int) -> None:
    """With eps = the Definition-2 KL of the best support policy, the optimum reaches V* within beta's support."""
    world = make_world(seed, 2, 2, 3, zero_beta=0.4)
    problem = world.problem()
    best = kl_optimal_policy_expected(problem, world.beta, 1e3)  # lambda -> 0: best value within the support
    needed, _ = bf_definition2(world, best.policy, world.beta)
    sol = kl_optimal_policy(problem, world.beta, needed + 0.01)
    assert sol.value == pytest.approx(bf_v_star(world, support_of(world.beta)), abs=1e-6)
    tighter = kl_optimal_policy(problem, world.beta, 0.5 * needed)
    assert tighter.value < sol.value
    assert tighter.achieved == pytest.approx(0.5 * needed, abs=1e-5), "binding below the best value"


@pytest.mark.parametrize("seed", [5, 6])
def test_definition2_is_stricter_when_observations_ignore_actions(seed: int) -> None:
    """If nu(o|h,a) does not depend on a, the expected KL is the nu-average of the per-sequence KLs, so a
    Definition-2-feasible policy is expected-feasible and the Definition-2 optimum is worth no more."""
    world = make_world(seed, 2, 2, 3, action_independent=True)
    problem = world.problem()
    for eps in (0.05, 0.3):
        d2 = kl_optimal_policy(problem, world.beta, eps)
        ex = kl_optimal_policy_expected(problem, world.beta, eps)
        assert bf_expected_kl(world, d2.policy, world.beta) <= eps + 1e-6
        assert d2.value <= ex.value + 1e-6


def test_beta_without_mass_makes_every_budget_infeasible() -> None:
    """beta = 0 at every second-step history: every policy has KL = inf, whatever eps."""
    world = make_world(0, 2, 2, 2)
    beta = lambda h: np.zeros(2) if len(h) else np.array([0.5, 0.5])  # noqa: E731
    problem = world.problem()
    with pytest.raises(InfeasibleBudgetError, match="beta"):
        kl_optimal_policy(problem, beta, 1.0)
    with pytest.raises(InfeasibleBudgetError):
        kl_optimal_policy_expected(problem, beta, 1.0)


def test_solutions_are_json_writable() -> None:
    """A result goes through aitheory.results' JSON conventions (lambda = inf is written as "inf")."""
    import json

    from aitheory.results import to_jsonable

    world = make_world(0, 2, 2, 2)
    sol = kl_optimal_policy_expected(world.problem(), world.beta, 0.0)
    assert sol.lagrange_multiplier == math.inf
    data = json.loads(json.dumps(to_jsonable(sol), allow_nan=False))
    assert data["lagrange_multiplier"] == "inf"
    assert data["constraint"] == "kl-expected"
    assert data["policy"]["table"]["()"] == pytest.approx(list(world.beta(())), abs=1e-15)


def test_full_simplex_programme_reports_the_solver_mass_on_betas_zeros() -> None:
    """With a variable on every action sequence, beta's zeros are kept (to the solver's tolerance) by the
    exponential cone z ln(z/0) alone; the optimal value equals the support-layout programme's."""
    from aitheory.planning import kl_full_simplex_mass
    from aitheory.theory.theorem2 import random_tree

    tree = random_tree(np.random.default_rng(3), 2, 2, 2, zero_beta=0.6)
    full = kl_full_simplex_mass(tree.problem, tree.beta, 0.2)
    layout = kl_optimal_policy(tree.problem, tree.beta, 0.2)
    assert full.zero_sequences > 0 and full.status == "optimal"
    assert 0 <= full.off_support_mass < 1e-2  # no interior point: the solver stops at its tolerance
    assert full.objective == pytest.approx(layout.value, abs=1e-2)
    no_zero = random_tree(np.random.default_rng(3), 2, 2, 2, zero_beta=0.0)
    assert kl_full_simplex_mass(no_zero.problem, no_zero.beta, 0.2).off_support_mass == 0
