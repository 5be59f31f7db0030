"""Validation of the program arrays handed to the compiled interpreters, before any kernel runs.

The numba kernels of :mod:`aitheory.dsl.fast` and :mod:`aitheory.dsl.fast_tree` run without bounds checks: a
token code outside 0..7, a length outside ``1..width``, or a row that is not a plain program (a balanced word
followed by the halting ``]``) would give wrong statuses or read out of bounds. :func:`program_arrays` checks
all of that (one compiled pass, about a nanosecond per token) and returns the arrays in the kernels' dtypes.
"""

from __future__ import annotations

import numba
import numpy as np

from aitheory.dsl.codes import CLOSE, OPEN

__all__ = ["program_arrays"]

_REASONS = ("", "has a ']' with no matching '[' before its last token", "has an unclosed '['",
            "does not end with the halting ']'")


@numba.njit(cache=True, nogil=True)
def _first_invalid(codes: np.ndarray, lengths: np.ndarray) -> tuple[int, int]:
    """``(row, reason)`` of the first row that is not a plain program (reason index into ``_REASONS``), or
    ``(-1, 0)``."""
    for i in range(codes.shape[0]):
        n = lengths[i]
        depth = 0
        for p in range(n - 1):
            c = codes[i, p]
            if c == OPEN:
                depth += 1
            elif c == CLOSE:
                depth -= 1
                if depth < 0:
                    return i, 1
        if depth != 0:
            return i, 2
        if codes[i, n - 1] != CLOSE:
            return i, 3
    return -1, 0


def program_arrays(codes: object, lengths: object = None) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, lengths)`` as contiguous ``uint8`` and ``int32`` arrays, checked to be plain programs.

    ``codes``: a 2-D integer array, one program per row (padded); ``lengths``: ``lengths[i]`` tokens of row
    ``i`` are the program (None: the whole row). ``ValueError`` naming the argument, the row and the reason
    otherwise.
    """
    arr = np.asarray(codes)
    if arr.ndim != 2:
        raise ValueError(f"argument codes: must be 2-D (programs x tokens), got shape {arr.shape}")
    if arr.dtype.kind not in "ui":
        raise ValueError(f"argument codes: must hold integer token codes, got dtype {arr.dtype}")
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) > 7):
        bad = np.argwhere((arr < 0) | (arr > 7))[0]
        raise ValueError(f"argument codes: token codes are 0..7, row {int(bad[0])} has {int(arr[tuple(bad)])} at "
                         f"position {int(bad[1])}")
    n, width = arr.shape
    if lengths is None:
        lens = np.full(n, width, dtype=np.int64)
    else:
        lens = np.asarray(lengths)
        if lens.shape != (n,) or (lens.size and lens.dtype.kind not in "ui"):
            raise ValueError(f"argument lengths: must be {n} integers (one per row of codes), got shape "
                             f"{lens.shape} of dtype {lens.dtype}")
    if lens.size and (int(lens.min()) < 1 or int(lens.max()) > width):
        i = int(np.flatnonzero((lens < 1) | (lens > width))[0])
        raise ValueError(f"argument lengths: row {i} has length {int(lens[i])}; lengths are 1..{width} (the width "
                         "of codes)")
    out_codes = np.ascontiguousarray(arr, dtype=np.uint8)
    out_lengths = np.ascontiguousarray(lens, dtype=np.int32)
    row, reason = _first_invalid(out_codes, out_lengths)
    if row >= 0:
        raise ValueError(f"argument codes: row {row} is not a plain program: it {_REASONS[reason]}")
    return out_codes, out_lengths
