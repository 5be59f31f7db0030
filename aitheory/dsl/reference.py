"""The reference BF-8 interpreter: short, plainly correct, one step at a time. The oracle for ``fast``.

Semantics (design.md section 2). Tape cells hold integers mod K, all 0 at the start; the head starts at cell 0
and may visit cells ``-tape_bound .. tape_bound``. One *step* is the execution of one token:

- ``+`` adds 1 mod K; ``<`` / ``>`` move the head (leaving ``[-tape_bound, tape_bound]`` ends the run:
  ``out_of_tape``);
- ``[`` jumps past its matching ``]`` if the cell is 0; a matched ``]`` jumps back to just after its ``[``
  if the cell is not 0 (a *backward jump*); the program's final ``]`` (its first unmatched one) halts:
  ``halted``;
- ``.`` emits the cell value; ``~`` emits a uniformly random action (reported as ``TILDE_ACTION`` = -1);
- ``,`` loads the latest *input*: in **policy mode** (programs emit actions, observations are given) the
  latest observation, ``o_{t-1}`` after ``t-1`` actions (0 before the first action); in **joint mode** (a
  program models the whole interaction) the latest symbol of the interleaved history ``x = a_1 o_1 a_2 ...``:
  ``x_n`` after ``n`` emissions (0 before the first), whatever the program emitted there.

The two modes are one machine with one rule: after ``n`` emissions ``,`` loads ``inputs[n-1]`` (0 if n = 0),
where the inputs are ``o_1 o_2 ...`` in policy mode and ``x_1 x_2 ...`` in joint mode. Only the reading of the
emissions differs, and that is the mixture's business: in policy mode emission t predicts ``a_t``; in joint mode
emission ``2t-1`` predicts ``a_t`` and emission ``2t`` predicts ``o_t`` (:func:`emission_role`). ``horizon`` always
counts emissions (actions in policy mode, symbols of either role in joint mode).

Per-emission step budget T: at most T steps are executed after the previous emission (of either role, in
joint mode) or the start, up to and including the next emission; a run that needs more is ``timed_out``.
After H emissions the run stops: ``emitted``.

Cycle detection (``proven_silent``): within one emission interval the machine is deterministic (the loaded
observation is fixed), so if its state ``(pc, head, tape)`` ever repeats the program will never emit, halt
or leave the tape again. The state is examined right after every backward jump (every infinite run makes
infinitely many): after the j-th backward jump of the interval it is compared with the saved state, and if
j is a power of two it then becomes the saved state (Brent's scheme). A match, found within the budget, ends
the run with status ``proven_silent``; every such program truly never emits again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from aitheory.dsl.codes import CLOSE, COMMA, DOT, LEFT, OPEN, PLUS, RIGHT, TILDE
from aitheory.dsl.limits import LIMITS
from aitheory.dsl.parser import Plain, parse
from aitheory.dsl.status import STATUSES, TILDE_ACTION, Status

__all__ = [
    "DEFAULT_STEPS",
    "DEFAULT_TAPE_BOUND",
    "MAX_HORIZON",
    "MAX_STEPS",
    "MAX_TAPE_BOUND",
    "MODES",
    "ROLES",
    "STATUSES",
    "TILDE_ACTION",
    "Mode",
    "RunResult",
    "bracket_matches",
    "check_mode",
    "check_run_args",
    "emission_role",
    "interleave",
    "run_inputs",
    "run_reference",
    "split_history",
]

DEFAULT_STEPS: int = 1000
DEFAULT_TAPE_BOUND: int = 4096
#: The caps on H, T and B, read from :data:`aitheory.dsl.limits.LIMITS` (their one home, with the reasons).
MAX_HORIZON: int = LIMITS.max_horizon
MAX_STEPS: int = LIMITS.max_steps
MAX_TAPE_BOUND: int = LIMITS.max_tape_bound
#: How a program's emissions are read: ``"policy"`` (actions only; observations given) or ``"joint"``
#: (alternately actions and observations: a model of the whole interaction).
Mode = Literal["policy", "joint"]
MODES: tuple[str, ...] = ("policy", "joint")
#: The roles of an emission.
ROLES: tuple[str, ...] = ("action", "observation")


def check_mode(mode: str) -> None:
    """ValueError naming the argument unless ``mode`` is one of :data:`MODES`."""
    if mode not in MODES:
        raise ValueError(f"argument mode: must be 'policy' or 'joint', got {mode!r}")


def emission_role(n: int, mode: str = "policy") -> str:
    """The role of emission number ``n`` (1-based): always ``"action"`` in policy mode; in joint mode
    ``"action"`` for odd n (emission ``2t-1`` predicts ``a_t``) and ``"observation"`` for even n (``o_t``)."""
    check_mode(mode)
    if n < 1:
        raise ValueError(f"argument n: emissions are numbered from 1, got {n}")
    return "action" if mode == "policy" or n % 2 == 1 else "observation"


def interleave(actions: Sequence[int], observations: Sequence[int]) -> tuple[int, ...]:
    """The interleaved history ``a_1 o_1 a_2 o_2 ...``; ``observations`` has as many entries as ``actions`` or
    one fewer (the history then ends with an action, and ``o_t`` is what comes next)."""
    if not len(actions) - 1 <= len(observations) <= len(actions):
        raise ValueError(f"argument observations: {len(observations)} observations for {len(actions)} actions; "
                         "an interleaved history has as many or one fewer")
    out: list[int] = []
    for t, a in enumerate(actions):
        out.append(int(a))
        if t < len(observations):
            out.append(int(observations[t]))
    return tuple(out)


def split_history(history: Sequence[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``a_1 o_1 a_2 ...`` (of any length) -> ``(actions, observations)``; the inverse of :func:`interleave`."""
    return tuple(int(x) for x in history[0::2]), tuple(int(x) for x in history[1::2])


