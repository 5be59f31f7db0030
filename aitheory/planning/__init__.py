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

Under the mixture itself (a joint-mode class: xi is the environment model and the base policy)::

    tree = prediction_tree(model_class)                 # xi(x | prefix) and xi_plain(x | prefix) everywhere
    xp = xi_problem(tree, "+[>,.<]]", start=h0, m=4)    # U: a BF-8 program read as a reward detector
    xp.value(pi), xp.v_star(), xp.kl_optimum(eps), xp.tvd_optimum(eps)
    opt_choice(xi_problem(tree, U, h0, m, model="mix"), Dyadic.of(u))   # what OPT(U, u) does from h0
"""

from aitheory.planning.kl import (
    DEFAULT_MAX_CONES,
    FullSimplexMass,
    kl_full_simplex_mass,
    kl_optimal_policy,
    kl_optimal_policy_expected,
    soft_policy,
)
from aitheory.planning.opt import OptChoice, add_opt_programs, node_order, opt_choice, opt_codes, policy_table
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
from aitheory.planning.xi import (
    MODELS,
    PredictionTree,
    XiProblem,
    as_policy,
    prediction_tree,
    program_utility,
    xi_problem,
)

__all__ = [
    "DEFAULT_MAX_CONES",
    "DEFAULT_MAX_HISTORIES",
    "DEFAULT_MAX_LP_VARIABLES",
    "DEFAULT_TIE_TOL",
    "MODELS",
    "ConstrainedSolution",
    "Environment",
    "FullSimplexMass",
    "History",
    "InfeasibleBudgetError",
    "ObservationKernel",
    "OptChoice",
    "OptimalSolution",
    "PlanningError",
    "PlanningProblem",
    "Policy",
    "PolicyDivergence",
    "PredictionTree",
    "RaisedAction",
    "TabularPolicy",
    "TreeTooLargeError",
    "Utility",
    "XiProblem",
    "add_opt_programs",
    "as_policy",
    "bad_action_probability",
    "expected_kl",
    "kl_full_simplex_mass",
    "kl_optimal_policy",
    "kl_optimal_policy_expected",
    "node_order",
    "non_optimal_probability",
    "off_support_probability",
    "opt_choice",
    "opt_codes",
    "optimal_policy",
    "policy_table",
    "prediction_tree",
    "program_utility",
    "q_star",
    "raised_actions",
    "soft_policy",
    "solve_optimal",
    "tree_divergence",
    "tvd_optimal_policy",
    "tvd_optimal_policy_stepwise",
    "v_star",
    "value",
    "xi_problem",
]
