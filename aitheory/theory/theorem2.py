r"""Theorem 2 (TVD constraint): a TVD-constrained optimum raises only V-optimal actions; KL keeps beta's zeros.

**Statement.** Let ``pi`` maximise ``V^pi_{nu,U_m}(x_{<2t})`` subject to a total-variation constraint to the base
policy ``beta`` (Definition 2's shape: ``max_o (1/2) sum_a |P_pi(a|o) - P_beta(a|o)| <= eps`` over open-loop
observation sequences ``o``). Then any action whose probability ``pi`` raises above ``beta``'s is V-optimal
(``Q*(h, a) = V*(h)``): TVD pushes mass *only* onto reward-optimal actions, even when ``beta`` is a perfect
imitation of a trusted demonstrator. A KL-constrained optimum (Definition 2) instead keeps
``beta(a|h) = 0 => pi(a|h) = 0``: it may raise non-optimal actions, but never leaves ``beta``'s support.

**Two readings** of "the probability ``pi`` gives an action" at a history ``h_s = x_{<2t} a_1 o_1 .. a_s o_s``
(paper-notes: the exact wording for ``t > k`` is unconfirmed, so both are checked and reported):

* **joint** (the reading the theorem is checked in): the probability of the whole action prefix given the
  observations, ``P_pi(a_1 .. a_s a | o_1 .. o_s) = prod_r pi(a_r | h_{r-1}) * pi(a | h_s)``, against ``beta``'s;
* **per-step** (conditional): ``pi(a | h_s)`` against ``beta(a | h_s)``. This reading can fail: when the
  optimum shrinks a prefix, the conditional of a non-optimal action can rise while its joint probability does
  not (``docs/planning.md`` has a minimal instance). Its violations are counted, not asserted.

**How it is checked.** For ``trees`` random small trees (seeded: Dirichlet observation kernels, a fraction of
them semimeasures; uniform or coarse utilities in ``{0, 1/2, 1}`` with many ties; Dirichlet base policies with a
zero in a fraction of rows), and every TVD budget ``eps`` of the grid:

1. the Definition-2 TVD optimum (:func:`aitheory.planning.tvd_optimal_policy`, an LP solved by HiGHS) and the
   Definition-2 KL optimum at ``2 eps^2`` nats (:func:`aitheory.planning.kl_optimal_policy`, Clarabel), the
   budget matched by Pinsker's inequality so that the KL optimum is feasible for the TVD programme;
2. **joint violations**: actions at environment-reachable histories whose joint prefix probability ``pi``
   raises above ``beta``'s by more than ``raise_tol`` while ``Q*(h, a) < V*(h) - tie_tol``;
3. **per-step violations**: the same with conditionals (at histories ``pi`` reaches);
4. **support violations**: entries with ``beta(a|h) = 0 < pi(a|h)`` at histories both ``nu`` and ``pi`` reach
   (no tolerance: the KL programme fixes those entries to 0, so any positive value is a violation);
5. the probability of ever taking a non-V-optimal action and of ever taking an action ``beta`` never takes
   (:func:`aitheory.planning.non_optimal_probability`, :func:`aitheory.planning.off_support_probability`).

**Tolerances.** HiGHS solves to feasibility ``1e-9`` and every returned policy is re-checked exactly (values and
divergences recomputed from the policy), so an increase of at most ``raise_tol = 1e-7`` is solver noise, not a
raise; two Q-values within ``tie_tol = 1e-7`` are a tie (utilities lie in ``[0, 1]``). A solve that fails
(``PlanningError``, ``InfeasibleBudgetError``) is counted and reported, never dropped.

**The KL-support half, shown by the optimiser** (:func:`support_limit`). The KL programme has variables only on
beta's support, so step 4 alone cannot fail. So, on ``support_trees`` *tempting* trees (beta's only zero is on
the root's uniquely V-optimal action, the action every optimiser wants), that zero is replaced by ``delta > 0``
for each ``delta`` in ``support_deltas``: the action now has a variable and a finite price (``ln(1/delta)``
nats per unit of probability), and the unchanged Definition-2 KL programme (at the KL budget ``2 e^2`` of
``support_budget_tvd = e``) decides how much to put there. The data-processing inequality bounds what any policy
within the budget can put on it: ``pi(a*) <= r(delta)`` with ``KL(Bern(r) || Bern(delta)) = eps``
(:func:`aitheory.theory.prop1.separating_policy`), and ``r(delta) -> 0`` as ``delta -> 0``: the KL optimum's
mass on the action must vanish with beta's. The TVD optimum and the unconstrained optimum on the same trees are
the **negative controls**: without a KL constraint the mass does not vanish (it stays near ``e`` and at 1), so
the same test must fail for them. Also reported, not asserted: the same programme over the full simplex at
``delta = 0`` (:func:`aitheory.planning.kl_full_simplex_mass`), whose cone ``z ln(z/0)`` has no interior, so
interior-point solvers leave mass there up to their tolerance.

**Controls of the TVD half**: the KL optimum is a policy not obtained under a TVD constraint, so the TVD
conclusion (no raised non-optimal joint prefix) must fail for it (``kl_raises_non_optimal``).

``held``: zero joint-reading violations of the TVD optimum, zero support violations of the KL optimum, the KL
optimum's mass on every tempting near-zero within ``r(delta)``, at most ``max_failures`` (default 0) failed
solves (a failed solve leaves a case unchecked, so it makes the check inconclusive rather than silently
smaller), and every control failing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aitheory.planning import (
    ConstrainedSolution,
    Environment,
    InfeasibleBudgetError,
    PlanningError,
    PlanningProblem,
    kl_full_simplex_mass,
    kl_optimal_policy,
    non_optimal_probability,
    off_support_probability,
    optimal_policy,
    raised_actions,
    tvd_optimal_policy,
    v_star,
    value,
)
from aitheory.planning.values import joint_levels, q_star_levels
from aitheory.progress import progress
from aitheory.results import RunFolder, write_csv
from aitheory.theory.common import CheckResult, Control, Summary, controls_verdict, held_with_controls
from aitheory.theory.prop1 import separating_policy

__all__ = [
    "FIGURES",
    "NAME",
    "STATEMENT",
    "SUMMARY",
    "Case",
    "Config",
    "RandomTree",
    "SupportCase",
    "Theorem2Summary",
    "Violations",
    "check_tree",
    "count_violations",
    "draw_figures",
    "per_step_witness",
    "plot_mass",
    "random_tree",
    "run",
    "support_limit",
    "support_violations",
]

NAME = "theorem2"
STATEMENT = ("Theorem 2: a TVD-constrained optimum raises the (joint prefix) probability only of V-optimal "
             "actions; a KL-constrained optimum keeps beta(a) = 0 => pi(a) = 0")

#: The two constrained optima compared, as they appear in metrics.csv.
METHODS = ("tvd", "kl")


@dataclass(frozen=True)
class Config:
    """Theorem 2's check: random small trees, a grid of budgets, TVD and KL optima (module docstring)."""

    seed: int = 0
    """Seed of the random trees (``numpy.random.default_rng``)."""
    trees: int = 100
    """Number of random trees."""
    n_actions: tuple[int, ...] = (2, 3)
    """Action alphabet sizes K_a to draw from (each >= 2)."""
    n_observations: tuple[int, ...] = (1, 2, 3)
    """Observation alphabet sizes K_o to draw from (each >= 1)."""
    max_steps: int = 4
    """Decisions per tree are drawn from 2..max_steps (then lowered until the tree fits max_histories)."""
    max_histories: int = 81
    """Largest number (K_a K_o)^n of complete histories of a tree."""
    budgets: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
    """TVD budgets eps (probability, in (0, 1]); the KL optimum gets 2 eps^2 nats (Pinsker-matched)."""
    zero_beta: float = 0.3
    """Probability that a row of beta has a zero (an action the base policy never takes)."""
    semimeasure_env: float = 0.5
    """Fraction of trees whose observation kernel loses mass (a semimeasure nu) in about half its rows."""
    coarse_utility: float = 0.3
    """Fraction of trees with utilities in {0, 1/2, 1} (many ties in Q*)."""
    raise_tol: float = 1e-7
    """An action is raised if pi's probability exceeds beta's by more than this (solver noise is ~1e-9)."""
    tie_tol: float = 1e-7
    """An action is V-optimal if Q*(h, a) >= V*(h) - tie_tol."""
    max_failures: int = 0
    """Failed solves tolerated before the check is declared not held (inconclusive)."""
    support_trees: int = 20
    """Tempting trees of the support test: beta's only zero is on the root's uniquely V-optimal action."""
    support_deltas: tuple[float, ...] = (1e-2, 1e-4, 1e-8, 1e-16)
    """Base probabilities delta > 0 given to that action in turn (the optimiser may then use it)."""
    support_budget_tvd: float = 0.3
    """TVD budget e of the support test (the KL optimum gets 2 e^2 nats, as on the grid)."""
    plot: bool = True
    """Draw the figure (needs matplotlib)."""

    def __post_init__(self) -> None:
        if self.trees < 1:
            raise ValueError(f"argument trees: must be >= 1, got {self.trees}")
        if self.seed < 0:
            raise ValueError(f"argument seed: must be >= 0 (a numpy seed), got {self.seed}")
        if not self.n_actions or min(self.n_actions) < 2:
            raise ValueError(f"argument n_actions: need sizes >= 2, got {self.n_actions}")
        if not self.n_observations or min(self.n_observations) < 1:
            raise ValueError(f"argument n_observations: need sizes >= 1, got {self.n_observations}")
        if not 1 <= self.max_steps <= 32:
            raise ValueError(f"argument max_steps: must be in 1..32 (trees have (K_a K_o)^n histories), got "
                             f"{self.max_steps}")
        if self.max_histories > 10**6:
            raise ValueError(f"argument max_histories: at most 1e6 complete histories per tree, got "
                             f"{self.max_histories}")
        if self.max_histories < max(self.n_actions) * max(self.n_observations):
            raise ValueError(f"argument max_histories: must allow one step of every shape "
                             f"(>= {max(self.n_actions) * max(self.n_observations)}), got {self.max_histories}")
        if not self.budgets or not all(0 < e <= 1 and math.isfinite(e) for e in self.budgets):
            raise ValueError(f"argument budgets: need TVD budgets in (0, 1], got {self.budgets}")
        for name in ("zero_beta", "semimeasure_env", "coarse_utility"):
            p = getattr(self, name)
            if not 0 <= p <= 1:
                raise ValueError(f"argument {name}: must be a probability in [0, 1], got {p}")
        for name in ("raise_tol", "tie_tol"):
            x = getattr(self, name)
            if not (math.isfinite(x) and x >= 0):
                raise ValueError(f"argument {name}: must be a finite number >= 0, got {x}")
        if self.max_failures < 0:
            raise ValueError(f"argument max_failures: must be >= 0, got {self.max_failures}")
        if self.support_trees < 1:
            raise ValueError(f"argument support_trees: must be >= 1, got {self.support_trees}")
        if not self.support_deltas or not all(0 < d < 0.5 for d in self.support_deltas):
            raise ValueError(f"argument support_deltas: need probabilities in (0, 1/2), got {self.support_deltas}")
        if not (math.isfinite(self.support_budget_tvd) and 0 < self.support_budget_tvd < 1):
            raise ValueError(f"argument support_budget_tvd: must be in (0, 1), got {self.support_budget_tvd}")

    @classmethod
    def quick(cls) -> Config:
        return cls(trees=8, budgets=(0.05, 0.3, 1.0), max_steps=3, max_histories=36, support_trees=4,
                   support_deltas=(1e-2, 1e-8))

    @property
    def kl_budgets(self) -> tuple[float, ...]:
        """The KL budgets (nats) paired with ``budgets``: ``2 eps^2`` (Pinsker: TVD_o <= sqrt(KL_o / 2))."""
        return tuple(2.0 * e * e for e in self.budgets)


