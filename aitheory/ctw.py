r"""Context tree weighting (CTW): the exact Bayes mixture over prediction suffix trees of depth <= D.

The model class
---------------
Symbols come from the alphabet ``X = {0, ..., K-1}`` (``K >= 2``). The *context* of the symbol ``x_t`` is the
string of the ``D`` symbols before it, most recent first: ``x_{t-1} x_{t-2} ... x_{t-D}``. Before the first
symbol the history is padded with a fixed *initial context* of ``D`` symbols (zeros by default), so every
symbol has a full context and the model is ``P(x_{1:n} | initial context)``.

A *prediction suffix tree* ``S`` of depth ``<= D`` is a K-ary tree whose leaves are context suffixes; each
symbol is routed to the unique leaf that is a suffix of its context, and each leaf predicts with its own
Krichevsky-Trofimov (KT) estimator. The K-ary KT estimator (Dirichlet(1/2, ..., 1/2) prior) with counts
``n_1..n_K`` (``n = sum n_s``) predicts

    p_e(s | n) = (n_s + 1/2) / (n + K/2),
    P_e(n)     = prod_s Gamma(n_s + 1/2) / Gamma(1/2)  *  Gamma(K/2) / Gamma(n + K/2)

(the probability of any sequence with those counts; for ``K = 2`` this is the binary KT estimator). CTW puts
the prior ``2^{-Gamma_D(S)}`` on suffix trees, where ``Gamma_D(S)`` is the number of nodes of ``S`` at depth
``< D`` (each such node spends one bit on "leaf or split"; nodes at depth ``D`` are leaves for free; for
``K = 2`` this is Willems-Shtarkov-Tjalkens' ``2|S| - 1 - |{s in S : l(s) = D}|``). These weights sum to 1,
and the mixture ``P_w(x_{1:n}) = sum_S 2^{-Gamma_D(S)} prod_{leaves s} P_e(counts at s)`` is computed exactly
by the recursion over the context tree

    P_w^s = P_e^s                                          if l(s) = D,
    P_w^s = 1/2 P_e^s + 1/2 prod_{c in X} P_w^{cs}         if l(s) < D,

with ``P_w = P_w^{root}``. Everything is stored in log space (nats): ``ln P_w^s = logaddexp(ln P_e^s,
sum_c ln P_w^{cs}) - ln 2``. A node that has seen no symbol has ``P_e = P_w = 1`` and is not stored.

The predictive ``P_w(x | x_{1:n}) = P_w(x_{1:n} x) / P_w(x_{1:n})`` is computed along the context path, leaf
to root: ``p_w^s(x) = p_e^s(x)`` at depth ``D`` and otherwise

    p_w^s(x) = b_s p_e^s(x) + (1 - b_s) p_w^{cs}(x),    b_s = P_e^s / (2 P_w^s) in [0, 1],

(``cs`` the child on the path), because only the path child's factor of the product changes. Every node's
predictive is therefore a convex combination of probability vectors and sums to 1 up to rounding; unlike
pyaixi's CTW the leaves are updated like every other node, and ``tests/test_ctw.py`` checks that every node's
predictive sums to 1 within 1e-12 and equals the ratio of its weighted probabilities.

Actions and observations
------------------------
With ``roles = R > 1`` the history is an interleaving ``a_1 o_1 a_2 o_2 ...`` (``R = 2``): the symbol at
(0-based) position ``t`` has role ``t mod R``. Each role has its **own context tree** (its own mixture over
suffix trees) while the context is always the last ``D`` symbols of the full interleaved history, whatever
their roles. The joint probability factorises,

    P(x_{1:n}) = prod_r P_w^{(r)}(symbols of role r | their contexts),

which is the Bayes mixture over tuples ``(S_0, ..., S_{R-1})`` of suffix trees with the product prior: a
policy model and an environment model that are independent a priori. ``P_w^{(1)}`` alone (``role=1``) is the
chronological probability of the observations given the actions, ``P(o_{1:m} || a_{1:m})``, and ``predict()``
before an action is the policy mixture ``P(a_t | a_1 o_1 ... o_{t-1})``. We chose separate trees over "the
role as an extra context symbol" because the latter lets the tree share statistics between actions and
observations at the root, which no agent/environment split wants, and separate trees keep the factorisation.

Exactness and numerics
----------------------
``ln P_e`` is updated incrementally by ``ln p_e(x)``, evaluated as ``log1p`` of an exactly representable
ratio when ``p_e(x) >= 1/2``, so a node that predicts well keeps full relative precision in its tiny
per-step loss (an ``lgamma``-of-counts formula would lose ~``1e-16 n ln n`` nats to cancellation). Each
``ln P_w`` is a deterministic function of the node's ``ln P_e`` and its children's ``ln P_w``; an undo log
keeps the ``D + 1`` previous ``ln P_e`` values of every update, so :meth:`CTW.revert` restores the state
*bit for bit* (and frees the nodes the update created), and online updates equal batch updates bit for bit.
Per-step log-probabilities are differences of root values, ``ln P_w(x_{1:t}) - ln P_w(x_{<t})``.

The fast path is compiled with numba (``cache=True``); :class:`ReferenceCTW` is a plain-Python dictionary
implementation (independent formulas: incremental KT, predictions by hypothetical updates) used as the
baseline of ``benchmarks/bench_ctw.py`` and as an oracle in the tests.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numba
import numpy as np

__all__ = [
    "CTW",
    "CTWNode",
    "CTWSnapshot",
    "ReferenceCTW",
    "ctw_log_prob",
    "ctw_log_probs",
]

LN2 = math.log(2.0)
_NO_CHILD = -1

SymbolSequence = Sequence[int] | np.ndarray


# --------------------------------------------------------------------------------------------------------
# Compiled kernels. State: counts[node, K] (int64), children[node, K] (int32, -1 = none), log_pe[node],
# log_pw[node] (float64, nats), nn[0] = number of nodes in use; nodes 0..R-1 are the roots of the R roles.
# hist is the padded history: hist[0:D] is the initial context, hist[D + t] the t-th symbol (0-based).
# --------------------------------------------------------------------------------------------------------


@numba.njit(cache=True)
def _kt_log_step(count_x: int, total: int, k: int) -> float:
    """``ln p_e(x) = ln((n_x + 1/2) / (n + K/2))``, accurate also when the ratio is close to 1.

    For a ratio >= 1/2 it is computed as ``log1p(-(n - n_x + (K-1)/2) / (n + K/2))``, whose numerator is
    exact, so a highly predictable node keeps full relative precision in its (tiny) per-step loss.
    """
    num = count_x + 0.5
    den = total + 0.5 * k
    if 2.0 * num >= den:
        return math.log1p(-((total - count_x) + 0.5 * (k - 1)) / den)
    return math.log(num / den)


@numba.njit(cache=True)
def _mix_log(log_pe: np.ndarray, log_pw: np.ndarray, children: np.ndarray, node: int) -> float:
    """``ln(1/2 P_e + 1/2 prod_c P_w^c)`` for an internal node (children absent contribute ln 1 = 0)."""
    k = children.shape[1]
    s = 0.0
    for c in range(k):
        ch = children[node, c]
        if ch >= 0:
            s += log_pw[ch]
    a = log_pe[node]
    if a >= s:
        return a + math.log1p(math.exp(s - a)) - LN2
    return s + math.log1p(math.exp(a - s)) - LN2


@numba.njit(cache=True)
def _path(hist: np.ndarray, pos: int, root: int, depth: int, children: np.ndarray, path: np.ndarray) -> int:
    """Fill ``path[0..]`` with the existing nodes on the context path of ``hist[pos]``; return how many."""
    node = root
    path[0] = node
    for d in range(depth):
        node = children[node, hist[pos - 1 - d]]
        if node < 0:
            return d + 1
        path[d + 1] = node
    return depth + 1


@numba.njit(cache=True)
def _predict_path(
    counts: np.ndarray,
    log_pe: np.ndarray,
    log_pw: np.ndarray,
    path: np.ndarray,
    n_path: int,
    depth: int,
    out: np.ndarray,
) -> None:
    """Weighted predictive of every node on the path, leaf to root: ``out[d]`` for the node at depth d.

    Rows for absent nodes (d >= n_path) are uniform.
    """
    k = counts.shape[1]
    half_k = 0.5 * k
    for d in range(n_path, depth + 1):
        for s in range(k):
            out[d, s] = 1.0 / k
    for d in range(n_path - 1, -1, -1):
        node = path[d]
        n = 0
        for s in range(k):
            n += counts[node, s]
        denom = n + half_k
        if d == depth:
            for s in range(k):
                out[d, s] = (counts[node, s] + 0.5) / denom
        else:
            b = math.exp(log_pe[node] - LN2 - log_pw[node])
            if b > 1.0:
                b = 1.0
            for s in range(k):
                out[d, s] = b * ((counts[node, s] + 0.5) / denom) + (1.0 - b) * out[d + 1, s]


@numba.njit(cache=True)
def _predict_next(
    hist: np.ndarray,
    pos: int,
    root: int,
    depth: int,
    counts: np.ndarray,
    children: np.ndarray,
    log_pe: np.ndarray,
    log_pw: np.ndarray,
    path: np.ndarray,
    out: np.ndarray,
) -> None:
    """Predictives of every node on the context path of ``hist[pos]`` (one compiled call for predict)."""
    n_path = _path(hist, pos, root, depth, children, path)
    _predict_path(counts, log_pe, log_pw, path, n_path, depth, out)


@numba.njit(cache=True)
def _mix_path(log_pe: np.ndarray, log_pw: np.ndarray, children: np.ndarray, path: np.ndarray, depth: int) -> None:
    """The weighted log probabilities along the context ``path`` after its counts changed, leaf to root:
    ``P_w = P_e`` at the leaf (depth ``depth``), :func:`_mix_log` at every node above it."""
    log_pw[path[depth]] = log_pe[path[depth]]
    for d in range(depth - 1, -1, -1):
        log_pw[path[d]] = _mix_log(log_pe, log_pw, children, path[d])


@numba.njit(cache=True)
def _run(
    hist: np.ndarray,
    start: int,
    stop: int,
    depth: int,
    roles: int,
    counts: np.ndarray,
    children: np.ndarray,
    log_pe: np.ndarray,
    log_pw: np.ndarray,
    nn: np.ndarray,
    undo: np.ndarray,
    keep_undo: bool,
    out_logp: np.ndarray,
    out_pred: np.ndarray,
    want_pred: bool,
) -> int:
    """Update with the symbols ``hist[depth + start : depth + stop]``; return the index reached.

    ``out_logp[t - start] = ln P(x_t | x_{<t})`` (nats, a difference of root values); if ``want_pred``,
    ``out_pred[t - start]`` is the predictive before ``x_t``. Stops early (returning the index of the first
    unprocessed symbol) when fewer than ``depth`` free nodes remain, so the caller can grow the arrays.
    """
    k = counts.shape[1]
    cap = counts.shape[0]
    path = np.empty(depth + 1, dtype=np.int64)
    rows = np.empty((depth + 1, k), dtype=np.float64)
    for t in range(start, stop):
        if nn[0] + depth > cap:
            return t
        pos = depth + t
        root = t % roles
        x = hist[pos]
        if want_pred:
            n_path = _path(hist, pos, root, depth, children, path)
            _predict_path(counts, log_pe, log_pw, path, n_path, depth, rows)
            for s in range(k):
                out_pred[t - start, s] = rows[0, s]
        before = log_pw[root]
        node = root
        path[0] = node
        for d in range(depth):
            c = hist[pos - 1 - d]
            ch = children[node, c]
            if ch < 0:
                ch = nn[0]
                nn[0] += 1
                for s in range(k):
                    counts[ch, s] = 0
                    children[ch, s] = -1
                log_pe[ch] = 0.0
                log_pw[ch] = 0.0
                children[node, c] = ch
            node = ch
            path[d + 1] = node
        for d in range(depth + 1):
            node = path[d]
            if keep_undo:
                undo[t, d] = log_pe[node]
            total = 0
            for s in range(k):
                total += counts[node, s]
            log_pe[node] += _kt_log_step(counts[node, x], total, k)
            counts[node, x] += 1
        _mix_path(log_pe, log_pw, children, path, depth)
        out_logp[t - start] = log_pw[root] - before
    return stop


@numba.njit(cache=True)
def _revert(
    hist: np.ndarray,
    n_symbols: int,
    n_revert: int,
    depth: int,
    roles: int,
    counts: np.ndarray,
    children: np.ndarray,
    log_pe: np.ndarray,
    log_pw: np.ndarray,
    nn: np.ndarray,
    undo: np.ndarray,
) -> None:
    """Undo the last ``n_revert`` of the ``n_symbols`` updates, newest first; free the nodes they created."""
    k = counts.shape[1]
    path = np.empty(depth + 1, dtype=np.int64)
    for t in range(n_symbols - 1, n_symbols - 1 - n_revert, -1):
        pos = depth + t
        root = t % roles
        x = hist[pos]
        _path(hist, pos, root, depth, children, path)
        for d in range(depth + 1):
            node = path[d]
            counts[node, x] -= 1
            log_pe[node] = undo[t, d]
        _mix_path(log_pe, log_pw, children, path, depth)
        # Nodes created by this update now have no counts and sit on top of the pool: free them.
        for d in range(depth, 0, -1):
            node = path[d]
            total = 0
            for s in range(k):
                total += counts[node, s]
            if total != 0 or node != nn[0] - 1:
                break
            children[path[d - 1], hist[pos - d]] = -1
            nn[0] -= 1


# --------------------------------------------------------------------------------------------------------
# Public interface
# --------------------------------------------------------------------------------------------------------

_stamp_counter = [0]  # process-wide, so stamps are unique across predictors and their copies


def _reserve_stamps(m: int) -> int:
    """Reserve ``m`` consecutive update stamps, unique in this process; return the first."""
    first = _stamp_counter[0]
    _stamp_counter[0] = first + m
    return first


@dataclass(frozen=True)
class CTWSnapshot:
    """A point in a :class:`CTW` predictor's history that :meth:`CTW.restore` can return to.

    Attributes:
        length: number of symbols seen at the snapshot.
        stamp: process-wide unique identity of the update that produced the last of those symbols (-1 for
            the empty history), so a snapshot of another predictor, or of a copy that has since diverged, is
            recognised and refused.
    """

    length: int
    stamp: int


@dataclass(frozen=True)
class CTWNode:
    """One node of a context tree, for inspection.

    Attributes:
        role: which role's tree (0 when there is a single role).
        context: the context suffix, most recent symbol first (``()`` is the root).
        counts: how often each symbol followed this context (length K).
        log_pe: ``ln P_e`` of the counts, nats (KT estimator).
        log_pw: ``ln P_w`` of the node, nats (weighted over the subtrees below it).
    """

    role: int
    context: tuple[int, ...]
    counts: tuple[int, ...]
    log_pe: float
    log_pw: float


def _check_int(value: int, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"argument {name}: expected an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"argument {name}: must be >= {minimum}, got {value}")
    return int(value)


def _as_symbols(values: SymbolSequence, alphabet_size: int, name: str) -> np.ndarray:
    """Validate a sequence of symbols in ``0..alphabet_size-1`` and return it as an int32 array."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"argument {name}: expected a 1-D sequence of symbols, got shape {arr.shape}")
    if arr.size == 0:
        return np.zeros(0, dtype=np.int32)
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"argument {name}: symbols must be integers, got dtype {arr.dtype}")
    bad = np.flatnonzero((arr < 0) | (arr >= alphabet_size))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"argument {name}: symbol {arr[i]} at index {i} is out of range 0..{alphabet_size - 1}"
        )
    return arr.astype(np.int32)


