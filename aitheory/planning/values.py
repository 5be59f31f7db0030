r"""Values (Definition 1), the optimal policy, and tree-level divergences (Definition 2) on a planning problem.

* ``V^pi(h) = sum_a pi(a|h) Q^pi(h, a)``, ``Q^pi(h, a) = sum_o nu(o|h,a) V^pi(hao)``, ``V^pi = U_m`` on complete
  histories (Definition 1; missing mass of a semimeasure ``nu`` or ``pi`` contributes 0).
* ``V*(h) = max_a Q*(h, a)``; an action is V-optimal at ``h`` if ``Q*(h, a) >= V*(h) - tie_tol``.
* Definition 2 (open loop): for each observation sequence ``o = (o_1..o_{n-1})`` fixed in advance,
  ``KL_o(pi || beta) = sum_{a_1..a_n} P_pi(a|o) ln(P_pi(a|o) / P_beta(a|o))`` with
  ``P_pi(a|o) = prod_s pi(a_s | h_{s-1})`` along the history built from ``a`` and ``o``;
  ``KL(pi || beta) = max_o KL_o``; TVD likewise with ``(1/2) sum_a |P_pi - P_beta|``. Nats.
* The expected version ``E_{pi,nu}[sum_s KL(pi(.|h_s) || beta(.|h_s))]`` (a history's KL weighted by the
  probability of reaching it).

All computations are exact backward/forward recursions over the arrays of :class:`PlanningProblem`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from aitheory.measures import sequence_form
from aitheory.measures.tree import TreeShape
from aitheory.measures.tree import tree_divergence as measures_tree_divergence
from aitheory.planning.problem import History, PlanningProblem, Policy, TabularPolicy

__all__ = [
    "DEFAULT_TIE_TOL",
    "OptimalSolution",
    "PolicyDivergence",
    "RaisedAction",
    "bad_action_probability",
    "expected_kl",
    "non_optimal_probability",
    "off_support_probability",
    "optimal_policy",
    "q_star",
    "raised_actions",
    "solve_optimal",
    "tree_divergence",
    "v_star",
    "value",
]

#: Two Q-values closer than this are a tie (utilities are in [0, 1], so this is far above rounding error).
DEFAULT_TIE_TOL = 1e-10

Levels = Sequence[np.ndarray]


def as_levels(problem: PlanningProblem, policy: Policy | Sequence[np.ndarray], name: str) -> Levels:
    """Per-level arrays ``(N_s, K_a)`` for a policy given as a callable or already as level arrays."""
    if callable(policy):
        return problem.tabulate(policy, name)
    levels = tuple(np.asarray(p, dtype=float) for p in policy)
    if len(levels) != problem.steps:
        raise ValueError(f"argument {name}: expected {problem.steps} level arrays, got {len(levels)}")
    for s, arr in enumerate(levels):
        if arr.shape != (problem.level_size(s), problem.n_actions):
            raise ValueError(f"argument {name}: level {s} has shape {arr.shape}, expected "
                             f"{(problem.level_size(s), problem.n_actions)}")
    return levels


def expand(problem: PlanningProblem, s: int, child: np.ndarray) -> np.ndarray:
    """Level-``s+1`` array ``(N_{s+1},)`` -> ``sum_o nu(o|h,a) child(hao)`` of shape ``(N_s, K_a)``."""
    obs = problem.obs[s]
    vals = child.reshape(obs.shape)
    # 0 * (+-inf) = 0: an observation of probability 0 never matters, whatever the child's value.
    with np.errstate(invalid="ignore"):
        return np.where(obs > 0, obs * vals, 0.0).sum(axis=2)


def value_levels(problem: PlanningProblem, levels: Levels) -> list[np.ndarray]:
    """``V^pi`` at every history, per level ``0..n``."""
    out: list[np.ndarray] = [np.empty(0)] * (problem.steps + 1)
    out[-1] = np.asarray(problem.utility)
    for s in range(problem.steps - 1, -1, -1):
        out[s] = (levels[s] * expand(problem, s, out[s + 1])).sum(axis=1)
    return out


def value(problem: PlanningProblem, pi: Policy | Sequence[np.ndarray]) -> float:
    r"""``V^pi_{nu,U_m}(h0)`` (Definition 1): expected utility of the complete history under ``pi`` and ``nu``."""
    return float(value_levels(problem, as_levels(problem, pi, "pi"))[0][0])


def q_star_levels(problem: PlanningProblem) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``(Q*, V*)`` per level: ``Q*[s]`` of shape ``(N_s, K_a)``, ``V*[s]`` of shape ``(N_s,)``."""
    v: list[np.ndarray] = [np.empty(0)] * (problem.steps + 1)
    q: list[np.ndarray] = [np.empty(0)] * problem.steps
    v[-1] = np.asarray(problem.utility)
    for s in range(problem.steps - 1, -1, -1):
        q[s] = expand(problem, s, v[s + 1])
        v[s] = q[s].max(axis=1)
    return q, v


