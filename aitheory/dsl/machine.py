"""The BF-8 machine without its input and output: the part shared by the numba kernels.

The numba interpreters (:mod:`aitheory.dsl.fast`, :mod:`aitheory.dsl.fast_tree`, :mod:`aitheory.dsl.events`)
differ only in what they do at ``.``, ``~`` and ``,``: where an emitted action goes, which observation a ``,``
loads, when a run stops early. Everything else lives here, once, with exactly the semantics of
:func:`aitheory.dsl.run_reference`: bracket matching, the step budget, the silent instructions ``+ < > [ ]``
(tape bound, the halting ``]``) and Brent's cycle check at backward jumps. A kernel calls :func:`run_silent`,
which runs the machine to the end of the run or until it fetches an I/O instruction; the kernel executes that
instruction itself and calls :func:`run_silent` again. (:mod:`aitheory.dsl.first_hold_search` keeps its own step
loop, with O(1) repeat checks by stamps that need bookkeeping at every write; it shares :func:`initial_state`,
:func:`new_interval` and :func:`match_brackets`.)

Machine state, as plain integers (so that numba keeps it in registers): the program counter ``pc``; the ``head``
and the window ``lo..hi`` of cells visited so far, as indices into a ``tape`` array of ``2 * bound + 1`` cells
(cell c at index ``c + bound``); the step counts ``total`` (whole run) and ``since`` (since the last emission);
and Brent's state for the current emission interval: the number ``jumps`` of backward jumps and the saved state
``s_pc``, ``s_head``, ``s_lo``, ``s_hi``, whose cells are in the array ``saved`` (``s_pc == -1``: none saved).
A run starts in :func:`initial_state`; an emission starts a new interval (:func:`new_interval`: ``since = jumps =
0``, ``s_pc = -1``).

Every helper is ``numba.njit(inline="always")``: numba pastes it into each kernel before compiling, so sharing
costs nothing at run time. The shared part is a loop, entered once per I/O instruction, rather than a helper called once
per step: each array passed to a call costs reference-count updates, which numba could not remove from the kernels'
step loops (a per-step helper made them about ten times slower). Even helpers of integers only cost: the
instructions ``+ < >`` written as three such helpers (``increment``, ``move_right``, ``move_left``) made the batch
kernel about 2x slower on the 24-bit programs (its compiled loop had more reference-count calls), so a step loop
calls no helper. Every array index is converted to ``np.uintp`` where it is used (``tape[np.uintp(head)]``): with a
signed index numba adds Python's negative-index wraparound (a shift, an and and an add per access), which no index
here needs (all are >= 0) and which made the step loop about 1.45x slower (``benchmarks/bench_dsl.py``,
``throughput``). Keep the loop's shape too: ``while status == _RUNNING`` with one return; the same loop written
``while True`` with ``break`` made the enumeration about six times slower once inlined. The kernels are compiled
with ``cache=True``, and numba's cache only watches a kernel's own file: after editing this module, delete the
cache files ``aitheory/dsl/__pycache__/*.nbi`` and ``*.nbc``.
"""

from __future__ import annotations

import numba
import numpy as np

from aitheory.dsl.codes import CLOSE, LEFT, OPEN, PLUS, RIGHT
from aitheory.dsl.status import Status

__all__ = [
    "IO",
    "ST_EMITTED",
    "ST_HALTED",
    "ST_OUT_OF_TAPE",
    "ST_SILENT",
    "ST_TIMED_OUT",
    "brent_check",
    "clear_cells",
    "copy_cells",
    "initial_state",
    "match_brackets",
    "new_interval",
    "run_silent",
    "same_cells",
]

#: Status codes of a run, read from :class:`aitheory.dsl.status.Status` as plain ints (numba compiles them in as
#: literals); ``tests/test_status.py`` checks that they match.
ST_EMITTED: int = int(Status.EMITTED)
ST_HALTED: int = int(Status.HALTED)
ST_TIMED_OUT: int = int(Status.TIMED_OUT)
ST_OUT_OF_TAPE: int = int(Status.OUT_OF_TAPE)
ST_SILENT: int = int(Status.PROVEN_SILENT)
#: :func:`run_silent` fetched an I/O instruction (``.``, ``~`` or ``,``), which the kernel executes.
IO: int = -1
_RUNNING: int = -2


