"""BF-8 tokens, their 3-bit codes, the prefix code of programs, and exact counts of the prior.

Tokens and codes (design.md section 2, a contract): ``+``=000 ``<``=001 ``>``=010 ``.``=011 ``,``=100
``~``=101 ``[``=110 ``]``=111. A *plain program* is a token string whose last token is its first
unmatched ``]`` (HALT).

Counting. Write the program as ``w ]`` where ``w`` has ``m = n - 1`` tokens. The final ``]`` is the
*first unmatched* one iff no prefix of ``w`` has more ``]`` than ``[`` and ``w`` ends with every ``[``
matched, i.e. ``w`` is a balanced bracket word over the six neutral tokens. With ``a(m)`` the number of
such words, the generating function ``A(x) = sum a(m) x^m`` satisfies ``A = 1 + 6 x A + x^2 A^2`` (empty
word, a neutral token then a word, or ``[ w1 ] w2``), giving the P-recurrence
``(m + 2) a(m) = 6 (2m + 1) a(m-1) - 32 (m - 1) a(m-2)`` with ``a(0) = 1``, ``a(1) = 6``.

The prior of an n-token program is ``2^(-3n) = 8^(-n)``, so the Kraft sum is
``sum_n a(n-1) 8^(-n) = A(1/8) / 8``. At ``x = 1/8`` the discriminant ``(1 - 6x)^2 - 4x^2`` is exactly 0,
so ``A(1/8) = (1 - 6x) / (2 x^2) = 8`` and the prior sums to exactly 1 (slowly: the tail after n tokens
is ``~ sqrt(8 / (pi n))``).
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache

import numpy as np

#: Token characters in code order: token ``i`` has the 3-bit code of the integer ``i``.
TOKENS: str = "+<>.,~[]"
PLUS, LEFT, RIGHT, DOT, COMMA, TILDE, OPEN, CLOSE = range(8)
#: Bits per token.
BITS_PER_TOKEN: int = 3
TOKEN_CODE: dict[str, int] = {c: i for i, c in enumerate(TOKENS)}

__all__ = [
    "BITS_PER_TOKEN",
    "CLOSE",
    "COMMA",
    "DOT",
    "LEFT",
    "OPEN",
    "PLUS",
    "RIGHT",
    "TILDE",
    "TOKENS",
    "TOKEN_CODE",
    "balanced_words",
    "balanced_words_brute",
    "bits_to_codes",
    "codes_to_bits",
    "codes_to_text",
    "elias_delta",
    "elias_delta_bits",
    "is_program_codes",
    "kraft_mass",
    "kraft_mass_bits",
    "program_count",
    "program_count_bits",
    "programs_to_bits",
    "read_elias_delta",
    "text_to_codes",
]


@cache
def balanced_words(m: int) -> int:
    """``a(m)``: the number of balanced words of ``m`` tokens (six neutral tokens, ``[`` and ``]``).

    Computed with the P-recurrence ``(m + 2) a(m) = 6 (2m + 1) a(m-1) - 32 (m - 1) a(m-2)``; exact integers.
    """
    if m < 0:
        raise ValueError(f"m must be >= 0, got {m}")
    if m == 0:
        return 1
    if m == 1:
        return 6
    num = 6 * (2 * m + 1) * balanced_words(m - 1) - 32 * (m - 1) * balanced_words(m - 2)
    q, r = divmod(num, m + 2)
    assert r == 0, "the recurrence must divide exactly"
    return q


def balanced_words_brute(m: int) -> int:
    """``a(m)`` by dynamic programming over bracket depth (an independent check of the recurrence)."""
    counts = {0: 1}
    for _ in range(m):
        nxt: dict[int, int] = {}
        for depth, c in counts.items():
            nxt[depth] = nxt.get(depth, 0) + 6 * c
            nxt[depth + 1] = nxt.get(depth + 1, 0) + c
            if depth > 0:
                nxt[depth - 1] = nxt.get(depth - 1, 0) + c
        counts = nxt
    return counts.get(0, 0)


def program_count(n_tokens: int) -> int:
    """Number of plain programs of exactly ``n_tokens`` tokens (``3 n`` bits): ``a(n - 1)``, 0 for n < 1."""
    return balanced_words(n_tokens - 1) if n_tokens >= 1 else 0


def program_count_bits(max_bits: int) -> int:
    """Number of plain programs of at most ``max_bits`` bits (all lengths ``3n <= max_bits``)."""
    return sum(program_count(n) for n in range(1, max_bits // BITS_PER_TOKEN + 1))


def kraft_mass(max_tokens: int) -> Fraction:
    """Exact prior mass ``sum_{n <= max_tokens} a(n-1) 8^(-n)`` of the programs of <= max_tokens tokens."""
    return sum((Fraction(program_count(n), 8**n) for n in range(1, max_tokens + 1)), Fraction(0))


def kraft_mass_bits(max_bits: int) -> Fraction:
    """Exact prior mass of all plain programs of at most ``max_bits`` bits (``2^-bits`` each)."""
    return kraft_mass(max_bits // BITS_PER_TOKEN)


def is_program_codes(codes: np.ndarray | list[int]) -> bool:
    """True iff the token codes form a plain program: the last token is the first unmatched ``]``."""
    depth = 0
    n = len(codes)
    for i, c in enumerate(codes):
        if c == OPEN:
            depth += 1
        elif c == CLOSE:
            if depth == 0:
                return i == n - 1
            depth -= 1
        elif not 0 <= c < 8:
            return False
    return False


def text_to_codes(text: str) -> np.ndarray:
    """Token codes (uint8) of a token string, without checking that it is a program (see ``parse``)."""
    return np.array([TOKEN_CODE[c] for c in text], dtype=np.uint8)


def codes_to_text(codes: np.ndarray | list[int]) -> str:
    """The token string of a sequence of token codes."""
    return "".join(TOKENS[int(c)] for c in codes)


def codes_to_bits(codes: np.ndarray | list[int]) -> str:
    """The bit string (``'0'``/``'1'`` characters, 3 per token, most significant first) of token codes."""
    return "".join(format(int(c), "03b") for c in codes)


def programs_to_bits(codes: np.ndarray | list[int]) -> str:
    """Alias of :func:`codes_to_bits` for a plain program."""
    return codes_to_bits(codes)


def bits_to_codes(bits: str) -> np.ndarray:
    """Token codes of a bit string whose length is a multiple of 3 (``ValueError`` otherwise)."""
    if len(bits) % BITS_PER_TOKEN:
        raise ValueError(f"bit string length {len(bits)} is not a multiple of {BITS_PER_TOKEN}")
    if set(bits) - {"0", "1"}:
        raise ValueError("bit string may contain only '0' and '1'")
    return np.array([int(bits[i : i + 3], 2) for i in range(0, len(bits), 3)], dtype=np.uint8)


# ----- Elias delta: the prefix code of positive integers used for OPT's threshold (parser.Dyadic) -----


def elias_delta(n: int) -> str:
    """Elias delta code of an integer ``n >= 1``: with ``L = n.bit_length()``, the Elias gamma code of ``L``
    (``L.bit_length() - 1`` zeros, then ``L`` in binary) followed by the ``L - 1`` bits of ``n`` after its leading 1.

    Prefix-free and complete (``sum_n 2^-len = 1``); ``len = L + 2 floor(log2 L)``: ``1 -> '1'``,
    ``2 -> '0100'``, ``3 -> '0101'``, ``4 -> '01100'``."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"Elias delta codes integers >= 1, got {n!r}")
    length = n.bit_length()
    return "0" * (length.bit_length() - 1) + format(length, "b") + format(n, "b")[1:]


def elias_delta_bits(n: int) -> int:
    """``len(elias_delta(n))`` without building the string."""
    length = n.bit_length()
    return 2 * (length.bit_length() - 1) + length


def read_elias_delta(bits: str, i: int) -> tuple[int, int] | None:
    """Decode one Elias delta code at ``bits[i:]``: ``(n, end)``, or None if the bits end first."""
    zeros = 0
    while i + zeros < len(bits) and bits[i + zeros] == "0":
        zeros += 1
    j = i + zeros
    if j + zeros + 1 > len(bits):
        return None
    length = int(bits[j : j + zeros + 1], 2)
    j += zeros + 1
    if j + length - 1 > len(bits):
        return None
    return int("1" + bits[j : j + length - 1], 2), j + length - 1