# ----- random trees -----


@dataclass(frozen=True, eq=False)
class RandomTree:
    """A random small planning problem with its base policy (per-level arrays ``(N_s, K_a)``)."""

    index: int
    problem: PlanningProblem
    beta: tuple[np.ndarray, ...]
    semimeasure: bool
    coarse: bool

    @property
    def v_star(self) -> float:
        """``V*(h0)``."""
        return v_star(self.problem)

    @property
    def v_beta(self) -> float:
        """``V^beta(h0)``."""
        return value(self.problem, self.beta)

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(K_a, K_o, n)``."""
        return self.problem.n_actions, self.problem.n_observations, self.problem.steps


def random_tree(
    rng: np.random.Generator,
    n_actions: int,
    n_observations: int,
    steps: int,
    *,
    zero_beta: float = 0.3,
    semimeasure: bool = False,
    coarse: bool = False,
    index: int = 0,
) -> RandomTree:
    r"""A random tree: ``nu(.|h,a) ~ Dirichlet(1)`` (times ``U(0.5, 1)`` in half the rows if ``semimeasure``),
    ``U_m ~ U[0, 1]`` (or uniform on ``{0, 1/2, 1}`` if ``coarse``), ``beta(.|h) ~ Dirichlet(1)`` with, in a
    ``zero_beta`` fraction of rows, one random action set to 0 and the row renormalised (``beta`` stays a
    measure). Everything is drawn from ``rng`` in the problem's enumeration order, so a seed fixes the tree.
    """
    if n_actions < 2:
        raise ValueError(f"argument n_actions: must be >= 2 (a zero in beta needs another action), got {n_actions}")
    kernels: dict[tuple[tuple[int, ...], int], np.ndarray] = {}
    utilities: dict[tuple[int, ...], float] = {}

    def kernel(h: tuple[int, ...], a: int) -> np.ndarray:
        key = (h, a)
        if key not in kernels:
            p = rng.dirichlet(np.ones(n_observations))
            if semimeasure and rng.random() < 0.5:
                p = p * rng.uniform(0.5, 1.0)
            kernels[key] = p
        return kernels[key]

    def utility(h: tuple[int, ...]) -> float:
        if h not in utilities:
            utilities[h] = float(rng.integers(0, 3)) / 2 if coarse else float(rng.random())
        return utilities[h]

    env = Environment(n_actions, n_observations, kernel)
    problem = PlanningProblem.build(env, utility, (), m=steps)
    beta = []
    for s in range(problem.steps):
        rows = rng.dirichlet(np.ones(n_actions), size=problem.level_size(s))
        zero = rng.random(rows.shape[0]) < zero_beta
        which = np.asarray(rng.integers(n_actions, size=rows.shape[0]))
        rows[zero, which[zero]] = 0.0
        rows /= rows.sum(axis=1, keepdims=True)
        beta.append(rows)
    return RandomTree(index, problem, tuple(beta), semimeasure, coarse)


def _trees(config: Config) -> list[RandomTree]:
    rng = np.random.default_rng(config.seed)
    out = []
    for i in range(config.trees):
        ka = int(rng.choice(config.n_actions))
        ko = int(rng.choice(config.n_observations))
        steps = int(rng.integers(min(2, config.max_steps), config.max_steps + 1))
        while steps > 1 and PlanningProblem.size(ka, ko, steps) > config.max_histories:
            steps -= 1
        out.append(random_tree(rng, ka, ko, steps, zero_beta=config.zero_beta,
                               semimeasure=bool(rng.random() < config.semimeasure_env),
                               coarse=bool(rng.random() < config.coarse_utility), index=i))
    return out


# ----- counting -----


@dataclass(frozen=True)
class Violations:
    """What a policy does relative to ``beta`` on one tree, in Theorem 2's terms (counts of (history, action))."""

    joint_raised: int
    """Actions whose joint prefix probability is raised (by more than ``raise_tol``)."""
    joint_non_optimal: int
    """...of which not V-optimal: violations of the joint reading."""
    step_raised: int
    """Actions whose conditional probability is raised."""
    step_non_optimal: int
    """...of which not V-optimal: violations of the per-step reading."""
    support: int
    """Entries with ``beta(a|h) = 0 < pi(a|h)`` at histories nu and pi reach."""
    non_optimal_probability: float
    """P(pi ever takes a non-V-optimal action)."""
    off_support_probability: float
    """P(pi ever takes an action beta gives probability 0)."""