class CTW:
    r"""Online context tree weighting predictor over ``K`` symbols with context depth ``D``.

    ``P(x_{1:n}) = prod_r sum_{S_r} 2^{-Gamma_D(S_r)} prod_{leaves s of S_r} P_e(counts of role r at s)``,
    the exact Bayes mixture over prediction suffix trees of depth ``<= D`` (one tree per role; see the module
    docstring). All log-probabilities are natural logarithms (nats).

    Args:
        depth: context depth D >= 0 (D = 0 is a single KT estimator per role).
        alphabet_size: K >= 2.
        roles: R >= 1 interleaved roles; the symbol at 0-based position t has role ``t mod R``
            (R = 2 for ``a_1 o_1 a_2 o_2 ...``: role 0 = actions, role 1 = observations).
        initial_context: the D symbols assumed before the first one, oldest first (default: D zeros).
        capacity: initial number of node slots (grown automatically).
        revertible: keep an undo log (the D + 1 previous ``ln P_e`` values per symbol, 8(D+1) bytes) so that
            :meth:`revert` and :meth:`restore` are exact; with False they raise and memory is nodes only.
    """

    def __init__(
        self,
        depth: int,
        alphabet_size: int = 2,
        roles: int = 1,
        initial_context: SymbolSequence | None = None,
        capacity: int = 1024,
        revertible: bool = True,
    ) -> None:
        self._depth = _check_int(depth, "depth", 0)
        self._k = _check_int(alphabet_size, "alphabet_size", 2)
        self._roles = _check_int(roles, "roles", 1)
        capacity = max(_check_int(capacity, "capacity", 1), self._roles + self._depth + 1)
        if initial_context is None:
            ctx = np.zeros(self._depth, dtype=np.int32)
        else:
            ctx = _as_symbols(initial_context, self._k, "initial_context")
            if ctx.size != self._depth:
                raise ValueError(
                    f"argument initial_context: expected {self._depth} symbols (the depth), got {ctx.size}"
                )
        self._hist = np.zeros(self._depth + 64, dtype=np.int32)
        self._hist[: self._depth] = ctx
        self._stamps = np.zeros(64, dtype=np.int64)
        self._n = 0
        self._counts = np.zeros((capacity, self._k), dtype=np.int64)
        self._children = np.full((capacity, self._k), _NO_CHILD, dtype=np.int32)
        self._log_pe = np.zeros(capacity, dtype=np.float64)
        self._log_pw = np.zeros(capacity, dtype=np.float64)
        self._nn = np.array([self._roles], dtype=np.int64)
        self._revertible = bool(revertible)
        self._undo = np.zeros((64 if self._revertible else 0, self._depth + 1), dtype=np.float64)
        self._rows = np.empty((self._depth + 1, self._k), dtype=np.float64)
        self._pathbuf = np.empty(self._depth + 1, dtype=np.int64)
        self._out1 = np.empty(1, dtype=np.float64)
        self._pred0 = np.empty((0, self._k), dtype=np.float64)

    # ---- properties -------------------------------------------------------------------------------------

    @property
    def depth(self) -> int:
        """Context depth D."""
        return self._depth

    @property
    def alphabet_size(self) -> int:
        """Alphabet size K."""
        return self._k

    @property
    def roles(self) -> int:
        """Number of interleaved roles R."""
        return self._roles

    @property
    def next_role(self) -> int:
        """Role of the next symbol, ``len(self) mod R``."""
        return self._n % self._roles

    @property
    def history(self) -> np.ndarray:
        """The symbols seen so far (a copy, initial context excluded)."""
        return self._hist[self._depth : self._depth + self._n].copy()

    @property
    def node_count(self) -> int:
        """Number of stored nodes (roots included)."""
        return int(self._nn[0])

    def __len__(self) -> int:
        return self._n

    def __repr__(self) -> str:
        return (
            f"CTW(depth={self._depth}, alphabet_size={self._k}, roles={self._roles}, "
            f"symbols={self._n}, nodes={self.node_count})"
        )

    # ---- probabilities ----------------------------------------------------------------------------------

    def log_prob_history(self, role: int | None = None) -> float:
        """``ln P_w`` of the history seen so far (nats); with ``role``, only that role's tree's factor."""
        if role is None:
            return float(math.fsum(self._log_pw[: self._roles]))
        return float(self._log_pw[self._check_role(role)])

    def predict(self) -> np.ndarray:
        """``P_w(x | history)`` for each symbol x of the next role: a length-K vector summing to 1 (1e-12)."""
        self._fill_rows()
        return self._rows[0].copy()

    def path_predictives(self, context: SymbolSequence | None = None, role: int | None = None) -> np.ndarray:
        """The weighted predictive ``p_w^s`` of every node s on a context path.

        By default the path of the next symbol (its role, the last D symbols of the history); with
        ``context`` (D symbols, most recent first) and ``role``, the path of a symbol in that context, which
        reaches any stored node. Row d is the node at depth d (row 0 = the root = :meth:`predict` for the
        default path); a node not stored predicts uniformly. Shape ``(D + 1, K)``; rows sum to 1 (1e-12).
        """
        if context is None and role is None:
            self._fill_rows()
            return self._rows.copy()
        r = self.next_role if role is None else self._check_role(role)
        if context is None:
            ctx = self._hist[self._n : self._depth + self._n][::-1].copy()
        else:
            ctx = _as_symbols(context, self._k, "context")
            if ctx.size != self._depth:
                raise ValueError(f"argument context: expected {self._depth} symbols got {ctx.size}")
        hist = np.append(ctx[::-1], 0).astype(np.int32)  # oldest first, then a slot for the predicted symbol
        path = np.empty(self._depth + 1, dtype=np.int64)
        rows = np.empty((self._depth + 1, self._k), dtype=np.float64)
        n_path = _path(hist, self._depth, r, self._depth, self._children, path)
        _predict_path(self._counts, self._log_pe, self._log_pw, path, n_path, self._depth, rows)
        return rows

    def _fill_rows(self) -> None:
        _predict_next(
            self._hist, self._depth + self._n, self._n % self._roles, self._depth,
            self._counts, self._children, self._log_pe, self._log_pw, self._pathbuf, self._rows,
        )  # fmt: skip

    def update(self, symbol: int) -> float:
        """Append ``symbol`` to the history; return ``ln P_w(symbol | previous history)`` in nats."""
        if isinstance(symbol, bool) or not isinstance(symbol, (int, np.integer)):
            raise ValueError(f"argument symbol: expected an integer symbol, got {symbol!r}")
        if not 0 <= symbol < self._k:
            raise ValueError(f"argument symbol: {symbol} is out of range 0..{self._k - 1}")
        self._ensure_hist(1)
        if self._nn[0] + self._depth > self._counts.shape[0]:
            self._grow_nodes()
        t = self._n
        self._hist[self._depth + t] = symbol
        self._stamps[t] = _reserve_stamps(1)
        _run(
            self._hist, t, t + 1, self._depth, self._roles, self._counts, self._children,
            self._log_pe, self._log_pw, self._nn, self._undo, self._revertible,
            self._out1, self._pred0, False,
        )  # fmt: skip
        self._n = t + 1
        return float(self._out1[0])

    def update_many(self, symbols: SymbolSequence) -> np.ndarray:
        """Append every symbol in turn (batch, compiled); return the per-step ``ln P(x_t | x_{<t})`` (nats).

        Gives exactly the same numbers and final state as calling :meth:`update` on each symbol.
        """
        arr = _as_symbols(symbols, self._k, "symbols")
        return self._process(arr, want_pred=False)[0]

    def predict_many(self, symbols: SymbolSequence) -> tuple[np.ndarray, np.ndarray]:
        """Append every symbol, returning ``(predictions, log_probs)``.

        ``predictions[t]`` is :meth:`predict` just before ``symbols[t]`` (shape ``(n, K)``) and
        ``log_probs[t]`` is ``ln P(symbols[t] | ...)`` in nats, exactly as the online calls would give them.
        """
        arr = _as_symbols(symbols, self._k, "symbols")
        logp, pred = self._process(arr, want_pred=True)
        return pred, logp

    def log_prob(self, sequence: SymbolSequence, role: int | None = None) -> float:
        """``ln P_w(sequence | history)`` in nats, leaving the predictor unchanged.

        With ``role``, only the factor of that role's tree: e.g. with R = 2 and ``role=1``, the chronological
        log-probability of the observations in ``sequence`` given its actions (and the history). Runs the
        batch update and reverts it (on a copy when ``revertible=False``).
        """
        arr = _as_symbols(sequence, self._k, "sequence")
        if role is not None:
            self._check_role(role)
        model = self if self._revertible else self.copy()
        snap = model.snapshot()
        before = model.log_prob_history(role)
        model._process(arr, want_pred=False)
        after = model.log_prob_history(role)
        if model is self:
            self.restore(snap)
        return after - before

    # ---- undo -------------------------------------------------------------------------------------------

    def revert(self, n: int = 1) -> None:
        """Undo the last ``n`` updates exactly (bit for bit), freeing the nodes they created."""
        n = _check_int(n, "n", 0)
        if not self._revertible:
            raise ValueError(
                "argument n: this predictor was built with revertible=False and keeps no undo log"
            )
        if n > self._n:
            raise ValueError(f"argument n: cannot revert {n} symbols, only {self._n} seen")
        if n == 0:
            return
        _revert(
            self._hist, self._n, n, self._depth, self._roles, self._counts, self._children,
            self._log_pe, self._log_pw, self._nn, self._undo,
        )  # fmt: skip
        self._n -= n

    def snapshot(self) -> CTWSnapshot:
        """A cheap marker of the current state (O(1)); :meth:`restore` reverts back to it."""
        stamp = int(self._stamps[self._n - 1]) if self._n else -1
        return CTWSnapshot(self._n, stamp)

    def restore(self, snapshot: CTWSnapshot) -> None:
        """Revert to ``snapshot``, which must be an ancestor of the current state (same history prefix)."""
        ok = snapshot.length <= self._n and (
            snapshot.length == 0 or int(self._stamps[snapshot.length - 1]) == snapshot.stamp
        )
        if not ok or (snapshot.length == 0 and snapshot.stamp != -1):
            raise ValueError(
                "argument snapshot: not an ancestor of the current state (it was taken on a history that "
                "has since been reverted or belongs to another predictor)"
            )
        self.revert(self._n - snapshot.length)

    def copy(self) -> CTW:
        """An independent deep copy."""
        new = CTW.__new__(CTW)
        new.__dict__.update(self.__dict__)
        names = (
            "_hist",
            "_stamps",
            "_undo",
            "_counts",
            "_children",
            "_log_pe",
            "_log_pw",
            "_nn",
            "_rows",
            "_pathbuf",
            "_out1",
        )
        for name in names:
            setattr(new, name, getattr(self, name).copy())
        return new

    # ---- inspection -------------------------------------------------------------------------------------

    def node(self, context: SymbolSequence, role: int = 0) -> CTWNode | None:
        """The node for ``context`` (most recent symbol first) in ``role``'s tree, or None if not stored."""
        ctx = _as_symbols(context, self._k, "context")
        if ctx.size > self._depth:
            raise ValueError(f"argument context: longer ({ctx.size}) than the depth {self._depth}")
        node = self._check_role(role)
        for c in ctx:
            node = int(self._children[node, c])
            if node < 0:
                return None
        return self._node_record(role, tuple(int(c) for c in ctx), node)

    def iter_nodes(self) -> Iterator[CTWNode]:
        """Every stored node of every role's tree, depth first, children in symbol order."""
        for role in range(self._roles):
            stack: list[tuple[int, tuple[int, ...]]] = [(role, ())]
            while stack:
                node, ctx = stack.pop()
                yield self._node_record(role, ctx, node)
                for c in range(self._k - 1, -1, -1):
                    ch = int(self._children[node, c])
                    if ch >= 0:
                        stack.append((ch, (*ctx, c)))

    # ---- internals --------------------------------------------------------------------------------------

    def _node_record(self, role: int, ctx: tuple[int, ...], node: int) -> CTWNode:
        return CTWNode(
            role,
            ctx,
            tuple(int(c) for c in self._counts[node]),
            float(self._log_pe[node]),
            float(self._log_pw[node]),
        )

    def _check_role(self, role: int) -> int:
        if isinstance(role, bool) or not isinstance(role, (int, np.integer)) or not 0 <= role < self._roles:
            raise ValueError(f"argument role: expected an integer in 0..{self._roles - 1}, got {role!r}")
        return int(role)

    def _ensure_hist(self, extra: int) -> None:
        need = self._depth + self._n + extra
        if need > self._hist.size:
            grown = np.zeros(max(need, 2 * self._hist.size), dtype=np.int32)
            grown[: self._hist.size] = self._hist
            self._hist = grown
        if self._n + extra > self._stamps.size:
            size = max(self._n + extra, 2 * self._stamps.size)
            stamps = np.zeros(size, dtype=np.int64)
            stamps[: self._stamps.size] = self._stamps
            self._stamps = stamps
            if self._revertible:
                undo = np.zeros((size, self._depth + 1), dtype=np.float64)
                undo[: self._undo.shape[0]] = self._undo
                self._undo = undo

    def _grow_nodes(self) -> None:
        cap = self._counts.shape[0]
        new_cap = 2 * cap
        counts = np.zeros((new_cap, self._k), dtype=np.int64)
        counts[:cap] = self._counts
        children = np.full((new_cap, self._k), _NO_CHILD, dtype=np.int32)
        children[:cap] = self._children
        log_pe = np.zeros(new_cap)
        log_pe[:cap] = self._log_pe
        log_pw = np.zeros(new_cap)
        log_pw[:cap] = self._log_pw
        self._counts, self._children, self._log_pe, self._log_pw = counts, children, log_pe, log_pw

    def _process(self, arr: np.ndarray, want_pred: bool) -> tuple[np.ndarray, np.ndarray]:
        m = arr.size
        self._ensure_hist(m)
        start = self._n
        self._hist[self._depth + start : self._depth + start + m] = arr
        first = _reserve_stamps(m)
        self._stamps[start : start + m] = np.arange(first, first + m)
        logp = np.empty(m, dtype=np.float64)
        pred = np.empty((m if want_pred else 0, self._k), dtype=np.float64)
        t = start
        while t < start + m:
            t_next = _run(
                self._hist, t, start + m, self._depth, self._roles, self._counts, self._children,
                self._log_pe, self._log_pw, self._nn, self._undo, self._revertible,
                logp[t - start :], pred[t - start :] if want_pred else pred, want_pred,
            )  # fmt: skip
            self._n = t_next
            if t_next < start + m:
                self._grow_nodes()
            t = t_next
        return logp, pred


