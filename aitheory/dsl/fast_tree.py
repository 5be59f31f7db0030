"""Fast runs of a batch of programs on *every* observation sequence, sharing common prefixes (numba).

In joint mode the inputs a ``,`` reads are the symbols of the interleaved history ``x_1 x_2 ...`` instead of the
observations (:mod:`aitheory.dsl.reference`), so the same kernel with ``horizon`` counting emissions of both
roles runs every interleaved history ``x_1 .. x_{H-1}`` (below, read ``x`` for ``o`` and emission for action).

Sequence index: ``g = sum_{j=1}^{H-1} o_j K^(H-1-j)`` (``o_1`` most significant), ``G = K^(H-1)``.

After t emissions the only observation a ``,`` can load is ``o_t``. Each program runs once until the first
``,`` of an interval after an emission; there the machine state is snapshotted and the run resumes once per
value of ``o_t``, each branch keeping the list of sequences it stands for. An interval without ``,`` does not
depend on ``o_t``, so it is run once for all of its values. Between I/O instructions the kernel runs the
shared machine :func:`aitheory.dsl.machine.run_silent`. Outputs are dense per sequence and equal to running
:func:`aitheory.dsl.fast.run_batch` on each sequence separately (checked by the tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from aitheory.dsl.codes import COMMA, DOT
from aitheory.dsl.fast import NO_ACTION
from aitheory.dsl.guards import program_arrays
from aitheory.dsl.machine import (
    IO,
    ST_EMITTED,
    clear_cells,
    initial_state,
    match_brackets,
    new_interval,
    run_silent,
)
from aitheory.dsl.reference import (
    DEFAULT_STEPS,
    DEFAULT_TAPE_BOUND,
    TILDE_ACTION,
    Mode,
    check_mode,
    check_run_args,
)

__all__ = ["AllSequencesResult", "all_sequences", "run_batch_all"]

# indices of the integer fields of a snapshot
_PC, _HEAD, _LO, _HI, _TOTAL, _SINCE, _JUMPS, _SPC, _SHEAD, _SLO, _SHI, _T, _OBS, _NLIST = range(14)
_NFIELDS = 14


@dataclass(frozen=True)
class AllSequencesResult:
    """``actions (n, G, H)`` int8 (-1 for ``~``, -2 after the run stopped), ``status (n, G)`` int8, and
    ``total_steps (n,)``: machine steps actually executed per program (shared prefixes counted once).

    ``actions`` and ``status`` are views of one ``(n, G, H + 1)`` buffer; :meth:`keys` gives it flat."""

    buffer: np.ndarray
    total_steps: np.ndarray

    @property
    def actions(self) -> np.ndarray:
        return self.buffer[:, :, :-1]

    @property
    def status(self) -> np.ndarray:
        return self.buffer[:, :, -1]

    def keys(self) -> np.ndarray:
        """``(n, G * (H + 1))`` int8: per sequence the H actions then the status (behaviour-table keys)."""
        return self.buffer.reshape(self.buffer.shape[0], -1)


def all_sequences(k: int, horizon: int) -> np.ndarray:
    """``(K^(H-1), H-1)`` array: every observation sequence ``o_1 .. o_{H-1}``, row g in index order."""
    g = k ** (horizon - 1)
    idx = np.arange(g)
    cols = [(idx // k ** (horizon - 2 - j)) % k for j in range(horizon - 1)]
    return np.stack(cols, axis=1).astype(np.int64) if cols else np.zeros((1, 0), dtype=np.int64)


@numba.njit(cache=True, boundscheck=False)
def _run_all_one(
    prog: np.ndarray,
    n: int,
    k: int,
    horizon: int,
    budget: int,
    bound: int,
    detect: bool,
    digits: np.ndarray,
    match: np.ndarray,
    stack: np.ndarray,
    tape: np.ndarray,
    saved: np.ndarray,
    st_int: np.ndarray,
    st_tape: np.ndarray,
    st_saved: np.ndarray,
    st_list: np.ndarray,
    cur_list: np.ndarray,
    out_actions: np.ndarray,
    out_status: np.ndarray,
) -> int:
    match_brackets(prog, n, match, stack)
    last = n - 1
    n_seq = out_actions.shape[0]
    for g in range(n_seq):
        cur_list[g] = g
    nlist = n_seq
    pc, head, lo, hi, total, since, jumps, s_pc, s_head, s_lo, s_hi = initial_state(bound)
    t = 0
    cur_obs = 0  # value a ',' loads; -1: not yet chosen in this interval
    depth = 0  # snapshots on the stack
    executed = 0
    while True:
        # run until the end of this branch
        while True:
            before = total
            status, pc, head, lo, hi, total, since, jumps, s_pc, s_head, s_lo, s_hi = run_silent(
                prog, match, tape, saved, k, bound, last, budget, detect, pc, head, lo, hi, total, since, jumps,
                s_pc, s_head, s_lo, s_hi,
            )
            executed += total - before
            if status != IO:
                break
            op = prog[pc - 1]
            if op == COMMA and cur_obs < 0:  # ',' with o_t not chosen: branch on o_t
                keep = 0
                for o in range(k - 1, -1, -1):
                    # the sequences of this branch whose digit t is o
                    m = 0
                    base = depth * n_seq
                    for q in range(nlist):
                        g = cur_list[q]
                        if digits[g, t - 1] == o:
                            st_list[base + m] = g
                            m += 1
                    if o == 0:
                        keep = m
                        for q in range(m):
                            cur_list[q] = st_list[base + q]
                        break
                    # the state before the ',' was fetched: the branch runs it again, loading o
                    st_int[depth, _PC] = pc - 1
                    st_int[depth, _HEAD] = head
                    st_int[depth, _LO] = lo
                    st_int[depth, _HI] = hi
                    st_int[depth, _TOTAL] = total - 1
                    st_int[depth, _SINCE] = since - 1
                    st_int[depth, _JUMPS] = jumps
                    st_int[depth, _SPC] = s_pc
                    st_int[depth, _SHEAD] = s_head
                    st_int[depth, _SLO] = s_lo
                    st_int[depth, _SHI] = s_hi
                    st_int[depth, _T] = t
                    st_int[depth, _OBS] = o
                    st_int[depth, _NLIST] = m
                    for c in range(lo, hi + 1):
                        st_tape[depth, c] = tape[c]
                    for c in range(s_lo, s_hi + 1):
                        st_saved[depth, c] = saved[c]
                    depth += 1
                nlist = keep
                cur_obs = 0
            if op == COMMA:
                tape[head] = cur_obs
                continue
            a = tape[head] if op == DOT else TILDE_ACTION
            for q in range(nlist):
                out_actions[cur_list[q], t] = a
            t += 1
            since, jumps, s_pc = new_interval()
            cur_obs = -1
            if t == horizon:
                status = ST_EMITTED
                break
        for q in range(nlist):
            out_status[cur_list[q]] = status
        clear_cells(tape, lo, hi)
        if depth == 0:
            return executed
        depth -= 1
        pc = st_int[depth, _PC]
        head = st_int[depth, _HEAD]
        lo = st_int[depth, _LO]
        hi = st_int[depth, _HI]
        total = st_int[depth, _TOTAL]
        since = st_int[depth, _SINCE]
        jumps = st_int[depth, _JUMPS]
        s_pc = st_int[depth, _SPC]
        s_head = st_int[depth, _SHEAD]
        s_lo = st_int[depth, _SLO]
        s_hi = st_int[depth, _SHI]
        t = st_int[depth, _T]
        cur_obs = st_int[depth, _OBS]
        nlist = st_int[depth, _NLIST]
        for c in range(lo, hi + 1):
            tape[c] = st_tape[depth, c]
        for c in range(s_lo, s_hi + 1):
            saved[c] = st_saved[depth, c]
        base = depth * n_seq
        for q in range(nlist):
            cur_list[q] = st_list[base + q]


@numba.njit(cache=True)
def _run_all_many(
    codes: np.ndarray,
    lengths: np.ndarray,
    k: int,
    horizon: int,
    budget: int,
    bound: int,
    detect: bool,
    digits: np.ndarray,
    actions: np.ndarray,
    status: np.ndarray,
    total_steps: np.ndarray,
) -> None:
    width = max(codes.shape[1], 1)
    n_seq = actions.shape[1]
    max_depth = max(1, (horizon - 1) * (k - 1))
    cells = 2 * bound + 1
    match = np.zeros(width, dtype=np.int32)
    stack = np.zeros(width, dtype=np.int32)
    tape = np.zeros(cells, dtype=np.uint8)
    saved = np.zeros(cells, dtype=np.uint8)
    st_int = np.zeros((max_depth, _NFIELDS), dtype=np.int64)
    st_tape = np.zeros((max_depth, cells), dtype=np.uint8)
    st_saved = np.zeros((max_depth, cells), dtype=np.uint8)
    st_list = np.zeros((max_depth + 1) * n_seq, dtype=np.int64)  # +1: scratch for the kept branch
    cur_list = np.zeros(n_seq, dtype=np.int64)
    for i in range(codes.shape[0]):
        total_steps[i] = _run_all_one(
            codes[i], lengths[i], k, horizon, budget, bound, detect, digits, match, stack, tape, saved,
            st_int, st_tape, st_saved, st_list, cur_list, actions[i], status[i],
        )


def run_batch_all(
    codes: np.ndarray,
    lengths: np.ndarray | None = None,
    k: int = 2,
    horizon: int = 8,
    steps: int = DEFAULT_STEPS,
    tape_bound: int = DEFAULT_TAPE_BOUND,
    detect_cycles: bool = True,
    mode: Mode = "policy",
) -> AllSequencesResult:
    """Run every program for ``horizon`` emissions on all ``K^(H-1)`` input sequences: observation sequences in
    policy mode, interleaved histories ``x_1 .. x_{H-1}`` in joint mode (see the module docstring)."""
    check_mode(mode)
    codes, lengths = program_arrays(codes, lengths)
    check_run_args(k, horizon, steps, tape_bound, None)
    n_seq = k ** (horizon - 1)
    if n_seq > 1 << 16:
        raise ValueError(f"K^(H-1) = {n_seq} observation sequences is too many for dense output (max 65536)")
    digits = all_sequences(k, horizon)
    if digits.shape[1] == 0:
        digits = np.zeros((1, 1), dtype=np.int64)
    n = codes.shape[0]
    buffer = np.full((n, n_seq, horizon + 1), NO_ACTION, dtype=np.int8)
    total = np.zeros(n, dtype=np.int64)
    _run_all_many(
        codes, lengths, k, horizon, steps, tape_bound, detect_cycles, digits, buffer[:, :, :horizon],
        buffer[:, :, horizon], total,
    )
    return AllSequencesResult(buffer, total)