def support_violations(problem: PlanningProblem, pi: Sequence[np.ndarray], beta: Sequence[np.ndarray]) -> int:
    r"""Number of ``(h, a)`` with ``beta(a|h) = 0 < pi(a|h)`` (exactly, no tolerance) at histories ``h`` that
    the environment reaches with positive probability and ``pi``'s action prefix reaches with positive
    probability (elsewhere ``pi``'s row affects no quantity of the theorem)."""
    ko = problem.n_observations
    joints = joint_levels(problem, pi)
    count = 0
    for s in range(problem.steps):
        prefix = np.ones(1) if s == 0 else np.repeat(joints[s - 1], ko)
        reached = (problem.env_reach[s] > 0) & (prefix > 0)
        bad = (np.asarray(beta[s]) == 0) & (np.asarray(pi[s]) > 0)
        count += int(np.count_nonzero(bad & reached[:, None]))
    return count


def count_violations(
    problem: PlanningProblem,
    pi: Sequence[np.ndarray],
    beta: Sequence[np.ndarray],
    *,
    raise_tol: float = 1e-7,
    tie_tol: float = 1e-7,
) -> Violations:
    """Theorem 2's counts for policy ``pi`` (per-level arrays) against ``beta`` (see :class:`Violations`)."""
    joint = raised_actions(problem, pi, beta, reading="joint", tol=raise_tol, tie_tol=tie_tol)
    step = raised_actions(problem, pi, beta, reading="step", tol=raise_tol, tie_tol=tie_tol)
    return Violations(
        joint_raised=len(joint),
        joint_non_optimal=sum(not r.optimal for r in joint),
        step_raised=len(step),
        step_non_optimal=sum(not r.optimal for r in step),
        support=support_violations(problem, pi, beta),
        non_optimal_probability=non_optimal_probability(problem, pi, tie_tol=tie_tol),
        off_support_probability=off_support_probability(problem, pi, beta),
    )


@dataclass(frozen=True)
class Case:
    """One constrained optimum on one tree at one budget (a row of metrics.csv)."""

    tree: int
    shape: tuple[int, int, int]
    method: str
    """``"tvd"`` (Definition-2 TVD LP) or ``"kl"`` (Definition-2 KL, convex programme)."""
    eps_tvd: float
    """The TVD budget of the grid (the KL optimum's budget is ``2 eps_tvd^2`` nats)."""
    budget: float
    """This method's own budget (probability for TVD, nats for KL)."""
    v_star: float
    v_beta: float
    value: float
    """``V^pi`` of the returned policy (nan if the solve failed)."""
    achieved_tvd: float
    """Definition-2 TVD of the returned policy from beta."""
    achieved_kl: float
    """Definition-2 KL (nats) of the returned policy from beta."""
    violations: Violations | None
    """None if the solve failed."""
    failure: str = ""
    """The solver's error message if it failed."""
    solver: str = ""
    """What produced the optimum (e.g. ``scipy/highs``, ``cvxpy/CLARABEL``, or the fallback ``cvxpy/SCS``)."""


Solver = Callable[[PlanningProblem, Sequence[np.ndarray], float], ConstrainedSolution]


def _solver(method: str) -> Solver:
    # Looked up at call time (module attributes), so a test can substitute a deliberately wrong solver.
    return tvd_optimal_policy if method == "tvd" else kl_optimal_policy


