"""Fast batch BF-8 interpreter (numba), with results identical to :mod:`aitheory.dsl.reference`.

Programs come as a 2-D ``uint8`` array of token codes (one program per row, padded) and their lengths. Each
program runs on the same inputs: an observation sequence in policy mode, an interleaved history
``a_1 o_1 a_2 ...`` in joint mode (the same kernel: after n emissions ``,`` loads ``inputs[n-1]``; see
:mod:`aitheory.dsl.reference`). Outputs are arrays:

- ``actions[i, t]``: the (t+1)-th emission (0..K-1; an action in policy mode, ``x_{t+1}`` in joint mode),
  ``TILDE_ACTION`` (-1) for ``~``, ``NO_ACTION`` (-2) after the run stopped;
- ``steps[i, t]``: the global step (1-based) of that emission, 0 if none;
- ``n_emitted[i]``; ``status[i]``: index into ``STATUSES``; ``total_steps[i]``: steps executed;
- ``reads[i]``: a ``,`` ran after the first emission. If not, the run never looked at an observation, so it is
  the same on every observation sequence.

Semantics (statuses, step budget, tape bound, Brent cycle check at backward jumps) are exactly those of the
reference interpreter; ``tests/test_dsl_fast.py`` checks equality on every program up to 18 bits. The machine
itself is :func:`aitheory.dsl.machine.run_silent`; this kernel adds the I/O instructions.
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
    ST_HALTED,
    ST_OUT_OF_TAPE,
    ST_SILENT,
    ST_TIMED_OUT,
    clear_cells,
    match_brackets,
    run_silent,
)
from aitheory.dsl.reference import DEFAULT_STEPS, DEFAULT_TAPE_BOUND, Mode, check_run_args, run_inputs
from aitheory.dsl.status import NO_ACTION, STATUSES, TILDE_ACTION
from aitheory.dsl.workspace import Workspace

__all__ = [
    "NO_ACTION",
    "ST_EMITTED",
    "ST_HALTED",
    "ST_OUT_OF_TAPE",
    "ST_SILENT",
    "ST_TIMED_OUT",
    "BatchResult",
    "pack_programs",
    "run_batch",
]



@dataclass(frozen=True)
class BatchResult:
    """Outputs of :func:`run_batch` for ``n`` programs and horizon ``H`` (see the module docstring)."""

    actions: np.ndarray  # (n, H) int8
    steps: np.ndarray  # (n, H) int64
    n_emitted: np.ndarray  # (n,) int32
    status: np.ndarray  # (n,) int8
    total_steps: np.ndarray  # (n,) int64
    reads: np.ndarray  # (n,) bool: a ',' ran after the first emission (else the run ignores observations)

    def status_names(self) -> list[str]:
        return [STATUSES[s] for s in self.status]


# inline="always": numba pastes the one-program function into the batch loop. Called out of line (9 array
# arguments) it cost 250-320 ns per program against ~5 ns per machine step; benchmarks/bench_dsl.py keeps that
# out-of-line kernel as its baseline and checks the outputs are identical.
@numba.njit(nogil=True, boundscheck=False, inline="always")
def _run_one(
    prog: np.ndarray,
    n: int,
    k: int,
    horizon: int,
    budget: int,
    bound: int,
    obs: np.ndarray,
    detect: bool,
    match: np.ndarray,
    stack: np.ndarray,
    tape: np.ndarray,
    saved: np.ndarray,
    out_actions: np.ndarray,
    out_steps: np.ndarray,
) -> tuple[int, int, int, bool]:
    """Run one program; fills ``out_actions``/``out_steps`` rows; returns (n_emitted, status, total_steps,
    reads), ``reads`` True iff a ``,`` ran after the first emission (the run may depend on observations).

    ``tape`` (length 2*bound+1, cell c at index c + bound) must be all zero on entry and is zero on exit.
    """
    match_brackets(prog, n, match, stack)
    last = n - 1
    head = lo = hi = bound
    pc = total = since = emitted = jumps = 0
    s_pc = s_head = s_hi = -1
    s_lo = 0
    cur_obs = 0
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
            continue
        out_actions[emitted] = tape[head] if op == DOT else TILDE_ACTION
        out_steps[emitted] = total
        emitted += 1
        since = jumps = 0
        s_pc = -1
        if emitted == horizon:
            status = ST_EMITTED
            break
        cur_obs = obs[emitted - 1]
    clear_cells(tape, lo, hi)
    return emitted, status, total, reads


@numba.njit(cache=True, nogil=True)
def _run_many(
    codes: np.ndarray,
    lengths: np.ndarray,
    k: int,
    horizon: int,
    budget: int,
    bound: int,
    obs: np.ndarray,
    detect: bool,
    actions: np.ndarray,
    steps: np.ndarray,
    n_emitted: np.ndarray,
    status: np.ndarray,
    total_steps: np.ndarray,
    reads: np.ndarray,
) -> None:
    width = codes.shape[1]
    match = np.zeros(max(width, 1), dtype=np.int32)
    stack = np.zeros(max(width, 1), dtype=np.int32)
    tape = np.zeros(2 * bound + 1, dtype=np.uint8)
    saved = np.zeros(2 * bound + 1, dtype=np.uint8)
    record = steps.shape[0] == codes.shape[0]
    for i in range(codes.shape[0]):
        e, s, t, r = _run_one(
            codes[i], lengths[i], k, horizon, budget, bound, obs, detect, match, stack, tape, saved,
            actions[i], steps[i] if record else steps[0],
        )
        n_emitted[i] = e
        status[i] = s
        total_steps[i] = t
        reads[i] = r


def pack_programs(programs: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Token-code rows of (possibly different-length) programs as a padded ``uint8`` array and lengths."""
    lengths = np.array([len(p) for p in programs], dtype=np.int32)
    codes = np.zeros((len(programs), int(lengths.max(initial=1))), dtype=np.uint8)
    for i, p in enumerate(programs):
        codes[i, : len(p)] = p
    return codes, lengths


