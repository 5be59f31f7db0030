r"""Values under the mixture ``xi`` itself: xi as the environment model and as the base policy (the paper's xi).

A joint-mode class (:class:`aitheory.mixture.ClassConfig` with ``mode="joint"``) predicts every symbol of the
interleaved history ``a_1 o_1 a_2 o_2 ..``, so one posterior gives

* the **environment model** ``xi(o_t | h a_t) = xi(h a_t o_t) / xi(h a_t)`` and
* the **base policy** ``beta(a_t | h) = xi(a_t | h) = xi(h a_t) / xi(h)``,

both semimeasures: the mass a prediction lacks (programs that halted, timed out, ran out of tape, or were never
enumerated) is the probability that the interaction stops, and it contributes value 0 (Definition 1).

:func:`prediction_tree` walks every continuation of a start history ``h0 = x_{<2t}`` up to the horizon m with
:class:`aitheory.mixture.OnlineMixture` (one ``copy()`` per branch) and records, at every prefix, the prediction
of the next symbol by ``xi`` and by the plain programs' mixture ``xi_plain`` (what MIX predicts with). An
:class:`XiProblem` turns one of these models into the inputs of the planning solvers, which are reused as they
are (no second solver): a :class:`~aitheory.planning.PlanningProblem` whose observation kernel is the model's
``nu(o | h, a)`` and whose utility is ``U_m``, and the base policy's level arrays ``beta[s][i, a] = nu(a | h_i)``.
Then, by exact expectimax (backward recursion over the enumerated tree):

    V^pi_{nu,U}(h) = sum_a pi(a | h) sum_o nu(o | h a) V^pi_{nu,U}(h a o),   V = U_m on complete histories,
    V*_{nu,U}(h)   = max_a sum_o nu(o | h a) V*_{nu,U}(h a o),

and the Definition-2 KL- and TVD-constrained optima with ``beta = nu(a | h)`` (the observation sequences of
Definition 2's max stay open loop over the o's; the value uses the model's observation predictions).

Two models (``model=``): ``"xi"``, the whole class's mixture (the paper's xi: base policy and environment), and
``"mix"``, MIX's model ``nu_MIX = 2 xi_plain`` (``nu_MIX(empty) = 1``), which OPT plans with
(:mod:`aitheory.planning.opt`). In a class whose rows predict observations only as plain programs or as MIX does
(no SWITCH with a plain P past its event), the two models' observation predictions are equal: each such row's
observation prediction is either a plain program's or ``xi_plain``'s, and ``xi(o | h a)`` is their posterior
average. A history the model gives probability 0 has no conditional predictions: its rows are 0 (it predicts
nothing, so everything below it is lost mass) and it is listed in ``zero_evidence``.

The exact reference is :mod:`aitheory.planning.reference` (``fractions.Fraction``, the brute-force mixture).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from aitheory.dsl import DEFAULT_STEPS, DEFAULT_TAPE_BOUND, Plain, parse
from aitheory.dsl.combinators import utility_value
from aitheory.mixture import ModelClass, OnlineMixture
from aitheory.planning.kl import kl_optimal_policy, kl_optimal_policy_expected
from aitheory.planning.problem import (
    DEFAULT_MAX_HISTORIES,
    Environment,
    History,
    PlanningProblem,
    Policy,
    TabularPolicy,
    TreeTooLargeError,
    Utility,
)
from aitheory.planning.solution import ConstrainedSolution, normalised_beta
from aitheory.planning.tvd import tvd_optimal_policy
from aitheory.planning.values import OptimalSolution, PolicyDivergence, solve_optimal, tree_divergence, value

__all__ = [
    "MODELS",
    "Model",
    "PredictionTree",
    "XiProblem",
    "as_policy",
    "prediction_tree",
    "program_utility",
    "xi_problem",
]

Model = Literal["xi", "mix"]
#: The models a prediction tree gives: the class's mixture, and MIX's ``nu_MIX = 2 xi_plain``.
MODELS: tuple[str, ...] = ("xi", "mix")
#: A deterministic plan: a table ``history -> action``, or one action per remaining step (open loop).
Plan = Mapping[History, int] | Sequence[int]


def _check_model(model: str) -> None:
    if model not in MODELS:
        raise ValueError(f"argument model: expected one of {MODELS}, got {model!r}")


@dataclass(frozen=True, eq=False)
class PredictionTree:
    r"""The predictions of the next symbol at every prefix of the interleaved history from ``start`` (even length)
    up to ``2m - 1`` symbols, by ``xi`` and by ``xi_plain`` (raw semimeasures, ``K`` entries each).

    Prefixes below a symbol of probability 0 under ``xi`` are absent (:meth:`predictions` gives 0 there) and the
    first such prefixes are listed in ``zero_evidence``."""

    k: int
    start: History
    m: int
    xi: Mapping[History, np.ndarray] = field(repr=False)
    plain: Mapping[History, np.ndarray] = field(repr=False)
    log_evidence: float
    """``ln xi(start)``."""
    log_plain_evidence: float
    """``ln xi_plain(start)``."""
    zero_evidence: tuple[History, ...] = ()

    def predictions(self, prefix: History, model: Model = "xi") -> np.ndarray:
        """``(K,)``: the model's raw prediction of the symbol after ``prefix`` (0 where its evidence is 0)."""
        table = self.xi if model == "xi" else self.plain
        return table.get(tuple(prefix), np.zeros(self.k))

    def log_model_evidence(self, prefix: History, model: Model = "xi") -> float:
        r"""``ln xi(prefix)`` or ``ln nu_MIX(prefix) = ln 2 xi_plain(prefix)`` for a prefix extending ``start``."""
        _check_model(model)
        prefix = tuple(prefix)
        if prefix[: len(self.start)] != self.start:
            raise ValueError(f"argument prefix: {prefix} does not extend the tree's start {self.start}")
        total = self.log_evidence if model == "xi" else math.log(2.0) + self.log_plain_evidence
        for n in range(len(self.start), len(prefix)):
            p = float(self.predictions(prefix[:n], model)[prefix[n]])
            if p <= 0:
                return -math.inf
            total += math.log(p)
        return total


