"""How a BF-8 run ends and what a program predicts at a step: the one vocabulary of statuses and behaviour codes.

**Statuses.** :class:`Status` is the one definition; every other table of statuses derives from it:

| name | code | meaning (design.md section 2) |
|---|---|---|
| ``emitted`` | 0 | the run emitted its H symbols (an event detector: it held, and stopped there) |
| ``halted`` | 1 | the program's final ``]`` executed |
| ``timed_out`` | 2 | more than T steps without an emission (T, the per-emission budget) |
| ``out_of_tape`` | 3 | the head left the cells ``-B..B`` |
| ``proven_silent`` | 4 | a machine state repeated within one emission interval (Brent's check) |
| ``periodic`` | 5 | event detectors only: the state after an emission repeated with no ``,`` between |

:data:`STATUSES` (the interpreter's five, index = code), :data:`EVENT_STATUSES` (all six, for first-hold runs),
:data:`LOSS_STATUSES` (the statuses that lose mass: all but ``emitted``) and the numba kernels' integer literals
(``aitheory.dsl.machine.ST_*``, ``aitheory.dsl.events.ST_PERIODIC``) are read from :class:`Status`;
``tests/test_status.py`` checks that they match.

**Behaviour codes.** What a program predicts at one step, as one ``int8`` (the interpreter's action outputs and
the mixture's behaviour rows use the same numbers):

* ``0 .. K-1``: a ``.`` emission of that symbol (probability 1);
* :data:`CODE_TILDE` (-1, also :data:`TILDE_ACTION`): a ``~`` emission (probability ``1/K`` for each symbol);
* :data:`NO_ACTION` (-2): the interpreter's output after the run stopped (no emission);
* :data:`CODE_MIX` (-3): predicts with the plain-program mixture's conditional ``xi_plain(. | h)``;
* :func:`lost_code` ``(s) = CODE_LOST_BASE - s`` (-10 - s): the run stopped with status ``s`` and predicts
  nothing; its mass is lost from this step on (:func:`lost_status` reads the status back).

:func:`emission_probs` is the one map from codes to probability rows (the one-hot rows of ``.`` emissions).

Layer 1: numpy only.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

__all__ = [
    "CODE_LOST_BASE",
    "CODE_MIX",
    "CODE_TILDE",
    "EVENT_STATUSES",
    "LOSS_STATUSES",
    "NO_ACTION",
    "STATUSES",
    "TILDE_ACTION",
    "Status",
    "emission_probs",
    "lost_code",
    "lost_status",
]


class Status(IntEnum):
    """How a run ended; the value is the status code stored in ``int8`` arrays (module docstring)."""

    EMITTED = 0
    HALTED = 1
    TIMED_OUT = 2
    OUT_OF_TAPE = 3
    PROVEN_SILENT = 4
    PERIODIC = 5

    @property
    def label(self) -> str:
        """The name used in JSON, CSV and messages: ``"timed_out"`` for :attr:`TIMED_OUT`."""
        return self.name.lower()

    @classmethod
    def of(cls, label: str) -> Status:
        """The status called ``label`` (``"halted"`` -> :attr:`HALTED`); ``ValueError`` naming the known ones."""
        try:
            return cls[label.upper()]
        except KeyError:
            raise ValueError(f"unknown status {label!r}; statuses: {', '.join(EVENT_STATUSES)}") from None


#: The interpreter's five statuses, in the order of their codes (``STATUSES[s]`` is the label of code s).
STATUSES: tuple[str, ...] = tuple(s.label for s in Status if s is not Status.PERIODIC)
#: Statuses of a first-hold run (:mod:`aitheory.dsl.events`): the interpreter's five, then ``periodic``.
EVENT_STATUSES: tuple[str, ...] = tuple(s.label for s in Status)
#: The statuses that lose mass: every interpreter status but ``emitted``, in code order.
LOSS_STATUSES: tuple[str, ...] = STATUSES[Status.EMITTED + 1:]

#: Code of a ``~`` emission (the interpreter reports it as this action value).
CODE_TILDE: int = -1
TILDE_ACTION: int = CODE_TILDE
#: The interpreter's action output after the run stopped.
NO_ACTION: int = -2
#: Code of MIX: predicts with the plain-program mixture.
CODE_MIX: int = -3
#: A run stopped with status s has code ``CODE_LOST_BASE - s`` (:func:`lost_code`).
CODE_LOST_BASE: int = -10


def lost_code(status: int) -> int:
    """The behaviour code of a run that stopped with status code ``status``: ``CODE_LOST_BASE - status``."""
    return CODE_LOST_BASE - int(status)


def lost_status(code: int) -> str | None:
    """The status label of a lost-mass code, or None for an emission or MIX code."""
    return Status(CODE_LOST_BASE - code).label if code <= CODE_LOST_BASE else None


def emission_probs(codes: np.ndarray | int, k: int) -> np.ndarray:
    """``(..., K)`` float64: each code's probability of each symbol, ``p(x) = [code == x]`` for a ``.`` emission,
    ``1/K`` for every x on a ``~`` (:data:`CODE_TILDE`), and 0 for every other code (a stopped run: its mass is
    lost, never renormalised; :data:`CODE_MIX`, which the mixture fills in with ``xi_plain``)."""
    codes = np.asarray(codes)
    out = (codes[..., None] == np.arange(k)).astype(np.float64)
    out[codes == CODE_TILDE] = 1.0 / k
    return out
