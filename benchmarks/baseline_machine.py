"""The BF-8 machine of ``aitheory/dsl/machine.py`` as it was before issue 15 (commit 9d8e78d), frozen here as
the baseline of ``benchmarks/bench_dsl.py``: the same semantics, with signed array indices (numba adds
negative-index wraparound to each access). Not part of the package; do not import it from ``aitheory``.
"""

from __future__ import annotations

import numba
import numpy as np

from aitheory.dsl.codes import CLOSE, LEFT, OPEN, PLUS, RIGHT
from aitheory.dsl.machine import _RUNNING, IO, ST_HALTED, ST_OUT_OF_TAPE, ST_SILENT, ST_TIMED_OUT


@numba.njit(inline="always")
def match_brackets(prog: np.ndarray, n: int, match: np.ndarray, stack: np.ndarray) -> None:
    """Set ``match[i]`` to the jump target of every matched bracket ``i`` of ``prog[:n]``: the index just past
    its partner. ``stack`` is scratch of length >= n; other entries of ``match`` are left as they are."""
    sp = 0
    for i in range(n):
        c = prog[i]
        if c == OPEN:
            stack[sp] = i
            sp += 1
        elif c == CLOSE and sp > 0:
            sp -= 1
            j = stack[sp]
            match[i] = j + 1
            match[j] = i + 1


@numba.njit(inline="always")
def same_cells(tape: np.ndarray, lo: int, hi: int, saved: np.ndarray, s_lo: int, s_hi: int) -> bool:
    """True iff ``tape[lo..hi]`` equals the cells saved from the window ``s_lo..s_hi`` (0 outside it).

    This compares whole tapes when ``s_lo..s_hi`` lies inside ``lo..hi`` (a window only grows during a run) and
    the tape is 0 outside ``lo..hi``."""
    for c in range(lo, hi + 1):
        sv = saved[c] if s_lo <= c <= s_hi else 0
        if tape[c] != sv:
            return False
    return True


@numba.njit(inline="always")
def copy_cells(src: np.ndarray, dst: np.ndarray, lo: int, hi: int) -> None:
    """``dst[lo..hi] = src[lo..hi]``."""
    for c in range(lo, hi + 1):
        dst[c] = src[c]


@numba.njit(inline="always")
def clear_cells(tape: np.ndarray, lo: int, hi: int) -> None:
    """``tape[lo..hi] = 0``: a kernel leaves its tape all zero for the next run."""
    for c in range(lo, hi + 1):
        tape[c] = 0


@numba.njit(inline="always")
def brent_check(
    count: int,
    pc: int,
    head: int,
    lo: int,
    hi: int,
    tape: np.ndarray,
    saved: np.ndarray,
    s_pc: int,
    s_head: int,
    s_lo: int,
    s_hi: int,
) -> tuple[bool, int, int, int, int]:
    """Brent's scheme at the ``count``-th examination of the state ``(pc, head, tape[lo..hi])``.

    Returns ``(repeated, s_pc, s_head, s_lo, s_hi)``. ``repeated`` is True iff the state equals the saved one,
    which is then kept. Otherwise the state becomes the saved one (its cells copied into ``saved``) if ``count``
    is a power of two or nothing is saved (``s_pc == -1``), and the saved state is kept if not.
    """
    if pc == s_pc and head == s_head and same_cells(tape, lo, hi, saved, s_lo, s_hi):
        return True, s_pc, s_head, s_lo, s_hi
    if count & (count - 1) == 0 or s_pc == -1:
        copy_cells(tape, saved, lo, hi)
        return False, pc, head, lo, hi
    return False, s_pc, s_head, s_lo, s_hi


@numba.njit(inline="always")
def run_silent(
    prog: np.ndarray,
    match: np.ndarray,
    tape: np.ndarray,
    saved: np.ndarray,
    k: int,
    bound: int,
    last: int,
    budget: int,
    detect: bool,
    pc: int,
    head: int,
    lo: int,
    hi: int,
    total: int,
    since: int,
    jumps: int,
    s_pc: int,
    s_head: int,
    s_lo: int,
    s_hi: int,
) -> tuple[int, int, int, int, int, int, int, int, int, int, int, int]:
    """Run the machine from ``pc`` through its silent instructions ``+ < > [ ]`` until it stops or fetches an
    I/O instruction; ``match`` from :func:`match_brackets`, ``last`` the index of the halting ``]``.

    Returns ``(status, pc, head, lo, hi, total, since, jumps, s_pc, s_head, s_lo, s_hi)``, the updated state.
    ``status`` is ``IO`` if the last instruction fetched, ``prog[pc - 1]``, is ``.``, ``~`` or ``,``: its step is
    counted in ``total`` and ``since`` and ``pc`` is past it, but the caller executes it. Otherwise the run has
    ended: ``ST_TIMED_OUT`` (``since`` reached ``budget`` before the next fetch), ``ST_HALTED`` (the final ``]``),
    ``ST_OUT_OF_TAPE`` (``>`` or ``<`` left the tape; ``lo..hi`` stays on it) or ``ST_SILENT`` (with
    ``detect``: the state after a backward jump repeated one of this interval, by :func:`brent_check` over the
    count ``jumps`` of backward jumps). Cells hold values mod ``k``.
    """
    status = _RUNNING
    while status == _RUNNING:
        if since == budget:
            status = ST_TIMED_OUT
            continue
        op = prog[pc]
        total += 1
        since += 1
        pc += 1
        if op == PLUS:
            v = tape[head] + 1
            tape[head] = 0 if v == k else v
        elif op == RIGHT:
            head += 1
            if head > hi:
                hi = head
                if head > 2 * bound:
                    status = ST_OUT_OF_TAPE
                    hi -= 1
        elif op == LEFT:
            head -= 1
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
                if detect:
                    jumps += 1
                    repeated, s_pc, s_head, s_lo, s_hi = brent_check(
                        jumps, pc, head, lo, hi, tape, saved, s_pc, s_head, s_lo, s_hi
                    )
                    if repeated:
                        status = ST_SILENT
        elif op == OPEN:
            if tape[head] == 0:
                pc = match[pc - 1]
        else:  # '.', ',' or '~': the caller executes it
            status = IO
    return status, pc, head, lo, hi, total, since, jumps, s_pc, s_head, s_lo, s_hi
