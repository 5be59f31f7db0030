"""aitheory.planning: the history tree, values (Definition 1), Q*, the optimal policy, input validation.

Every quantity is checked against a brute-force enumeration written here from the raw kernel, utility and
policy callables (it shares no code with :mod:`aitheory.planning`). The brute-force helpers are also used by
``test_planning_kl.py`` and ``test_planning_tvd.py``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aitheory.measures import kl
from aitheory.planning import (
    Environment,
    PlanningProblem,
    TabularPolicy,
    TreeTooLargeError,
    non_optimal_probability,
    off_support_probability,
    optimal_policy,
    q_star,
    solve_optimal,
    tree_divergence,
    v_star,
    value,
)

History = tuple[int, ...]
Fn = Callable[[History], np.ndarray]


# ----- random small worlds -----


@dataclass
class World:
    """A random small world: kernel, utility and base policy as memoised callables."""

    n_actions: int
    n_observations: int
    m: int
    start: History
    kernel: Callable[[History, int], np.ndarray]
    utility: Callable[[History], float]
    beta: Fn

    @property
    def env(self) -> Environment:
        return Environment(self.n_actions, self.n_observations, self.kernel)

    @property
    def steps(self) -> int:
        return self.m - len(self.start) // 2

    def problem(self) -> PlanningProblem:
        return PlanningProblem.build(self.env, self.utility, self.start, m=self.m)


def make_world(
    seed: int,
    n_actions: int = 2,
    n_observations: int = 2,
    m: int = 3,
    start: History = (),
    *,
    semimeasure_env: bool = False,
    zero_beta: float = 0.0,
    action_independent: bool = False,
    coarse_utility: bool = False,
) -> World:
    """Dirichlet kernels and base policy, uniform or coarse (ties!) utilities; ``zero_beta`` = P(a zero in a row)."""
    rng = np.random.default_rng(seed)
    kern: dict[tuple[History, int], np.ndarray] = {}
    util: dict[History, float] = {}
    base: dict[History, np.ndarray] = {}

    def kernel(h: History, a: int) -> np.ndarray:
        key = (h[1::2], 0) if action_independent else (h, a)  # observations only: nu ignores every action
        if key not in kern:
            p = rng.dirichlet(np.ones(n_observations))
            if semimeasure_env and rng.random() < 0.5:
                p = p * rng.uniform(0.5, 1.0)
            kern[key] = p
        return kern[key]

    def utility(h: History) -> float:
        if h not in util:
            util[h] = float(rng.integers(0, 3)) / 2 if coarse_utility else float(rng.random())
        return util[h]

    def beta(h: History) -> np.ndarray:
        if h not in base:
            b = rng.dirichlet(np.ones(n_actions))
            if rng.random() < zero_beta:
                b[rng.integers(n_actions)] = 0.0
                b = b / b.sum()
            base[h] = b
        return base[h]

    return World(n_actions, n_observations, m, start, kernel, utility, beta)


@st.composite
def worlds(draw: st.DrawFn, max_histories: int = 64, **flags: bool | float) -> World:
    """Small random worlds (at most ``max_histories`` complete histories)."""
    ka = draw(st.integers(2, 3))
    ko = draw(st.integers(1, 3))
    steps = draw(st.integers(1, 3))
    while (ka * ko) ** steps > max_histories:
        steps -= 1
    start = tuple(draw(st.sampled_from([(), (1, 0)])))
    m = steps + len(start) // 2
    seed = draw(st.integers(0, 2**32 - 1))
    return make_world(seed, ka, ko, m, start, **flags)  # type: ignore[arg-type]


# ----- brute force, from the raw callables -----


def complete_histories(world: World, policy: Fn) -> Iterator[tuple[History, float, float]]:
    """Every complete history with ``prod pi(a_s|h)`` and ``prod nu(o_s|h, a_s)`` along it."""

    def rec(h: History, left: int, p_act: float, p_obs: float) -> Iterator[tuple[History, float, float]]:
        if left == 0:
            yield h, p_act, p_obs
            return
        pa = np.asarray(policy(h), dtype=float)
        for a in range(world.n_actions):
            po = np.asarray(world.kernel(h, a), dtype=float)
            for o in range(world.n_observations):
                yield from rec((*h, a, o), left - 1, p_act * pa[a], p_obs * po[o])

    yield from rec(world.start, world.steps, 1.0, 1.0)


def bf_value(world: World, policy: Fn) -> float:
    """``V^pi(h0) = sum_h P_pi(a's) P_nu(o's | a's) U(h)`` over complete histories."""
    return math.fsum(pa * po * world.utility(h) for h, pa, po in complete_histories(world, policy))


def bf_expected_kl(world: World, policy: Fn, beta: Fn) -> float:
    """``E_{pi,nu}[sum_s KL(pi(.|h_s) || beta(.|h_s))]``, recursively."""

    def rec(h: History, left: int, reach: float) -> float:
        if left == 0 or reach == 0:
            return 0.0
        p = np.asarray(policy(h), dtype=float)
        total = reach * kl(p, beta(h))
        for a in range(world.n_actions):
            po = np.asarray(world.kernel(h, a), dtype=float)
            for o in range(world.n_observations):
                total += rec((*h, a, o), left - 1, reach * p[a] * po[o])
        return total

    return rec(world.start, world.steps, 1.0)


def bf_definition2(world: World, policy: Fn, beta: Fn) -> tuple[float, float]:
    """Definition 2: ``(max_o KL_o, max_o TVD_o)`` over open-loop observation sequences ``o_1..o_{n-1}``."""
    n = world.steps
    best_kl, best_tvd = 0.0, 0.0
    for obs in itertools.product(range(world.n_observations), repeat=n - 1):
        kl_terms, tvd_terms = [], []
        for acts in itertools.product(range(world.n_actions), repeat=n):
            h, p_pi, p_beta = world.start, 1.0, 1.0
            for s in range(n):
                p_pi *= float(policy(h)[acts[s]])
                p_beta *= float(beta(h)[acts[s]])
                h = (*h, acts[s], obs[s] if s < n - 1 else 0)
            if p_pi > 0:
                kl_terms.append(math.inf if p_beta == 0 else p_pi * math.log(p_pi / p_beta))
            tvd_terms.append(abs(p_pi - p_beta))
        best_kl = max(best_kl, math.fsum(kl_terms))
        best_tvd = max(best_tvd, 0.5 * math.fsum(tvd_terms))
    return best_kl, best_tvd


def decision_histories(world: World) -> list[History]:
    out = []
    for s in range(world.steps):
        for suffix in itertools.product(*([range(world.n_actions), range(world.n_observations)] * s)):
            out.append(world.start + tuple(suffix))
    return out


def bf_best_deterministic(world: World, allowed: Callable[[History], list[int]] | None = None) -> float:
    """Max value over every deterministic policy (choosing among ``allowed(h)`` actions)."""
    hs = decision_histories(world)
    choices = [allowed(h) if allowed else list(range(world.n_actions)) for h in hs]
    best = -math.inf
    for pick in itertools.product(*choices):
        table = dict(zip(hs, pick, strict=True))
        best = max(best, bf_value(world, lambda h, t=table: np.eye(world.n_actions)[t[h]]))
    return best


def bf_v_star(world: World, allowed: Callable[[History], list[int]] | None = None) -> float:
    """Expectimax from the raw callables: ``max_a sum_o nu(o|h,a) V(hao)`` over ``allowed(h)`` actions."""

    def rec(h: History, left: int) -> float:
        if left == 0:
            return world.utility(h)
        acts = allowed(h) if allowed else range(world.n_actions)
        return max(
            math.fsum(p * rec((*h, a, o), left - 1) for o, p in enumerate(world.kernel(h, a)) if p > 0)
            for a in acts
        )

    return rec(world.start, world.steps)


def support_of(beta: Fn) -> Callable[[History], list[int]]:
    return lambda h: [int(a) for a in np.flatnonzero(np.asarray(beta(h)) > 0)]


def random_policy(world: World, seed: int, zero: float = 0.0) -> Fn:
    rng = np.random.default_rng(seed)
    table: dict[History, np.ndarray] = {}

    def pi(h: History) -> np.ndarray:
        if h not in table:
            p = rng.dirichlet(np.full(world.n_actions, 0.5))
            if rng.random() < zero:
                p[rng.integers(world.n_actions)] = 0.0
                p = p / p.sum() if p.sum() > 0 else np.eye(world.n_actions)[0]
            table[h] = p
        return table[h]

    return pi


# ----- tests: the tree and values -----


@settings(max_examples=25, deadline=None)
@given(worlds(semimeasure_env=True), st.integers(0, 2**32 - 1))
def test_value_recursion_matches_enumeration(world: World, seed: int) -> None:
    """Definition 1: backward recursion = sum over complete histories (semimeasure nu: lost mass earns 0)."""
    pi = random_policy(world, seed, zero=0.3)
    problem = world.problem()
    assert value(problem, pi) == pytest.approx(bf_value(world, pi), abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(worlds(semimeasure_env=True, coarse_utility=True))
def test_optimal_policy_value_is_v_star_and_beats_every_deterministic_policy(world: World) -> None:
    """V^{pi*} = V* = max over all deterministic policies (enumerated when there are at most 2^12 of them)."""
    problem = world.problem()
    sol = solve_optimal(problem)
    assert value(problem, sol.policy) == pytest.approx(sol.v_star, abs=1e-12)
    assert v_star(problem) == sol.v_star
    assert sol.v_star == pytest.approx(bf_v_star(world), abs=1e-12)
    if world.n_actions ** len(decision_histories(world)) <= 2**10:
        assert sol.v_star == pytest.approx(bf_best_deterministic(world), abs=1e-12)


@settings(max_examples=15, deadline=None)
@given(worlds(coarse_utility=True))
def test_q_star_is_a_fixed_point_and_ties_go_to_the_lowest_action(world: World) -> None:
    """``Q*(h,a) = sum_o nu(o|h,a) V*(hao)``, ``V* = max_a Q*``; pi* picks the lowest V-optimal action."""
    problem = world.problem()
    sol = solve_optimal(problem)
    for h, q in sol.q.items():
        assert sol.v[h] == pytest.approx(q.max(), abs=0)
        assert sol.optimal_actions[h] == tuple(int(a) for a in np.flatnonzero(q >= q.max() - sol.tie_tol))
        assert int(np.argmax(sol.policy(h))) == sol.optimal_actions[h][0]
        for a in range(world.n_actions):
            nu = world.kernel(h, a)
            children = [(*h, a, o) for o in range(world.n_observations)]
            nxt = [sol.v[c] if c in sol.v else world.utility(c) for c in children]
            assert q[a] == pytest.approx(math.fsum(p * v for p, v in zip(nu, nxt, strict=True)), abs=1e-12)
    assert set(q_star(problem)) == set(sol.q)


def test_optimal_policy_on_a_hand_made_tree() -> None:
    """Two steps; action 1 then action 0 is best: U = 1 on (1, o, 0, o'), 0.5 elsewhere with a 1 first."""

    def utility(h: History) -> float:
        return 1.0 if h[0] == 1 and h[2] == 0 else (0.5 if h[0] == 1 else 0.0)

    env = Environment(2, 2, lambda h, a: [0.5, 0.5])
    problem = PlanningProblem.build(env, utility, m=2)
    pi = optimal_policy(problem)
    assert v_star(problem) == 1.0
    assert pi(()).tolist() == [0.0, 1.0]
    assert pi((1, 0)).tolist() == [1.0, 0.0]
    assert pi((0, 1)).tolist() == [1.0, 0.0]  # all actions tie after a first 0: lowest action
    assert solve_optimal(problem).optimal_actions[(0, 1)] == (0, 1)


def test_graph_environment_matches_its_kernel() -> None:
    """A two-state world as a networkx MultiDiGraph; the kernel follows the state the history leads to."""
    g = nx.MultiDiGraph()
    g.add_edge("s", "s", action=0, observation=0, probability=0.9)
    g.add_edge("s", "t", action=0, observation=1, probability=0.1)
    g.add_edge("s", "t", action=1, observation=1, probability=0.8)  # 0.2 lost: a semimeasure
    g.add_edge("t", "t", action=0, observation=1, probability=1.0)
    g.add_edge("t", "t", action=1, observation=1, probability=1.0)
    env = Environment.from_graph(g, "s", n_actions=2, n_observations=2)
    assert env.observation_probs((), 0).tolist() == [0.9, 0.1]
    assert env.observation_probs((), 1).tolist() == [0.0, 0.8]
    assert env.observation_probs((1, 1), 0).tolist() == [0.0, 1.0]
    problem = PlanningProblem.build(env, lambda h: float(h[-1] == 1), m=2)
    # Best: action 1 first (0.8 to reach t, then o = 1 surely) vs action 0 (0.1 + 0.9 * 0.8).
    assert v_star(problem) == pytest.approx(max(0.8, 0.1 + 0.9 * 0.8))


def test_graph_environment_rejects_ambiguous_edges() -> None:
    g = nx.MultiDiGraph()
    g.add_edge("s", "s", action=0, observation=0, probability=0.5)
    g.add_edge("s", "t", action=0, observation=0, probability=0.5)
    with pytest.raises(ValueError, match="graph"):
        Environment.from_graph(g, "s", 1, 1)


def test_divergences_match_the_brute_force_definition2() -> None:
    """tree_divergence = max over open-loop o-sequences, enumerated independently; expected KL likewise."""
    world = make_world(3, 2, 3, 3, semimeasure_env=True, zero_beta=0.3)
    pi = random_policy(world, 5, zero=0.3)
    div = tree_divergence(world.problem(), pi, world.beta)
    bkl, btvd = bf_definition2(world, pi, world.beta)
    assert div.kl == pytest.approx(bkl, rel=1e-10) or (math.isinf(div.kl) and math.isinf(bkl))
    assert div.tvd == pytest.approx(btvd, abs=1e-12)
    assert len(div.kl_per_sequence) == 3 ** 2
    assert div.kl_expected == pytest.approx(bf_expected_kl(world, pi, world.beta), rel=1e-10)


def test_infinite_kl_is_inf() -> None:
    """A policy that takes an action beta never takes has KL = inf (never clipped), TVD finite."""
    world = make_world(0, 2, 2, 2)
    beta = lambda h: np.array([1.0, 0.0])  # noqa: E731
    pi = lambda h: np.array([0.5, 0.5])  # noqa: E731
    div = tree_divergence(world.problem(), pi, beta)
    assert div.kl == math.inf and div.kl_expected == math.inf
    assert div.tvd == pytest.approx(1 - 0.25)


# ----- validation -----


def test_tree_too_large_is_refused_before_enumerating() -> None:
    calls = []

    def kernel(h: History, a: int) -> list[float]:
        calls.append(h)
        return [0.5, 0.5]

    with pytest.raises(TreeTooLargeError, match="max_histories"):
        PlanningProblem.build(Environment(3, 2, kernel), lambda h: 0.0, m=12, max_histories=10_000)
    assert calls == []


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"start": (0,)}, "start"),
        ({"start": (0, 5)}, "start"),
        ({"m": 0}, "m"),
        ({"start": (0, 0, 1, 1), "m": 2}, "m"),
        ({"max_histories": 0}, "max_histories"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict, name: str) -> None:
    env = Environment(2, 2, lambda h, a: [0.5, 0.5])
    args = {"start": (), "m": 2, **kwargs}
    with pytest.raises(ValueError, match=name):
        PlanningProblem.build(env, lambda h: 0.5, **args)


