"""Small helpers shared by the command groups."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from typing import Any

from aitheory.results import to_jsonable


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def _whole(text: str) -> int:
    try:
        return int(text.strip()) if text.strip().isascii() else int("x")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def int_in(low: int, high: int, why: str = "") -> Callable[[str], int]:
    """argparse type: an integer in ``low..high`` (``why`` says what the upper limit protects)."""

    def parse(text: str) -> int:
        value = _whole(text)
        if not low <= value <= high:
            reason = f" ({why})" if why and value > high else ""
            raise argparse.ArgumentTypeError(f"expected a whole number in {low}..{high}, got {text}{reason}")
        return value

    parse.__name__ = "int"  # argparse names the type in its messages
    return parse


#: argparse type of ``--workers``: local processes, 1..1024.
workers_count = int_in(1, 1024, "each is a process")


def enumeration_bits(text: str) -> int:
    """argparse type for ``--max-bits`` of an enumeration: refused (before anything runs) if it means more
    programs than :attr:`aitheory.dsl.limits.MachineLimits.max_programs`, with the count and the largest allowed
    value (:meth:`~aitheory.dsl.limits.MachineLimits.argtype`; imported here, not at module level, so that the
    groups that need no BF-8 import no numba)."""
    from aitheory.dsl.limits import LIMITS

    return LIMITS.argtype("max_bits")(text)


def print_json(obj: Any) -> None:
    """Print one JSON object on stdout (infinities as the string "inf")."""
    json.dump(to_jsonable(obj), sys.stdout, allow_nan=False)
    sys.stdout.write("\n")


def parse_symbols(text: str | None, k: int, option: str) -> list[int] | None:
    """``'0110'`` or ``'0,1,1,0'`` -> ``[0, 1, 1, 0]``; a ``UserInputError`` naming ``option`` and the bad symbol."""
    from aitheory.cli import UserInputError

    if text is None:
        return None
    parts = text.split(",") if "," in text else list(text)
    out = []
    for i, part in enumerate(parts):
        if not (part.strip().isascii() and part.strip().isdigit()) or int(part) >= k:
            raise UserInputError(f"{option}: symbol {i + 1} is {part!r}; expected a number in 0..{k - 1}")
        out.append(int(part))
    return out