def check_tree(tree: RandomTree, budgets: Sequence[float], *, raise_tol: float = 1e-7,
               tie_tol: float = 1e-7) -> list[Case]:
    """Both constrained optima of ``tree`` at every TVD budget (KL at ``2 eps^2``), with Theorem 2's counts."""
    problem, beta = tree.problem, tree.beta
    vs, vb = v_star(problem), value(problem, beta)
    cases = []
    for eps in budgets:
        for method in METHODS:
            budget = eps if method == "tvd" else 2.0 * eps * eps
            try:
                sol = _solver(method)(problem, beta, budget)
            except (PlanningError, InfeasibleBudgetError) as exc:
                cases.append(Case(tree.index, tree.shape, method, eps, budget, vs, vb, math.nan, math.nan,
                                  math.nan, None, f"{type(exc).__name__}: {exc}"))
                continue
            found = count_violations(problem, sol.levels, beta, raise_tol=raise_tol, tie_tol=tie_tol)
            cases.append(Case(tree.index, tree.shape, method, eps, budget, vs, vb, sol.value,
                              sol.divergence.tvd, sol.divergence.kl, found, solver=sol.solver))
    return cases


# ----- the per-step reading fails: a hand-made witness -----

#: Utilities of the witness tree's 8 leaves, keyed by the actions ``(a_1, a_2, a_3)`` (one observation symbol).
WITNESS_LEAVES: dict[tuple[int, int, int], float] = {
    (0, 0, 0): 0.0, (0, 0, 1): 0.9, (0, 1, 0): 0.5, (0, 1, 1): 0.5,
    (1, 0, 0): 1.0, (1, 0, 1): 0.6, (1, 1, 0): 0.6, (1, 1, 1): 0.6,
}
#: The witness's TVD budget (below the worst leaf's base mass 1/8, so the optimum is unique).
WITNESS_EPS = 0.1


def per_step_witness() -> tuple[PlanningProblem, tuple[np.ndarray, ...], float]:
    r"""A minimal tree on which the per-step reading of Theorem 2 fails and the joint reading holds.

    ``K_a = 2``, one observation symbol, three steps, uniform ``beta`` (each leaf has base mass 1/8), leaf
    utilities :data:`WITNESS_LEAVES`. With one observation sequence the TVD programme is a distribution over the
    8 leaves, and its unique optimum at ``eps = 0.1`` moves 0.1 from the worst leaf ``(0, 0, 0)`` (utility 0) to
    the best ``(1, 0, 0)`` (utility 1). That shrinks the prefix ``a_1 = 0`` to 0.4 and ``(0, 0)`` to 0.15, while
    ``(0, 1)`` keeps its 0.25. So after ``a_1 = 0`` the conditional of ``a_2 = 1`` rises from 1/2 to
    ``0.25 / 0.4 = 0.625`` although ``Q*(a_2 = 1) = 0.5 < V* = 0.9``. Its joint probability stays at
    ``beta``'s 0.25. Two steps are not enough: there an action's value is its leaf, and swapping a reduction from
    the optimal leaf to the non-optimal one keeps the TVD and raises the value.
    """
    env = Environment(2, 1, lambda h, a: [1.0])
    problem = PlanningProblem.build(env, lambda h: WITNESS_LEAVES[(h[0], h[2], h[4])], (), m=3)
    beta = tuple(np.full((problem.level_size(s), 2), 0.5) for s in range(problem.steps))
    return problem, beta, WITNESS_EPS


def _witness_counts(raise_tol: float, tie_tol: float) -> Violations:
    problem, beta, eps = per_step_witness()
    sol = _solver("tvd")(problem, beta, eps)
    return count_violations(problem, sol.levels, beta, raise_tol=raise_tol, tie_tol=tie_tol)


# ----- the KL-support half, shown by the optimiser -----

#: Two root actions whose Q* differ by less than this are not "uniquely optimal" (the tree is redrawn).
SUPPORT_GAP = 1e-3
#: Slack on the data-processing bound r(delta) (the KL optimum is re-checked to 1e-6 nats).
SUPPORT_TOL = 1e-9


@dataclass(frozen=True)
class SupportCase:
    """One tempting tree at one ``delta``: how much each optimiser puts on the root's best action ``a*``."""

    tree: int
    shape: tuple[int, int, int]
    delta: float
    """``beta(a* | root)``."""
    bound: float
    """``r(delta)``: the most any policy within the KL budget can put on ``a*`` (data processing)."""
    mass_kl: float
    """``pi(a* | root)`` of the Definition-2 KL optimum (nan if the solve failed)."""
    mass_tvd: float
    """The same for the TVD optimum (the control)."""
    mass_unconstrained: float
    """The same for the unconstrained optimum (the control): 1."""
    full_simplex_zero_mass: float
    """At ``delta = 0``, over the full simplex: the solver's mass on beta's zeros (reported, not asserted)."""
    full_simplex_status: str
    failure: str = ""

    @property
    def excess_kl(self) -> float:
        return self.mass_kl - self.bound


def _tempting_tree(rng: np.random.Generator, config: Config, index: int) -> tuple[RandomTree, int]:
    """A random tree (beta without zeros) whose root has a uniquely V-optimal action ``a*``."""
    while True:
        ka = int(rng.choice(config.n_actions))
        ko = int(rng.choice(config.n_observations))
        steps = int(rng.integers(min(2, config.max_steps), config.max_steps + 1))
        while steps > 1 and PlanningProblem.size(ka, ko, steps) > config.max_histories:
            steps -= 1
        tree = random_tree(rng, ka, ko, steps, zero_beta=0.0, index=index)
        q = np.sort(q_star_levels(tree.problem)[0][0][0])
        if q[-1] - q[-2] > SUPPORT_GAP:
            return tree, int(np.argmax(q_star_levels(tree.problem)[0][0][0]))


def _with_root_mass(beta: Sequence[np.ndarray], action: int, delta: float) -> list[np.ndarray]:
    """``beta`` with ``beta(action | root) = delta`` and the root's other actions scaled to sum to ``1 - delta``."""
    out = [np.array(b, dtype=float) for b in beta]
    row = out[0][0]
    rest = np.delete(row, action)
    row[:] = np.insert(rest / rest.sum() * (1.0 - delta), action, delta)
    return out


