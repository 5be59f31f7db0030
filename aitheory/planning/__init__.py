r"""Finite-horizon planning: values (Definition 1), ``Q*``, optimal policies, and exact KL/TVD-constrained optima.

Layer 3 of aitheory (imports numpy, scipy, :mod:`aitheory.measures`; reads networkx-style graphs; cvxpy lazily for the
Definition-2 KL programme, from the ``planning`` extra). Maths, exactness and cost: ``docs/planning.md``.

Typical use::

    env = Environment(2, 2, kernel)                    # nu(o | h, a)
    problem = PlanningProblem.build(env, utility, h0, m=4)
    best = solve_optimal(problem)                      # V*, Q*, optimal policy, V-optimal action sets
    kl_opt = kl_optimal_policy(problem, beta, eps=0.5)  # Definition 2 (worst case over observation sequences)
    kl_exp = kl_optimal_policy_expected(problem, beta, eps=0.5)  # closed form pi ∝ beta exp(Q / lambda)
    tvd_opt = tvd_optimal_policy(problem, beta, eps=0.1)         # LP (HiGHS)
"""

from aitheory.planning.kl import (
    DEFAULT_MAX_CONES,
    FullSimplexMass,
    kl_full_simplex_mass,
    kl_optimal_policy,
    kl_optimal_policy_expected,
    soft_policy,
)
from aitheory.planning.problem import (
    DEFAULT_MAX_HISTORIES,
    Environment,
    History,
    InfeasibleBudgetError,
    ObservationKernel,
    PlanningError,
    PlanningProblem,
    Policy,
    TabularPolicy,
    TreeTooLargeError,
    Utility,
)
from aitheory.planning.solution import ConstrainedSolution
from aitheory.planning.tvd import DEFAULT_MAX_LP_VARIABLES, tvd_optimal_policy, tvd_optimal_policy_stepwise
from aitheory.planning.values import (
    DEFAULT_TIE_TOL,
    OptimalSolution,
    PolicyDivergence,
    RaisedAction,
    bad_action_probability,
    expected_kl,
    non_optimal_probability,
    off_support_probability,
    optimal_policy,
    q_star,
    raised_actions,
    solve_optimal,
    tree_divergence,
    v_star,
    value,
)

__all__ = [
    "DEFAULT_MAX_CONES",
    "DEFAULT_MAX_HISTORIES",
    "DEFAULT_MAX_LP_VARIABLES",
    "DEFAULT_TIE_TOL",
    "ConstrainedSolution",
    "Environment",
    "FullSimplexMass",
    "History",
    "InfeasibleBudgetError",
    "ObservationKernel",
    "OptimalSolution",
    "PlanningError",
    "PlanningProblem",
    "Policy",
    "PolicyDivergence",
    "RaisedAction",
    "TabularPolicy",
    "TreeTooLargeError",
    "Utility",
    "bad_action_probability",
    "expected_kl",
    "kl_full_simplex_mass",
    "kl_optimal_policy",
    "kl_optimal_policy_expected",
    "non_optimal_probability",
    "off_support_probability",
    "optimal_policy",
    "q_star",
    "raised_actions",
    "soft_policy",
    "solve_optimal",
    "tree_divergence",
    "tvd_optimal_policy",
    "tvd_optimal_policy_stepwise",
    "v_star",
    "value",
]
