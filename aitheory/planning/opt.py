r"""``OPT(U, u)``: the search form of the optimal policy, as a program of the class (design.md section 2).

**Canonical order (a contract).** From a start history ``h0`` with n steps left, a deterministic policy is fixed by
its action at each history it can reach, and those histories are named by their observations since ``h0``: the
*nodes* ``omega = (o_1 .. o_s)``, ``s = 0 .. n-1``, listed breadth first (by length, then lexicographically):
``(), (0), (1), .., (0, 0), (0, 1), ..``; there are ``N = (K^n - 1) / (K - 1)`` of them. A policy is its action
table ``(a_omega)`` in that node order, and policies are ordered lexicographically by their tables: policy number
``i`` (0-based) has the base-K digits of ``i`` as its table, the root's action most significant. Policy 0 always
plays action 0.

**OPT(U, u)** started at ``h0`` acts by the first policy in that order whose *unnormalised value*
``nu(h0) V^pi_{nu,U}(h0)`` exceeds u (strictly), where nu is the model it plans with; as a program of the class it
plans with MIX's model ``nu_MIX = 2 xi_plain`` (:mod:`aitheory.planning.xi`), so it does not refer to itself,
and it predicts actions only: observations come from MIX. If no policy exceeds u the search ends without a
policy and the program halts: from then on its mass is lost (bucket ``halted``). Standing alone it starts at the
empty history (``nu(empty) = 1``); in ``SWITCH(E, OPT(U, u), MIX)`` at the history ``x_{<2t}`` at which E first
holds, so that ``u`` plays the role of the paper's ``v xi(x_{<2t})`` and ``len(u)`` that of ``K(v xi(x_{<2t}))``.

**Search** (:func:`opt_choice`). The first policy of a set in lexicographic order is found digit by digit: the
smallest action d at node j such that some completion of the table fixed so far (nodes ``< j`` and d at j) has
value above u. Nodes come breadth first, so the ancestors of every fixed node are fixed and its history is known;
the best completion's value is ``W(root)`` with ``W(omega) = sum_o nu(o | h_omega a_omega) W'(omega o)``, where
``W'`` is ``W`` at a fixed child and the optimal value ``V*`` (expectimax) at any other history. ``O(N^2 K^2)``
after one expectimax, instead of ``K^N`` policy evaluations; :func:`aitheory.planning.reference.opt_choice_exact`
enumerates every policy in exact arithmetic and the tests check that both choose the same policy.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from aitheory.dsl import Dyadic, Mix, Opt, Plain, Switch, event_holds, expr_bits
from aitheory.dsl.status import Status, lost_code
from aitheory.mixture import ModelClass
from aitheory.mixture.classes import CODE_MIX, add_rows
from aitheory.planning.problem import History
from aitheory.planning.values import q_star_levels
from aitheory.planning.xi import PredictionTree, XiProblem, prediction_tree, program_utility, xi_problem

__all__ = ["OptChoice", "add_opt_programs", "node_order", "opt_choice", "opt_codes", "policy_table"]

#: The code of a row whose OPT found no policy: it halts (design: the search ends without output).
CODE_NO_POLICY = lost_code(Status.HALTED)


def node_order(k: int, steps: int) -> list[tuple[int, ...]]:
    """The nodes of the canonical order: observation prefixes of length ``0 .. steps-1``, breadth first."""
    return [o for s in range(steps) for o in itertools.product(range(k), repeat=s)]


def policy_table(index: int, k: int, steps: int) -> tuple[int, ...]:
    """The action table (in :func:`node_order`) of policy number ``index``: its base-K digits, root first."""
    n_nodes = len(node_order(k, steps))
    if not 0 <= index < k**n_nodes:
        raise ValueError(f"argument index: {index} is outside 0..{k ** n_nodes - 1}")
    return tuple((index // k ** (n_nodes - 1 - j)) % k for j in range(n_nodes))


@dataclass(frozen=True)
class OptChoice:
    """What OPT chose from ``start``: the policy's number in the canonical order and its action table (``index``
    None and an empty table when no policy exceeds the threshold), its value under the model, the model's evidence
    ``nu(start)`` and the threshold u; ``margin = evidence * value - u`` (> 0 when a policy was chosen)."""

    start: History
    steps: int
    k: int
    index: int | None
    table: tuple[int, ...]
    value: float
    evidence: float
    threshold: Fraction
    v_star: float
    nodes: tuple[tuple[int, ...], ...] = field(repr=False, default=())

    @property
    def found(self) -> bool:
        return self.index is not None

    @property
    def margin(self) -> float:
        return self.evidence * self.value - float(self.threshold)

    def action(self, h: Sequence[int]) -> int:
        """The policy's action at a history extending ``start`` (it depends on the observations only)."""
        if not self.found:
            raise ValueError(f"no policy exceeds u = {self.threshold} from {list(self.start)}")
        suffix = tuple(h)[len(self.start):]
        return self.table[self.nodes.index(tuple(suffix[1::2]))]

    def policy(self) -> Callable[[Sequence[int]], np.ndarray]:
        """The policy as a callable defined at **every** history extending ``start`` (one-hot; the action depends
        on the observations only), as :meth:`XiProblem.divergence` and the solvers tabulate it."""
        eye = np.eye(self.k)
        return lambda h: eye[self.action(h)]

    def plan(self) -> dict[History, int]:
        """The policy as a table ``history -> action`` over the histories it reaches from ``start``."""
        out: dict[History, int] = {}
        frontier: list[History] = [self.start]
        for _ in range(self.steps):
            nxt = []
            for h in frontier:
                a = self.action(h)
                out[h] = a
                nxt += [(*h, a, o) for o in range(self.k)]
            frontier = nxt
        return out