_Inputs = TypeVar("_Inputs")


def run_inputs(mode: str, obs: _Inputs | None, history: _Inputs | None) -> _Inputs | None:
    """The inputs a ``,`` reads (``inputs[n-1]`` after n emissions): ``obs`` in policy mode, ``history`` in
    joint mode; ValueError naming the argument given to the wrong mode."""
    check_mode(mode)
    if mode == "policy" and history is not None:
        raise ValueError("argument history: only joint mode reads an interleaved history; policy mode reads obs")
    if mode == "joint" and obs is not None:
        raise ValueError("argument obs: joint mode reads the interleaved history (history=...), not obs")
    return obs if mode == "policy" else history


@dataclass(frozen=True)
class RunResult:
    """One run: emitted ``actions`` (``TILDE_ACTION`` for ``~``), the global ``steps`` (1-based) of each
    emission, the final ``status`` (one of ``STATUSES``) and ``total_steps`` executed."""

    actions: tuple[int, ...]
    steps: tuple[int, ...]
    status: str
    total_steps: int


def bracket_matches(codes: Sequence[int]) -> list[int]:
    """``match[i]``: index of the bracket matching the one at ``i`` (-1 elsewhere and for the final ``]``)."""
    match = [-1] * len(codes)
    stack: list[int] = []
    for i, c in enumerate(codes):
        if c == OPEN:
            stack.append(i)
        elif c == CLOSE and stack:
            j = stack.pop()
            match[i], match[j] = j, i
    return match