def run_batch(
    codes: np.ndarray,
    lengths: np.ndarray | None = None,
    k: int = 2,
    horizon: int = 16,
    obs: Sequence[int] | np.ndarray | None = None,
    steps: int = DEFAULT_STEPS,
    tape_bound: int = DEFAULT_TAPE_BOUND,
    detect_cycles: bool = True,
    record_steps: bool = True,
    mode: Mode = "policy",
    history: Sequence[int] | np.ndarray | None = None,
    workspace: Workspace | None = None,
) -> BatchResult:
    """Run every program (rows of ``codes``, each a valid plain program of ``lengths[i]`` tokens) for up to
    ``horizon`` emissions.

    ``obs`` (policy mode) and ``history`` (joint mode) as in :func:`aitheory.dsl.reference.run_reference`
    (None: every input is 0). With ``record_steps=False`` the ``steps`` output is a (1, H) scratch row (saves
    memory traffic). With a ``workspace`` the outputs are views of its buffers (``"actions"``, ...), valid until
    the next call with that workspace: no new memory per call (:mod:`aitheory.dsl.workspace`).
    """
    codes, lengths = program_arrays(codes, lengths)
    inputs = run_inputs(mode, obs, history)
    check_run_args(k, horizon, steps, tape_bound, None if inputs is None else [int(o) for o in inputs], mode)
    obs_arr = np.zeros(horizon, dtype=np.uint8)  # inputs[n-1], loaded by ',' after n emissions
    if inputs is not None:
        obs_arr[: horizon - 1] = np.asarray(inputs, dtype=np.int64)[: horizon - 1]
    n = codes.shape[0]
    ws = Workspace() if workspace is None else workspace
    actions = ws.full("actions", (n, horizon), NO_ACTION, np.int8)  # rows written up to the last emission
    emit_steps = ws.full("emit_steps", (n if record_steps else 1, horizon), 0, np.int64)
    # written for every program by _run_many
    n_emitted = ws.array("n_emitted", (n,), np.int32)
    status = ws.array("status", (n,), np.int8)
    total = ws.array("total_steps", (n,), np.int64)
    reads = ws.array("reads", (n,), np.bool_)
    _run_many(
        codes, lengths, k, horizon, steps, tape_bound, obs_arr, detect_cycles, actions, emit_steps, n_emitted,
        status, total, reads,
    )
    return BatchResult(actions, emit_steps, n_emitted, status, total, reads)