def opt_choice(xp: XiProblem, threshold: Dyadic | Fraction | float) -> OptChoice:
    """The first policy in the canonical order with ``nu(h0) V^pi_{nu,U}(h0) > u`` (module docstring), for the
    model and start of ``xp``. Compared in float64 (u exactly, the value to rounding): ``margin`` says how close
    the decision was."""
    u = threshold.value if isinstance(threshold, Dyadic) else Fraction(threshold)
    problem = xp.problem
    k, n = problem.n_actions, problem.steps
    nodes = node_order(k, n)
    position = {omega: j for j, omega in enumerate(nodes)}
    _, v = q_star_levels(problem)
    evidence = xp.evidence
    bound = float(u)

    def best(table: list[int]) -> float:
        """Value of the best completion of ``table`` (fixed on the first ``len(table)`` nodes)."""

        def w(omega: tuple[int, ...], index: int) -> float:
            s = len(omega)
            a = table[position[omega]]
            total = 0.0
            for o in range(k):
                p = float(problem.obs[s][index, a, o])
                if p <= 0:
                    continue
                child, nxt = (index * k + a) * k + o, (*omega, o)
                fixed = s + 1 < n and position[nxt] < len(table)
                total += p * (w(nxt, child) if fixed else float(v[s + 1][child]))
            return total

        return w((), 0)

    v_star = float(v[0][0])
    if not evidence * v_star > bound:
        return OptChoice(problem.start, n, k, None, (), float("nan"), evidence, u, v_star, tuple(nodes))
    table: list[int] = []
    for _ in nodes:
        for d in range(k):
            if evidence * best([*table, d]) > bound:
                table.append(d)
                break
        else:  # pragma: no cover - impossible: the previous digit had a completion above u
            raise AssertionError("the lexicographic search lost its completion")
    index = int(sum(d * k ** (len(nodes) - 1 - j) for j, d in enumerate(table)))
    return OptChoice(problem.start, n, k, index, tuple(table), best(table), evidence, u, v_star, tuple(nodes))


def _opt_parts(expr: Opt | Switch) -> tuple[Plain | None, Opt]:
    """``(event or None, OPT)`` of ``OPT(U, u)`` or ``SWITCH(E, OPT(U, u), MIX)``; ValueError for anything else."""
    if isinstance(expr, Opt):
        return None, expr
    if isinstance(expr, Switch) and isinstance(expr.after, Opt) and isinstance(expr.before, Mix):
        return expr.event, expr.after
    raise ValueError(f"program {expr}: OPT rows are OPT(U, u) or SWITCH(E, OPT(U, u), MIX)")


def opt_codes(model_class: ModelClass, expr: Opt | Switch, tree: PredictionTree | None = None,
              m: int | None = None) -> np.ndarray:
    r"""``(G, 2H) int8`` joint-mode behaviour codes of ``OPT(U, u)`` or ``SWITCH(E, OPT(U, u), MIX)`` on the
    class's histories: MIX before the start step t (t = 1 for OPT alone; the first t at which E holds, E read on
    the observations), then at positions ``2s - 1`` (s >= t) the chosen policy's action at the node of
    ``o_t .. o_{s-1}`` and MIX at the observation positions; :data:`CODE_NO_POLICY` from ``2t - 1`` on when no
    policy exceeds u. OPT plans to horizon ``m`` (default: the class's) under MIX's model of this class."""
    config = model_class.config
    event, opt = _opt_parts(expr)
    tree = prediction_tree(model_class, (), m) if tree is None else tree
    utility = program_utility(opt.utility, config.k, config.steps, config.tape_bound)
    horizon = tree.m
    choices: dict[History, OptChoice] = {}
    out = np.full((model_class.histories.shape[0], config.positions), CODE_MIX, dtype=np.int8)
    for g, x in enumerate(model_class.histories):
        x = tuple(int(s) for s in x)
        if event is None:
            t = 1
        else:
            holds = event_holds(event, config.k, horizon, list(x[1::2]), config.steps, config.tape_bound)
            if not holds.any():
                continue
            t = int(np.flatnonzero(holds)[0]) + 1
        h0 = x[: 2 * (t - 1)]
        if h0 not in choices:
            choices[h0] = opt_choice(xi_problem(tree, utility, h0, horizon, model="mix"), opt.threshold)
        choice = choices[h0]
        if not choice.found:
            out[g, 2 * (t - 1):] = CODE_NO_POLICY
            continue
        for s in range(t, horizon + 1):
            out[g, 2 * (s - 1)] = choice.action(x[: 2 * (s - 1)])
    return out


def add_opt_programs(model_class: ModelClass, programs: Sequence[Opt | Switch], m: int | None = None,
                     tree: PredictionTree | None = None) -> ModelClass:
    """The joint-mode class with rows for ``OPT(U, u)`` / ``SWITCH(E, OPT(U, u), MIX)`` programs, each with prior
    ``2^-len`` (kind ``"switch"``, the combinators' column), their codes from :func:`opt_codes`. Every row plans
    with the plain programs of ``model_class`` (which the added rows do not change), so the order of adding does
    not matter. Needs a class built on every history (``all_histories=True``)."""
    if model_class.config.mode != "joint":
        raise ValueError("argument model_class: OPT needs a joint-mode class (its values use xi's observation "
                         "predictions)")
    if not programs:
        return model_class
    tree = prediction_tree(model_class, (), m) if tree is None else tree
    codes = np.stack([opt_codes(model_class, p, tree) for p in programs])
    return add_rows(model_class, codes, [expr_bits(p) for p in programs], [str(p) for p in programs],
                    ["switch"] * len(programs))
