r"""Exhaustive first-hold search: every detector of a block on several observation streams, in one pass.

The same first-hold times as :func:`aitheory.dsl.events.first_hold_times` (``tests/test_first_hold_search.py``
checks equality per detector on every program up to 18 bits, statuses and step counts included, and
``tests/test_prop2.py`` on the whole 24- and 27-bit enumerations of Proposition 2), computed with less work.
Four changes, each exact for the first-hold time (1, 3 and 4 also for the status and the step count):

1. **Repeat checks in O(1).** Both of the kernel's repeat checks (Brent's cycle check at backward jumps within an
   emission interval, and the periodicity check across emissions) compare the whole machine state
   ``(pc, head, tape)`` with a saved one. :mod:`aitheory.dsl.machine` saves by copying the visited window of the
   tape and compares cell by cell, so a detector that sweeps a wide window and emits (or reads) often pays
   ``O(window)`` per emission: quadratic in the run (a 20,000-step run of ``+[,<~+]]`` took 25 ms). Here each
   check keeps, per cell, the value it had when the state was saved (recorded lazily at the first write after
   the save, with an epoch stamp) and a count ``diff`` of cells that now differ from it, updated at every write
   (``+`` and ``,``). Saving is ``epoch += 1; diff = 0``, comparing is ``pc == s_pc and head == s_head and
   diff == 0``: whole-tape equality, as before, in O(1). The save points are the same as in ``events.py``, so
   the statuses are the same too (with ``constant_tail=False``).
2. **Constant tails** (``constant_tail=True``): a ``,`` after ``e`` emissions loads ``o_e``. If the stream is
   constant from ``o_p`` on (``o_t = o_p`` for ``p <= t <= horizon - 1``), a ``,`` with ``e >= p`` loads a
   known value, so it does not invalidate the periodicity check: if the state after emission ``j`` equals the
   state saved after emission ``i < j`` and every ``,`` in between ran with ``e >= p``, the replay from ``j``
   reads the same values (all later reads are at ``e >= p`` too) and the run repeats that stretch until the
   horizon; its emissions there were 0 or ``~``, so the event never holds (status ``periodic``). On the all-0 and
   all-1 streams ``p = 1`` and every read counts as known; on a random stream ``p`` is near the horizon and the
   rule changes nothing.
3. **One run per stream only where it can differ.** A detector's run on stream ``s`` is the same on every stream
   up to its first ``,`` after an emission (before the first emission a ``,`` loads 0 on every stream). Each
   detector runs on stream 0; only if it read an observation (``reads``) does it run on the other streams;
   otherwise its result is copied. (36% of the 27-bit detectors read.)
4. **Translated cycles, fast-forwarded.** A detector that walks off the tape one cell per emission
   (``+[~<+]+]``) runs about ``2 * bound`` emissions before it stops. Let the state after emission ``i`` be
   saved (at ``i`` a power of two, as in Brent's scheme; a ``,`` that loads an unknown value drops it), and let
   the head stay in ``a..b`` until emission ``j``. If ``pc_j = pc_i``, the head moved by ``d != 0``, and the
   tape from ``a`` rightwards (``d > 0``; from ``b`` leftwards for ``d < 0``) at ``j`` is the tape at ``i``
   shifted by ``d``, then the stretch ``i -> j`` repeats shifted by ``d`` (it never looks beyond ``a``, and finds
   the same cells): ``m`` more periods change nothing but the head (``+ m d``), the emission count
   (``+ m (j - i)``), the step count (``+ m`` times the stretch's steps) and the cells ahead (shifted by
   ``m d``; the trail behind is never read again). The kernel jumps the largest ``m`` that keeps the head on
   the tape and the emission count below the horizon, then runs on to the real end (out of tape, or the
   horizon). The stretch did not hold, so no skipped emission holds. (At most ``_SHIFT_SPAN`` cells are
   compared; a wider check is skipped, which is sound.)

Per block (all programs of one length, :func:`aitheory.dsl.enumerate.blocks`) the kernel tabulates, per stream
and time t: how many detectors first hold at t, the first (canonical order) of them and whether it is
observation-blind, and whether any blind one does; and the programs per final status. Nothing of size
``programs x horizon`` is formed.

Layer 1: numpy and numba only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np

from aitheory.dsl.codes import CLOSE, COMMA, LEFT, OPEN, PLUS, RIGHT
from aitheory.dsl.events import NEVER, emission_ends
from aitheory.dsl.guards import program_arrays
from aitheory.dsl.machine import (
    ST_EMITTED,
    ST_HALTED,
    ST_OUT_OF_TAPE,
    ST_SILENT,
    ST_TIMED_OUT,
    initial_state,
    match_brackets,
    new_interval,
)
from aitheory.dsl.reference import DEFAULT_STEPS, DEFAULT_TAPE_BOUND, check_run_args
from aitheory.dsl.status import EVENT_STATUSES, Status

__all__ = ["BlockFirstHolds", "StreamSet", "constant_from", "first_hold_block", "stream_set"]

_ST_PERIODIC: int = int(Status.PERIODIC)


@dataclass(frozen=True)
class StreamSet:
    """Observation streams packed for the kernel: ``obs[s, t - 1]`` is ``o_t`` of stream s (t = 1..horizon - 1,
    ``obs[s, horizon - 1] = 0`` unused), ``const_from[s]`` the first t from which stream s is constant to the end
    (:func:`constant_from`; ``horizon`` disables the constant-tail rule for it)."""

    obs: np.ndarray  # (S, horizon) uint8
    const_from: np.ndarray  # (S,) int64
    horizon: int
    k: int


def constant_from(obs: np.ndarray) -> int:
    """The least ``p >= 1`` with ``o_t = o_p`` for every ``p <= t <= len(obs)`` (``obs[t - 1]`` is ``o_t``);
    ``len(obs) + 1`` for an empty stream."""
    o = np.asarray(obs)
    if o.size == 0:
        return 1
    change = np.flatnonzero(o[1:] != o[:-1])
    return int(change[-1]) + 2 if change.size else 1


def stream_set(streams: Sequence[Sequence[int] | np.ndarray], horizon: int, k: int = 2,
               constant_tail: bool = True) -> StreamSet:
    """Pack ``streams`` (each at least ``horizon - 1`` observations in ``0..k-1``) for :func:`first_hold_block`."""
    if len(streams) < 1:
        raise ValueError("argument streams: needs at least one observation stream")
    obs = np.zeros((len(streams), horizon), dtype=np.uint8)
    const = np.full(len(streams), horizon, dtype=np.int64)
    for s, stream in enumerate(streams):
        o = np.asarray(stream, dtype=np.int64)
        if o.ndim != 1 or o.size < horizon - 1:
            raise ValueError(f"argument streams: stream {s} has {o.size} observations; horizon {horizon} needs "
                             f"{horizon - 1}")
        head = o[: horizon - 1]
        if head.size and (head.min() < 0 or head.max() >= k):
            raise ValueError(f"argument streams: stream {s} has observations outside 0..{k - 1}")
        obs[s, : horizon - 1] = head
        if constant_tail:
            const[s] = constant_from(head)
    return StreamSet(obs=obs, const_from=const, horizon=horizon, k=k)


@dataclass(frozen=True)
class BlockFirstHolds:
    """What one block of detectors does on each stream (index t = 0..horizon; t = 0 unused).

    ``count[s, t]``: detectors first holding at t on stream s; ``first[s, t]``: row (in the block) of the first
    of them, -1 if none; ``first_blind[s, t]``: that one is observation-blind; ``any_blind[s, t]``: some blind one
    first holds at t; ``status[s, i]``: detectors ending with ``EVENT_STATUSES[i]``; ``steps[s]``: machine steps
    (copied results count the steps of the run they copy); ``runs``: runs actually executed (all streams);
    ``fast_forwards``: translated cycles jumped over (module docstring, 4) in those runs;
    ``rows[s, i]`` (only with ``per_row``): detector i's ``(first, status, total_steps, reads)`` on stream s."""

    count: np.ndarray
    first: np.ndarray
    first_blind: np.ndarray
    any_blind: np.ndarray
    status: np.ndarray
    steps: np.ndarray
    runs: int
    fast_forwards: int = 0
    rows: np.ndarray | None = None