def prediction_tree(model_class: ModelClass, start: Sequence[int] = (), m: int | None = None, *,
                    max_histories: int = DEFAULT_MAX_HISTORIES) -> PredictionTree:
    r"""Every prediction of ``xi`` and ``xi_plain`` on the continuations of ``start`` up to horizon ``m``.

    ``model_class`` is a joint-mode class whose histories contain every continuation (build it with
    ``all_histories=True``, or on the histories of the tree); ``m`` (default: the class's horizon) is at most the
    class's horizon. Raises ``ValueError`` naming the argument otherwise. Cost: ``sum_n K^n`` predictions for
    ``n < 2m - len(start)``, each ``O(rows K)``; more than ``max_histories`` complete histories
    ``K^(2m - len(start))`` are refused (:class:`~aitheory.planning.TreeTooLargeError`) before anything is run."""
    config = model_class.config
    if config.mode != "joint":
        raise ValueError("argument model_class: values under xi need a joint-mode class (ClassConfig(mode='joint')), "
                         "whose programs predict the observations")
    m = config.horizon if m is None else int(m)
    h0 = tuple(int(x) for x in start)
    if not 1 <= m <= config.horizon:
        raise ValueError(f"argument m: horizon {m} must be between 1 and the class's horizon {config.horizon}")
    if len(h0) % 2 or len(h0) >= 2 * m or any(not 0 <= x < config.k for x in h0):
        raise ValueError(f"argument start: {list(h0)} must be a_1 o_1 .. a_s o_s (even length, symbols in "
                         f"0..{config.k - 1}) with s < m = {m}")
    total = config.k ** (2 * m - len(h0))
    if total > max_histories:
        raise TreeTooLargeError(f"the prediction tree has K^(2m - len(start)) = {config.k}^{2 * m - len(h0)} = "
                                f"{total} complete histories, more than max_histories = {max_histories}; use a "
                                "shorter horizon or a longer start history")
    state = OnlineMixture(model_class)
    for n, x in enumerate(h0):
        if n % 2 == 0:
            state.update(x)
        else:
            state.observe(x)
    xi: dict[History, np.ndarray] = {}
    plain: dict[History, np.ndarray] = {}
    zero: list[History] = []

    def walk(node: OnlineMixture, prefix: History) -> None:
        if len(prefix) == 2 * m:
            return
        raw, raw_plain = node.next_symbol(), node.plain_prediction()
        raw.flags.writeable = raw_plain.flags.writeable = False
        xi[prefix], plain[prefix] = raw, raw_plain
        for x in range(config.k):
            if raw[x] <= 0:
                zero.append((*prefix, x))
                continue
            child = node.copy()
            if len(prefix) % 2 == 0:
                child.update(x)
            else:
                child.observe(x)
            walk(child, (*prefix, x))

    try:
        walk(state, h0)
    except ValueError as exc:  # the class's histories do not contain a continuation (symbols of probability > 0)
        raise ValueError(f"argument model_class: {exc}; values need every continuation of the start history "
                         "(build_class(..., all_histories=True))") from None
    return PredictionTree(config.k, h0, m, xi, plain, state.log_evidence, state.log_plain_evidence, tuple(zero))