@dataclass(frozen=True, eq=False)
class OptimalSolution:
    """``V*``, ``Q*``, the deterministic optimal policy (lowest action among ties) and the V-optimal action sets."""

    v_star: float
    policy: TabularPolicy
    q: Mapping[History, np.ndarray] = field(repr=False)
    v: Mapping[History, float] = field(repr=False)
    optimal_actions: Mapping[History, tuple[int, ...]] = field(repr=False)
    tie_tol: float = DEFAULT_TIE_TOL


def _optimal_masks(q: Sequence[np.ndarray], v: Sequence[np.ndarray], tie_tol: float) -> list[np.ndarray]:
    return [qs >= v[s][:, None] - tie_tol for s, qs in enumerate(q)]


def solve_optimal(problem: PlanningProblem, *, tie_tol: float = DEFAULT_TIE_TOL) -> OptimalSolution:
    r"""Exact backward recursion ``Q*(h,a) = sum_o nu(o|h,a) V*(hao)``, ``V*(h) = max_a Q*(h,a)``."""
    if not (tie_tol >= 0 and math.isfinite(tie_tol)):
        raise ValueError(f"argument tie_tol: must be a finite number >= 0, got {tie_tol}")
    q, v = q_star_levels(problem)
    masks = _optimal_masks(q, v, tie_tol)
    q_table: dict[History, np.ndarray] = {}
    v_table: dict[History, float] = {}
    sets: dict[History, tuple[int, ...]] = {}
    levels = []
    for s in range(problem.steps):
        best = masks[s].argmax(axis=1)  # lowest action among the (near-)ties
        levels.append(np.eye(problem.n_actions)[best])
        for i, h in enumerate(problem.histories(s)):
            row = q[s][i].copy()
            row.flags.writeable = False
            q_table[h] = row
            v_table[h] = float(v[s][i])
            sets[h] = tuple(int(a) for a in np.flatnonzero(masks[s][i]))
    return OptimalSolution(float(v[0][0]), problem.to_policy(levels), q_table, v_table, sets, tie_tol)


def q_star(problem: PlanningProblem) -> dict[History, np.ndarray]:
    """``Q*(h, .)`` at every decision history."""
    return dict(solve_optimal(problem).q)


def v_star(problem: PlanningProblem) -> float:
    """``V*(h0) = sup_pi V^pi(h0)``."""
    return float(q_star_levels(problem)[1][0][0])


def optimal_policy(problem: PlanningProblem, *, tie_tol: float = DEFAULT_TIE_TOL) -> TabularPolicy:
    """The deterministic optimal policy; among V-optimal actions (within ``tie_tol``) the lowest one."""
    return solve_optimal(problem, tie_tol=tie_tol).policy


# ----- sequence form and divergences -----


def joint_levels(problem: PlanningProblem, levels: Levels) -> list[np.ndarray]:
    r"""Sequence form: ``Y[s][i K_a + a] = prod_{r<=s} pi(a_r | h_{r-1})`` for level-``s`` history ``i``, action ``a``.

    ``Y[s]`` (``s = 0..n-1``) has shape ``(N_s K_a,)``: the probability of the actions ``a_1..a_{s+1}`` given
    the observations ``o_1..o_s`` (open loop, no environment factor); :func:`aitheory.measures.sequence_form`.
    """
    return sequence_form.sequence_form(levels, problem.n_observations)