def check_run_args(k: int, horizon: int, steps: int, tape_bound: int, obs: Sequence[int] | None,
                   mode: str = "policy", max_horizon: int | None = MAX_HORIZON) -> None:
    """ValueError naming the argument if ``k``, ``horizon``, ``steps``, ``tape_bound`` (checked against
    :data:`aitheory.dsl.limits.LIMITS`) or ``obs`` (the inputs: observations in policy mode, the interleaved
    history in joint mode) is bad.

    ``max_horizon``: :data:`MAX_HORIZON` (the cap), or None for callers that keep O(1) outputs per program (no
    cap on the horizon)."""
    LIMITS.check_run(k, horizon, steps, tape_bound, bounded_horizon=max_horizon is not None)
    if obs is not None:
        if len(obs) < horizon - 1:
            if mode == "joint":
                raise ValueError(f"history has {len(obs)} symbols; {horizon} emissions need {horizon - 1}")
            raise ValueError(f"obs has {len(obs)} observations; horizon {horizon} needs {horizon - 1}")
        bad = [o for o in obs if not 0 <= int(o) < k]
        if bad:
            what = "history symbols" if mode == "joint" else "observations"
            raise ValueError(f"{what} must be in 0..{k - 1}, got {bad[0]}")


def run_reference(
    program: Plain | str | Sequence[int],
    k: int = 2,
    horizon: int = 16,
    obs: Sequence[int] | None = None,
    steps: int = DEFAULT_STEPS,
    tape_bound: int = DEFAULT_TAPE_BOUND,
    detect_cycles: bool = True,
    mode: Mode = "policy",
    history: Sequence[int] | None = None,
) -> RunResult:
    """Run one plain program for up to ``horizon`` emissions.

    Policy mode (the default): on observations ``obs`` (None: all 0); ``obs[t-1]`` is ``o_t``, read by ``,``
    after t actions; it needs ``len(obs) >= horizon - 1``. Joint mode: on the interleaved ``history``
    ``x_1 x_2 ...`` (None: all 0); ``history[n-1]`` is ``x_n``, read by ``,`` after n emissions; it needs
    ``len(history) >= horizon - 1``. ``actions`` of the result are then the emissions of both roles.
    """
    if isinstance(program, str):
        program = parse(program)
    codes = list(program.codes) if isinstance(program, Plain) else [int(c) for c in program]
    inputs = run_inputs(mode, obs, history)
    check_run_args(k, horizon, steps, tape_bound, inputs, mode, max_horizon=None)  # outputs grow only as emitted
    match = bracket_matches(codes)
    last = len(codes) - 1
    tape: dict[int, int] = {}
    head = pc = 0
    actions: list[int] = []
    emit_steps: list[int] = []
    total = since = 0
    saved: tuple[int, int, frozenset[tuple[int, int]]] | None = None
    jumps = 0

    def result(status: str) -> RunResult:
        return RunResult(tuple(actions), tuple(emit_steps), status, total)

    while True:
        if since == steps:
            return result(Status.TIMED_OUT.label)
        op = codes[pc]
        total += 1
        since += 1
        pc += 1
        if op == PLUS:
            tape[head] = (tape.get(head, 0) + 1) % k
        elif op in (LEFT, RIGHT):
            head += 1 if op == RIGHT else -1
            if abs(head) > tape_bound:
                return result(Status.OUT_OF_TAPE.label)
        elif op in (DOT, TILDE):
            actions.append(tape.get(head, 0) if op == DOT else TILDE_ACTION)
            emit_steps.append(total)
            since, saved, jumps = 0, None, 0
            if len(actions) == horizon:
                return result(Status.EMITTED.label)
        elif op == COMMA:
            # after n emissions: o_n (policy mode: n actions emitted) or x_n (joint mode); 0 before the first
            n = len(actions)
            tape[head] = 0 if n == 0 or inputs is None else int(inputs[n - 1])
        elif op == OPEN:
            if tape.get(head, 0) == 0:
                pc = match[pc - 1] + 1
        elif op == CLOSE:
            if pc - 1 == last:
                return result(Status.HALTED.label)
            if tape.get(head, 0) != 0:
                pc = match[pc - 1] + 1
                if detect_cycles:
                    jumps += 1
                    state = (pc, head, frozenset((c, v) for c, v in tape.items() if v))
                    if state == saved:
                        return result(Status.PROVEN_SILENT.label)
                    if jumps & (jumps - 1) == 0:
                        saved = state
