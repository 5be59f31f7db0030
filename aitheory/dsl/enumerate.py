"""Exhaustive enumeration of plain BF-8 programs in canonical order (by length, then code value), in blocks.

A block is all programs of ``n_tokens`` tokens that start with a given token ``prefix``; listing the valid
prefixes of each length in code order gives the blocks in canonical order, so blocks can be generated, run and
tabulated independently (and in parallel) with memory bounded by the block size.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import numba
import numpy as np

from aitheory.dsl.codes import BITS_PER_TOKEN, CLOSE, OPEN, codes_to_text, program_count
from aitheory.dsl.limits import LIMITS
from aitheory.dsl.workspace import Workspace

__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "MAX_PROGRAMS",
    "Block",
    "all_programs",
    "blocks",
    "check_enumeration_size",
    "completions",
    "enumerate_block",
    "index_bits",
    "program_at",
]

#: Target number of programs per block.
DEFAULT_BLOCK_SIZE: int = 1 << 17

#: Most programs one enumeration may run (:attr:`aitheory.dsl.limits.MachineLimits.max_programs`).
MAX_PROGRAMS: int = LIMITS.max_programs


def check_enumeration_size(max_bits: int, option: str = "max_bits", limit: int = MAX_PROGRAMS) -> int:
    """The number of plain programs of at most ``max_bits`` bits; ``ValueError`` naming ``option``, the count
    and the largest allowed value if it exceeds ``limit`` (:meth:`aitheory.dsl.limits.MachineLimits.check_enumeration`,
    checked before anything is allocated)."""
    return LIMITS.check_enumeration(max_bits, option, limit)


@cache
def completions(remaining: int, depth: int) -> int:
    """Number of token words of length ``remaining`` that take bracket depth ``depth`` to 0, never below 0."""
    if depth < 0 or depth > remaining:
        return 0
    if remaining == 0:
        return 1
    return 6 * completions(remaining - 1, depth) + completions(remaining - 1, depth + 1) + (
        completions(remaining - 1, depth - 1) if depth > 0 else 0
    )


@dataclass(frozen=True)
class Block:
    """All plain programs of ``n_tokens`` tokens whose first tokens are ``prefix``.

    ``start`` is the canonical index (0-based, over all programs of every length) of its first program and
    ``size`` the number of programs in it.
    """

    n_tokens: int
    prefix: tuple[int, ...]
    start: int
    size: int

    @property
    def bits(self) -> int:
        return BITS_PER_TOKEN * self.n_tokens


def _prefix_depth(prefix: tuple[int, ...]) -> int:
    """Bracket depth after ``prefix`` (-1 if some prefix of it has an unmatched ``]``)."""
    depth = 0
    for c in prefix:
        depth += (c == OPEN) - (c == CLOSE)
        if depth < 0:
            return -1
    return depth


def blocks(max_bits: int, block_size: int = DEFAULT_BLOCK_SIZE, min_bits: int = 0) -> Iterator[Block]:
    """The blocks covering all plain programs of ``min_bits < 3n <= max_bits`` bits, in canonical order."""
    start = sum(program_count(n) for n in range(1, min_bits // BITS_PER_TOKEN + 1))
    for n in range(min_bits // BITS_PER_TOKEN + 1, max_bits // BITS_PER_TOKEN + 1):
        m = n - 1  # the balanced word before the halting ']'
        plen = 0
        while plen < m and program_count(n) > block_size * 8**plen:
            plen += 1
        for prefix in itertools.product(range(8), repeat=plen):
            depth = _prefix_depth(prefix)
            size = completions(m - plen, depth) if depth >= 0 else 0
            if size:
                yield Block(n, prefix, start, size)
                start += size


@numba.njit(cache=True)
def _fill(n: int, prefix: np.ndarray, out: np.ndarray) -> int:
    """Write all programs of n tokens starting with ``prefix`` into rows of ``out`` in code order."""
    m = n - 1
    plen = prefix.shape[0]
    word = np.zeros(n, dtype=np.uint8)
    depth_at = np.zeros(n + 1, dtype=np.int32)  # depth before position p
    d = 0
    for p in range(plen):
        word[p] = prefix[p]
        d += (prefix[p] == OPEN) - (prefix[p] == CLOSE)
    depth_at[plen] = d
    word[m] = CLOSE
    if m == plen:
        out[0, :n] = word
        return 1
    count = 0
    p = plen
    choice = np.full(n, -1, dtype=np.int32)
    while p >= plen:
        c = int(choice[p]) + 1
        d = int(depth_at[p])
        r = m - p - 1  # positions left after this one
        while c < 8:
            if c == OPEN:
                ok = d + 1 <= r
            elif c == CLOSE:
                ok = d > 0 and d - 1 <= r
            else:
                ok = d <= r
            if ok:
                break
            c += 1
        if c == 8:
            choice[p] = -1
            p -= 1
            continue
        choice[p] = c
        word[p] = c
        depth_at[p + 1] = d + (c == OPEN) - (c == CLOSE)
        if p == m - 1:
            out[count, :n] = word
            count += 1
        else:
            p += 1
    return count


def enumerate_block(block: Block, workspace: Workspace | None = None) -> np.ndarray:
    """The programs of ``block`` as a ``(size, n_tokens)`` ``uint8`` array of token codes, canonical order.

    With a ``workspace`` the array is its buffer ``"codes"`` (overwritten by the next block; no new memory)."""
    shape = (block.size, block.n_tokens)
    # _fill writes every cell of every row, so the workspace's uninitialised buffer needs no clearing
    out = np.zeros(shape, dtype=np.uint8) if workspace is None else workspace.array("codes", shape, np.uint8)
    got = _fill(block.n_tokens, np.array(block.prefix, dtype=np.uint8), out)
    assert got == block.size, (got, block)
    return out


def all_programs(max_bits: int) -> Iterator[tuple[int, ...]]:
    """Every plain program of at most ``max_bits`` bits as a tuple of codes, in canonical order (small L)."""
    for block in blocks(max_bits):
        for row in enumerate_block(block):
            yield tuple(int(c) for c in row)


def program_at(index: int) -> str:
    """Text of the program with canonical index ``index`` (0-based over all lengths): unranking."""
    if index < 0:
        raise ValueError(f"index must be >= 0, got {index}")
    n = 1
    while index >= program_count(n):
        index -= program_count(n)
        n += 1
    m = n - 1
    codes: list[int] = []
    depth = 0
    for p in range(m):
        for c in range(8):
            d = depth + (c == OPEN) - (c == CLOSE)
            size = completions(m - p - 1, d) if d >= 0 else 0
            if index < size:
                codes.append(c)
                depth = d
                break
            index -= size
    codes.append(CLOSE)
    return codes_to_text(codes)


def index_bits(index: np.ndarray | int) -> np.ndarray:
    """Length in bits (3 per token) of the programs with these canonical indices."""
    idx = np.asarray(index, dtype=np.int64)
    cum = [0]
    while cum[-1] <= int(idx.max(initial=0)):
        cum.append(cum[-1] + program_count(len(cum)))
    # programs of n tokens have indices cum[n-1] .. cum[n] - 1
    return BITS_PER_TOKEN * np.searchsorted(np.array(cum[1:], dtype=np.int64), idx, side="right") + BITS_PER_TOKEN