def test_bad_utility_kernel_and_policy_are_named() -> None:
    env = Environment(2, 2, lambda h, a: [0.5, 0.5])
    with pytest.raises(ValueError, match="utility"):
        PlanningProblem.build(env, lambda h: 1.5, m=1)
    with pytest.raises(ValueError, match="kernel"):
        PlanningProblem.build(Environment(2, 2, lambda h, a: [0.5, 0.6]), lambda h: 0.5, m=1)
    with pytest.raises(ValueError, match="n_observations"):
        PlanningProblem.build(Environment(2, 2, lambda h, a: [1.0]), lambda h: 0.5, m=1)
    problem = PlanningProblem.build(env, lambda h: 0.5, m=2)
    with pytest.raises(ValueError, match="pi"):
        value(problem, lambda h: [0.5, 0.5, 0.0])
    with pytest.raises(ValueError, match="pi"):
        value(problem, TabularPolicy(2, {(): np.array([1.0, 0.0])}))  # no rows for later histories
    with pytest.raises(ValueError, match="n_actions"):
        Environment(0, 2, lambda h, a: [1.0])


def test_tabular_policy_is_a_read_only_callable_table() -> None:
    pi = TabularPolicy(2, {(): [0.25, 0.75], (0, 1): np.array([1.0, 0.0])})
    assert pi(()).tolist() == [0.25, 0.75] and pi[(0, 1)].tolist() == [1.0, 0.0]
    assert len(pi) == 2 and set(pi) == {(), (0, 1)}
    with pytest.raises(ValueError):
        pi(()).__setitem__(0, 1.0)
    with pytest.raises(KeyError, match="history"):
        pi((1, 1))


