r"""Constrained-optimum results and the sequence-form machinery shared by the convex and linear programmes.

**Sequence form** (Koller-Megiddo-von Stengel). A policy ``pi`` is represented by the joint probabilities of
its action prefixes given the observations so far,

    y_s(a_1..a_{s+1} | o_1..o_s) = prod_{r=0..s} pi(a_{r+1} | h_r),       s = 0..n-1,

one entry per decision history ``h_s`` and action. The set of such ``y`` is a polytope cut out by *linear*
constraints: ``y >= 0``, ``sum_a y_0(a) = 1`` and, for ``s >= 1``, ``sum_a y_s(h_s, a) = y_{s-1}(h_{s-1}, a_s)``
where ``h_s = h_{s-1} a_s o_s``. Conversely every such ``y`` comes from a policy:
``pi(a | h_s) = y_s(h_s, a) / y_{s-1}(h_{s-1}, a_s)`` where the denominator is positive (elsewhere ``pi`` is
irrelevant to every quantity below; aitheory puts ``beta``'s normalised row there).

In these variables

* the value is **linear**: ``V^pi(h0) = sum_{h_{n-1}, a} y_{n-1}(h_{n-1}, a) P_nu(h_{n-1} | a's) c(h_{n-1}, a)``
  with ``c(h, a) = sum_o nu(o|h,a) U_m(h a o)``;
* the Definition-2 KL of one observation sequence ``o`` is ``sum_{a_1..a_n} y ln(y / b)`` over the entries with
  those observations, where ``b`` is ``beta``'s sequence form (a constant): a sum of relative entropies
  ``x ln(x/b)``, convex in ``x`` (exponential-cone representable);
* the Definition-2 TVD of one sequence is ``(1/2) sum |y - b|``: piecewise linear, an LP with one auxiliary
  variable per term.

So "maximise value subject to KL_o <= eps for every o" is a convex programme and the TVD version a linear
programme, both solved exactly (to solver tolerance) rather than by search over policies.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from aitheory.planning.problem import PlanningError, PlanningProblem, TabularPolicy
from aitheory.planning.values import Levels, PolicyDivergence, joint_levels, tree_divergence, value_levels

__all__ = ["ConstrainedSolution"]

#: A history whose prefix mass ``y`` is below this is treated as unreached when recovering ``pi`` from ``y``.
RECOVERY_MASS = 1e-12


@dataclass(frozen=True, eq=False)
class ConstrainedSolution:
    r"""A value-maximising policy under a divergence budget, with everything measured at the returned policy.

    Attributes:
        policy: the optimal policy (tabular over every decision history of the problem).
        value: ``V^pi(h0)``, recomputed exactly from ``policy`` (Definition 1).
        constraint: ``"kl-definition2"``, ``"kl-expected"``, ``"tvd-definition2"`` or ``"tvd-stepwise"``.
        budget: ``eps`` (nats for KL, probability for TVD).
        achieved: the constrained quantity at ``policy`` (for Definition 2: the max over observation sequences).
        divergence: Definition-2 KL and TVD (max and per open-loop observation sequence) and the expected KL of
            ``policy`` from ``beta``, all recomputed exactly.
        status: ``"optimal"``, ``"optimal_inaccurate"`` (solver's own flag; passed the exact re-check),
            ``"budget_not_binding"`` (the best policy within beta's support fits in the budget).
        solver: what produced it (``"closed-form"``, ``"cvxpy/CLARABEL"``, ``"scipy/highs"``, ...).
        objective: the solver's optimal objective (equals ``value`` up to the solver tolerance).
        lagrange_multiplier: ``lambda`` of the closed form (``0`` in the limit, ``inf`` for ``pi = beta``).
        levels: ``policy`` as per-level arrays ``(N_s, K_a)`` (the problem's indexing).
        mixed_toward_beta: the weight ``t`` of the sequence-form mixture ``(1 - t) y + t b`` applied to a solver
            point that overshot the budget by solver tolerance (0 when none was needed; see
            :func:`pull_into_budget`).
    """

    policy: TabularPolicy
    value: float
    constraint: str
    budget: float
    achieved: float
    divergence: PolicyDivergence
    status: str
    solver: str
    objective: float
    lagrange_multiplier: float | None = None
    levels: tuple[np.ndarray, ...] = field(default=(), repr=False)
    mixed_toward_beta: float = 0.0


def check_budget(eps: float, name: str = "eps") -> float:
    """A finite budget ``>= 0`` as a float, else ``ValueError`` naming ``name``."""
    try:
        value = float(eps)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"argument {name}: expected a number, got {eps!r}") from exc
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"argument {name}: must be a finite number >= 0, got {eps!r}")
    return value


def finish(
    problem: PlanningProblem,
    levels: Levels,
    beta: Levels,
    *,
    constraint: str,
    budget: float,
    achieved_of: str,
    status: str,
    solver: str,
    objective: float | None,
    check_tol: float,
    lagrange_multiplier: float | None = None,
    achieved: float | None = None,
    mixed_toward_beta: float = 0.0,
) -> ConstrainedSolution:
    """Re-evaluate ``levels`` exactly, check the budget and objective, and package the result.

    ``achieved_of`` names the :class:`PolicyDivergence` field that is constrained (``"kl"``, ``"tvd"``,
    ``"kl_expected"``) unless ``achieved`` is given. Raises :class:`PlanningError` if the constraint is violated
    by more than ``check_tol`` or the value falls short of the solver's objective by more than ``check_tol``
    (``objective=None``: no solver objective, the exact value is reported as the objective).
    """
    frozen = []
    for arr in levels:
        a = np.array(arr, dtype=float)
        a.flags.writeable = False
        frozen.append(a)
    div = tree_divergence(problem, frozen, beta)
    val = float(value_levels(problem, frozen)[0][0])
    got = float(getattr(div, achieved_of)) if achieved is None else achieved
    if not got <= budget + check_tol:
        raise PlanningError(
            f"{solver} returned a policy whose {constraint} divergence is {got!r} > budget {budget} "
            f"(+ tolerance {check_tol}); status {status}"
        )
    if objective is None:
        objective = val
    if not val >= objective - check_tol:
        raise PlanningError(
            f"{solver} reported objective {objective!r} but the recovered policy's exact value is {val!r} "
            f"(tolerance {check_tol}); status {status}"
        )
    return ConstrainedSolution(
        policy=problem.to_policy(frozen),
        value=val,
        constraint=constraint,
        budget=budget,
        achieved=got,
        divergence=div,
        status=status,
        solver=solver,
        objective=float(objective),
        lagrange_multiplier=lagrange_multiplier,
        levels=tuple(frozen),
        mixed_toward_beta=mixed_toward_beta,
    )


def normalised_beta(beta: Levels) -> list[np.ndarray]:
    """``beta`` normalised at every history (uniform where it has no mass): the least-divergence policy."""
    out = []
    for b in beta:
        mass = np.asarray(b).sum(axis=1, keepdims=True)
        out.append(np.where(mass > 0, b / np.where(mass > 0, mass, 1.0), 1.0 / b.shape[1]))
    return out


def pull_into_budget(
    problem: PlanningProblem, levels: Levels, beta: Levels, budget: float, achieved_of: str, check_tol: float
) -> tuple[list[np.ndarray], float]:
    r"""Move a solver point that overshoots the budget by at most ``check_tol`` back inside it, exactly.

    Every constrained divergence here (Definition-2 KL or TVD, expected KL) is convex in the sequence form
    ``y``, and the value is linear, so the mixture ``y_t = (1 - t) y + t b*`` with ``b*`` the sequence form of
    normalised ``beta`` (divergence ``D*``) has ``D(y_t) <= (1 - t) D(y) + t D*``: ``t = (D(y) - eps) / (D(y) - D*)``
    meets the budget and costs at most ``t`` times the value gap (about the solver tolerance). Returns the
    (possibly unchanged) policy levels and ``t``.
    """
    got = float(getattr(tree_divergence(problem, levels, beta), achieved_of))
    if got <= budget or got > budget + check_tol:
        return list(levels), 0.0
    anchor = normalised_beta(beta)
    floor = float(getattr(tree_divergence(problem, anchor, beta), achieved_of))
    if not floor < budget:
        return list(levels), 0.0
    y, b = joint_levels(problem, levels), joint_levels(problem, anchor)
    t = (got - budget) / (got - floor)
    for _ in range(20):
        mixed = recover_policy(problem, [(1 - t) * ys + t * bs for ys, bs in zip(y, b, strict=True)], beta)
        if float(getattr(tree_divergence(problem, mixed, beta), achieved_of)) <= budget:
            return mixed, t
        t = min(1.0, 2 * t + 1e-15)  # rounding in the re-evaluation: a little more
    return list(levels), 0.0


# ----- sequence-form matrices -----


def consistency(problem: PlanningProblem, s: int) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    r"""``(R, E)`` with ``R y_s = E y_{s-1}`` the consistency rows of level ``s >= 1``.

    ``R`` sums ``y_s(h, .)`` over actions (``N_s x N_s K_a``); ``E`` picks ``y_{s-1}(h // K_o)``.
    """
    ka, ko = problem.n_actions, problem.n_observations
    n_s = problem.level_size(s)
    r = sparse.kron(sparse.identity(n_s, format="csr"), np.ones((1, ka)), format="csr")
    cols = np.arange(n_s) // ko
    e = sparse.csr_matrix((np.ones(n_s), (np.arange(n_s), cols)), shape=(n_s, problem.level_size(s - 1) * ka))
    return r, e


def grouping(problem: PlanningProblem) -> sparse.csr_matrix:
    """``G[o, j] = 1`` if last-level sequence-form entry ``j`` has observation sequence ``o``."""
    from aitheory.planning.values import sequence_groups

    groups = sequence_groups(problem)
    rows = problem.n_observations ** (problem.steps - 1)
    return sparse.csr_matrix((np.ones(groups.size), (groups, np.arange(groups.size))), shape=(rows, groups.size))


def value_coefficients(problem: PlanningProblem) -> np.ndarray:
    """``coef`` with ``V^pi(h0) = coef . y_{n-1}`` (environment probability times expected terminal utility)."""
    reach = np.repeat(problem.env_reach[problem.steps - 1], problem.n_actions)
    return reach * problem.terminal_value


def expected_weights(problem: PlanningProblem) -> list[np.ndarray]:
    r"""Weights ``w_s >= 0`` with ``E_{pi,nu}[sum_s KL(pi||beta)] = sum_s w_s . (y_s ln(y_s / b_s))``.

    By the chain rule, level ``s < n-1`` entries carry ``P_nu(h_s)(1 - sum_o nu(o|h_s,a))`` (the probability
    that the interaction stops right after ``a``: zero for a measure ``nu``) and the last level carries
    ``P_nu(h_{n-1})``. Needs ``pi`` to be a measure (the consistency equalities).
    """
    out = []
    ka = problem.n_actions
    for s in range(problem.steps):
        reach = np.repeat(problem.env_reach[s], ka)
        if s == problem.steps - 1:
            out.append(reach)
        else:
            stop = 1.0 - problem.obs[s].sum(axis=2).reshape(-1)
            out.append(reach * np.where(stop > 0, stop, 0.0))
    return out


def recover_policy(problem: PlanningProblem, ys: Sequence[np.ndarray], beta: Levels) -> list[np.ndarray]:
    r"""``pi(a | h_s) = y_s(h_s, a) / sum_a' y_s(h_s, a')`` where that mass exceeds :data:`RECOVERY_MASS`.

    Negative solver noise is set to 0 first. Where ``pi``'s own prefix mass is (near) zero the row is
    ``beta``'s row normalised (uniform if ``beta``'s row is all zero): such histories carry no value and no
    divergence in any of the programmes.
    """
    ka = problem.n_actions
    out = []
    for s, y in enumerate(ys):
        rows = np.clip(np.asarray(y, dtype=float), 0.0, None).reshape(-1, ka)
        mass = rows.sum(axis=1)
        b = np.asarray(beta[s], dtype=float)
        bmass = b.sum(axis=1)
        fallback = np.where(bmass[:, None] > 0, b / np.where(bmass > 0, bmass, 1.0)[:, None], 1.0 / ka)
        safe = np.where(mass > RECOVERY_MASS, mass, 1.0)
        pi = np.where((mass > RECOVERY_MASS)[:, None], rows / safe[:, None], fallback)
        out.append(pi)
    return out


def beta_sequence_form(problem: PlanningProblem, beta: Levels) -> list[np.ndarray]:
    """``b_s``: ``beta``'s sequence form (constants of the programmes)."""
    return joint_levels(problem, beta)
