r"""KL-constrained optimal policies: the expected version (closed form) and Definition 2 (convex programme).

**Expected version.** Maximise ``V^pi(h0)`` subject to ``E_{pi,nu}[sum_s KL(pi(.|h_s) || beta(.|h_s))] <= eps``.
Its Lagrangian ``V^pi - lambda E[sum KL]`` is maximised by the soft Bellman recursion

    Q_l(h, a) = sum_o nu(o|h,a) V_l(hao),      V_l = U_m on complete histories,
    V_l(h)    = l ln sum_a beta(a|h) exp(Q_l(h,a) / l),
    pi_l(a|h) = beta(a|h) exp((Q_l(h,a) - V_l(h)) / l),

(Gibbs' variational principle at each history, backwards). ``E[sum KL](pi_l)`` decreases continuously in
``l``, so ``l`` is found by bisection (on ``ln l``) making the constraint tight; the returned policy is on the
feasible side. ``beta(a|h) = 0`` gives ``pi(a|h) = 0`` exactly (``exp(-inf) = 0``), whatever ``eps``.

As ``l -> 0`` the policy tends to the lexicographic optimum: the best value within beta's support, and among
such policies the least KL. Exactly: with ``Q0`` the hard Bellman recursion restricted to ``beta > 0`` and
``A*(h)`` its maximisers, ``C(h) = -ln sum_{a in A*(h)} beta(a|h) exp(-C(h,a))``,
``C(h,a) = sum_o nu(o|h,a) C(hao)``, ``pi_0(a|h) ∝ beta(a|h) exp(-C(h,a))`` on ``A*(h)``; ``C(h0)`` is its
expected KL. For ``eps >= C(h0)`` the budget does not bind and ``pi_0`` is returned.
As ``l -> inf``, ``pi -> beta`` normalised; its expected KL ``E[-ln sum_a beta(a|h)]`` (0 for a measure) is the
least any policy can have, and a smaller ``eps`` is infeasible.

**Definition 2.** Maximise ``V^pi(h0)`` subject to ``KL_o(pi || beta) <= eps`` for every open-loop observation
sequence ``o``: a convex programme in sequence form (see :mod:`aitheory.planning.solution`), solved with
cvxpy and the Clarabel interior-point solver (exponential cones). The same machinery solves the expected
version (one averaged constraint), which cross-checks the closed form.

**Over the full simplex** (:func:`kl_full_simplex_mass`). The programmes above have variables only on beta's
support (an action sequence beta never takes cannot have finite KL). To show that the *optimiser*, not that
layout, keeps ``beta(a) = 0 => pi(a) = 0``, the same Definition-2 programme is also solved with a variable for
every action sequence; beta's zeros enter only as relative-entropy terms ``z ln(z / 0)`` (exponential cones
whose only feasible point is ``z = 0``), and the mass the solver's own optimum puts there is reported. That cone
has no interior point, so interior-point solvers meet it only to their tolerance (and flag some solves
``optimal_inaccurate``): the reported mass is what the solver returned, not a cleaned-up value.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import sparse
from scipy.special import logsumexp

from aitheory._optional import require
from aitheory.planning.problem import InfeasibleBudgetError, PlanningError, PlanningProblem, Policy
from aitheory.planning.solution import (
    ConstrainedSolution,
    beta_sequence_form,
    check_budget,
    consistency,
    expected_weights,
    finish,
    grouping,
    pull_into_budget,
    recover_policy,
    value_coefficients,
)
from aitheory.planning.values import DEFAULT_TIE_TOL, Levels, as_levels, expand, expected_kl_levels

__all__ = [
    "DEFAULT_MAX_CONES",
    "FullSimplexMass",
    "kl_full_simplex_mass",
    "kl_optimal_policy",
    "kl_optimal_policy_expected",
    "soft_policy",
]

#: Default cap on the number of relative-entropy terms (exponential cones) of a convex programme.
DEFAULT_MAX_CONES = 50_000

_LAMBDA_MIN, _LAMBDA_MAX = 1e-250, 1e12
#: Clarabel's stopping tolerances (its defaults are 1e-8); override with ``solver_options``.
_CLARABEL_TOLERANCES = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}
#: The last resort when Clarabel fails outright at both its tolerances (and no ``solver_options``).
_SCS_FALLBACK: dict[str, Any] = {"solver": "SCS", "eps_abs": 1e-10, "eps_rel": 1e-10, "max_iters": 200_000}
#: Slack for rounding when comparing a budget with the least achievable KL (``-ln sum beta`` of a measure).
_ROUNDING = 1e-12


def _log(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(x)


def soft_policy(problem: PlanningProblem, beta: Levels, lam: float) -> tuple[list[np.ndarray], float]:
    r"""``(pi_l, V_l(h0))`` of the soft Bellman recursion at temperature ``lam`` in ``(0, inf]``.

    ``lam = inf`` gives ``beta`` normalised at every history. Rows where ``beta`` has no mass get ``V_l = -inf``
    and a uniform (never reached when ``V_l(h0)`` is finite) row.
    """
    n, ka = problem.steps, problem.n_actions
    levels: list[np.ndarray] = [np.empty(0)] * n
    if math.isinf(lam):
        for s in range(n):
            mass = beta[s].sum(axis=1, keepdims=True)
            levels[s] = np.where(mass > 0, beta[s] / np.where(mass > 0, mass, 1.0), 1.0 / ka)
        return levels, math.nan
    v = np.asarray(problem.utility)
    for s in range(n - 1, -1, -1):
        q = expand(problem, s, v)
        logits = _log(beta[s]) + q / lam
        lse = logsumexp(logits, axis=1)
        finite = np.isfinite(lse)
        safe = np.where(finite, lse, 0.0)
        levels[s] = np.where(finite[:, None], np.exp(logits - safe[:, None]), 1.0 / ka)
        v = lam * lse
    return levels, float(v[0])


def _limit_policy(problem: PlanningProblem, beta: Levels, tie_tol: float) -> tuple[list[np.ndarray], float]:
    """The ``lambda -> 0`` limit policy and its expected KL ``C(h0)`` (see the module docstring)."""
    n, ka = problem.steps, problem.n_actions
    levels: list[np.ndarray] = [np.empty(0)] * n
    v = np.asarray(problem.utility)
    cost = np.zeros_like(v)
    for s in range(n - 1, -1, -1):
        q, c = expand(problem, s, v), expand(problem, s, cost)
        support = beta[s] > 0
        qs = np.where(support, q, -np.inf)
        best = qs.max(axis=1)
        chosen = support & (qs >= best[:, None] - tie_tol)
        logw = np.where(chosen, _log(beta[s]) - c, -np.inf)
        lse = logsumexp(logw, axis=1)
        finite = np.isfinite(lse)
        safe = np.where(finite, lse, 0.0)
        levels[s] = np.where(finite[:, None], np.exp(logw - safe[:, None]), 1.0 / ka)
        v, cost = best, -lse
    return levels, float(cost[0])


def kl_optimal_policy_expected(
    problem: PlanningProblem,
    beta: Policy | Sequence[np.ndarray],
    eps: float,
    *,
    method: Literal["closed_form", "convex"] = "closed_form",
    tie_tol: float = DEFAULT_TIE_TOL,
    check_tol: float = 1e-6,
    max_cones: int = DEFAULT_MAX_CONES,
    solver_options: dict[str, Any] | None = None,
) -> ConstrainedSolution:
    r"""Maximise ``V^pi(h0)`` s.t. ``E_{pi,nu}[sum_s KL(pi(.|h_s) || beta(.|h_s))] <= eps`` (nats).

    ``method="closed_form"``: soft Bellman recursion with ``lambda`` by bisection (exact up to the bisection's
    relative width ``1e-13`` in ``lambda``; the budget holds to rounding). ``method="convex"``: the same
    problem as a convex programme (cvxpy + Clarabel), for cross-checking. Raises
    :class:`InfeasibleBudgetError` if ``eps`` is below the least expected KL of any policy.
    """
    eps = check_budget(eps)
    bl = as_levels(problem, beta, "beta")
    if method == "convex":
        return _solve_convex(problem, bl, eps, reading="expected", check_tol=check_tol, max_cones=max_cones,
                             solver_options=solver_options)
    if method != "closed_form":
        raise ValueError(f"argument method: expected 'closed_form' or 'convex', got {method!r}")

    def done(levels: Levels, lam: float, objective: float | None, status: str) -> ConstrainedSolution:
        return finish(problem, levels, bl, constraint="kl-expected", budget=eps, achieved_of="kl_expected",
                      status=status, solver="closed-form", objective=objective, check_tol=check_tol,
                      lagrange_multiplier=lam)

    limit, limit_kl = _limit_policy(problem, bl, tie_tol)
    if limit_kl <= eps:
        return done(limit, 0.0, None, "budget_not_binding")
    normalised = soft_policy(problem, bl, math.inf)[0]
    least_kl = expected_kl_levels(problem, normalised, bl)
    if not least_kl <= eps + _ROUNDING:
        raise InfeasibleBudgetError(
            f"argument eps: {eps} nats is below the least expected KL any policy has from beta ({least_kl!r} "
            "nats: beta is a semimeasure, or has no mass where a policy must act)"
        )

    if eps <= least_kl + _ROUNDING:  # only beta (normalised) fits, up to rounding
        return done(normalised, math.inf, None, "optimal")

    def kl_at(lam: float) -> tuple[float, list[np.ndarray]]:
        pol = soft_policy(problem, bl, lam)[0]
        return expected_kl_levels(problem, pol, bl), pol

    lo, hi = _bracket(kl_at, eps)
    if hi is None:  # eps is within rounding of the least KL: beta itself (normalised) is the answer
        return done(normalised, math.inf, None, "optimal")
    if lo is None:  # even the smallest lambda fits: the limit is numerically reached
        pol = kl_at(hi)[1]
        return done(pol, hi, None, "optimal")
    for _ in range(400):
        if hi / lo - 1.0 < 1e-13:
            break
        mid = math.sqrt(lo * hi)
        if kl_at(mid)[0] <= eps:
            hi = mid
        else:
            lo = mid
    return done(kl_at(hi)[1], hi, None, "optimal")


def _bracket(kl_at: Any, eps: float) -> tuple[float | None, float | None]:
    """``(lo, hi)`` with ``KL(lo) > eps >= KL(hi)``; ``None`` where the search hit its numerical end."""
    lam = 1.0
    if kl_at(lam)[0] <= eps:
        hi = lam
        while lam > _LAMBDA_MIN:
            lam = max(lam / 16.0, _LAMBDA_MIN)
            if kl_at(lam)[0] > eps:
                return lam, hi
            hi = lam
        return None, hi
    lo = lam
    while lam < _LAMBDA_MAX:
        lam *= 16.0
        if kl_at(lam)[0] <= eps:
            return lo, lam
        lo = lam
    return lo, None


def kl_optimal_policy(
    problem: PlanningProblem,
    beta: Policy | Sequence[np.ndarray],
    eps: float,
    *,
    check_tol: float = 1e-6,
    max_cones: int = DEFAULT_MAX_CONES,
    solver_options: dict[str, Any] | None = None,
) -> ConstrainedSolution:
    r"""Maximise ``V^pi(h0)`` s.t. ``KL_{h0,m}(pi || beta) <= eps`` nats in the sense of Definition 2.

    Definition 2: for **every** open-loop observation sequence ``o``, ``sum_a P_pi(a|o) ln(P_pi(a|o)/P_beta(a|o))
    <= eps``. Solved as a convex programme in sequence form with cvxpy + Clarabel (needs the ``planning``
    extra). The returned policy is re-checked exactly: a :class:`PlanningError` is raised if its
    Definition-2 KL exceeds ``eps + check_tol`` or its value falls short of the solver's objective by more than
    ``check_tol``. ``eps = 0`` with a measure ``beta`` returns ``beta`` (the only feasible point). Without
    ``solver_options``, a Clarabel run that is inaccurate or fails is retried with Clarabel's own tolerances; if
    that fails outright too, with SCS (``solver`` names the one used).
    """
    eps = check_budget(eps)
    bl = as_levels(problem, beta, "beta")
    return _solve_convex(problem, bl, eps, reading="definition2", check_tol=check_tol, max_cones=max_cones,
                         solver_options=solver_options)


def _solve_convex(
    problem: PlanningProblem,
    beta: Levels,
    eps: float,
    *,
    reading: Literal["definition2", "expected"],
    check_tol: float,
    max_cones: int,
    solver_options: dict[str, Any] | None,
) -> ConstrainedSolution:
    """The sequence-form convex programme (both readings); see :mod:`aitheory.planning.solution`."""
    n = problem.steps
    constraint = "kl-definition2" if reading == "definition2" else "kl-expected"
    achieved_of = "kl" if reading == "definition2" else "kl_expected"
    b = beta_sequence_form(problem, beta)
    supports = [np.flatnonzero(bs > 0) for bs in b]
    weights = expected_weights(problem) if reading == "expected" else None
    cones = _count_cones(supports, weights)
    if cones > max_cones:
        raise ValueError(f"argument max_cones: the programme needs {cones} relative-entropy terms, more than "
                         f"max_cones = {max_cones}; use a smaller tree or raise max_cones")
    if eps == 0.0:
        return _zero_budget(problem, beta, constraint, achieved_of)
    empty = [s for s, idx in enumerate(supports) if idx.size == 0]
    if empty:
        raise InfeasibleBudgetError(f"argument beta: no action sequence has positive probability under beta at "
                                    f"level {empty[0]}, so every policy has infinite KL")

    cp = require("cvxpy", "planning")
    z = [cp.Variable(len(idx), nonneg=True) for idx in supports]
    scatter = [_scatter(idx, bs.size) for idx, bs in zip(supports, b, strict=True)]
    cons = [cp.sum(z[0]) == 1]
    for s in range(1, n):
        r, e = consistency(problem, s)
        lhs, rhs = (r @ scatter[s]).tocsr(), (e @ scatter[s - 1]).tocsr()
        keep = np.flatnonzero(lhs.getnnz(axis=1) + rhs.getnnz(axis=1))
        cons.append(lhs[keep] @ z[s] == rhs[keep] @ z[s - 1])
    if reading == "definition2":
        g = (grouping(problem) @ scatter[n - 1]).tocsr()
        g = g[np.flatnonzero(g.getnnz(axis=1))]
        cons.append(g @ _kl_terms(cp, z[n - 1], b[n - 1][supports[n - 1]]) <= eps)
    else:
        assert weights is not None
        terms = []
        for s in range(n):
            w = weights[s][supports[s]]
            on = np.flatnonzero(w > 0)
            if on.size:
                terms.append(w[on] @ _kl_terms(cp, z[s][on], b[s][supports[s]][on]))
        cons.append(cp.sum(cp.hstack(terms)) <= eps)
    coef = value_coefficients(problem)[supports[n - 1]]
    prob = cp.Problem(cp.Maximize(coef @ z[n - 1]), cons)
    options: dict[str, Any] = {"solver": "CLARABEL", **(solver_options or {})}
    if options["solver"] == "CLARABEL":
        options = {**_CLARABEL_TOLERANCES, **options}
    # Without solver_options: if the tight tolerances stall (inaccurate) or Clarabel fails outright, retry with
    # Clarabel's own defaults (1e-8); if Clarabel fails outright there too (e.g. "InsufficientProgress" on a
    # badly scaled tree), with SCS. Whatever is returned passes the exact re-check below.
    fallback = not solver_options and options["solver"] == "CLARABEL"
    error = _solve(cp, prob, options, constraint, raise_error=not fallback)
    if fallback and (error is not None or prob.status == "optimal_inaccurate"):
        options = {"solver": "CLARABEL"}
        if _solve(cp, prob, options, constraint, raise_error=False) is not None:
            options = dict(_SCS_FALLBACK)
            _solve(cp, prob, options, constraint)
    if prob.status not in ("optimal", "optimal_inaccurate"):
        kind = InfeasibleBudgetError if prob.status.startswith("infeasible") else PlanningError
        raise kind(f"cvxpy/{options['solver']} returned status {prob.status!r} for the {constraint} programme "
                   f"with eps = {eps}")
    ys = [(sc @ zs.value) if zs.value is not None else None for sc, zs in zip(scatter, z, strict=True)]
    if any(y is None for y in ys):
        raise PlanningError(f"cvxpy/{options['solver']} returned no point (status {prob.status!r})")
    levels = recover_policy(problem, ys, beta)  # type: ignore[arg-type]
    levels, mixed = pull_into_budget(problem, levels, beta, eps, achieved_of, check_tol)
    return finish(problem, levels, beta, constraint=constraint, budget=eps, achieved_of=achieved_of,
                  status=prob.status, solver=f"cvxpy/{options['solver']}", objective=float(prob.value),
                  check_tol=check_tol, mixed_toward_beta=mixed)


def _kl_terms(cp: Any, z: Any, b: np.ndarray) -> Any:
    """``z ln(z / b)`` elementwise, written as ``-entr(z) - z ln b`` so that ``b`` enters only through ``ln b``.

    Mathematically the same as ``cp.rel_entr(z, b)``; numerically much better when ``b`` is tiny (a base policy
    that gives an action sequence probability e^-30 puts 1e-13 inside the exponential cone, and the solver's
    scaled tolerances then allow violations of whole nats: seen with the BF-8 mixture as the base policy).
    """
    return -cp.entr(z) - cp.multiply(z, np.log(b))


def _solve(cp: Any, prob: Any, options: dict[str, Any], constraint: str,
           raise_error: bool = True) -> PlanningError | None:
    """``prob.solve(**options)``; a solver exception becomes :class:`PlanningError` (raised, or returned when
    ``raise_error`` is false so that a fallback can be tried). cvxpy's "may be inaccurate" warning is silenced:
    the status is recorded and every point is re-checked exactly."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Solution may be inaccurate")
            prob.solve(**options)
    except cp.error.SolverError as exc:
        error = PlanningError(f"cvxpy/{options['solver']} failed on the {constraint} programme: {exc}")
        if raise_error:
            raise error from exc
        return error
    return None