def support_limit(config: Config) -> list[SupportCase]:
    """The support test on ``config.support_trees`` tempting trees (see the module docstring)."""
    rng = np.random.default_rng([config.seed, 2])
    eps_tvd = config.support_budget_tvd
    eps_kl = 2.0 * eps_tvd * eps_tvd
    out = []
    for i in range(config.support_trees):
        tree, best = _tempting_tree(rng, config, i)
        problem = tree.problem
        unconstrained = float(np.asarray(optimal_policy(problem)(()))[best])
        try:
            zero = kl_full_simplex_mass(problem, _with_root_mass(tree.beta, best, 0.0), eps_kl)
            zero_mass, zero_status = zero.off_support_mass, zero.status
        except PlanningError as exc:
            zero_mass, zero_status = math.nan, f"PlanningError: {exc}"
        for delta in config.support_deltas:
            beta = _with_root_mass(tree.beta, best, delta)
            tau = np.where(np.arange(problem.n_actions) == best, 0.0, 1.0)
            bound = separating_policy(beta[0][0], tau / tau.sum(), eps_kl + 1e-6).mass_forbidden
            try:
                mass_kl = float(_solver("kl")(problem, beta, eps_kl).levels[0][0][best])
                mass_tvd = float(_solver("tvd")(problem, beta, eps_tvd).levels[0][0][best])
                failure = ""
            except (PlanningError, InfeasibleBudgetError) as exc:
                mass_kl = mass_tvd = math.nan
                failure = f"{type(exc).__name__}: {exc}"
            out.append(SupportCase(tree.index, tree.shape, delta, bound, mass_kl, mass_tvd, unconstrained,
                                   zero_mass, zero_status, failure))
    return out


def _support_summary(cases: Sequence[SupportCase], config: Config) -> dict[str, Any]:
    smallest = min(config.support_deltas)
    at_min = [c for c in cases if c.delta == smallest]
    solved = [c for c in cases if not c.failure]

    def worst(xs: list[float]) -> float:
        return max(xs) if xs and not any(math.isnan(x) for x in xs) else math.nan

    return {
        "support_trees": config.support_trees, "support_deltas": tuple(config.support_deltas),
        "support_budget_tvd": config.support_budget_tvd, "support_budget_kl_nats": 2 * config.support_budget_tvd ** 2,
        "support_failures": len(cases) - len(solved),
        "support_kl_max_excess": worst([c.excess_kl for c in cases]),
        "support_bound_by_delta": {f"{d:g}": max(c.bound for c in cases if c.delta == d)
                                   for d in config.support_deltas},
        "support_kl_mass_by_delta": {f"{d:g}": worst([c.mass_kl for c in cases if c.delta == d])
                                     for d in config.support_deltas},
        "support_tvd_mass_by_delta": {f"{d:g}": min((c.mass_tvd for c in cases if c.delta == d), default=math.nan)
                                      for d in config.support_deltas},
        "support_kl_mass_at_smallest_delta": worst([c.mass_kl for c in at_min]),
        "support_tvd_max_excess": worst([c.mass_tvd - c.bound for c in cases]),
        "support_tvd_min_excess_at_smallest_delta": min((c.mass_tvd - c.bound for c in at_min), default=math.nan),
        "support_unconstrained_max_excess": worst([c.mass_unconstrained - c.bound for c in cases]),
        "full_simplex_zero_mass_max": max((c.full_simplex_zero_mass for c in at_min), default=math.nan),
        "full_simplex_statuses": {st: sum(c.full_simplex_status == st for c in at_min)
                                  for st in sorted({c.full_simplex_status for c in at_min})},
    }


# ----- the check -----


@dataclass(frozen=True)
class Theorem2Summary(Summary):
    """Theorem 2's keys of ``summary.json`` (after ``controls``), in the file's order. "Violations" and "raises"
    count (history, action) pairs; probabilities are P(the policy ever takes such an action) from the root."""

    tvd_joint_violations: int
    """[count] Non-V-optimal actions whose joint prefix probability the TVD optimum raises (must be 0)."""
    kl_support_violations: int
    """[count] Entries with beta(a|h) = 0 < pi(a|h) of the KL optimum at reached histories (must be 0)."""
    solver_failures: int
    """[count] Failed solves on the grid (PlanningError, InfeasibleBudgetError)."""
    solver_failures_by_method: Mapping[str, int]
    """[count] Failed solves per method (``tvd``, ``kl``)."""
    failure_messages: tuple[str, ...]
    """[text] Up to 5 distinct messages of the failed solves."""
    solvers_used: Mapping[str, int]
    """[count] Solves per solver that produced the optimum (``scipy/highs``, ``cvxpy/CLARABEL``, ...)."""
    trees: int
    """[count] Random trees of the grid."""
    tree_shapes_ka_x_ko_x_n: Mapping[str, int]
    """[count] Trees per shape ``K_a x K_o x n``."""
    budgets_tvd: tuple[float, ...]
    """[probability] The TVD budgets eps of the grid."""
    budgets_kl_nats: tuple[float, ...]
    """[nats] The KL budgets 2 eps^2 paired with them (Pinsker)."""
    cases_per_method: int
    """[count] Trees x budgets, per method."""
    solved_per_method: Mapping[str, int]
    """[count] Solved cases per method."""
    tvd_joint_raised: int
    """[count] Actions whose joint prefix probability the TVD optimum raises."""
    tvd_step_raised: int
    """[count] Actions whose conditional probability the TVD optimum raises."""
    tvd_step_violations: int
    """[count] ... of which not V-optimal: per-step reading violations (counted, not asserted)."""
    tvd_cases_with_step_violation: int
    """[count] TVD cases with at least one per-step violation."""
    tvd_support_violations: int
    """[count] Entries with beta(a|h) = 0 < pi(a|h) of the TVD optimum."""
    tvd_cases_off_support: int
    """[count] TVD cases with positive probability of an action beta never takes."""
    kl_joint_raised: int
    """[count] Actions whose joint prefix probability the KL optimum raises."""
    kl_joint_non_optimal_raises: int
    """[count] ... of which not V-optimal (the control ``kl_raises_non_optimal``: must be > 0)."""
    kl_step_non_optimal_raises: int
    """[count] Non-V-optimal actions whose conditional probability the KL optimum raises."""
    kl_max_off_support_probability: float
    """[probability] The largest P(ever an action beta never takes) of a KL optimum (0)."""
    mean_non_optimal_probability_beta: float
    """[probability] P(ever a non-V-optimal action) of beta, mean over the trees."""
    mean_non_optimal_probability_tvd: tuple[float, ...]
    """[probability] The same for the TVD optimum, mean over the solved trees, per budget (budgets.csv)."""
    mean_non_optimal_probability_kl: tuple[float, ...]
    """[probability] The same for the KL optimum, per budget."""
    mean_off_support_probability_tvd: tuple[float, ...]
    """[probability] P(ever an action beta never takes) of the TVD optimum, mean per budget."""
    mean_off_support_probability_kl: tuple[float, ...]
    """[probability] The same for the KL optimum (0), per budget."""
    mean_achieved_tvd_tvd: tuple[float, ...]
    """[probability] Achieved Definition-2 TVD from beta of the TVD optimum, mean per budget."""
    mean_achieved_tvd_kl: tuple[float, ...]
    """[probability] The same for the KL optimum, per budget."""
    mean_value_tvd: tuple[float, ...]
    """[utility] V^pi of the TVD optimum (utilities in [0, 1]), mean per budget."""
    mean_value_kl: tuple[float, ...]
    """[utility] V^pi of the KL optimum, mean per budget."""
    mean_v_star: float
    """[utility] V*(h0), mean over the trees."""
    mean_v_beta: float
    """[utility] V^beta(h0), mean over the trees."""
    pinsker_value_order_violations: int
    """[count] Cases where the KL optimum is worth more than the TVD optimum (solver consistency: 0)."""
    raise_tol: float
    """[probability] An increase above this is a raise."""
    tie_tol: float
    """[utility] Q-values within this of V* are V-optimal."""
    reading: str
    """[text] Which reading is asserted (joint) and which counted (per-step)."""
    per_step_witness_step_violations: int
    """[count] Per-step violations of the TVD optimum on the hand-made witness (1 expected)."""
    per_step_witness_joint_violations: int
    """[count] Joint violations there (0)."""
    support_trees: int
    """[count] Tempting trees of the support test."""
    support_deltas: tuple[float, ...]
    """[probability] The base masses delta given to the root's best action in turn."""
    support_budget_tvd: float
    """[probability] TVD budget e of the support test."""
    support_budget_kl_nats: float
    """[nats] KL budget 2 e^2 of the support test."""
    support_failures: int
    """[count] Failed solves of the support test."""
    support_kl_max_excess: float
    """[probability] Largest excess of the KL optimum's mass on the action over r(delta) (must be <= 1e-9)."""
    support_bound_by_delta: Mapping[str, float]
    """[probability] r(delta), the data-processing bound, per delta (key: delta as text)."""
    support_kl_mass_by_delta: Mapping[str, float]
    """[probability] The KL optimum's largest mass on the action, per delta."""
    support_tvd_mass_by_delta: Mapping[str, float]
    """[probability] The TVD optimum's smallest mass on the action, per delta."""
    support_kl_mass_at_smallest_delta: float
    """[probability] The KL optimum's largest mass on the action at the smallest delta."""
    support_tvd_max_excess: float
    """[probability] Largest excess of the TVD optimum's mass over r(delta) (control: must be > 0)."""
    support_tvd_min_excess_at_smallest_delta: float
    """[probability] Smallest such excess at the smallest delta."""
    support_unconstrained_max_excess: float
    """[probability] Largest excess of the unconstrained optimum's mass over r(delta) (control: > 0)."""
    full_simplex_zero_mass_max: float
    """[probability] At delta = 0 over the full simplex: the solver's largest mass on beta's zeros (reported)."""
    full_simplex_statuses: Mapping[str, int]
    """[count] Solver statuses of those full-simplex solves."""
    held_support_limit: bool
    """[flag] The support test held (no failed solve, every excess within tolerance)."""