#: The translated-cycle check compares at most this many cells (a wider comparison is skipped: sound, only slower).
_SHIFT_SPAN: int = 256


@numba.njit(inline="always")
def _shift_matches(tape: np.ndarray, saved: np.ndarray, d: int, c0: int, c1: int, t_lo: int, t_hi: int,
                   w_lo: int, w_hi: int, lo: int, hi: int) -> bool:
    """``tape[c + d] == saved[c]`` for every ``c0 <= c <= c1``: ``saved`` holds cells ``t_lo..t_hi`` of the
    window ``w_lo..w_hi`` visited at the save (cells outside the window were 0; inside it but outside
    ``t_lo..t_hi`` they are unknown, and the answer is False); ``tape`` is 0 outside ``lo..hi``."""
    if max(c0, w_lo) < t_lo or min(c1, w_hi) > t_hi:
        return False
    for c in range(c0, c1 + 1):
        sv = saved[c] if t_lo <= c <= t_hi else 0
        x = c + d
        now = tape[x] if lo <= x <= hi else 0
        if now != sv:
            return False
    return True


@numba.njit(inline="always")
def _run_one(
    prog: np.ndarray,
    n: int,
    match: np.ndarray,
    k: int,
    horizon: int,
    budget: int,
    bound: int,
    obs: np.ndarray,
    const_from: int,
    tape: np.ndarray,
    cst: np.ndarray,
    csv: np.ndarray,
    est: np.ndarray,
    esv: np.ndarray,
    tsv: np.ndarray,
    epoch: np.ndarray,
) -> tuple[int, int, int, bool, int]:
    """One detector to its first hold on one stream: ``(first, status, total_steps, reads, fast_forwards)``.

    The semantics of :func:`aitheory.dsl.run_reference` (step budget per emission, tape bound, the halting
    ``]``), with Brent's cycle check at backward jumps and the periodicity check at emissions, both O(1), and the
    translated-cycle fast-forward (module docstring, 4). ``tape`` is all zero on entry and on exit; ``epoch[0]``
    (cycle check) and ``epoch[1]`` (periodicity) only grow, so stamps from earlier runs never match.
    """
    last = n - 1
    pc, head, lo, hi, total, since, jumps, s_pc, s_head, _, _ = initial_state(bound)  # no window saved: stamps
    emitted = 0
    e_pc = e_head = -1
    cep = epoch[0]
    eep = epoch[1]
    cdiff = ediff = 0
    # translated cycle: the state saved after emission t_emit (window w_lo..w_hi, of which the cells
    # t_lo..t_hi, at most _SHIFT_SPAN either side of the head, are in tsv), and the head's range a_min..b_max since
    t_pc = t_head = t_lo = t_hi = w_lo = w_hi = t_emit = t_total = -1
    a_min = b_max = 0
    cur_obs = 0
    first = NEVER
    reads = False
    forwards = 0
    status = -1
    while status < 0:
        if since == budget:
            status = ST_TIMED_OUT
            break
        op = prog[pc]
        total += 1
        since += 1
        pc += 1
        if op == PLUS or op == COMMA:  # noqa: SIM109 (numba: two compares, no tuple)
            old = tape[head]
            if op == PLUS:
                v = old + 1
                if v == k:
                    v = 0
            else:
                v = cur_obs
                if emitted > 0:
                    reads = True
                    if emitted < const_from:
                        e_pc = -1
                        t_pc = -1
            # the O(1) repeat checks (module docstring, 1): both saved states' diffs after the write
            if cst[head] != cep:
                cst[head] = cep
                csv[head] = old
            elif old != csv[head]:
                cdiff -= 1
            if v != csv[head]:
                cdiff += 1
            if est[head] != eep:
                est[head] = eep
                esv[head] = old
            elif old != esv[head]:
                ediff -= 1
            if v != esv[head]:
                ediff += 1
            tape[head] = v
        elif op == RIGHT:
            head += 1
            if head > b_max:
                b_max = head
            if head > hi:
                hi = head
                if head > 2 * bound:
                    status = ST_OUT_OF_TAPE
                    hi -= 1
        elif op == LEFT:
            head -= 1
            if head < a_min:
                a_min = head
            if head < lo:
                lo = head
                if head < 0:
                    status = ST_OUT_OF_TAPE
                    lo += 1
        elif op == CLOSE:
            if pc - 1 == last:
                status = ST_HALTED
            elif tape[head] != 0:
                pc = match[pc - 1]
                jumps += 1
                if pc == s_pc and head == s_head and cdiff == 0:
                    status = ST_SILENT
                elif jumps & (jumps - 1) == 0 or s_pc == -1:
                    cep += 1
                    cdiff = 0
                    s_pc = pc
                    s_head = head
        elif op == OPEN:
            if tape[head] == 0:
                pc = match[pc - 1]
        else:  # '.' or '~'
            emitted += 1
            ended, first = emission_ends(op, tape[head], emitted, horizon)
            if ended:
                status = ST_EMITTED
                break
            since, jumps, s_pc = new_interval()
            cur_obs = obs[emitted - 1]
            if pc == e_pc and head == e_head and ediff == 0:
                status = _ST_PERIODIC
                break
            if emitted & (emitted - 1) == 0 or e_pc == -1:
                eep += 1
                ediff = 0
                e_pc = pc
                e_head = head
            d = head - t_head
            if pc == t_pc and d != 0:
                if d > 0:
                    c0, c1 = a_min, max(w_hi, hi - d)
                else:
                    c0, c1 = min(w_lo, lo - d), b_max
                if c1 - c0 < _SHIFT_SPAN and _shift_matches(tape, tsv, d, c0, c1, t_lo, t_hi, w_lo, w_hi, lo, hi):
                    period = emitted - t_emit
                    m = (horizon - 1 - emitted) // period
                    m = min(m, (2 * bound - hi) // d) if d > 0 else min(m, lo // (-d))
                    if m > 0:
                        shift = m * d
                        if d > 0:
                            for c in range(hi, a_min + d - 1, -1):
                                tape[c + shift] = tape[c]
                            hi += shift
                        else:
                            for c in range(lo, b_max + d + 1):
                                tape[c + shift] = tape[c]
                            lo += shift
                        head += shift
                        emitted += m * period
                        total += m * (total - t_total)
                        cur_obs = obs[emitted - 1]
                        e_pc = -1
                        forwards += 1
                    t_pc = -1
            if emitted & (emitted - 1) == 0:
                t_lo = max(lo, head - _SHIFT_SPAN)
                t_hi = min(hi, head + _SHIFT_SPAN)
                for c in range(t_lo, t_hi + 1):
                    tsv[c] = tape[c]
                t_pc, t_head, w_lo, w_hi, t_emit, t_total = pc, head, lo, hi, emitted, total
                a_min = b_max = head
    for c in range(lo, hi + 1):
        tape[c] = 0
    epoch[0] = cep + 1
    epoch[1] = eep + 1
    return first, status, total, reads, forwards


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _search_block(
    codes: np.ndarray,
    k: int,
    horizon: int,
    budget: int,
    bound: int,
    obs: np.ndarray,
    const_from: np.ndarray,
    count: np.ndarray,
    first: np.ndarray,
    first_blind: np.ndarray,
    any_blind: np.ndarray,
    status: np.ndarray,
    steps: np.ndarray,
    rows: np.ndarray,
    forwards: np.ndarray,
) -> int:
    n_streams = obs.shape[0]
    n = codes.shape[1]
    match = np.zeros(n, dtype=np.int32)
    stack = np.zeros(n, dtype=np.int32)
    cells = 2 * bound + 1
    tape = np.zeros(cells, dtype=np.uint8)
    csv = np.zeros(cells, dtype=np.uint8)
    esv = np.zeros(cells, dtype=np.uint8)
    cst = np.zeros(cells, dtype=np.int64)
    est = np.zeros(cells, dtype=np.int64)
    tsv = np.zeros(cells, dtype=np.uint8)
    epoch = np.ones(2, dtype=np.int64)
    runs = 0
    for i in range(codes.shape[0]):
        prog = codes[i]
        match_brackets(prog, n, match, stack)
        f0, st0, tot0, reads0, ff0 = _run_one(prog, n, match, k, horizon, budget, bound, obs[0], const_from[0], tape,
                                         cst, csv, est, esv, tsv, epoch)
        runs += 1
        forwards[0] += ff0
        for s in range(n_streams):
            if s == 0 or not reads0:
                f, st, tot, rd = f0, st0, tot0, reads0
            else:
                f, st, tot, rd, ff = _run_one(prog, n, match, k, horizon, budget, bound, obs[s], const_from[s], tape,
                                          cst, csv, est, esv, tsv, epoch)
                runs += 1
                forwards[0] += ff
            status[s, st] += 1
            steps[s] += tot
            if rows.shape[1] > 0:
                rows[s, i, 0] = f
                rows[s, i, 1] = st
                rows[s, i, 2] = tot
                rows[s, i, 3] = rd
            if f > 0:
                count[s, f] += 1
                if first[s, f] < 0:
                    first[s, f] = i
                    first_blind[s, f] = not rd
                if not rd:
                    any_blind[s, f] = True
    return runs


def first_hold_block(codes: np.ndarray, streams: StreamSet, steps: int = DEFAULT_STEPS,
                     tape_bound: int = DEFAULT_TAPE_BOUND, per_row: bool = False) -> BlockFirstHolds:
    """Run every row of ``codes`` (plain programs of one length, as from
    :func:`aitheory.dsl.enumerate.enumerate_block`; ``ValueError`` naming the row otherwise) on every stream of
    ``streams`` to its first hold; see :class:`BlockFirstHolds`. The first-hold time and ``reads`` of each
    detector on each stream equal :func:`aitheory.dsl.events.first_hold_times`'s. ``per_row``: also return them
    per detector (``rows``)."""
    check_run_args(streams.k, streams.horizon, steps, tape_bound, None, max_horizon=None)
    codes, _ = program_arrays(codes)  # every row a plain program of the full width (the kernel has no bounds checks)
    n_streams, width = streams.obs.shape[0], streams.horizon + 1
    count = np.zeros((n_streams, width), dtype=np.int64)
    first = np.full((n_streams, width), -1, dtype=np.int64)
    first_blind = np.zeros((n_streams, width), dtype=np.bool_)
    any_blind = np.zeros((n_streams, width), dtype=np.bool_)
    status = np.zeros((n_streams, len(EVENT_STATUSES)), dtype=np.int64)
    total = np.zeros(n_streams, dtype=np.int64)
    rows = np.zeros((n_streams, codes.shape[0] if per_row else 0, 4), dtype=np.int64)
    forwards = np.zeros(1, dtype=np.int64)
    runs = _search_block(codes, streams.k, streams.horizon, steps, tape_bound, streams.obs, streams.const_from,
                         count, first, first_blind, any_blind, status, total, rows, forwards)
    return BlockFirstHolds(count=count, first=first, first_blind=first_blind, any_blind=any_blind, status=status,
                           steps=total, runs=int(runs), fast_forwards=int(forwards[0]),
                           rows=rows if per_row else None)