def _count_cones(supports: Sequence[np.ndarray], weights: Sequence[np.ndarray] | None) -> int:
    if weights is None:
        return int(supports[-1].size)
    return int(sum(np.count_nonzero(w[idx] > 0) for w, idx in zip(weights, supports, strict=True)))


def _scatter(idx: np.ndarray, size: int) -> sparse.csr_matrix:
    return sparse.csr_matrix((np.ones(idx.size), (idx, np.arange(idx.size))), shape=(size, idx.size))


def _zero_budget(problem: PlanningProblem, beta: Levels, constraint: str, achieved_of: str) -> ConstrainedSolution:
    """``eps = 0``: only ``pi = beta`` is feasible (where beta is a measure); a semimeasure makes it infeasible."""
    levels, _ = soft_policy(problem, beta, math.inf)
    kl_beta = expected_kl_levels(problem, levels, beta)
    try:
        return finish(problem, levels, beta, constraint=constraint, budget=0.0, achieved_of=achieved_of,
                      status="optimal", solver="exact (eps = 0: pi = beta)", objective=None, check_tol=_ROUNDING)
    except PlanningError:
        raise InfeasibleBudgetError(
            f"argument eps: 0 is below the least {constraint} divergence from beta (beta is a semimeasure; "
            f"beta normalised has expected KL {kl_beta!r} nats)"
        ) from None


