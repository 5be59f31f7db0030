"""The sizes a BF-8 run or enumeration may ask for: one :class:`MachineLimits` object, validated in one place.

Every cap on the machine lives here, with the reason for it, and is checked by :meth:`MachineLimits.check` (a
``ValueError`` naming the argument, its range and, past the upper end, what the cap protects) before anything is
allocated or run:

| argument | range | default cap | what the upper end protects |
|---|---|---|---|
| ``k`` | 2..K | 127 | symbols and behaviour codes are ``int8`` |
| ``horizon`` | 1..H | ``2^16`` | the fast kernels hold 9 bytes of outputs per emission per program |
| ``steps`` | 1..T | ``10^10`` | about a minute of interpreter time per emission at 2e8 steps/s |
| ``tape_bound`` | 0..B | ``2^24`` | two tapes of ``2B + 1`` one-byte cells (64 MiB at the cap) |
| ``max_bits`` | 3..L | ``10^11`` programs | the plain programs one enumeration runs (L = 42) |

The interpreters (:func:`aitheory.dsl.reference.check_run_args`), the enumeration
(:func:`aitheory.dsl.enumerate.check_enumeration_size`), the configurations' ``__post_init__`` and the command
line's options (:meth:`MachineLimits.argtype`) all read :data:`LIMITS`, so a cap is changed in one place and the
command line refuses exactly what the library refuses. ``tests/test_limits.py`` checks that they agree.

Layer 1: standard library only (the program count is :func:`aitheory.dsl.codes.program_count_bits`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from aitheory.dsl.codes import BITS_PER_TOKEN, program_count_bits

__all__ = ["LIMITS", "Bounded", "MachineLimits"]

#: The arguments :meth:`MachineLimits.check` knows.
Bounded = Literal["k", "horizon", "steps", "tape_bound"]


@dataclass(frozen=True)
class MachineLimits:
    """The largest sizes a run may ask for (module docstring); the smallest are fixed by the semantics."""

    max_k: int = 127
    """Largest alphabet size K: symbols and behaviour codes are stored as ``int8``."""
    max_horizon: int = 1 << 16
    """Largest horizon H (emissions per run): the fast kernels hold H actions and H emission steps per program."""
    max_steps: int = 10**10
    """Largest per-emission step budget T (about a minute of interpreter time per emission at 2e8 steps/s)."""
    max_tape_bound: int = 1 << 24
    """Largest tape bound B: the fast kernels hold two tapes of 2B+1 one-byte cells (64 MiB at this bound)."""
    max_programs: int = 10**11
    """Most plain programs one enumeration may run (42 bits: 6.8e10 programs; 45 bits would be 4.9e11)."""

    def __post_init__(self) -> None:
        if not 2 <= self.max_k <= 127:
            raise ValueError(f"argument max_k: must be in 2..127 (int8 codes), got {self.max_k}")
        for name in ("max_horizon", "max_steps", "max_programs"):
            if getattr(self, name) < 1:
                raise ValueError(f"argument {name}: must be >= 1, got {getattr(self, name)}")
        if self.max_tape_bound < 0:
            raise ValueError(f"argument max_tape_bound: must be >= 0, got {self.max_tape_bound}")

    def bounds(self, name: Bounded) -> tuple[int, int, str]:
        """``(low, high, why)`` of argument ``name``: its allowed range and what the upper end protects."""
        table = {
            "k": (2, self.max_k, "symbols and behaviour codes are int8"),
            "horizon": (1, self.max_horizon, f"{9 * self.max_horizon:.3g} bytes of outputs per program at most"),
            "steps": (1, self.max_steps, f"at most {self.max_steps / 2e8:.3g} s per emission at 2e8 steps/s"),
            "tape_bound": (0, self.max_tape_bound,
                           f"two tapes of 2B+1 cells: at most {2 * (2 * self.max_tape_bound + 1) / 2**30:.3g} GiB"),
        }
        if name not in table:
            raise KeyError(f"no machine limit on {name!r}; limits: {', '.join(table)}")
        return table[name]

    def check(self, name: Bounded, value: int, label: str | None = None) -> int:
        """``value`` if it is in the range of ``name``; else ``ValueError`` naming ``label`` (default ``name``),
        the range, and past the upper end the reason."""
        low, high, why = self.bounds(name)
        if not low <= value <= high:
            reason = f" ({why})" if value > high else ""
            raise ValueError(f"argument {label or name}: must be in {low}..{high}, got {value}{reason}")
        return value

    def check_run(self, k: int, horizon: int, steps: int, tape_bound: int, *, bounded_horizon: bool = True) -> None:
        """Check the machine arguments of one run; ``bounded_horizon=False`` for callers that keep O(1) outputs per
        program (the reference interpreter, first-hold runs), which need ``horizon >= 1`` only."""
        self.check("k", k)
        if bounded_horizon:
            self.check("horizon", horizon)
        elif horizon < 1:
            raise ValueError(f"argument horizon: must be >= 1, got {horizon}")
        self.check("steps", steps)
        self.check("tape_bound", tape_bound)

    @property
    def max_bits(self) -> int:
        """The largest ``max_bits`` (a multiple of 3) whose enumeration runs at most :attr:`max_programs`."""
        bits = BITS_PER_TOKEN
        while program_count_bits(bits + BITS_PER_TOKEN) <= self.max_programs:
            bits += BITS_PER_TOKEN
        return bits

    def check_enumeration(self, max_bits: int, label: str = "max_bits", limit: int | None = None) -> int:
        """The number of plain programs of at most ``max_bits`` bits; ``ValueError`` naming ``label``, the count
        and the largest allowed value if it exceeds ``limit`` (default :attr:`max_programs`)."""
        if max_bits < BITS_PER_TOKEN:
            raise ValueError(f"argument {label}: must be >= {BITS_PER_TOKEN} (one token is 3 bits), got {max_bits}")
        cap = self.max_programs if limit is None else limit
        count = program_count_bits(max_bits)
        if count > cap:
            ok = self.max_bits if limit is None else MachineLimits(max_programs=cap).max_bits
            raise ValueError(f"argument {label}: {max_bits} bits means enumerating {count:.3g} programs, more than "
                             f"the limit of {cap:.3g}; lower {label} to at most {ok}")
        return count

    def argtype(self, name: Bounded | Literal["max_bits"], option: str | None = None) -> Callable[[str], int]:
        """An argparse ``type`` for option ``option`` (default ``--name``) refusing what :meth:`check` (or, for
        ``max_bits``, :meth:`check_enumeration`) refuses, with the same message."""
        label = option or "--" + name.replace("_", "-")

        def parse(text: str) -> int:
            try:
                value = int(text.strip()) if text.strip().isascii() else int("x")
            except ValueError:
                raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
            try:
                if name == "max_bits":
                    self.check_enumeration(value, label)
                else:
                    self.check(name, value, label)
            except ValueError as exc:
                raise argparse.ArgumentTypeError(str(exc).removeprefix(f"argument {label}: ")) from None
            return value

        parse.__name__ = "int"  # argparse names the type in its messages
        return parse


#: The limits every module and option of the package uses.
LIMITS = MachineLimits()