@dataclass(frozen=True, eq=False)
class PolicyDivergence:
    """Definition-2 divergences of a policy from a base policy, in nats, with the per-sequence values.

    ``kl_per_sequence[o]`` and ``tvd_per_sequence[o]`` are keyed by the open-loop observation sequence
    ``o = (o_1, ..., o_{n-1})`` after the start history; ``kl`` / ``tvd`` are their maxima (Definition 2, the
    ``"open-loop"`` reading of :func:`aitheory.measures.tree_divergence`, which computes them).
    ``kl_expected`` is ``E_{pi,nu}[sum_s KL(pi(.|h_s) || beta(.|h_s))]``. Infinite KL is ``inf``.
    """

    kl: float
    tvd: float
    kl_expected: float
    kl_per_sequence: Mapping[tuple[int, ...], float] = field(repr=False)
    tvd_per_sequence: Mapping[tuple[int, ...], float] = field(repr=False)


def sequence_groups(problem: PlanningProblem) -> np.ndarray:
    """For each last-level sequence-form entry ``i K_a + a``, the index of its observation sequence."""
    return sequence_form.observation_groups(problem.n_actions, problem.n_observations, problem.steps)


def expected_kl_levels(problem: PlanningProblem, levels: Levels, beta: Levels) -> float:
    """``E_{pi,nu}[sum_s KL(pi(.|h_s) || beta(.|h_s))]``; a history reached with probability 0 adds 0."""
    return sequence_form.expected_kl(levels, beta, problem.env_reach, problem.n_observations)


def expected_kl(problem: PlanningProblem, pi: Policy | Sequence[np.ndarray],
                beta: Policy | Sequence[np.ndarray]) -> float:
    """``E_{pi,nu}[sum_s KL(pi(.|h_s) || beta(.|h_s))]`` in nats (``inf`` if pi leaves beta's support)."""
    return expected_kl_levels(problem, as_levels(problem, pi, "pi"), as_levels(problem, beta, "beta"))


def tree_divergence(problem: PlanningProblem, pi: Policy | Sequence[np.ndarray],
                    beta: Policy | Sequence[np.ndarray]) -> PolicyDivergence:
    """Definition-2 KL and TVD (max over open-loop observation sequences) and the expected KL, in nats.

    The open-loop values come from :func:`aitheory.measures.tree_divergence` on the tabulated levels (the
    one implementation of Definition 2); the expected KL from :func:`expected_kl`.
    """
    pl, bl = list(as_levels(problem, pi, "pi")), list(as_levels(problem, beta, "beta"))
    shape = TreeShape(problem.n_actions, problem.n_observations, problem.steps)
    kl = measures_tree_divergence(pl, bl, shape, measure="kl", per_sequence=True)
    tvd = measures_tree_divergence(pl, bl, shape, measure="tvd", per_sequence=True)
    assert kl.per_sequence is not None and tvd.per_sequence is not None
    return PolicyDivergence(
        kl=float(kl.value),
        tvd=float(tvd.value),
        kl_expected=expected_kl_levels(problem, pl, bl),
        kl_per_sequence={o: float(v) for o, v in kl.per_sequence.items()},
        tvd_per_sequence={o: float(v) for o, v in tvd.per_sequence.items()},
    )


@dataclass(frozen=True)
class RaisedAction:
    """An action whose probability ``pi`` raises above ``beta``'s at ``history`` (in the stated reading)."""

    history: History
    action: int
    reading: str
    pi_probability: float
    beta_probability: float
    optimal: bool


