"""The batch kernel's one-program function of ``aitheory/dsl/fast.py`` as it was before the machine loaded
``,`` itself (commit 35ef5bb), frozen here beside :mod:`baseline_machine` as part of the baseline of
``benchmarks/bench_dsl.py``: the kernel executes every ``,`` after :func:`baseline_machine.run_silent` returns it.
Not part of the package; do not import it from ``aitheory``. A plain function: ``bench_dsl.py`` compiles it.
"""

from __future__ import annotations

import numpy as np
from baseline_machine import clear_cells, match_brackets, run_silent

from aitheory.dsl.codes import COMMA, DOT
from aitheory.dsl.machine import IO, ST_EMITTED
from aitheory.dsl.status import TILDE_ACTION


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