def program_utility(utility: Plain | str, k: int, steps: int = DEFAULT_STEPS,
                    tape_bound: int = DEFAULT_TAPE_BOUND) -> Utility:
    """``U_m`` of a plain BF-8 program as a callable ``complete history -> float`` (the reading of
    :func:`aitheory.dsl.combinators.utility_value`; exact rationals, rounded once to float)."""
    program = parse(utility) if isinstance(utility, str) else utility
    cache: dict[History, float] = {}

    def u(h: History) -> float:
        key = tuple(h)
        if key not in cache:
            cache[key] = float(utility_value(program, k, key, steps, tape_bound))
        return cache[key]

    return u


def as_policy(policy: Policy | Plan, n_actions: int, start: Sequence[int] = ()) -> Policy:
    """A policy from a callable (returned as is), a table ``history -> action`` (deterministic; it needs only the
    histories it reaches from ``start``, elsewhere the row is uniform and matters to nothing), or a sequence of
    actions, one per step after ``start`` (an open-loop plan); the last two as one-hot rows."""
    if callable(policy):
        return policy
    eye = np.eye(n_actions)
    h0 = tuple(start)
    if isinstance(policy, Mapping):
        table = {tuple(h): int(a) for h, a in policy.items()}

        def from_table(h: History) -> np.ndarray:
            key = tuple(h)
            if key in table:
                return eye[table[key]]
            # A history the plan never reaches (an earlier action differs from the plan's) carries no value and no
            # divergence: any row will do there.
            for n in range(len(h0), len(key), 2):
                if key[:n] in table and table[key[:n]] != key[n]:
                    return np.full(n_actions, 1.0 / n_actions)
            raise KeyError(f"the plan has no action for history {key}")

        return from_table
    plan = [int(a) for a in policy]
    if any(not 0 <= a < n_actions for a in plan):
        raise ValueError(f"argument policy: plan {plan} has actions outside 0..{n_actions - 1}")

    def open_loop(h: History) -> np.ndarray:
        s = (len(h) - len(h0)) // 2
        if not 0 <= s < len(plan):
            raise KeyError(f"the plan has {len(plan)} actions, none for step {s + 1} after the start")
        return eye[plan[s]]

    return open_loop