def ctw_log_probs(
    sequence: SymbolSequence,
    depth: int,
    alphabet_size: int = 2,
    roles: int = 1,
    initial_context: SymbolSequence | None = None,
) -> np.ndarray:
    """Per-step ``ln P_w(x_t | x_{<t})`` (nats) of ``sequence`` under a fresh :class:`CTW` (batch)."""
    return CTW(depth, alphabet_size, roles, initial_context).update_many(sequence)


def ctw_log_prob(
    sequence: SymbolSequence,
    depth: int,
    alphabet_size: int = 2,
    roles: int = 1,
    initial_context: SymbolSequence | None = None,
) -> float:
    """``ln P_w(sequence)`` in nats under a fresh :class:`CTW` (the root values after a batch update)."""
    model = CTW(depth, alphabet_size, roles, initial_context)
    model.update_many(sequence)
    return model.log_prob_history()


# --------------------------------------------------------------------------------------------------------
# Plain-Python reference
# --------------------------------------------------------------------------------------------------------


class ReferenceCTW:
    """Plain-Python CTW with the same model and interface subset (slow; a baseline and an oracle).

    Nodes live in a dict keyed by ``(role, context)``; ``ln P_e`` is updated incrementally by
    ``ln p_e(x) = ln((n_x + 1/2) / (n + K/2))``, and :meth:`predict` computes each ``P_w(h x) / P_w(h)`` by a
    hypothetical update of the path (not by the ``b_s`` recursion of :class:`CTW`).
    """

    def __init__(
        self,
        depth: int,
        alphabet_size: int = 2,
        roles: int = 1,
        initial_context: Sequence[int] | None = None,
    ) -> None:
        self.depth = _check_int(depth, "depth", 0)
        self.alphabet_size = _check_int(alphabet_size, "alphabet_size", 2)
        self.roles = _check_int(roles, "roles", 1)
        ctx = [0] * self.depth if initial_context is None else [int(c) for c in initial_context]
        if len(ctx) != self.depth:
            raise ValueError(f"argument initial_context: expected {self.depth} symbols, got {len(ctx)}")
        self._hist: list[int] = ctx
        self._n = 0
        # node -> [counts, log_pe, log_pw]
        self._nodes: dict[tuple[int, tuple[int, ...]], list] = {}

    def _context(self) -> tuple[int, ...]:
        return tuple(reversed(self._hist[len(self._hist) - self.depth :])) if self.depth else ()

    def _get(self, role: int, ctx: tuple[int, ...]) -> list:
        return self._nodes.get((role, ctx)) or [[0] * self.alphabet_size, 0.0, 0.0]

    def _new_values(self, x: int) -> list[tuple[tuple[int, ...], list]]:
        """The path's nodes after appending ``x``, deepest first, without mutating anything."""
        role = self._n % self.roles
        full = self._context()
        k = self.alphabet_size
        out: list[tuple[tuple[int, ...], list]] = []
        child_ctx: tuple[int, ...] | None = None
        child_pw = 0.0
        for d in range(self.depth, -1, -1):
            ctx = full[:d]
            counts, log_pe, _ = self._get(role, ctx)
            n = sum(counts)
            new_pe = log_pe + math.log((counts[x] + 0.5) / (n + k / 2))
            new_counts = list(counts)
            new_counts[x] += 1
            if d == self.depth:
                new_pw = new_pe
            else:
                prod = 0.0
                for c in range(k):
                    cctx = (*ctx, c)
                    prod += child_pw if cctx == child_ctx else self._get(role, cctx)[2]
                m = max(new_pe, prod)
                new_pw = m + math.log(math.exp(new_pe - m) + math.exp(prod - m)) - LN2
            out.append((ctx, [new_counts, new_pe, new_pw]))
            child_ctx, child_pw = ctx, new_pw
        return out

    def log_prob_history(self) -> float:
        """``ln P_w`` of the history (nats)."""
        return sum(self._get(r, ())[2] for r in range(self.roles))

    def predict(self) -> np.ndarray:
        """Predictive of the next symbol, each entry a ratio ``P_w(h x) / P_w(h)``."""
        role = self._n % self.roles
        old = self._get(role, ())[2]
        return np.array([math.exp(self._new_values(x)[-1][1][2] - old) for x in range(self.alphabet_size)])

    def update(self, symbol: int) -> float:
        """Append ``symbol``; return ``ln P(symbol | history)`` in nats."""
        if not 0 <= symbol < self.alphabet_size:
            raise ValueError(f"argument symbol: {symbol} is out of range 0..{self.alphabet_size - 1}")
        role = self._n % self.roles
        old = self._get(role, ())[2]
        for ctx, values in self._new_values(symbol):
            self._nodes[(role, ctx)] = values
        self._hist.append(symbol)
        self._n += 1
        return self._nodes[(role, ())][2] - old