@numba.njit(inline="always")
def initial_state(bound: int) -> tuple[int, int, int, int, int, int, int, int, int, int, int]:
    """The machine state before the first step, ``(pc, head, lo, hi, total, since, jumps, s_pc, s_head, s_lo,
    s_hi)`` as :func:`run_silent` takes it: at instruction 0, the head at cell 0 (index ``bound``), the window
    that cell, no step run, nothing saved."""
    return 0, bound, bound, bound, 0, 0, 0, -1, -1, 0, -1


@numba.njit(inline="always")
def new_interval() -> tuple[int, int, int]:
    """``(since, jumps, s_pc)`` after an emission: the step budget and Brent's cycle check start again (no steps,
    no backward jumps, nothing saved)."""
    return 0, 0, -1


@numba.njit(inline="always")
def match_brackets(prog: np.ndarray, n: int, match: np.ndarray, stack: np.ndarray) -> None:
    """Set ``match[i]`` to the jump target of every matched bracket ``i`` of ``prog[:n]``: the index just past
    its partner. ``stack`` is scratch of length >= n; other entries of ``match`` are left as they are."""
    sp = 0
    for i in range(n):
        c = prog[np.uintp(i)]
        if c == OPEN:
            stack[np.uintp(sp)] = i
            sp += 1
        elif c == CLOSE and sp > 0:
            sp -= 1
            j = stack[np.uintp(sp)]
            match[np.uintp(i)] = j + 1
            match[np.uintp(j)] = i + 1


@numba.njit(inline="always")
def same_cells(tape: np.ndarray, lo: int, hi: int, saved: np.ndarray, s_lo: int, s_hi: int) -> bool:
    """True iff ``tape[lo..hi]`` equals the cells saved from the window ``s_lo..s_hi`` (0 outside it).

    This compares whole tapes when ``s_lo..s_hi`` lies inside ``lo..hi`` (a window only grows during a run) and
    the tape is 0 outside ``lo..hi``."""
    for c in range(lo, hi + 1):
        sv = saved[np.uintp(c)] if s_lo <= c <= s_hi else 0
        if tape[np.uintp(c)] != sv:
            return False
    return True


@numba.njit(inline="always")
def copy_cells(src: np.ndarray, dst: np.ndarray, lo: int, hi: int) -> None:
    """``dst[lo..hi] = src[lo..hi]``."""
    for c in range(lo, hi + 1):
        dst[np.uintp(c)] = src[np.uintp(c)]


@numba.njit(inline="always")
def clear_cells(tape: np.ndarray, lo: int, hi: int) -> None:
    """``tape[lo..hi] = 0``: a kernel leaves its tape all zero for the next run."""
    for c in range(lo, hi + 1):
        tape[np.uintp(c)] = 0


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
        op = prog[np.uintp(pc)]
        total += 1
        since += 1
        pc += 1
        if op == PLUS:
            v = tape[np.uintp(head)] + 1
            tape[np.uintp(head)] = 0 if v == k else v
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
            elif tape[np.uintp(head)] != 0:
                pc = match[np.uintp(pc - 1)]
                if detect:
                    jumps += 1
                    repeated, s_pc, s_head, s_lo, s_hi = brent_check(
                        jumps, pc, head, lo, hi, tape, saved, s_pc, s_head, s_lo, s_hi
                    )
                    if repeated:
                        status = ST_SILENT
        elif op == OPEN:
            if tape[np.uintp(head)] == 0:
                pc = match[np.uintp(pc - 1)]
        else:  # '.', ',' or '~': the caller executes it
            status = IO
    return status, pc, head, lo, hi, total, since, jumps, s_pc, s_head, s_lo, s_hi