@dataclass(frozen=True, eq=False)
class XiProblem:
    r"""The planning problem of a model from a start history: environment ``nu(o | h a)``, base policy
    ``beta = nu(a | h)``, utility ``U_m``; every method calls the planning solvers of :mod:`aitheory.planning`.

    ``evidence`` is ``nu(start)`` (``xi(h0)`` or ``nu_MIX(h0) = 2 xi_plain(h0)``), the factor of the unnormalised
    value ``nu(h0) V`` that OPT compares with its threshold."""

    problem: PlanningProblem
    beta: tuple[np.ndarray, ...] = field(repr=False)
    model: str
    log_evidence: float
    zero_evidence: tuple[History, ...] = ()

    @property
    def evidence(self) -> float:
        return math.exp(self.log_evidence)

    @property
    def base_policy(self) -> TabularPolicy:
        """``beta(a | h) = nu(a | h)`` at every decision history, as a table."""
        return self.problem.to_policy(self.beta)

    def _levels(self, pi: Policy | Plan) -> tuple[np.ndarray, ...]:
        return self.problem.tabulate(as_policy(pi, self.problem.n_actions, self.problem.start), "pi")

    def levels(self, pi: Policy | Plan) -> tuple[np.ndarray, ...]:
        """``pi`` tabulated at every decision history (the solvers' level arrays)."""
        return self._levels(pi)

    def value(self, pi: Policy | Plan) -> float:
        """``V^pi_{nu,U}(h0)`` (Definition 1) for a callable policy or a deterministic plan."""
        return value(self.problem, self._levels(pi))

    def solve_optimal(self) -> OptimalSolution:
        """``V*``, ``Q*`` and the optimal policy (lowest action among ties) by exact expectimax."""
        return solve_optimal(self.problem)

    def v_star(self) -> float:
        return self.solve_optimal().v_star

    def divergence(self, pi: Policy | Plan) -> PolicyDivergence:
        """Definition-2 KL and TVD of ``pi`` from the base policy (max over open-loop o-sequences), nats."""
        return tree_divergence(self.problem, self._levels(pi), self.beta)

    def least_divergence(self) -> PolicyDivergence:
        """The divergences of ``beta`` normalised at every history: the least KL any policy has from a
        semimeasure ``beta`` (``-ln sum_a beta(a | h)`` summed along the worst sequence), so smaller KL budgets
        are infeasible; the TVD of ``beta`` normalised is likewise the least TVD budget of a measure policy."""
        return tree_divergence(self.problem, normalised_beta(self.beta), self.beta)

    def kl_optimum(self, eps: float, *, expected: bool = False, **options: object) -> ConstrainedSolution:
        """Maximise ``V^pi`` s.t. ``KL(pi || beta) <= eps`` nats: Definition 2 (convex programme), or with
        ``expected=True`` the expected KL (closed form)."""
        solver = kl_optimal_policy_expected if expected else kl_optimal_policy
        return solver(self.problem, self.beta, eps, **options)  # type: ignore[arg-type]

    def tvd_optimum(self, eps: float, **options: object) -> ConstrainedSolution:
        """Maximise ``V^pi`` s.t. Definition 2's TVD from the base policy ``<= eps`` (linear programme)."""
        return tvd_optimal_policy(self.problem, self.beta, eps, **options)  # type: ignore[arg-type]


def xi_problem(
    source: ModelClass | PredictionTree,
    utility: Utility | Plain | str,
    start: Sequence[int] = (),
    m: int | None = None,
    *,
    model: Model = "xi",
    max_histories: int = DEFAULT_MAX_HISTORIES,
) -> XiProblem:
    r"""The :class:`XiProblem` of ``model`` from ``start`` to horizon ``m``.

    ``source``: a joint-mode class (its prediction tree is computed from ``start``) or a :class:`PredictionTree`
    whose start ``start`` extends (one tree from the empty history serves every start). ``utility``: a callable
    ``complete history -> [0, 1]`` or a plain BF-8 program read as a reward detector (:func:`program_utility`).
    """
    _check_model(model)
    h0 = tuple(int(x) for x in start)
    tree = source if isinstance(source, PredictionTree) else prediction_tree(source, h0, m)
    m = tree.m if m is None else int(m)
    if m > tree.m or h0[: len(tree.start)] != tree.start or len(h0) < len(tree.start):
        raise ValueError(f"argument start: {list(h0)} with horizon {m} is not inside the prediction tree "
                         f"(start {list(tree.start)}, horizon {tree.m})")
    k = tree.k
    u = program_utility(utility, k) if isinstance(utility, Plain | str) else utility

    def kernel(h: History, a: int) -> np.ndarray:
        return tree.predictions((*h, a), model)

    problem = PlanningProblem.build(Environment(k, k, kernel), u, h0, m=m, max_histories=max_histories)
    beta = []
    for s in range(problem.steps):
        level = np.array([tree.predictions(h, model) for h in problem.histories(s)])
        level.flags.writeable = False
        beta.append(level)
    below = tuple(z for z in tree.zero_evidence if z[: len(h0)] == h0)
    return XiProblem(problem, tuple(beta), model, tree.log_model_evidence(h0, model), below)
