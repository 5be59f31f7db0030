r"""Tree-level KL and TVD between policies over action/observation trees (Definition 2 of the paper).

One entry point, :func:`tree_divergence` (``pi``, ``beta``, a :class:`TreeShape`, ``measure=``, ``reading=``);
:func:`tree_kl`, :func:`tree_tvd`, :func:`tree_kl_adaptive`, ... are thin aliases with the measure and reading
fixed. Per-level arrays instead of callables take the array fast path of :mod:`aitheory.measures.sequence_form`
(used by :mod:`aitheory.planning`).

Setting
-------
A *history* is a tuple of ints interleaving actions and observations, ``(a_1, o_1, a_2, o_2, ...)``,
actions in ``range(n_actions)`` (``K_a``) and observations in ``range(n_observations)`` (``K_o``). A
*policy* is a callable from a history ending in an observation (or the empty history) to a (semi)measure
over the ``K_a`` actions, returned as a sequence of floats, a numpy array or a sequence of
:class:`fractions.Fraction`. An *environment* is a callable from a history ending in an action to a
(semi)measure over the ``K_o`` observations.

From a starting history ``h = x_{<2k}`` (even length) with a *horizon* of ``N = m - k + 1`` action steps,
write ``P_pi(a_{k:m} | o_{k:m-1}) = prod_t pi(a_t | x_{<2t})`` for the probability of an action sequence
when the observations are held fixed (histories built from ``h``, the summed actions and the fixed
observations). The last observation ``o_m`` influences no action inside the window, so observation
sequences have length ``N - 1``.

Readings of the constraint (all in nats unless ``base=`` is given)
------------------------------------------------------------------
* **open loop** (:func:`tree_kl`, :func:`tree_tvd`; exactly Definition 2)::

      KL_{h,m}(pi || beta) = max_{o_{k:m-1}} sum_{a_{k:m}} P_pi(a|o) ln( P_pi(a|o) / P_beta(a|o) )
      TVD_{h,m}(pi, beta) = max_{o_{k:m-1}} (1/2) sum_{a_{k:m}} | P_pi(a|o) - P_beta(a|o) |

  For a measure ``pi`` the chain rule gives, for each fixed ``o``, ``sum_a P_pi ln(P_pi/P_beta) =
  E_pi[ sum_t KL(pi(.|x_{<2t}) || beta(.|x_{<2t})) ]``. The computation is one depth-first pass over the
  history tree: ``P_pi``, ``P_beta`` and ``s = sum_t ln(pi_t/beta_t)`` are carried down each path, and each
  decision point returns a table of its subtree's contributions for every remaining observation suffix
  (tables are added over actions and concatenated over observations). The per-sequence KL is
  ``sum_leaves P_pi * s``, which equals the definition for semimeasures ``pi`` too (no chain-rule assumption
  that ``pi`` sums to 1).
* **adaptive** (:func:`tree_kl_adaptive`, :func:`tree_tvd_adaptive`): the observation ``o_t`` is chosen
  after seeing the whole history so far, including ``a_t`` (a deterministic adversary strategy). A
  backward recursion with the maximum *inside* the expectation. Open-loop strategies are adaptive
  strategies, so ``adaptive >= open loop``.
* **expected** (:func:`tree_kl_expected`, :func:`tree_tvd_expected`): observations drawn from an
  environment kernel ``env(o | x_{<2t} a_t)``. For a measure ``env`` this is
  ``KL(P^{pi,env} || P^{beta,env})`` between the joint interaction distributions (the observation factors
  cancel); missing environment mass contributes 0 (as in Definition 1). For a measure ``env``:
  ``expected <= adaptive``; for a measure ``env`` that ignores the actions (an open-loop environment),
  ``expected <= open loop``. A *reactive* environment can exceed the open-loop value.

Semimeasure conventions: nothing is renormalised. ``0 ln(0/q) = 0``; a branch where ``pi`` puts mass and
``beta`` none gives ``+inf`` (never clipped). KL with a semimeasure ``beta`` and a measure ``pi`` is
``>= 0`` (Gibbs); with a semimeasure ``pi`` it can be negative.

Exact arithmetic: if every policy (and environment) output consists of Fractions/ints, probabilities are
multiplied exactly, TVD values are exact Fractions and KL log-ratios are taken of exact rational ratios.

Cost
----
With ``N`` action steps, the tree has ``D = sum_{t=0}^{N-1} (K_a K_o)^t`` decision points (histories
ending in an observation, where ``pi`` and ``beta`` are queried) and ``L = K_a^N K_o^{N-1}`` complete
paths; :func:`tree_size` returns ``D + L``. Every function below refuses (``TreeTooLargeError``, before
enumerating) trees with ``tree_size > max_nodes`` (default :data:`DEFAULT_MAX_NODES`).

===================  =======================  ====================  ====================
function             policy calls (pi, beta)  arithmetic            memory
===================  =======================  ====================  ====================
open loop            ``2 D`` (each once)      ``O(K_a D + K_o L)``  ``O(K_o^(N-1) + N)``
adaptive / expected  ``2 D`` (each once)      ``O(K_a K_o D)``      ``O(N)`` recursion
brute force          ``2 D`` (cached)         ``O(N L)``            ``O(D)`` cache
tree_report          ``2 D`` (cached)         all of the above      ``O(D)`` cache
===================  =======================  ====================  ====================

plus ``K_a D`` environment calls for the expected reading. Policy calls are cached per history within one
computation (the single-pass algorithms visit each history once, so they keep no cache);
``TreeDivergence.policy_calls`` reports the number of distinct histories at which the policies were called.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Literal, TypedDict, Unpack, cast

import numpy as np

from aitheory.measures import sequence_form
from aitheory.measures.pmf import (
    SUM_TOLERANCE,
    ExactLogSum,
    _check_exact,
    _is_exact,
    _log_fraction,
    as_pmf,
    kl_exact,
)
from aitheory.measures.sequence_form import Levels
from aitheory.types import Environment, History, Policy

__all__ = [
    "DEFAULT_MAX_NODES",
    "Environment",
    "History",
    "Policy",
    "TreeDivergence",
    "TreeOptions",
    "TreeReport",
    "TreeShape",
    "TreeTooLargeError",
    "sequence_kl",
    "sequence_kl_exact",
    "sequence_tvd",
    "tree_divergence",
    "tree_kl",
    "tree_kl_adaptive",
    "tree_kl_brute_force",
    "tree_kl_expected",
    "tree_report",
    "tree_size",
    "tree_tvd",
    "tree_tvd_adaptive",
    "tree_tvd_brute_force",
    "tree_tvd_expected",
]

Number = float | Fraction

#: Default refusal threshold on :func:`tree_size`: at the limit, minutes of pure-Python work (about 20-30
#: microseconds per decision point plus the policies' own cost); memory as in the module's cost table.
DEFAULT_MAX_NODES = 10_000_000

Measure = Literal["kl", "tvd"]
Reading = Literal["open-loop", "adaptive", "expected", "brute-force"]


class TreeTooLargeError(ValueError):
    """The tree would exceed ``max_nodes``; raised before any enumeration."""


@dataclass(frozen=True)
class TreeDivergence:
    """Result of a tree-level divergence.

    Attributes:
        measure: ``"kl"`` or ``"tvd"``.
        reading: ``"open-loop"`` (Definition 2), ``"brute-force"`` (Definition 2 by direct enumeration
            of joint sequences), ``"adaptive"`` or ``"expected"``.
        value: the divergence; KL in ``unit``, TVD a probability (exact Fraction when all inputs were exact).
        unit: ``"nats"``, ``"bits"``, ``"log base b"`` for KL; ``"probability"`` for TVD.
        maximiser: for open-loop readings, the maximising observation sequence ``(o_k, ..., o_{m-1})``
            (the first in lexicographic order among ties); ``None`` otherwise.
        per_sequence: for open-loop readings and ``per_sequence=True``, the value for every observation
            sequence.
        policy_calls: number of distinct histories at which ``pi`` and ``beta`` were called.
        horizon: number of action steps.
        strategy: for adaptive readings with ``strategy=True``, the maximising adversary: the observation
            chosen after each history ending in an action (reachable histories before the last action).
    """

    measure: Measure
    reading: Reading
    value: Number
    unit: str
    maximiser: History | None
    per_sequence: Mapping[History, Number] | None
    policy_calls: int
    horizon: int
    strategy: Mapping[History, int] | None = None


# --------------------------------------------------------------------------------------------- validation


def tree_size(n_actions: int, n_observations: int, horizon: int) -> int:
    """Number of nodes: ``sum_{t<N} (K_a K_o)^t + K_a^N K_o^(N-1)`` (``1`` for ``N = 0``).

    The first sum counts decision points (where the policies are queried), the second complete paths.
    """
    _check_shape(n_actions, n_observations, horizon)
    if horizon == 0:
        return 1
    decisions = sum((n_actions * n_observations) ** t for t in range(horizon))
    return decisions + n_actions**horizon * n_observations ** (horizon - 1)


def _check_int(value: Any, name: str, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"argument {name}: expected an int >= {minimum}, got {value!r}")


def _check_shape(n_actions: int, n_observations: int, horizon: int) -> None:
    _check_int(n_actions, "n_actions", 1)
    _check_int(n_observations, "n_observations", 1)
    _check_int(horizon, "horizon", 0)


def _as_index(x: Any) -> int | None:
    """``x`` as a Python int if it is an integer (int, numpy integer; not bool), else None."""
    if isinstance(x, bool):
        return None
    try:
        return operator.index(x)
    except TypeError:
        return None


def _check_history(history: Sequence[int], n_actions: int, n_observations: int) -> History:
    raw = tuple(history)
    h = tuple(_as_index(x) for x in raw)
    if len(h) % 2:
        raise ValueError(
            f"argument history: has odd length {len(h)}; "
            "it must end with an observation (a_1 o_1 ... a_t o_t)"
        )
    for i, x in enumerate(h):
        size, kind = (n_actions, "action") if i % 2 == 0 else (n_observations, "observation")
        if x is None or not 0 <= x < size:
            raise ValueError(f"argument history: entry {i} ({raw[i]!r}) is not an {kind} in range({size})")
    return h  # type: ignore[return-value]


def _check_size(n_actions: int, n_observations: int, horizon: int, max_nodes: int) -> None:
    size = tree_size(n_actions, n_observations, horizon)
    if size > max_nodes:
        raise TreeTooLargeError(
            f"argument horizon: a tree with n_actions={n_actions}, n_observations={n_observations}, "
            f"horizon={horizon} has {size:,} nodes > max_nodes={max_nodes:,}; the cost grows like "
            f"(n_actions*n_observations)^horizon. Lower the horizon or raise max_nodes."
        )


def _scale(nats: float, base: float | None) -> tuple[float, str]:
    if base is None:
        return nats, "nats"
    if base <= 0 or base == 1:
        raise ValueError(f"argument base: must be > 0 and != 1, got {base}")
    unit = "bits" if base == 2 else f"log base {base:g}"
    return nats / math.log(base), unit


# --------------------------------------------------------------------------------------------- evaluation


_FLOAT_TYPES = frozenset({float})


class _Evaluator:
    """Validated, optionally cached calls of pi, beta (and env); tracks whether all outputs were exact."""

    def __init__(
        self,
        pi: Policy,
        beta: Policy,
        n_actions: int,
        n_observations: int,
        tol: float,
        cache: bool,
        env: Environment | None = None,
    ) -> None:
        self.pi, self.beta, self.env = pi, beta, env
        self.n_actions, self.n_observations, self.tol = n_actions, n_observations, tol
        self.exact = True
        self.calls = 0
        self._cache: dict[History, tuple[tuple[Number, ...], tuple[Number, ...]]] | None = (
            {} if cache else None
        )

    def _validate(self, out: Any, who: str, h: History, size: int) -> tuple[Number, ...]:
        """``out`` (the answer of ``who`` at history ``h``) as a validated tuple; errors name both."""
        values: tuple[Number, ...] = ()
        kinds = {type(v) for v in out} if isinstance(out, (list, tuple)) else None
        if kinds is not None and kinds <= _FLOAT_TYPES:  # fast path: a plain list/tuple of floats
            self.exact = False
            values = _fast_floats(out, self.tol)
        elif _is_exact(out):
            values = tuple(_check_exact(out, f"{who}(history={h})"))
        else:
            self.exact = False
            values = _fast_floats(out, self.tol)
        if not values:  # not a valid (semi)measure: let as_pmf name the problem
            values = tuple(float(v) for v in as_pmf(out, f"{who}(history={h})", self.tol))
        if len(values) != size:
            raise ValueError(f"argument {who}(history={h}): has {len(values)} entries, expected {size}")
        return values

    def policies(self, h: History) -> tuple[tuple[Number, ...], tuple[Number, ...]]:
        """``(pi(.|h), beta(.|h))``, validated."""
        if self._cache is not None and h in self._cache:
            return self._cache[h]
        self.calls += 1
        out = (
            self._validate(self.pi(h), "pi", h, self.n_actions),
            self._validate(self.beta(h), "beta", h, self.n_actions),
        )
        if self._cache is not None:
            self._cache[h] = out
        return out

    def observations(self, h: History) -> tuple[Number, ...]:
        assert self.env is not None
        return self._validate(self.env(h), "env", h, self.n_observations)


def _fast_floats(out: Any, tol: float) -> tuple[float, ...]:
    """``out`` as floats if it is a valid 1-D (semi)measure, else ``()`` (pure Python: cheap for small K)."""
    try:
        values = tuple(float(v) for v in out)
    except (TypeError, ValueError):
        return ()
    if values and all(v >= 0 for v in values) and math.fsum(values) <= 1 + tol:  # NaN/-inf fail v >= 0
        return values
    return ()


def _ln(x: Number) -> float:
    return _log_fraction(x) if isinstance(x, Fraction) else math.log(x)


def _log_ratio(p: Number, q: Number) -> float:
    """``ln(p/q)`` for ``p > 0``: ``inf`` if ``q == 0``; exact ratio for Fractions."""
    if q == 0:
        return math.inf
    if type(p) is float and type(q) is float:
        return math.log(p) - math.log(q)
    if isinstance(p, Fraction) and isinstance(q, Fraction):
        return _log_fraction(p / q)
    return _ln(p) - _ln(q)


def _total(values: Sequence[Number]) -> Number:
    """Exact sum for Fractions, ``math.fsum`` otherwise."""
    if all(isinstance(v, Fraction) for v in values):
        return sum(values, Fraction(0))
    return math.fsum(float(v) for v in values)


def _half_gap(p: Number, q: Number) -> Number:
    """``|p - q| / 2`` (exact for Fractions)."""
    gap: Number = p - q if p >= q else q - p
    return gap / 2


def _kl_term(p: Number, s: float) -> float:
    """``p * s`` with ``0 * s = 0`` (a zero-mass branch contributes nothing, even if ``s`` is infinite)."""
    return 0.0 if p == 0 else float(p) * s


def _tvd_out(value: Number, exact: bool) -> Number:
    return Fraction(value) if exact else float(value)


# --------------------------------------------------------------------------------------------- open loop


def _extend(
    ev: _Evaluator, h: History, p_pi: Number, p_beta: Number, s: float
) -> Iterator[tuple[int, Number, Number, float]]:
    """The actions at ``h`` with ``(a, P_pi * pi(a|h), P_beta * beta(a|h), s + ln(pi(a|h)/beta(a|h)))``.

    Branches with both masses 0 are dropped; where ``P_pi * pi(a|h) = 0`` the log-sum is meaningless and
    set to 0 (it is only ever multiplied by that zero mass); where ``beta(a|h) = 0 < pi(a|h)`` it is ``inf``.
    """
    pis, betas = ev.policies(h)
    for a, (p, b) in enumerate(zip(pis, betas, strict=True)):
        c_pi, c_beta = p_pi * p, p_beta * b
        if c_pi == 0 and c_beta == 0:
            continue
        yield a, c_pi, c_beta, (s + _log_ratio(p, b) if c_pi != 0 else 0.0)


def _open_loop_tables(
    ev: _Evaluator, h: History, steps_left: int, p_pi: Number, p_beta: Number, s: float
) -> tuple[list[float], list[Number]]:
    """Contributions of the subtree at ``h`` for every remaining observation suffix.

    Returns ``(kl, tvd)``, lists of length ``K_o^(steps_left - 1)`` indexed by the suffix
    ``o_t ... o_{N-1}`` in lexicographic order: ``kl[o] = sum_{leaves under h along o} P_pi * s`` and
    ``tvd[o] = (1/2) sum |P_pi - P_beta|``. ``p_pi``, ``p_beta``, ``s`` describe the path to ``h``.
    """
    branches = list(_extend(ev, h, p_pi, p_beta, s))
    if steps_left == 1:
        kl_leaf = math.fsum(_kl_term(c_pi, c_s) for _, c_pi, _, c_s in branches)
        return [kl_leaf], [_total([_half_gap(c_pi, c_beta) for _, c_pi, c_beta, _ in branches])]
    block = ev.n_observations ** (steps_left - 2)
    kl_tab: list[float] = []
    tvd_tab: list[Number] = []
    for o in range(ev.n_observations):
        kl_acc: list[float] = [0.0] * block
        tvd_acc: list[Number] = [0] * block
        for a, c_pi, c_beta, c_s in branches:
            kl_sub, tvd_sub = _open_loop_tables(ev, (*h, a, o), steps_left - 1, c_pi, c_beta, c_s)
            kl_acc = [x + y for x, y in zip(kl_acc, kl_sub, strict=True)]
            tvd_acc = [x + y for x, y in zip(tvd_acc, tvd_sub, strict=True)]
        kl_tab += kl_acc
        tvd_tab += tvd_acc
    return kl_tab, tvd_tab


def _open_loop_table(
    ev: _Evaluator, history: History, horizon: int
) -> tuple[dict[History, float], dict[History, Number]]:
    """Per observation sequence ``o`` (length ``horizon-1``): ``(KL(P_pi(.|o) || P_beta(.|o)), TVD)``.

    One depth-first pass over the history tree (every history queried once); each decision point returns
    the table of its subtree's contributions for every observation suffix (:func:`_open_loop_tables`).
    Memory: the tables along one root-to-leaf path, ``O(K_o^(N-1))`` numbers, and ``O(N)`` recursion depth.
    """
    if horizon == 0:
        return {(): 0.0}, {(): Fraction(0)}
    one: Number = Fraction(1)
    kl_tab, tvd_tab = _open_loop_tables(ev, history, horizon, one, one, 0.0)
    sequences = list(itertools.product(range(ev.n_observations), repeat=horizon - 1))
    kls = dict(zip(sequences, kl_tab, strict=True))
    tvds: dict[History, Number] = dict(zip(sequences, tvd_tab, strict=True))
    return kls, tvds


def _argmax(table: Mapping[History, Number]) -> History:
    best = max(table.values())
    return min(o for o, v in table.items() if v == best)


def _open_loop_result(
    measure: Measure,
    reading: Reading,
    table: Mapping[History, Number],
    ev: _Evaluator | None,
    horizon: int,
    base: float | None,
    per_sequence: bool,
) -> TreeDivergence:
    """The result of an open-loop table; ``ev`` is None for tables from level arrays (floats, no policy calls)."""
    maximiser = _argmax(table)
    scaled: dict[History, Number]
    if measure == "kl":
        scaled = {o: _scale(float(v), base)[0] for o, v in table.items()}
        value: Number
        value, unit = _scale(float(table[maximiser]), base)
    else:
        scaled = {o: _tvd_out(v, ev is not None and ev.exact) for o, v in table.items()}
        value, unit = scaled[maximiser], "probability"
    return TreeDivergence(
        measure=measure,
        reading=reading,
        value=value,
        unit=unit,
        maximiser=maximiser,
        per_sequence=MappingProxyType(scaled) if per_sequence else None,
        policy_calls=0 if ev is None else ev.calls,
        horizon=horizon,
    )


def _prepare(
    pi: Policy,
    beta: Policy,
    shape: TreeShape,
    history: Sequence[int],
    max_nodes: int,
    tol: float,
    cache: bool,
    env: Environment | None = None,
) -> tuple[_Evaluator, History]:
    """Validate the start history, the size and the callables; the evaluator of ``pi``, ``beta`` (and ``env``)."""
    ka, ko = shape.n_actions, shape.n_observations
    h = _check_history(history, ka, ko)
    _check_size(ka, ko, shape.horizon, max_nodes)
    for name, f in (("pi", pi), ("beta", beta), ("env", env)):
        if (name != "env" or env is not None) and not callable(f):
            raise ValueError(f"argument {name}: expected a callable taking a history, got {type(f).__name__}")
    return _Evaluator(pi, beta, ka, ko, tol, cache, env), h


# --------------------------------------------------------------------------------------------- brute force


def _joint(
    ev: _Evaluator, history: History, actions: History, observations: History
) -> tuple[Number, Number]:
    """``(prod_t pi(a_t | x_{<2t}), prod_t beta(a_t | x_{<2t}))`` for one joint sequence."""
    p_pi: Number = Fraction(1)
    p_beta: Number = Fraction(1)
    h = history
    for t, a in enumerate(actions):
        pis, betas = ev.policies(h)
        p_pi, p_beta = p_pi * pis[a], p_beta * betas[a]
        h = h + (a,) + ((observations[t],) if t < len(observations) else ())
    return p_pi, p_beta


def _sequences(ev: _Evaluator, history: History, observations: History) -> Iterator[tuple[Number, Number]]:
    for actions in itertools.product(range(ev.n_actions), repeat=len(observations) + 1):
        yield _joint(ev, history, actions, observations)


def _seq_kl(ev: _Evaluator, history: History, observations: History) -> float:
    terms = []
    for p_pi, p_beta in _sequences(ev, history, observations):
        if p_pi == 0:
            continue
        if p_beta == 0:
            return math.inf
        if isinstance(p_pi, Fraction) and isinstance(p_beta, Fraction):
            terms.append(float(p_pi) * _log_fraction(p_pi / p_beta))
        else:
            terms.append(float(p_pi) * math.log(float(p_pi) / float(p_beta)))
    return math.fsum(terms)


def _seq_tvd(ev: _Evaluator, history: History, observations: History) -> Number:
    return _total([_half_gap(p, b) for p, b in _sequences(ev, history, observations)])


def _prepare_sequence(pi: Policy, beta: Policy, observations: Sequence[int], n_actions: int, n_observations: int,
                      history: Sequence[int], max_nodes: int, tol: float) -> tuple[_Evaluator, History, History]:
    """:func:`_prepare` on the tree of ``len(observations) + 1`` steps, then the observations checked."""
    obs = tuple(observations)
    ev, h = _prepare(pi, beta, TreeShape(n_actions, n_observations, len(obs) + 1), history, max_nodes, tol, cache=True)
    for i, o in enumerate(obs):
        if not isinstance(o, int) or isinstance(o, bool) or not 0 <= o < n_observations:
            raise ValueError(f"argument observations: entry {i} ({o!r}) is not in range({n_observations})")
    return ev, h, obs


def sequence_kl(
    pi: Policy,
    beta: Policy,
    observations: Sequence[int],
    *,
    n_actions: int,
    n_observations: int,
    history: Sequence[int] = (),
    base: float | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
    tol: float = SUM_TOLERANCE,
) -> float:
    r"""For ONE fixed observation sequence ``o`` (length ``N - 1``): ``sum_a P_pi ln(P_pi / P_beta)``.

    Brute force over the ``K_a^N`` joint action sequences, each product formed directly (the literal inner sum
    of Definition 2): a slow reference for tests. Cost ``O(N K_a^N)``.
    """
    ev, h, obs = _prepare_sequence(pi, beta, observations, n_actions, n_observations, history, max_nodes, tol)
    return _scale(_seq_kl(ev, h, obs), base)[0]


def sequence_kl_exact(
    pi: Policy,
    beta: Policy,
    observations: Sequence[int],
    *,
    n_actions: int,
    n_observations: int,
    history: Sequence[int] = (),
    max_nodes: int = DEFAULT_MAX_NODES,
) -> ExactLogSum:
    r"""Closed form of :func:`sequence_kl` for Fraction-valued policies: ``sum_a P_pi ln(P_pi / P_beta)``.

    Returned as an :class:`~aitheory.measures.pmf.ExactLogSum` (``float(x)`` evaluates it, ``x.to_sympy()``
    gives the symbolic expression). Raises ``ValueError`` if a policy output is not exact (Fractions/ints).
    """
    ev, h, obs = _prepare_sequence(pi, beta, observations, n_actions, n_observations, history, max_nodes,
                                   SUM_TOLERANCE)
    joint = list(_sequences(ev, h, obs))
    if not ev.exact:
        raise ValueError("arguments pi and beta: sequence_kl_exact needs Fraction (or int) probabilities")
    return kl_exact([Fraction(p) for p, _ in joint], [Fraction(b) for _, b in joint])


def sequence_tvd(
    pi: Policy,
    beta: Policy,
    observations: Sequence[int],
    *,
    n_actions: int,
    n_observations: int,
    history: Sequence[int] = (),
    max_nodes: int = DEFAULT_MAX_NODES,
    tol: float = SUM_TOLERANCE,
) -> Number:
    r"""For ONE fixed observation sequence: ``(1/2) sum_a |P_pi(a|o) - P_beta(a|o)|`` by brute force."""
    ev, h, obs = _prepare_sequence(pi, beta, observations, n_actions, n_observations, history, max_nodes, tol)
    return _tvd_out(_seq_tvd(ev, h, obs), ev.exact)


# --------------------------------------------------------------------------------------------- closed loop


def _closed_loop(
    ev: _Evaluator,
    h: History,
    steps_left: int,
    p_pi: Number,
    p_beta: Number,
    s: float,
    adaptive: bool,
    strategies: tuple[dict[History, int], dict[History, int]] | None = None,
) -> tuple[float, Number]:
    """Contribution ``(sum_leaves P_pi * s, (1/2) sum_leaves |P_pi - P_beta|)`` of the subtree at ``h``.

    ``p_pi``, ``p_beta`` (times the environment's probability of the observations, for the expected reading)
    and ``s`` describe the path from the start to ``h``. At each observation node the adversary maximises
    (``adaptive``) or the environment averages; every history in the subtree is visited once. If
    ``strategies`` is given, the adversary's choices (first maximiser) for KL and for TVD are recorded there,
    keyed by the history ending in the action.
    """
    if steps_left == 0:
        return _kl_term(p_pi, s), _half_gap(p_pi, p_beta)
    kl_parts: list[float] = []
    tvd_parts: list[Number] = []
    for a, c_pi, c_beta, c_s in _extend(ev, h, p_pi, p_beta, s):
        ha = (*h, a)
        if steps_left == 1:
            kl_parts.append(_kl_term(c_pi, c_s))
            tvd_parts.append(_half_gap(c_pi, c_beta))
            continue
        if adaptive:
            children = [
                _closed_loop(ev, (*ha, o), steps_left - 1, c_pi, c_beta, c_s, adaptive, strategies)
                for o in range(ev.n_observations)
            ]
            kl_best = max(range(ev.n_observations), key=lambda o: children[o][0])
            tvd_best = max(range(ev.n_observations), key=lambda o: children[o][1])
            kl_parts.append(children[kl_best][0])
            tvd_parts.append(children[tvd_best][1])
            if strategies is not None:
                strategies[0][ha], strategies[1][ha] = kl_best, tvd_best
        else:
            env = ev.observations(ha)
            for o, w in enumerate(env):
                if w == 0:
                    continue
                k, t = _closed_loop(ev, (*ha, o), steps_left - 1, c_pi * w, c_beta * w, c_s, adaptive)
                kl_parts.append(k)
                tvd_parts.append(t)
    return math.fsum(kl_parts), _total(tvd_parts)


def _closed_loop_pair(
    ev: _Evaluator, h: History, horizon: int, reading: Reading, base: float | None, strategy: bool = False
) -> tuple[TreeDivergence, TreeDivergence]:
    """The KL and TVD results of one closed-loop pass (adaptive or expected)."""
    one: Number = Fraction(1)
    strategies: tuple[dict[History, int], dict[History, int]] | None = ({}, {}) if strategy else None
    kl_nats, tvd_value = _closed_loop(ev, h, horizon, one, one, 0.0, reading == "adaptive", strategies)
    kl_value, unit = _scale(kl_nats, base)
    kl_strategy, tvd_strategy = (None, None) if strategies is None else map(MappingProxyType, strategies)
    tvd_out = _tvd_out(tvd_value, ev.exact)
    return (
        TreeDivergence("kl", reading, kl_value, unit, None, None, ev.calls, horizon, kl_strategy),
        TreeDivergence("tvd", reading, tvd_out, "probability", None, None, ev.calls, horizon, tvd_strategy),
    )


# --------------------------------------------------------------------------------------------- one entry point


@dataclass(frozen=True)
class TreeShape:
    """The tree of Definition 2: ``n_actions`` (``K_a``), ``n_observations`` (``K_o``), ``horizon`` (``N``)."""

    n_actions: int
    n_observations: int
    horizon: int

    def __post_init__(self) -> None:
        _check_shape(self.n_actions, self.n_observations, self.horizon)


class TreeOptions(TypedDict, total=False):
    """Keyword options of :func:`tree_divergence` shared by its aliases (see there)."""

    history: Sequence[int]
    base: float | None
    per_sequence: bool
    strategy: bool
    max_nodes: int
    tol: float


_OPEN_LOOP: frozenset[str] = frozenset({"open-loop", "brute-force"})


def _check_options(
    measure: str, reading: str, env: Environment | None, base: float | None, per_sequence: bool, strategy: bool
) -> None:
    """Refuse combinations that mean nothing (each a ``ValueError`` naming the argument)."""
    if measure not in ("kl", "tvd"):
        raise ValueError(f"argument measure: expected 'kl' or 'tvd', got {measure!r}")
    if reading not in ("open-loop", "adaptive", "expected", "brute-force"):
        raise ValueError(f"argument reading: expected open-loop, adaptive, expected or brute-force, got {reading!r}")
    if (env is None) == (reading == "expected"):
        raise ValueError("argument env: the expected reading needs an environment, and only it takes one")
    if base is not None and measure != "kl":
        raise ValueError("argument base: only a KL has a logarithm base")
    if per_sequence and reading not in _OPEN_LOOP:
        raise ValueError(f"argument per_sequence: only open-loop readings have per-sequence values, not {reading}")
    if strategy and reading != "adaptive":
        raise ValueError(f"argument strategy: only the adaptive reading has an adversary, not {reading}")


def tree_divergence(
    pi: Policy | Levels,
    beta: Policy | Levels,
    shape: TreeShape,
    *,
    measure: Measure = "kl",
    reading: Reading = "open-loop",
    env: Environment | None = None,
    history: Sequence[int] = (),
    base: float | None = None,
    per_sequence: bool = False,
    strategy: bool = False,
    max_nodes: int = DEFAULT_MAX_NODES,
    tol: float = SUM_TOLERANCE,
) -> TreeDivergence:
    r"""Definition 2 and its readings: the one entry point of the tree-level divergences (module docstring).

    ``measure`` is ``"kl"`` (nats, or ``base``) or ``"tvd"`` (a probability); ``reading`` one of
    ``"open-loop"`` (exactly Definition 2: ``max_o sum_a P_pi(a|o) ln(P_pi(a|o) / P_beta(a|o))``),
    ``"brute-force"`` (the same by direct enumeration of joint sequences, a slow reference),
    ``"adaptive"`` (each ``o_t`` chosen after ``x_{<2t} a_t``; ``>=`` open loop; ``strategy=True`` returns the
    adversary) or ``"expected"`` (observations drawn from ``env(o | x_{<2t} a_t)``). ``per_sequence=True``
    (open-loop readings) returns the value of every observation sequence. Starts at ``history`` (even length).

    ``pi`` and ``beta`` are callables (:data:`~aitheory.types.Policy`), or both per-level arrays
    ``(N_s, K_a)`` (:mod:`aitheory.measures.sequence_form`, the fast path planning uses; open-loop reading
    only, ``policy_calls = 0``). Refuses trees with :func:`tree_size` above ``max_nodes``
    (``TreeTooLargeError``) before any policy call; costs in the module docstring.
    """
    _check_options(measure, reading, env, base, per_sequence, strategy)
    if not callable(pi) and not callable(beta) and isinstance(pi, (list, tuple)) and isinstance(beta, (list, tuple)):
        return _from_levels(pi, beta, shape, measure, reading, base, per_sequence)
    horizon = shape.horizon
    brute = reading == "brute-force"
    ev, h = _prepare(cast(Policy, pi), cast(Policy, beta), shape, history, max_nodes, tol, cache=brute, env=env)
    if reading == "open-loop":
        kls, tvds = _open_loop_table(ev, h, horizon)
        return _open_loop_result(measure, reading, kls if measure == "kl" else tvds, ev, horizon, base, per_sequence)
    if reading == "brute-force":
        return _open_loop_result(measure, reading, _brute_force_table(ev, h, horizon, measure), ev, horizon, base,
                                 per_sequence)
    kl_result, tvd_result = _closed_loop_pair(ev, h, horizon, reading, base, strategy)
    return kl_result if measure == "kl" else tvd_result


def _from_levels(
    pi: Levels, beta: Levels, shape: TreeShape, measure: Measure, reading: Reading, base: float | None,
    per_sequence: bool,
) -> TreeDivergence:
    """The open-loop reading from per-level arrays (:func:`aitheory.measures.sequence_form.open_loop`).

    Shapes are checked; values are taken as given (callers such as planning validate or construct them)."""
    if reading != "open-loop":
        raise ValueError(f"arguments pi, beta: level arrays give the open-loop reading only, not {reading}")
    ka, ko = shape.n_actions, shape.n_observations
    for name, levels in (("pi", pi), ("beta", beta)):
        want = [((ka * ko) ** s, ka) for s in range(shape.horizon)]
        got = [np.shape(level) for level in levels]
        if got != want:
            raise ValueError(f"argument {name}: level shapes {got}, expected {want}")
    if shape.horizon == 0:
        return _open_loop_result(measure, reading, {(): 0.0}, None, 0, base, per_sequence)
    kls, tvds = sequence_form.open_loop(pi, beta, ka, ko)
    values = kls if measure == "kl" else tvds
    sequences = itertools.product(range(ko), repeat=shape.horizon - 1)
    table: dict[History, Number] = dict(zip(sequences, (float(v) for v in values), strict=True))
    return _open_loop_result(measure, reading, table, None, shape.horizon, base, per_sequence)


def _brute_force_table(ev: _Evaluator, h: History, horizon: int, measure: Measure) -> dict[History, Number]:
    if horizon == 0:
        return {(): 0.0 if measure == "kl" else Fraction(0)}
    fn = _seq_kl if measure == "kl" else _seq_tvd
    return {obs: fn(ev, h, obs) for obs in itertools.product(range(ev.n_observations), repeat=horizon - 1)}


# --------------------------------------------------------------------------------------------- named readings
# Thin aliases of tree_divergence, one per (measure, reading), with the tree given by keywords.


def tree_kl(pi: Policy, beta: Policy, *, n_actions: int, n_observations: int, horizon: int,
            **options: Unpack[TreeOptions]) -> TreeDivergence:
    r"""``KL_{h,m}(pi || beta)`` exactly per Definition 2: the maximum over open-loop observation sequences.

    ``max_{o_{k:m-1}} sum_{a_{k:m}} P_pi(a|o) ln(P_pi(a|o) / P_beta(a|o))`` in nats (or ``base``), from the
    starting ``history`` over ``horizon`` action steps; ``inf`` if some branch has ``P_pi > 0 = P_beta``.
    Returns the value, the maximising observation sequence and, if ``per_sequence``, every sequence's value.

    Cost: ``2 * sum_{t<N} (K_a K_o)^t`` policy calls (each history once), ``O(K_o^(N-1) + N)`` memory;
    refuses trees with :func:`tree_size` above ``max_nodes`` (``TreeTooLargeError``) before any policy call.
    """
    return tree_divergence(pi, beta, TreeShape(n_actions, n_observations, horizon), **options)


def tree_tvd(pi: Policy, beta: Policy, *, n_actions: int, n_observations: int, horizon: int,
             **options: Unpack[TreeOptions]) -> TreeDivergence:
    r"""Open-loop tree TVD: ``max_{o_{k:m-1}} (1/2) sum_{a_{k:m}} |P_pi(a|o) - P_beta(a|o)|``.

    A probability in ``[0, 1]`` when both are measures (at most ``(mass_pi + mass_beta)/2`` for semimeasures);
    an exact Fraction when all policy outputs are Fractions. Same cost and limits as :func:`tree_kl`.
    """
    return tree_divergence(pi, beta, TreeShape(n_actions, n_observations, horizon), measure="tvd", **options)


def tree_kl_brute_force(pi: Policy, beta: Policy, *, n_actions: int, n_observations: int, horizon: int,
                        **options: Unpack[TreeOptions]) -> TreeDivergence:
    r"""Definition 2 by direct enumeration of joint sequences (slow reference for :func:`tree_kl`).

    Cost ``O(N K_a^N K_o^(N-1))`` arithmetic; policy calls cached per history (``O(D)`` memory).
    """
    shape = TreeShape(n_actions, n_observations, horizon)
    return tree_divergence(pi, beta, shape, reading="brute-force", **options)


def tree_tvd_brute_force(pi: Policy, beta: Policy, *, n_actions: int, n_observations: int, horizon: int,
                         **options: Unpack[TreeOptions]) -> TreeDivergence:
    r"""Open-loop tree TVD by direct enumeration of joint sequences (slow reference for :func:`tree_tvd`)."""
    shape = TreeShape(n_actions, n_observations, horizon)
    return tree_divergence(pi, beta, shape, measure="tvd", reading="brute-force", **options)


def tree_kl_adaptive(pi: Policy, beta: Policy, *, n_actions: int, n_observations: int, horizon: int,
                     **options: Unpack[TreeOptions]) -> TreeDivergence:
    r"""Adaptive upper bound on Definition 2: each ``o_t`` chosen after seeing ``x_{<2t} a_t``.

    ``max`` over deterministic observation strategies ``sigma`` of ``sum_leaves P_pi ln(P_pi / P_beta)`` (the
    joint KL of the interaction histories under ``(pi, sigma)`` and ``(beta, sigma)``); for a measure
    ``pi`` the backward recursion ``A(g) = sum_a pi(a|g) [ln(pi(a|g)/beta(a|g)) + max_o A(g a o)]``.
    Always ``>= tree_kl``.

    With ``strategy=True`` the result's ``strategy`` maps each reachable history ending in an action to the
    adversary's observation; following it as a deterministic environment reproduces the value.

    Cost: ``2 * sum_{t<N} (K_a K_o)^t`` policy calls (each history once), ``O(N)`` recursion depth
    (plus ``O(K_a D)`` memory for the strategy if asked).
    """
    return tree_divergence(pi, beta, TreeShape(n_actions, n_observations, horizon), reading="adaptive", **options)


def tree_tvd_adaptive(pi: Policy, beta: Policy, *, n_actions: int, n_observations: int, horizon: int,
                      **options: Unpack[TreeOptions]) -> TreeDivergence:
    r"""Adaptive TVD: ``max_sigma (1/2) sum_leaves |P_pi - P_beta|`` over observation strategies.

    ``>= tree_tvd``. ``strategy=True`` returns the maximising adversary, as in :func:`tree_kl_adaptive`
    (the TVD adversary can differ from the KL one). Same cost as :func:`tree_kl_adaptive`.
    """
    shape = TreeShape(n_actions, n_observations, horizon)
    return tree_divergence(pi, beta, shape, measure="tvd", reading="adaptive", **options)


def tree_kl_expected(pi: Policy, beta: Policy, env: Environment, *, n_actions: int, n_observations: int,
                     horizon: int, **options: Unpack[TreeOptions]) -> TreeDivergence:
    r"""KL between interaction histories with observations drawn from ``env(o | x_{<2t} a_t)``.

    ``sum_{histories} P_env P_pi ln(P_pi / P_beta)``; for measures this is ``KL(P^{pi,env} || P^{beta,env}) =
    E_{pi,env}[sum_t KL(pi(.|x_{<2t}) || beta(.|x_{<2t}))]``. Missing environment mass contributes 0.
    ``<= tree_kl_adaptive`` for a measure ``env``; ``<= tree_kl`` if moreover ``env`` ignores the actions.
    Branches with zero environment probability are not visited. Cost as :func:`tree_kl_adaptive` plus
    ``K_a sum_{t<N-1} (K_a K_o)^t`` environment calls.
    """
    shape = TreeShape(n_actions, n_observations, horizon)
    return tree_divergence(pi, beta, shape, reading="expected", env=env, **options)


def tree_tvd_expected(pi: Policy, beta: Policy, env: Environment, *, n_actions: int, n_observations: int,
                      horizon: int, **options: Unpack[TreeOptions]) -> TreeDivergence:
    r"""TVD between interaction histories under ``env``: ``(1/2) sum_{histories} P_env |P_pi - P_beta|``."""
    shape = TreeShape(n_actions, n_observations, horizon)
    return tree_divergence(pi, beta, shape, measure="tvd", reading="expected", env=env, **options)


# --------------------------------------------------------------------------------------------- all at once


@dataclass(frozen=True)
class TreeReport:
    """Every reading of the tree divergences from one computation (policy calls shared through a cache).

    Attributes:
        kl, tvd: open loop, Definition 2 (with maximisers; per-sequence tables if asked).
        kl_adaptive, tvd_adaptive: observations chosen after the actions.
        kl_expected, tvd_expected: under the environment ``env``; ``None`` if no ``env`` was given.
        policy_calls: distinct histories at which ``pi`` and ``beta`` were called (each at most once).
    """

    kl: TreeDivergence
    tvd: TreeDivergence
    kl_adaptive: TreeDivergence
    tvd_adaptive: TreeDivergence
    kl_expected: TreeDivergence | None
    tvd_expected: TreeDivergence | None
    policy_calls: int


def tree_report(
    pi: Policy,
    beta: Policy,
    env: Environment | None = None,
    *,
    n_actions: int,
    n_observations: int,
    horizon: int,
    history: Sequence[int] = (),
    base: float | None = None,
    per_sequence: bool = False,
    max_nodes: int = DEFAULT_MAX_NODES,
    tol: float = SUM_TOLERANCE,
) -> TreeReport:
    """Open-loop, adaptive and (with ``env``) expected KL and TVD, calling each policy once per history.

    Use this when policy calls are expensive (e.g. a Bayesian mixture): the results equal those of
    :func:`tree_kl`, :func:`tree_tvd`, :func:`tree_kl_adaptive`, ... but share one cache of policy outputs,
    so memory is ``O(D)`` for ``D = sum_{t<N} (K_a K_o)^t`` cached histories. Same size limit.
    """
    shape = TreeShape(n_actions, n_observations, horizon)
    ev, h = _prepare(pi, beta, shape, history, max_nodes, tol, cache=True, env=env)
    kls, tvds = _open_loop_table(ev, h, horizon)
    kl_open = _open_loop_result("kl", "open-loop", kls, ev, horizon, base, per_sequence)
    tvd_open = _open_loop_result("tvd", "open-loop", tvds, ev, horizon, None, per_sequence)
    kl_adaptive, tvd_adaptive = _closed_loop_pair(ev, h, horizon, "adaptive", base)
    expected = _closed_loop_pair(ev, h, horizon, "expected", base) if env is not None else (None, None)
    calls = ev.calls
    kl_expected, tvd_expected = expected
    return TreeReport(
        kl=replace(kl_open, policy_calls=calls),
        tvd=replace(tvd_open, policy_calls=calls),
        kl_adaptive=replace(kl_adaptive, policy_calls=calls),
        tvd_adaptive=replace(tvd_adaptive, policy_calls=calls),
        kl_expected=None if kl_expected is None else replace(kl_expected, policy_calls=calls),
        tvd_expected=None if tvd_expected is None else replace(tvd_expected, policy_calls=calls),
        policy_calls=calls,
    )
