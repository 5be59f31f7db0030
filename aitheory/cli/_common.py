"""Small helpers shared by the command groups."""

from __future__ import annotations

import argparse
import json
import math
import sys
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


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def print_json(obj: Any) -> None:
    """Print one JSON object on stdout (infinities as the string "inf")."""
    json.dump(to_jsonable(obj), sys.stdout, allow_nan=False)
    sys.stdout.write("\n")