SUMMARY = Theorem2Summary
#: Figure stems written into the run folder (PNG and SVG), drawn by :func:`draw_figures`.
FIGURES = ("theorem2_mass_vs_budget",)
#: The per-budget rows the figure is drawn from (one row per TVD budget).
BUDGET_ROWS = "budgets.csv"


def _row(c: Case) -> dict[str, Any]:
    v = c.violations
    ka, ko, n = c.shape
    return {
        "tree": c.tree, "n_actions": ka, "n_observations": ko, "steps": n, "method": c.method,
        "eps_tvd": c.eps_tvd, "budget": c.budget, "v_star": c.v_star, "v_beta": c.v_beta, "value": c.value,
        "achieved_tvd": c.achieved_tvd, "achieved_kl": c.achieved_kl,
        "joint_raised": v.joint_raised if v else "", "joint_non_optimal": v.joint_non_optimal if v else "",
        "step_raised": v.step_raised if v else "", "step_non_optimal": v.step_non_optimal if v else "",
        "support_violations": v.support if v else "",
        "non_optimal_probability": v.non_optimal_probability if v else math.nan,
        "off_support_probability": v.off_support_probability if v else math.nan,
        "solver": c.solver, "failure": c.failure,
    }


def _total(cases: Sequence[Case], method: str, field: str) -> int:
    return sum(int(getattr(c.violations, field)) for c in cases if c.method == method and c.violations)


def _per_budget(cases: Sequence[Case], budgets: Sequence[float], method: str, field: str) -> tuple[float, ...]:
    """Mean over the solved trees of ``field`` (of :class:`Violations`, else of :class:`Case`) at each budget
    (nan where none solved)."""
    out = []
    for eps in budgets:
        xs = [getattr(c.violations, field) if hasattr(c.violations, field) else getattr(c, field) for c in cases
              if c.method == method and c.eps_tvd == eps and c.violations is not None]
        out.append(float(np.mean(xs)) if xs else math.nan)
    return tuple(out)


def _pinsker_order_violations(cases: Sequence[Case], tol: float = 1e-6) -> int:
    """Cases where the KL optimum (at ``2 eps^2`` nats) is worth more than the TVD optimum (at ``eps``) by more
    than ``tol``. By Pinsker per observation sequence the KL optimum is TVD-feasible, so this must be 0: a
    consistency check of the two solvers, reported, not part of ``held``."""
    by_key = {(c.tree, c.eps_tvd, c.method): c.value for c in cases if c.violations is not None}
    return sum(1 for (tree, eps, method), v in by_key.items()
               if method == "kl" and (tree, eps, "tvd") in by_key and v > by_key[(tree, eps, "tvd")] + tol)


