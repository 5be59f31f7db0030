r"""TVD-constrained optimal policies: Definition 2's shape as a linear programme, and a per-step variant.

**Definition-2 shape.** Maximise ``V^pi(h0)`` subject to, for every open-loop observation sequence ``o``,
``(1/2) sum_{a_1..a_n} |P_pi(a|o) - P_beta(a|o)| <= eps``. In sequence form (see
:mod:`aitheory.planning.solution`) the value is linear and each constraint is linear once every absolute value
gets an auxiliary variable ``t >= |y - b|`` (two inequalities). Solved with scipy's HiGHS
(``scipy.optimize.linprog(method="highs")``).

**Per-step variant.** ``TVD(pi(.|h), beta(.|h)) <= eps`` at every decision history. The feasible set is a
product over histories, so backward induction is exact: at each history, maximise ``sum_a pi(a) Q(h,a)`` over the
TVD ball (a tiny LP solved greedily: move mass from the lowest-``Q`` actions to the best one), with ``Q`` the
constrained continuation value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from aitheory.planning.problem import InfeasibleBudgetError, PlanningError, PlanningProblem, Policy
from aitheory.planning.solution import (
    ConstrainedSolution,
    beta_sequence_form,
    check_budget,
    consistency,
    finish,
    grouping,
    pull_into_budget,
    recover_policy,
    value_coefficients,
)
from aitheory.planning.values import DEFAULT_TIE_TOL, Levels, as_levels, expand

__all__ = ["DEFAULT_MAX_LP_VARIABLES", "tvd_optimal_policy", "tvd_optimal_policy_stepwise"]

#: Default cap on the number of LP variables (sequence-form entries plus auxiliaries).
DEFAULT_MAX_LP_VARIABLES = 500_000

_ROUNDING = 1e-12
_HIGHS_OPTIONS = {"primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-9}


def tvd_optimal_policy(
    problem: PlanningProblem,
    beta: Policy | Sequence[np.ndarray],
    eps: float,
    *,
    check_tol: float = 1e-6,
    max_variables: int = DEFAULT_MAX_LP_VARIABLES,
    highs_options: dict[str, Any] | None = None,
) -> ConstrainedSolution:
    r"""Maximise ``V^pi(h0)`` s.t. ``max_o (1/2) sum_a |P_pi(a|o) - P_beta(a|o)| <= eps`` (Definition 2's shape).

    A linear programme in sequence form, solved by HiGHS (feasibility tolerances ``1e-9``). The returned policy
    is re-checked exactly; :class:`PlanningError` if the solver fails or the re-check does not pass within
    ``check_tol``. ``beta`` may be a semimeasure (then small budgets can be infeasible:
    :class:`InfeasibleBudgetError`).
    """
    eps = check_budget(eps)
    bl = as_levels(problem, beta, "beta")
    n = problem.steps
    b = beta_sequence_form(problem, bl)
    sizes = [bs.size for bs in b]
    total = sum(sizes) + sizes[-1]
    if total > max_variables:
        raise ValueError(f"argument max_variables: the LP needs {total} variables, more than max_variables = "
                         f"{max_variables}; use a smaller tree or raise max_variables")
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    t_off, last = int(offsets[-1]), sizes[-1]

    def block(mat: sparse.spmatrix, start: int) -> sparse.csr_matrix:
        rows = mat.shape[0]
        left = sparse.csr_matrix((rows, start))
        right = sparse.csr_matrix((rows, total - start - mat.shape[1]))
        return sparse.hstack([left, mat, right], format="csr")

    eq_rows = [block(sparse.csr_matrix(np.ones((1, sizes[0]))), 0)]
    eq_rhs = [np.ones(1)]
    for s in range(1, n):
        r, e = consistency(problem, s)
        eq_rows.append(block(r, int(offsets[s])) - block(e, int(offsets[s - 1])))
        eq_rhs.append(np.zeros(r.shape[0]))
    ident = sparse.identity(last, format="csr")
    y_last, t_aux = int(offsets[n - 1]), t_off
    ub_rows = [
        block(ident, y_last) - block(ident, t_aux),  # y - t <= b
        -block(ident, y_last) - block(ident, t_aux),  # -y - t <= -b
        block(0.5 * grouping(problem), t_aux),  # (1/2) sum_group t <= eps
    ]
    ub_rhs = [b[-1], -b[-1], np.full(problem.n_observations ** (n - 1), eps)]
    cost = np.zeros(total)
    cost[y_last:y_last + last] = -value_coefficients(problem)
    res = linprog(
        cost,
        A_ub=sparse.vstack(ub_rows, format="csr"),
        b_ub=np.concatenate(ub_rhs),
        A_eq=sparse.vstack(eq_rows, format="csr"),
        b_eq=np.concatenate(eq_rhs),
        bounds=(0, None),
        method="highs",
        options={**_HIGHS_OPTIONS, **(highs_options or {})},
    )
    if res.status == 2:
        raise InfeasibleBudgetError(f"argument eps: the TVD programme is infeasible at eps = {eps} "
                                    f"(HiGHS: {res.message})")
    if res.status != 0 or res.x is None:
        raise PlanningError(f"scipy/highs failed on the TVD programme (status {res.status}): {res.message}")
    ys = [res.x[offsets[s]:offsets[s + 1]] for s in range(n)]
    levels, mixed = pull_into_budget(problem, recover_policy(problem, ys, bl), bl, eps, "tvd", check_tol)
    return finish(problem, levels, bl, constraint="tvd-definition2", budget=eps, achieved_of="tvd",
                  status="optimal", solver="scipy/highs", objective=float(-res.fun), check_tol=check_tol,
                  mixed_toward_beta=mixed)


def _step_row(b: np.ndarray, q: np.ndarray, eps: float, tie_tol: float) -> np.ndarray:
    r"""``argmax_p sum_a p(a) q(a)`` over measures ``p`` with ``(1/2)|p - b|_1 <= eps`` (``b`` a semimeasure).

    Greedy and exact: the deficit ``1 - sum b`` and up to ``eps`` more go to the best action (lowest index
    among ties); the extra is taken from the strictly worse actions, lowest ``q`` first.
    """
    p = b.astype(float).copy()
    need = 1.0 - math.fsum(b)
    need = need if need > _ROUNDING else 0.0  # a measure up to rounding
    if eps < need / 2:
        raise InfeasibleBudgetError(f"argument eps: {eps} is below half the missing mass {need} of beta's row")
    qmax = float(q.max())
    best = int(np.flatnonzero(q >= qmax - tie_tol)[0])
    worse = [int(a) for a in np.argsort(q, kind="stable") if q[a] < qmax - tie_tol]
    movable = math.fsum(b[a] for a in worse)
    up = min(eps + need / 2, need + movable)
    p[best] += up
    take = up - need
    for a in worse:
        if take <= 0:
            break
        d = min(take, p[a])
        p[a] -= d
        take -= d
    return p


def tvd_optimal_policy_stepwise(
    problem: PlanningProblem,
    beta: Policy | Sequence[np.ndarray],
    eps: float,
    *,
    tie_tol: float = DEFAULT_TIE_TOL,
) -> ConstrainedSolution:
    r"""Maximise ``V^pi(h0)`` s.t. ``(1/2) sum_a |pi(a|h) - beta(a|h)| <= eps`` at every decision history.

    Exact backward induction with the greedy per-history step (no solver). ``achieved`` is the largest per-step
    TVD over all decision histories; ``divergence`` still reports the Definition-2 quantities.
    """
    eps = check_budget(eps)
    bl = as_levels(problem, beta, "beta")
    n = problem.steps
    levels: list[np.ndarray] = [np.empty(0)] * n
    v = np.asarray(problem.utility)
    for s in range(n - 1, -1, -1):
        q = expand(problem, s, v)
        levels[s] = np.array([_step_row(bl[s][i], q[i], eps, tie_tol) for i in range(q.shape[0])])
        v = (levels[s] * q).sum(axis=1)
    worst = max(float(0.5 * np.abs(lv - bs).sum(axis=1).max()) for lv, bs in zip(levels, bl, strict=True))
    return finish(problem, _as_levels(levels), bl, constraint="tvd-stepwise", budget=eps, achieved_of="tvd",
                  status="optimal", solver="dynamic-programming", objective=float(v[0]), check_tol=1e-12,
                  achieved=worst)


def _as_levels(levels: Sequence[np.ndarray]) -> Levels:
    return tuple(np.asarray(lv, dtype=float) for lv in levels)
