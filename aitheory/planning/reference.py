r"""Values under xi in exact arithmetic: the brute-force oracle of :mod:`aitheory.planning.xi` and ``.opt``.

Obviously right rather than fast: for **every** complete history ``x`` from the start (every action and every
observation sequence), the brute-force ``Fraction`` mixture :func:`aitheory.mixture.reference.reference_predictions`
(every program listed, reference interpreter) gives ``xi`` and ``xi_plain`` at each position of x; then

    V^pi_{nu,U}(h0) = sum_x prod_s pi(a_s | h_s) nu(o_s | h_s a_s) U_m(x),

``V*`` is the largest ``V^pi`` over **all** deterministic policies (enumerated, not by expectimax), and OPT's
choice is the first policy in the canonical order (:func:`aitheory.planning.opt.policy_table`) whose
``nu(h0) V^pi`` exceeds u. Utilities of BF-8 programs are exact (:func:`aitheory.dsl.combinators.utility_value`).
Use on small classes only: ``(K^2)^n`` complete histories, each a full reference run of the class.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from aitheory.dsl import Dyadic, Plain, parse, split_history
from aitheory.dsl.combinators import utility_value
from aitheory.dsl.parser import Expr
from aitheory.mixture.classes import ClassConfig
from aitheory.mixture.reference import reference_predictions
from aitheory.planning.opt import node_order, policy_table
from aitheory.planning.problem import History

__all__ = ["ExactTree", "exact_tree", "exact_v_star", "exact_value", "opt_choice_exact"]

#: An exact policy: history -> probabilities of the K actions (Fractions, or floats converted exactly).
ExactPolicy = Callable[[History], Sequence[Fraction | float]]


@dataclass(frozen=True)
class ExactTree:
    """Exact ``xi(x | prefix)`` and ``xi_plain(x | prefix)`` at every prefix from ``start`` to ``2m - 1`` symbols,
    and the evidences at ``start``."""

    config: ClassConfig
    start: History
    m: int
    xi: dict[History, tuple[Fraction, ...]] = field(repr=False)
    plain: dict[History, tuple[Fraction, ...]] = field(repr=False)
    evidence: Fraction
    plain_evidence: Fraction

    def predictions(self, prefix: History, model: str = "xi") -> tuple[Fraction, ...]:
        return (self.xi if model == "xi" else self.plain)[tuple(prefix)]

    def model_evidence(self, model: str = "xi") -> Fraction:
        """``xi(start)``, or ``nu_MIX(start) = 2 xi_plain(start)``."""
        return self.evidence if model == "xi" else 2 * self.plain_evidence


def exact_tree(config: ClassConfig, start: Sequence[int] = (), m: int | None = None,
               extra: Sequence[Expr] = ()) -> ExactTree:
    """The exact predictions of the class ``config`` (joint mode; plus ``extra`` programs) on every continuation of
    ``start`` to horizon m. Needs every such history to have positive evidence (a class with ``+[~]]``, 15 bits)."""
    if config.mode != "joint":
        raise ValueError("argument config: values under xi need a joint-mode class")
    m = config.horizon if m is None else m
    h0 = tuple(int(x) for x in start)
    # One more step than the tree needs, so that the last observation's plain evidence is computed too; a
    # program's emissions up to position 2m do not depend on the horizon.
    wide = dataclasses.replace(config, horizon=m + 1)
    k = config.k
    xi: dict[History, tuple[Fraction, ...]] = {}
    plain_num: dict[History, list[Fraction]] = {}
    evidence = plain_evidence = Fraction(0)
    for suffix in itertools.product(range(k), repeat=2 * m - len(h0)):
        x = h0 + suffix
        actions, observations = split_history(x)
        steps = reference_predictions(wide, actions, observations, extra)
        evidence, plain_evidence = steps[len(h0)].evidence, steps[len(h0)].plain_evidence
        for n in range(len(h0), 2 * m):
            prefix = x[:n]
            xi[prefix] = steps[n].raw
            row = plain_num.setdefault(prefix, [Fraction(0)] * k)
            before = steps[n].plain_evidence
            row[x[n]] = steps[n + 1].plain_evidence / before if before else Fraction(0)
    plain = {p: tuple(row) for p, row in plain_num.items()}
    return ExactTree(config, h0, m, xi, plain, evidence, plain_evidence)


def _utility(utility: Plain | str | Callable[[History], Fraction], k: int) -> Callable[[History], Fraction]:
    if callable(utility):
        return utility
    program = parse(utility) if isinstance(utility, str) else utility
    return lambda h: utility_value(program, k, h)


def exact_value(tree: ExactTree, policy: ExactPolicy, utility: Plain | str | Callable[[History], Fraction],
                model: str = "xi") -> Fraction:
    """``V^pi_{nu,U}(start)`` summed over every complete history, exactly."""
    k, h0 = tree.config.k, tree.start
    u = _utility(utility, k)
    total = Fraction(0)
    for suffix in itertools.product(range(k), repeat=2 * tree.m - len(h0)):
        x = h0 + suffix
        p = Fraction(1)
        for n in range(len(h0), 2 * tree.m):
            prefix = x[:n]
            q = Fraction(policy(prefix)[x[n]]) if n % 2 == 0 else tree.predictions(prefix, model)[x[n]]
            p *= q
            if not p:
                break
        if p:
            total += p * u(x)
    return total


def _deterministic(table: tuple[int, ...], nodes: list[tuple[int, ...]], start: History, k: int) -> ExactPolicy:
    position = {omega: j for j, omega in enumerate(nodes)}

    def policy(h: History) -> tuple[Fraction, ...]:
        a = table[position[tuple(h)[len(start):][1::2]]]
        return tuple(Fraction(int(b == a)) for b in range(k))

    return policy


def _all_values(tree: ExactTree, utility: Plain | str | Callable[[History], Fraction],
                model: str) -> list[Fraction]:
    k, steps = tree.config.k, tree.m - len(tree.start) // 2
    nodes = node_order(k, steps)
    u = _utility(utility, k)
    cache: dict[History, Fraction] = {}

    def cached(h: History) -> Fraction:
        if h not in cache:
            cache[h] = u(h)
        return cache[h]

    return [exact_value(tree, _deterministic(policy_table(i, k, steps), nodes, tree.start, k), cached, model)
            for i in range(k ** len(nodes))]


def exact_v_star(tree: ExactTree, utility: Plain | str | Callable[[History], Fraction],
                 model: str = "xi") -> Fraction:
    """``V*`` as the largest value over every deterministic policy (enumerated), exactly."""
    return max(_all_values(tree, utility, model))


def opt_choice_exact(tree: ExactTree, utility: Plain | str | Callable[[History], Fraction],
                     threshold: Dyadic | Fraction, model: str = "mix") -> tuple[int | None, list[Fraction]]:
    """The number of the first policy in the canonical order with ``nu(start) V^pi > u`` (None if none), and the
    exact value of every policy in that order."""
    u = threshold.value if isinstance(threshold, Dyadic) else Fraction(threshold)
    values = _all_values(tree, utility, model)
    evidence = tree.model_evidence(model)
    first = next((i for i, v in enumerate(values) if evidence * v > u), None)
    return first, values