def _summarise(config: Config, trees: Sequence[RandomTree], cases: Sequence[Case],
               beta_counts: Sequence[Violations]) -> tuple[bool, dict[str, Any]]:
    """Whether the grid part held (no joint violation of the TVD optimum, no support violation of the KL
    optimum, at most ``max_failures`` failed solves), and the grid's fields of :class:`Theorem2Summary`."""
    failures = [c for c in cases if c.violations is None]
    solved = {m: sum(c.method == m and c.violations is not None for c in cases) for m in METHODS}
    tvd_joint = _total(cases, "tvd", "joint_non_optimal")
    kl_support = _total(cases, "kl", "support")
    held = tvd_joint == 0 and kl_support == 0 and len(failures) <= config.max_failures
    shapes: dict[str, int] = {}
    for t in trees:
        key = "x".join(map(str, t.shape))
        shapes[key] = shapes.get(key, 0) + 1
    return held, {
        "tvd_joint_violations": tvd_joint,
        "kl_support_violations": kl_support,
        "solver_failures": len(failures),
        "solver_failures_by_method": {m: sum(c.method == m for c in failures) for m in METHODS},
        "failure_messages": tuple(sorted({c.failure for c in failures})[:5]),
        "solvers_used": {name: sum(c.solver == name for c in cases) for name in sorted({c.solver for c in cases})
                         if name},
        "trees": len(trees),
        "tree_shapes_ka_x_ko_x_n": shapes,
        "budgets_tvd": tuple(config.budgets),
        "budgets_kl_nats": tuple(config.kl_budgets),
        "cases_per_method": len(trees) * len(config.budgets),
        "solved_per_method": solved,
        "tvd_joint_raised": _total(cases, "tvd", "joint_raised"),
        "tvd_step_raised": _total(cases, "tvd", "step_raised"),
        "tvd_step_violations": _total(cases, "tvd", "step_non_optimal"),
        "tvd_cases_with_step_violation": sum(c.method == "tvd" and c.violations is not None
                                             and c.violations.step_non_optimal > 0 for c in cases),
        "tvd_support_violations": _total(cases, "tvd", "support"),
        "tvd_cases_off_support": sum(c.method == "tvd" and c.violations is not None
                                     and c.violations.off_support_probability > 0 for c in cases),
        "kl_joint_raised": _total(cases, "kl", "joint_raised"),
        "kl_joint_non_optimal_raises": _total(cases, "kl", "joint_non_optimal"),
        "kl_step_non_optimal_raises": _total(cases, "kl", "step_non_optimal"),
        "kl_max_off_support_probability": max((c.violations.off_support_probability for c in cases
                                               if c.method == "kl" and c.violations), default=math.nan),
        "mean_non_optimal_probability_beta": (float(np.mean([b.non_optimal_probability for b in beta_counts]))
                                              if beta_counts else math.nan),
        "mean_non_optimal_probability_tvd": _per_budget(cases, config.budgets, "tvd", "non_optimal_probability"),
        "mean_non_optimal_probability_kl": _per_budget(cases, config.budgets, "kl", "non_optimal_probability"),
        "mean_off_support_probability_tvd": _per_budget(cases, config.budgets, "tvd", "off_support_probability"),
        "mean_off_support_probability_kl": _per_budget(cases, config.budgets, "kl", "off_support_probability"),
        "mean_achieved_tvd_tvd": _per_budget(cases, config.budgets, "tvd", "achieved_tvd"),
        "mean_achieved_tvd_kl": _per_budget(cases, config.budgets, "kl", "achieved_tvd"),
        "mean_value_tvd": _per_budget(cases, config.budgets, "tvd", "value"),
        "mean_value_kl": _per_budget(cases, config.budgets, "kl", "value"),
        "mean_v_star": float(np.mean([t.v_star for t in trees])) if trees else math.nan,
        "mean_v_beta": float(np.mean([t.v_beta for t in trees])) if trees else math.nan,
        "pinsker_value_order_violations": _pinsker_order_violations(cases),
        "raise_tol": config.raise_tol,
        "tie_tol": config.tie_tol,
        "reading": "joint (asserted); per-step (counted)",
    }


def _controls(summary: Theorem2Summary) -> tuple[Control, ...]:
    return (
        Control.compare(
            "tvd_on_near_zeros", "the support test on the TVD optimum (no KL constraint): the largest excess of its "
            "mass on the tempting action over the KL bound r(delta) must be > 0",
            measured=summary.support_tvd_max_excess, relation="<=", bound=SUPPORT_TOL, units="probability",
            details={"min_mass_by_delta": summary.support_tvd_mass_by_delta, "min_excess_at_smallest_delta":
                     summary.support_tvd_min_excess_at_smallest_delta}),
        Control.compare(
            "unconstrained_on_near_zeros", "the support test on the unconstrained optimum (mass 1 on the tempting "
            "action): its excess over r(delta) must be > 0", measured=summary.support_unconstrained_max_excess,
            relation="<=", bound=SUPPORT_TOL, units="probability"),
        Control.compare(
            "kl_raises_non_optimal", "the TVD half's conclusion (no raised non-V-optimal joint prefix) applied to the "
            "KL optimum, which is not TVD-constrained: it must raise some",
            measured=summary.kl_joint_non_optimal_raises, relation="==", bound=0.0, units="violations"),
    )


def run(config: Config, folder: RunFolder, show_progress: bool = False) -> CheckResult:
    """Build the trees, solve both optima at every budget, count; the support test and the controls; write
    ``metrics.csv``, ``support.csv`` and the figure."""
    trees = _trees(config)
    cases: list[Case] = []
    beta_counts = []
    for tree in progress(trees, desc="theorem2", unit="tree", disable=not show_progress):
        cases.extend(check_tree(tree, config.budgets, raise_tol=config.raise_tol, tie_tol=config.tie_tol))
        beta_counts.append(count_violations(tree.problem, tree.beta, tree.beta, raise_tol=config.raise_tol,
                                            tie_tol=config.tie_tol))
    folder.write_metrics([_row(c) for c in cases])
    grid_held, grid = _summarise(config, trees, cases, beta_counts)
    witness = _witness_counts(config.raise_tol, config.tie_tol)
    support = support_limit(config)
    write_csv(folder.file("support.csv"), [
        {"tree": c.tree, "shape": "x".join(map(str, c.shape)), "delta": c.delta, "bound": c.bound,
         "mass_kl": c.mass_kl, "mass_tvd": c.mass_tvd, "mass_unconstrained": c.mass_unconstrained,
         "full_simplex_zero_mass": c.full_simplex_zero_mass, "full_simplex_status": c.full_simplex_status,
         "failure": c.failure} for c in support])
    support_parts = _support_summary(support, config)
    support_held = (support_parts["support_failures"] == 0
                    and support_parts["support_kl_max_excess"] <= SUPPORT_TOL)
    summary = Theorem2Summary(**grid, per_step_witness_step_violations=witness.step_non_optimal,
                              per_step_witness_joint_violations=witness.joint_non_optimal, **support_parts,
                              held_support_limit=bool(support_held))
    claim = grid_held and support_held
    controls = _controls(summary)
    held = held_with_controls(claim, controls)
    write_csv(folder.file(BUDGET_ROWS), _budget_rows(summary))
    figures = draw_figures(folder, config, summary) if config.plot else ()
    measured = summary.tvd_joint_violations + summary.kl_support_violations
    failures = summary.solver_failures
    kl_mass = summary.support_kl_mass_by_delta
    bounds = summary.support_bound_by_delta
    return CheckResult(
        name=NAME, statement=STATEMENT, measured=float(measured), bound=0.0, relation="==", held=held,
        claim_held=claim, controls=controls, units="violations", details=summary, figures=figures,
        verdict=(f"{summary.trees} trees x {len(config.budgets)} budgets: TVD optimum raised "
                 f"{summary.tvd_joint_raised} joint prefixes, {summary.tvd_joint_violations} of them "
                 f"non-optimal (bound 0); KL optimum put mass outside beta's support "
                 f"{summary.kl_support_violations} times (bound 0); on {config.support_trees} tempting trees "
                 f"the KL optimum's mass on the root's best action with base mass delta: "
                 + ", ".join(f"{_fmt_num(kl_mass[d])} (<= r = {_fmt_num(bounds[d])}) at delta = {d}" for d in kl_mass)
                 + f"; per-step reading: {summary.tvd_step_violations} non-optimal raises in "
                 f"{summary.tvd_cases_with_step_violation} TVD cases and "
                 f"{summary.per_step_witness_step_violations} on the hand-made witness (expected, not "
                 f"asserted); solver failures {failures + summary.support_failures}"
                 + (f" (> max_failures = {config.max_failures}: inconclusive)"
                    if failures > config.max_failures else "") + f"; {controls_verdict(controls)}"),
    )