def raised_actions(
    problem: PlanningProblem,
    pi: Policy | Sequence[np.ndarray],
    beta: Policy | Sequence[np.ndarray],
    *,
    reading: Literal["joint", "step"] = "joint",
    tol: float = 1e-7,
    reachable_only: bool = True,
    tie_tol: float = 1e-7,
) -> list[RaisedAction]:
    r"""Actions whose probability ``pi`` raises above ``beta``'s, with whether each is V-optimal (Theorem 2).

    * ``reading="joint"``: at history ``h_s`` and action ``a``, compares the joint probabilities of the action
      prefix, ``prod_{r<=s} pi(a_r|h_{r-1})`` vs ``prod beta(...)`` (given the observations of ``h_s``);
    * ``reading="step"``: compares the conditionals ``pi(a|h_s)`` vs ``beta(a|h_s)`` (only at histories ``pi``
      reaches with positive joint probability).

    "Raised" means larger by more than ``tol``; V-optimal means ``Q*(h,a) >= V*(h) - tie_tol``. With
    ``reachable_only`` only histories the environment reaches with positive probability (given the actions)
    are inspected: elsewhere the value does not depend on the policy, so an optimum is unconstrained there.
    """
    if reading not in ("joint", "step"):
        raise ValueError(f"argument reading: expected 'joint' or 'step', got {reading!r}")
    pl, bl = as_levels(problem, pi, "pi"), as_levels(problem, beta, "beta")
    yp, yb = joint_levels(problem, pl), joint_levels(problem, bl)
    q, v = q_star_levels(problem)
    ka, ko = problem.n_actions, problem.n_observations
    found = []
    for s in range(problem.steps):
        if reading == "joint":
            p, b = yp[s].reshape(-1, ka), yb[s].reshape(-1, ka)
            mask = p > b + tol
        else:
            parent = np.ones(1) if s == 0 else np.repeat(yp[s - 1], ko)
            p, b = pl[s], bl[s]
            mask = (p > b + tol) & (parent[:, None] > 0)
        if reachable_only:
            mask &= (problem.env_reach[s] > 0)[:, None]
        for i, a in zip(*np.nonzero(mask), strict=True):
            h = _history_at(problem, s, int(i))
            found.append(RaisedAction(h, int(a), reading, float(p[i, a]), float(b[i, a]),
                                      bool(q[s][i, a] >= v[s][i] - tie_tol)))
    return found


def bad_action_probability(
    problem: PlanningProblem, pi: Policy | Sequence[np.ndarray], bad: Sequence[np.ndarray]
) -> float:
    r"""``P_{pi,nu}(some a_s with bad[s][h_s, a_s])``: the probability of ever taking a flagged action.

    Backward recursion ``F(h) = sum_a pi(a|h) [bad(h,a) + (1 - bad(h,a)) sum_o nu(o|h,a) F(hao)]``, ``F = 0`` on
    complete histories; mass lost by a semimeasure ``nu`` or ``pi`` takes no further action.
    """
    pl = as_levels(problem, pi, "pi")
    f = np.zeros(problem.level_size(problem.steps))
    for s in range(problem.steps - 1, -1, -1):
        flag = np.asarray(bad[s], dtype=bool)
        f = (pl[s] * np.where(flag, 1.0, expand(problem, s, f))).sum(axis=1)
    return float(f[0])


def non_optimal_probability(
    problem: PlanningProblem, pi: Policy | Sequence[np.ndarray], *, tie_tol: float = 1e-7
) -> float:
    """Probability that ``pi`` ever takes an action that is not V-optimal (``Q* < V* - tie_tol``) at its history."""
    q, v = q_star_levels(problem)
    return bad_action_probability(problem, pi, [qs < v[s][:, None] - tie_tol for s, qs in enumerate(q)])


def off_support_probability(
    problem: PlanningProblem, pi: Policy | Sequence[np.ndarray], beta: Policy | Sequence[np.ndarray]
) -> float:
    """Probability that ``pi`` ever takes an action ``beta`` gives probability 0 (0 for any finite-KL ``pi``)."""
    bl = as_levels(problem, beta, "beta")
    return bad_action_probability(problem, pi, [b == 0 for b in bl])


def _history_at(problem: PlanningProblem, s: int, index: int) -> History:
    ka, ko = problem.n_actions, problem.n_observations
    out: list[int] = []
    for _ in range(s):
        index, o = divmod(index, ko)
        index, a = divmod(index, ka)
        out[:0] = [a, o]
    return problem.start + tuple(out)