@dataclass(frozen=True)
class FullSimplexMass:
    """What the Definition-2 KL programme over the full simplex returned (see the module docstring)."""

    off_support_mass: float
    """``max_o sum_{a : P_beta(a|o) = 0} y(a|o)``: the largest probability, over observation sequences, that the
    solver's point gives action sequences beta never takes (0 if beta has no zero)."""
    zero_sequences: int
    """How many last-level sequence-form entries have ``P_beta = 0`` (variables the optimiser could use)."""
    objective: float
    """The solver's optimal value ``V`` (its point, not re-checked: it may sit on beta's zeros by its tolerance)."""
    status: str
    solver: str


def kl_full_simplex_mass(
    problem: PlanningProblem,
    beta: Policy | Sequence[np.ndarray],
    eps: float,
    *,
    max_cones: int = DEFAULT_MAX_CONES,
    solver_options: dict[str, Any] | None = None,
) -> FullSimplexMass:
    r"""Maximise ``V^pi(h0)`` s.t. ``KL_o(pi || beta) <= eps`` for every ``o`` with a variable on **every** action
    sequence (beta's zeros included, priced ``z ln(z/0)``), and report the mass the optimum puts on beta's zeros.

    Clarabel at its default tolerances (or ``solver_options``); raises :class:`PlanningError` if the solver
    returns no point or a status other than ``optimal``/``optimal_inaccurate``.
    """
    eps = check_budget(eps)
    bl = as_levels(problem, beta, "beta")
    n = problem.steps
    b = beta_sequence_form(problem, bl)
    if b[-1].size > max_cones:
        raise ValueError(f"argument max_cones: the programme needs {b[-1].size} relative-entropy terms, more than "
                         f"max_cones = {max_cones}; use a smaller tree or raise max_cones")
    cp = require("cvxpy", "planning")
    z = [cp.Variable(bs.size, nonneg=True) for bs in b]
    cons = [cp.sum(z[0]) == 1]
    for s in range(1, n):
        r, e = consistency(problem, s)
        cons.append(r @ z[s] == e @ z[s - 1])
    last = b[-1]
    pos, zero = np.flatnonzero(last > 0), np.flatnonzero(last == 0)
    g = grouping(problem)
    kl_o = g[:, pos] @ _kl_terms(cp, z[-1][pos], last[pos])
    if zero.size:
        kl_o = kl_o + g[:, zero] @ cp.rel_entr(z[-1][zero], np.zeros(zero.size))
    prob = cp.Problem(cp.Maximize(value_coefficients(problem) @ z[-1]), [*cons, kl_o <= eps])
    options: dict[str, Any] = {"solver": "CLARABEL", **(solver_options or {})}
    _solve(cp, prob, options, "kl-definition2 (full simplex)")
    if prob.status not in ("optimal", "optimal_inaccurate") or z[-1].value is None:
        raise PlanningError(f"cvxpy/{options['solver']} returned status {prob.status!r} for the full-simplex "
                            f"kl-definition2 programme with eps = {eps}")
    y = np.clip(np.asarray(z[-1].value, dtype=float), 0.0, None)
    on_zero = np.where(last == 0, y, 0.0)
    mass = float((g @ on_zero).max()) if zero.size else 0.0
    return FullSimplexMass(off_support_mass=mass, zero_sequences=int(zero.size), objective=float(prob.value),
                           status=str(prob.status), solver=f"cvxpy/{options['solver']}")