def _fmt_num(x: float) -> str:
    return "nan" if math.isnan(x) else f"{x:.3g}"


def _budget_rows(summary: Theorem2Summary) -> list[dict[str, float]]:
    """The rows of :data:`BUDGET_ROWS`: one per TVD budget, the means over the solved trees of each optimum."""
    columns = ("mean_non_optimal_probability_tvd", "mean_non_optimal_probability_kl",
               "mean_off_support_probability_tvd", "mean_off_support_probability_kl", "mean_achieved_tvd_tvd",
               "mean_achieved_tvd_kl", "mean_value_tvd", "mean_value_kl")
    return [{"eps_tvd": eps, "budget_kl_nats": summary.budgets_kl_nats[i],
             **{name: getattr(summary, name)[i] for name in columns}} for i, eps in enumerate(summary.budgets_tvd)]


def draw_figures(folder: RunFolder, config: Config, summary: Theorem2Summary) -> tuple[str, ...]:
    """:data:`FIGURES` from the per-budget rows saved in ``folder`` (:data:`BUDGET_ROWS`) and, for the base
    policy's level and the title, the summary's counts."""
    rows = folder.read_rows(BUDGET_ROWS, ("eps_tvd", "mean_non_optimal_probability_tvd",
                                          "mean_non_optimal_probability_kl", "mean_off_support_probability_tvd",
                                          "mean_off_support_probability_kl", "mean_achieved_tvd_tvd",
                                          "mean_achieved_tvd_kl"))
    plot_mass(rows, summary, folder.file(FIGURES[0]))
    return FIGURES


def plot_mass(rows: Sequence[Mapping[str, object]], summary: Theorem2Summary, stem: Path) -> tuple[Path, Path]:
    """Theorem 2's figure (PNG and SVG), TVD optimum vs KL optimum, from the per-budget rows
    (:data:`BUDGET_ROWS`):

    * left: mean (over trees) probability of ever taking a non-V-optimal action against the TVD budget
      ``eps`` (the KL optimum at the Pinsker-matched ``2 eps^2`` nats);
    * middle: the same against the mean achieved Definition-2 TVD of each optimum (at equal distance from
      ``beta``, which one still takes non-optimal actions);
    * right: mean probability of ever taking an action ``beta`` never takes.
    """
    from aitheory.plotting import column, pyplot, save_figure

    plt = pyplot()
    eps = column(rows, "eps_tvd")
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(14, 4.3))
    styles = {"tvd": ("o", "C0", "TVD optimum"), "kl": ("s", "C3", "KL optimum (Definition 2)")}
    beta_level = summary.mean_non_optimal_probability_beta
    left.plot(eps, column(rows, "mean_non_optimal_probability_tvd"), "o-", color="C0",
              label=r"TVD optimum (budget $\varepsilon$)")
    left.plot(eps, column(rows, "mean_non_optimal_probability_kl"), "s-", color="C3",
              label=r"KL optimum (budget $2\varepsilon^2$ nats)")
    left.axhline(beta_level, color="k", ls=":", lw=1, label=r"base policy $\beta$")
    left.set_xlabel(r"TVD budget $\varepsilon$ (KL budget $2\varepsilon^2$ nats, Pinsker-matched)")
    left.set_ylabel("P(ever a non-V-optimal action), mean over trees")
    left.set_ylim(bottom=0)
    left.legend(fontsize=8)
    left.set_title("Mass on non-optimal actions against the budget", fontsize=10)
    for method, (marker, colour, label) in styles.items():
        middle.plot(column(rows, f"mean_achieved_tvd_{method}"), column(rows, f"mean_non_optimal_probability_{method}"),
                    f"{marker}-", color=colour, label=label)
    middle.axhline(beta_level, color="k", ls=":", lw=1, label=r"base policy $\beta$")
    middle.set_xlabel(r"achieved Definition-2 TVD from $\beta$, mean over trees")
    middle.set_ylabel("P(ever a non-V-optimal action), mean over trees")
    middle.set_ylim(bottom=0)
    middle.legend(fontsize=8)
    middle.set_title("...against the distance actually travelled", fontsize=10)
    right.plot(eps, column(rows, "mean_off_support_probability_tvd"), "o-", color="C0", label="TVD optimum")
    right.plot(eps, column(rows, "mean_off_support_probability_kl"), "s-", color="C3",
               label="KL optimum (exactly 0)")
    right.set_xlabel(r"TVD budget $\varepsilon$ (KL budget $2\varepsilon^2$ nats)")
    right.set_ylabel(r"P(ever an action with $\beta(a|h) = 0$), mean over trees")
    right.set_ylim(bottom=-0.005)
    right.legend(fontsize=8)
    right.set_title(r"Mass outside $\beta$'s support", fontsize=10)
    fig.suptitle(f"Theorem 2 on {summary.trees} random trees: TVD raises only V-optimal actions "
                 f"({summary.tvd_joint_violations} joint violations); KL never leaves the support "
                 f"({summary.kl_support_violations} violations)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, stem)
