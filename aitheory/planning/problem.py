r"""Finite-horizon planning problems: environments, utilities, policies and the compiled history tree.

Histories interleave actions and observations, ``a_1 o_1 a_2 o_2 ...``, as tuples of ints (actions in
``0..K_a-1``, observations in ``0..K_o-1``). A problem fixes a start history ``h0 = x_{<2t}`` (even length,
``t-1`` completed steps) and the paper's horizon ``m``: complete histories have ``2m`` symbols, so there are
``n = m - len(h0)/2`` decisions left.

* An **environment** is an observation kernel ``nu(o | h, a)``: for a history ``h`` ending in an observation and
  an action ``a``, a (semi)measure over the ``K_o`` observations. Missing mass ``1 - sum_o nu(o | h, a)`` is
  the probability that the interaction stops; it contributes value 0 (Definition 1).
* A **utility** ``U_m`` maps a complete history (``2m`` symbols) to ``[0, 1]``.
* A **policy** maps a history ending in an observation (or the empty history) to a (semi)measure over actions.
  :class:`TabularPolicy` is a policy given as a table ``history -> array``.

:class:`PlanningProblem` enumerates the tree once: it calls the kernel on every decision history and action,
and the utility on every complete history, and stores the results level by level as arrays. The number of
complete histories is ``(K_a K_o)^n``; a problem bigger than ``max_histories`` is refused *before* anything is
enumerated, with a :class:`TreeTooLargeError`.

Indexing (used by every algorithm in :mod:`aitheory.planning`): the decision histories at level ``s``
(``s`` steps after ``h0``, ``s = 0..n``) are numbered ``0..(K_a K_o)^s - 1`` in lexicographic order of
``(a_1, o_1, ..., a_s, o_s)``, so the child of history ``i`` through ``(a, o)`` is ``(i K_a + a) K_o + o``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from aitheory.measures.pmf import SUM_TOLERANCE, as_pmf
from aitheory.types import History, ObservationKernel, Policy

__all__ = [
    "DEFAULT_MAX_HISTORIES",
    "Environment",
    "History",
    "InfeasibleBudgetError",
    "ObservationKernel",
    "PlanningError",
    "PlanningProblem",
    "Policy",
    "TabularPolicy",
    "TreeTooLargeError",
    "Utility",
]

#: ``complete history -> utility in [0, 1]``.
Utility = Callable[[History], float]

#: Default cap on the number of complete histories ``(K_a K_o)^n`` a problem may enumerate.
DEFAULT_MAX_HISTORIES = 2**20


class TreeTooLargeError(ValueError):
    """The history tree has more complete histories than the configured maximum (nothing was enumerated)."""


class PlanningError(RuntimeError):
    """A solver failed or returned a point that does not pass the exact re-check; no result is returned."""


class InfeasibleBudgetError(ValueError):
    """The budget ``eps`` is below the smallest divergence any policy can reach (e.g. a semimeasure base policy)."""


def _check_count(value: int, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"argument {name}: expected an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"argument {name}: must be >= {minimum}, got {value}")
    return int(value)


def _check_history(h: Sequence[int], n_actions: int, n_observations: int, name: str) -> History:
    try:
        hist = tuple(int(x) for x in h)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"argument {name}: expected a sequence of ints, got {h!r}") from exc
    if len(hist) % 2:
        raise ValueError(f"argument {name}: a history a_1 o_1 ... a_s o_s has even length, got length {len(hist)}")
    for i, x in enumerate(hist):
        bound = n_actions if i % 2 == 0 else n_observations
        kind = "action" if i % 2 == 0 else "observation"
        if not 0 <= x < bound:
            raise ValueError(f"argument {name}: entry {i} is {kind} {x}, outside 0..{bound - 1}")
    return hist


@dataclass(frozen=True)
class Environment:
    r"""An observation kernel ``nu(o | h, a)`` over ``n_observations`` symbols, with ``n_actions`` actions.

    ``kernel(h, a)`` receives the full history ``h`` (start history included) and must return a vector of
    ``n_observations`` non-negative numbers summing to at most 1 (a semimeasure: the deficit stops the
    interaction and earns utility 0).
    """

    n_actions: int
    n_observations: int
    kernel: ObservationKernel

    def __post_init__(self) -> None:
        _check_count(self.n_actions, "n_actions")
        _check_count(self.n_observations, "n_observations")
        if not callable(self.kernel):
            raise ValueError(f"argument kernel: expected a callable (history, action) -> probabilities, "
                             f"got {type(self.kernel).__name__}")

    def observation_probs(self, h: History, a: int) -> np.ndarray:
        """``nu(. | h, a)`` validated as a semimeasure of length ``n_observations``."""
        p = as_pmf(self.kernel(h, a), name=f"kernel(history={h}, action={a})")
        if p.shape != (self.n_observations,):
            raise ValueError(
                f"argument kernel: at history {h}, action {a} it returned {p.shape[0]} probabilities, "
                f"expected n_observations = {self.n_observations}"
            )
        return p

    def __call__(self, h: Sequence[int]) -> np.ndarray:
        """``nu(. | x_{<2t}, a_t)`` for a history ending in the action: an :data:`aitheory.types.Environment`,
        so a planning environment is also the ``env`` of :func:`aitheory.measures.tree_divergence`."""
        hist = tuple(int(x) for x in h)
        if len(hist) % 2 != 1:
            raise ValueError(f"argument h: a history ending in an action has odd length, got length {len(hist)}")
        return self.observation_probs(hist[:-1], hist[-1])

    @classmethod
    def from_graph(cls, graph: Any, start: Hashable, n_actions: int, n_observations: int) -> Environment:
        r"""A small world given as a networkx ``MultiDiGraph`` (or ``DiGraph``) of hidden states.

        An edge ``u -> v`` with attributes ``action=a``, ``observation=o``, ``probability=p`` means: in state
        ``u``, action ``a`` emits ``o`` and moves to ``v`` with probability ``p``. The state must be a function
        of the history, so ``(u, a, o)`` may label at most one edge. ``sum_o`` of the probabilities of a state
        and action may be below 1 (a semimeasure) but not above. Observations never emitted from ``u`` under
        ``a`` have probability 0, and histories through them (probability 0) get all-zero kernels.
        """
        nx_nodes = set(graph.nodes)
        if start not in nx_nodes:
            raise ValueError(f"argument start: state {start!r} is not a node of the graph")
        n_actions = _check_count(n_actions, "n_actions")
        n_observations = _check_count(n_observations, "n_observations")
        step: dict[tuple[Hashable, int, int], Hashable] = {}
        probs: dict[tuple[Hashable, int], np.ndarray] = {}
        for u, v, data in graph.edges(data=True):
            try:
                a, o, p = int(data["action"]), int(data["observation"]), float(data["probability"])
            except KeyError as exc:
                raise ValueError(f"argument graph: edge {u!r}->{v!r} lacks the attribute {exc.args[0]!r}") from exc
            if not (0 <= a < n_actions and 0 <= o < n_observations):
                raise ValueError(f"argument graph: edge {u!r}->{v!r} has action {a} / observation {o} out of range")
            if not (p >= 0 and math.isfinite(p)):
                raise ValueError(f"argument graph: edge {u!r}->{v!r} has probability {p}")
            if (u, a, o) in step:
                raise ValueError(f"argument graph: state {u!r}, action {a}, observation {o} labels two edges; "
                                 "the next state must be a function of (state, action, observation)")
            step[(u, a, o)] = v
            probs.setdefault((u, a), np.zeros(n_observations))[o] += p
        for (u, a), row in probs.items():
            as_pmf(row, name=f"graph probabilities at state {u!r}, action {a}")

        states: dict[History, Hashable] = {(): start}
        dead = object()  # after a transition of probability 0: every observation has probability 0

        def state_of(h: History) -> Hashable:
            if h not in states:
                states[h] = step.get((state_of(h[:-2]), h[-2], h[-1]), dead)
            return states[h]

        def kernel(h: History, a: int) -> np.ndarray:
            return probs.get((state_of(tuple(h)), a), np.zeros(n_observations))

        return cls(n_actions, n_observations, kernel)


@dataclass(frozen=True, eq=False)
class TabularPolicy(Mapping[History, np.ndarray]):
    """A policy as a table ``history -> (semi)measure over actions``; callable like any policy.

    Looking up a history that is not in the table raises ``KeyError`` naming it.
    """

    n_actions: int
    table: Mapping[History, np.ndarray] = field(repr=False)

    def __post_init__(self) -> None:
        _check_count(self.n_actions, "n_actions")
        frozen: dict[History, np.ndarray] = {}
        for h, row in self.table.items():
            arr = as_pmf(row, name=f"table[{tuple(h)}]").copy()
            if arr.shape != (self.n_actions,):
                raise ValueError(f"argument table: row for history {tuple(h)} has {arr.shape[0]} entries, "
                                 f"expected n_actions = {self.n_actions}")
            arr.flags.writeable = False
            frozen[tuple(h)] = arr
        object.__setattr__(self, "table", frozen)

    def __call__(self, h: Sequence[int]) -> np.ndarray:
        try:
            return self.table[tuple(h)]
        except KeyError:
            raise KeyError(f"TabularPolicy has no row for history {tuple(h)}") from None

    def __getitem__(self, h: History) -> np.ndarray:
        return self(h)

    def __iter__(self) -> Iterator[History]:
        return iter(self.table)

    def __len__(self) -> int:
        return len(self.table)


@dataclass(frozen=True, eq=False)
class PlanningProblem:
    r"""The enumerated history tree of an environment and utility from ``start`` up to horizon ``m``.

    Build it with :meth:`build`. Attributes (arrays are read-only):

    * ``obs[s]``: shape ``(N_s, K_a, K_o)``, ``nu(o | h, a)`` at the decision histories of level ``s``
      (``N_s = (K_a K_o)^s``, ``s = 0..n-1``);
    * ``utility``: shape ``(N_n,)``, ``U_m`` of every complete history.
    """

    n_actions: int
    n_observations: int
    start: History
    m: int
    obs: tuple[np.ndarray, ...] = field(repr=False)
    utility: np.ndarray = field(repr=False)

    @staticmethod
    def size(n_actions: int, n_observations: int, steps: int) -> int:
        """Number of complete histories ``(K_a K_o)^steps`` of a tree (computed without enumerating)."""
        return (n_actions * n_observations) ** steps

    @classmethod
    def build(
        cls,
        env: Environment,
        utility: Utility,
        start: Sequence[int] = (),
        *,
        m: int,
        max_histories: int = DEFAULT_MAX_HISTORIES,
    ) -> PlanningProblem:
        r"""Enumerate the tree: ``nu`` at every decision history and action, ``U_m`` at every complete history.

        ``m`` is the paper's horizon (complete histories have ``2m`` symbols); ``start`` is ``x_{<2t}``. Refuses
        (``TreeTooLargeError``) trees with more than ``max_histories`` complete histories, before enumerating.
        """
        if not isinstance(env, Environment):
            raise ValueError(f"argument env: expected an aitheory.planning.Environment, got {type(env).__name__}")
        if not callable(utility):
            raise ValueError(f"argument utility: expected a callable complete-history -> [0, 1], "
                             f"got {type(utility).__name__}")
        ka, ko = env.n_actions, env.n_observations
        h0 = _check_history(start, ka, ko, "start")
        m = _check_count(m, "m")
        steps = m - len(h0) // 2
        if steps < 1:
            raise ValueError(f"argument m: horizon {m} leaves no decision after a start history of "
                             f"{len(h0) // 2} steps")
        max_histories = _check_count(max_histories, "max_histories")
        total = cls.size(ka, ko, steps)
        if total > max_histories:
            raise TreeTooLargeError(
                f"the tree has (K_a K_o)^n = ({ka}*{ko})^{steps} = {total} complete histories, more than "
                f"max_histories = {max_histories}; use a shorter horizon or raise max_histories"
            )
        obs = []
        for s in range(steps):
            level = np.empty((cls.size(ka, ko, s), ka, ko))
            for i, h in enumerate(_suffixes(ka, ko, s)):
                for a in range(ka):
                    level[i, a] = env.observation_probs(h0 + h, a)
            level.flags.writeable = False
            obs.append(level)
        util = np.empty(total)
        for i, h in enumerate(_suffixes(ka, ko, steps)):
            u = utility(h0 + h)
            try:
                u = float(u)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"argument utility: returned {u!r} at history {h0 + h}; expected a float") from exc
            if not 0.0 <= u <= 1.0:
                raise ValueError(f"argument utility: U_m({h0 + h}) = {u}, outside [0, 1]")
            util[i] = u
        util.flags.writeable = False
        return cls(ka, ko, h0, m, tuple(obs), util)

    # ----- shape and indexing -----

    @property
    def steps(self) -> int:
        """``n``: decisions left after ``start``."""
        return len(self.obs)

    def level_size(self, s: int) -> int:
        """``N_s = (K_a K_o)^s``: number of histories ``s`` steps after ``start``."""
        return self.size(self.n_actions, self.n_observations, s)

    def histories(self, s: int) -> Iterator[History]:
        """The full histories (start included) at level ``s``, in index order."""
        for h in _suffixes(self.n_actions, self.n_observations, s):
            yield self.start + h

    def decision_histories(self) -> Iterator[History]:
        """Every history at which an action is chosen (levels ``0..n-1``), level by level."""
        for s in range(self.steps):
            yield from self.histories(s)

    def locate(self, h: Sequence[int]) -> tuple[int, int]:
        """``(level, index)`` of a full history ``h`` that extends ``start``."""
        hist = _check_history(h, self.n_actions, self.n_observations, "h")
        if hist[: len(self.start)] != self.start:
            raise ValueError(f"argument h: {hist} does not extend the start history {self.start}")
        suffix = hist[len(self.start):]
        s = len(suffix) // 2
        if s > self.steps:
            raise ValueError(f"argument h: {hist} is longer than the horizon m = {self.m}")
        index = 0
        for i in range(s):
            index = (index * self.n_actions + suffix[2 * i]) * self.n_observations + suffix[2 * i + 1]
        return s, index

    # ----- derived arrays (computed once) -----

    @cached_property
    def env_reach(self) -> tuple[np.ndarray, ...]:
        r"""``env_reach[s][i] = prod_{r<s} nu(o_{r+1} | h_r, a_{r+1})`` along history ``i`` of level ``s``.

        The probability of the observations given the actions (levels ``0..n``).
        """
        out = [np.ones(1)]
        for s in range(self.steps):
            out.append((out[-1][:, None, None] * self.obs[s]).reshape(-1))
        for arr in out:
            arr.flags.writeable = False
        return tuple(out)

    @cached_property
    def observation_index(self) -> tuple[np.ndarray, ...]:
        r"""``observation_index[s][i]``: the number of history ``i``'s observations ``(o_1..o_s)`` in base ``K_o``."""
        ka, ko = self.n_actions, self.n_observations
        out = [np.zeros(1, dtype=np.int64)]
        for _ in range(self.steps):
            prev = out[-1]
            nxt = prev[:, None, None] * ko + np.arange(ko)[None, None, :]
            out.append(np.broadcast_to(nxt, (prev.size, ka, ko)).reshape(-1).copy())
        for arr in out:
            arr.flags.writeable = False
        return tuple(out)

    def observation_sequences(self) -> list[tuple[int, ...]]:
        r"""The open-loop observation sequences ``(o_1, ..., o_{n-1})`` of Definition 2, in index order.

        The last observation ``o_n`` influences no action, so it does not enter the tree-level divergences.
        """
        return list(itertools.product(range(self.n_observations), repeat=self.steps - 1))

    @cached_property
    def terminal_value(self) -> np.ndarray:
        r"""``c[i K_a + a] = sum_{o_n} nu(o_n | h_i, a) U_m(h_i a o_n)`` for the last decision level."""
        n = self.steps
        last = self.obs[n - 1]
        u = self.utility.reshape(last.shape)
        c = np.einsum("hao,hao->ha", last, u).reshape(-1)
        c.flags.writeable = False
        return c

    # ----- policies -----

    def tabulate(self, policy: Policy, name: str = "policy") -> tuple[np.ndarray, ...]:
        """``policy`` evaluated at every decision history: per level an array ``(N_s, K_a)`` (validated)."""
        if not callable(policy):
            raise ValueError(f"argument {name}: expected a callable history -> probabilities over actions")
        levels = []
        for s in range(self.steps):
            arr = np.empty((self.level_size(s), self.n_actions))
            for i, h in enumerate(self.histories(s)):
                try:
                    row = policy(h)
                except KeyError as exc:
                    raise ValueError(f"argument {name}: no distribution for history {h} ({exc})") from exc
                p = as_pmf(row, name=f"{name}({h})", tol=SUM_TOLERANCE)
                if p.shape != (self.n_actions,):
                    raise ValueError(f"argument {name}: at history {h} returned {p.shape[0]} probabilities, "
                                     f"expected n_actions = {self.n_actions}")
                arr[i] = p
            arr.flags.writeable = False
            levels.append(arr)
        return tuple(levels)

    def to_policy(self, levels: Sequence[np.ndarray]) -> TabularPolicy:
        """A :class:`TabularPolicy` from per-level arrays ``(N_s, K_a)`` (the inverse of :meth:`tabulate`)."""
        table: dict[History, np.ndarray] = {}
        for s, arr in enumerate(levels):
            for h, row in zip(self.histories(s), arr, strict=True):
                table[h] = row
        return TabularPolicy(self.n_actions, table)


def _suffixes(n_actions: int, n_observations: int, s: int) -> Iterator[History]:
    """All ``(a_1, o_1, ..., a_s, o_s)`` in lexicographic (= index) order."""
    return itertools.product(*([range(n_actions), range(n_observations)] * s))
