"""First-hold times of event detectors (numba), equal to the reference interpreter's ``unprecedented_at``.

An *event* is a plain BF-8 program read as a detector (design.md section 2): it runs on the observation stream
and E *holds at t* if its t-th emission is a ``.`` of a non-zero value (a ``~`` emission, or no emission because
the run stopped, counts as not holding: :mod:`aitheory.dsl.combinators`). E is *unprecedented at t* if it holds
at t and at no earlier time, so an event is unprecedented at exactly one time at most: its **first-hold time**.

Only that time matters for Proposition 2, so :func:`first_hold_times` runs each detector until its first
non-zero ``.`` emission (then stops), until it has emitted ``horizon`` symbols, or until the run stops (halted,
timed out, out of tape, proven silent), with exactly the semantics of :func:`aitheory.dsl.run_reference`
(step budget per emission, tape bound, Brent's cycle check at backward jumps: the shared machine
:func:`aitheory.dsl.machine.run_silent`). Nothing of size ``programs x horizon`` is ever stored: per program
it returns one time, a status and a few counters.

Shortcut (``detect_periodic=True``, the default): if the machine's whole state ``(pc, head, tape)`` right after
an emission equals its state right after an earlier emission, and no ``,`` ran in between, then the run from
there repeats that stretch forever (nothing it does depends on an observation), and every emission of the
stretch was a 0 or a ``~`` (else the run would already have stopped): the event never holds. Such a run ends
with the extra status ``periodic`` (code ``ST_PERIODIC``). The check uses Brent's scheme over emissions
(compare with the saved state; save at power-of-two emission counts; any ``,`` clears the saved state), so it
is sound and it changes no first-hold time: ``tests/test_prop2.py`` checks equality with the reference
interpreter on every program up to 15 bits, with and without the shortcut.

Layer 1: numpy and numba only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np

from aitheory.dsl.codes import COMMA, DOT
from aitheory.dsl.guards import program_arrays
from aitheory.dsl.machine import (
    IO,
    ST_EMITTED,
    brent_check,
    clear_cells,
    initial_state,
    match_brackets,
    new_interval,
    run_silent,
)
from aitheory.dsl.reference import DEFAULT_STEPS, DEFAULT_TAPE_BOUND, check_run_args
from aitheory.dsl.status import EVENT_STATUSES, Status

__all__ = ["EVENT_STATUSES", "NEVER", "ST_PERIODIC", "FirstHolds", "emission_ends", "first_hold_times"]

#: Statuses of a first-hold run (:data:`aitheory.dsl.status.EVENT_STATUSES`): the interpreter's five, plus
#: ``periodic`` (the shortcut above). A run that held ends with ``emitted`` (stopped after its first non-zero
#: emission). The kernel's literal for ``periodic``:
ST_PERIODIC: int = int(Status.PERIODIC)
#: First-hold time reported for an event that does not hold at any ``t <= horizon``.
NEVER: int = 0


@dataclass(frozen=True)
class FirstHolds:
    """Outputs of :func:`first_hold_times` for ``n`` detectors.

    ``first[i]``: the time t (1-based) at which detector i first holds, ``NEVER`` (0) if not within the horizon;
    ``status[i]``: index into ``EVENT_STATUSES``; ``n_emitted[i]``: symbols emitted (the holding one included);
    ``total_steps[i]``: machine steps executed; ``reads[i]``: a ``,`` ran after the first emission, i.e. the
    outcome may depend on the observations (if False, the detector is *observation-blind*: the same first-hold
    time on every observation stream).
    """

    first: np.ndarray  # (n,) int64
    status: np.ndarray  # (n,) int8
    n_emitted: np.ndarray  # (n,) int64
    total_steps: np.ndarray  # (n,) int64
    reads: np.ndarray  # (n,) bool

    def status_names(self) -> list[str]:
        return [EVENT_STATUSES[s] for s in self.status]


@numba.njit(inline="always")
def emission_ends(op: int, value: int, emitted: int, horizon: int) -> tuple[bool, int]:
    """Whether a first-hold run ends at its ``emitted``-th emission (``op`` is ``.`` or ``~``, ``value`` the cell
    under the head), and its first-hold time: ``emitted`` if the event holds there (a ``.`` of a non-zero value),
    else ``NEVER`` (the run ends iff ``emitted == horizon``)."""
    if op == DOT and value != 0:
        return True, emitted
    return emitted == horizon, NEVER


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _first_hold_one(
    prog: np.ndarray,
    n: int,
    k: int,
    horizon: int,
    budget: int,
    bound: int,
    obs: np.ndarray,
    detect: bool,
    periodic: bool,
    match: np.ndarray,
    stack: np.ndarray,
    tape: np.ndarray,
    saved: np.ndarray,
    esaved: np.ndarray,
) -> tuple[int, int, int, int, bool]:
    """Run one detector to its first hold; returns (first, status, n_emitted, total_steps, reads).

    ``tape`` (length 2*bound+1, cell c at index c + bound) must be all zero on entry and is zero on exit.
    ``saved`` holds Brent's state within an emission interval (cycle check), ``esaved`` the state saved at an
    emission (periodicity check).
    """
    match_brackets(prog, n, match, stack)
    last = n - 1
    pc, head, lo, hi, total, since, jumps, s_pc, s_head, s_lo, s_hi = initial_state(bound)
    # periodicity check: state saved right after an emission, valid while no ',' ran since
    e_pc = e_head = e_hi = -1
    e_lo = emitted = cur_obs = 0
    first = NEVER
    reads = False
    while True:
        status, pc, head, lo, hi, total, since, jumps, s_pc, s_head, s_lo, s_hi = run_silent(
            prog, match, tape, saved, k, bound, last, budget, detect, pc, head, lo, hi, total, since, jumps, s_pc,
            s_head, s_lo, s_hi,
        )
        if status != IO:
            break
        op = prog[pc - 1]
        if op == COMMA:
            tape[head] = cur_obs
            if emitted > 0:
                reads = True
                e_pc = -1
            continue
        emitted += 1
        ended, first = emission_ends(op, tape[head], emitted, horizon)
        if ended:
            status = ST_EMITTED
            break
        since, jumps, s_pc = new_interval()
        cur_obs = obs[emitted - 1]
        if periodic:
            repeated, e_pc, e_head, e_lo, e_hi = brent_check(
                emitted, pc, head, lo, hi, tape, esaved, e_pc, e_head, e_lo, e_hi
            )
            if repeated:
                status = ST_PERIODIC
                break
    clear_cells(tape, lo, hi)
    return first, status, emitted, total, reads


@numba.njit(cache=True, nogil=True)
def _first_hold_many(
    codes: np.ndarray,
    lengths: np.ndarray,
    k: int,
    horizon: int,
    budget: int,
    bound: int,
    obs: np.ndarray,
    detect: bool,
    periodic: bool,
    first: np.ndarray,
    status: np.ndarray,
    n_emitted: np.ndarray,
    total_steps: np.ndarray,
    reads: np.ndarray,
) -> None:
    width = codes.shape[1]
    match = np.zeros(max(width, 1), dtype=np.int32)
    stack = np.zeros(max(width, 1), dtype=np.int32)
    tape = np.zeros(2 * bound + 1, dtype=np.uint8)
    saved = np.zeros(2 * bound + 1, dtype=np.uint8)
    esaved = np.zeros(2 * bound + 1, dtype=np.uint8)
    for i in range(codes.shape[0]):
        f, s, e, t, r = _first_hold_one(
            codes[i], lengths[i], k, horizon, budget, bound, obs, detect, periodic, match, stack, tape, saved,
            esaved,
        )
        first[i] = f
        status[i] = s
        n_emitted[i] = e
        total_steps[i] = t
        reads[i] = r


def first_hold_times(
    codes: np.ndarray,
    lengths: np.ndarray | None = None,
    k: int = 2,
    horizon: int = 16,
    obs: Sequence[int] | np.ndarray | None = None,
    steps: int = DEFAULT_STEPS,
    tape_bound: int = DEFAULT_TAPE_BOUND,
    detect_cycles: bool = True,
    detect_periodic: bool = True,
) -> FirstHolds:
    """First-hold time of every detector (rows of ``codes``, valid plain programs of ``lengths[i]`` tokens).

    ``obs`` as in :func:`aitheory.dsl.run_reference` (``obs[t-1]`` is ``o_t``, read by ``,`` after t emissions;
    None: every observation is 0; at least ``horizon - 1`` of them). The result equals
    ``unprecedented_at(event_holds(program, k, horizon, obs, steps, tape_bound))`` (0 for None) for every
    detector; see :class:`FirstHolds` for the other outputs.
    """
    codes, lengths = program_arrays(codes, lengths)
    obs_list = None if obs is None else np.asarray(obs, dtype=np.int64)
    check_run_args(k, horizon, steps, tape_bound, None, max_horizon=None)  # O(1) outputs per detector
    obs_arr = np.zeros(horizon, dtype=np.uint8)
    if obs_list is not None:
        if len(obs_list) < horizon - 1:
            raise ValueError(f"argument obs: has {len(obs_list)} observations; horizon {horizon} needs "
                             f"{horizon - 1}")
        head = obs_list[: horizon - 1]
        if head.size and (head.min() < 0 or head.max() >= k):
            raise ValueError(f"argument obs: observations must be in 0..{k - 1}")
        obs_arr[: horizon - 1] = head
    n = codes.shape[0]
    first = np.zeros(n, dtype=np.int64)
    status = np.zeros(n, dtype=np.int8)
    n_emitted = np.zeros(n, dtype=np.int64)
    total = np.zeros(n, dtype=np.int64)
    reads = np.zeros(n, dtype=np.bool_)
    _first_hold_many(
        codes, lengths, k, horizon, steps, tape_bound, obs_arr, detect_cycles, detect_periodic, first, status,
        n_emitted, total, reads,
    )
    return FirstHolds(first, status, n_emitted, total, reads)