def test_problem_locates_histories() -> None:
    world = make_world(1, 3, 2, 3, start=(2, 1))
    problem = world.problem()
    for s in range(problem.steps + 1):
        for i, h in enumerate(problem.histories(s)):
            assert problem.locate(h) == (s, i)


@settings(max_examples=15, deadline=None)
@given(worlds(zero_beta=0.5, coarse_utility=True), st.integers(0, 2**32 - 1))
def test_bad_action_probabilities_match_enumeration(world: World, seed: int) -> None:
    """P(pi ever takes a non-V-optimal / an off-beta-support action) = sum over complete histories with one."""
    pi = random_policy(world, seed, zero=0.3)
    problem = world.problem()
    sol = solve_optimal(problem, tie_tol=1e-7)

    def flagged(h: History, bad: Callable[[History, int], bool]) -> bool:
        rel = h[len(world.start):]
        return any(bad(world.start + rel[: 2 * s], rel[2 * s]) for s in range(len(rel) // 2))

    def non_optimal(h: History, a: int) -> bool:
        return a not in sol.optimal_actions[h]

    def off_support(h: History, a: int) -> bool:
        return bool(world.beta(h)[a] == 0)

    for bad, got in ((non_optimal, non_optimal_probability(problem, pi)),
                     (off_support, off_support_probability(problem, pi, world.beta))):
        want = math.fsum(pa * po for h, pa, po in complete_histories(world, pi) if flagged(h, bad))
        assert got == pytest.approx(want, abs=1e-12)
    assert non_optimal_probability(problem, sol.policy) == 0.0
