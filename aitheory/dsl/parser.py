"""Text form and bit codes of BF-8 expressions: plain programs, ``SWITCH(E, P, Q)`` and ``MIX``.

Text grammar (design.md section 2)::

    expr   := plain | switch | opt | "MIX"
    switch := "SWITCH(" plain "," (plain | opt) "," (plain | "MIX") ")"      (spaces allowed around the commas)
    opt    := "OPT(" plain "," dyadic ")"
    dyadic := digits | digits "/" digits          (the denominator a power of 2: 0, 1, 3/8, 6/16)
    plain  := a token string over ``+<>.,~[]`` whose last token is its first unmatched ``]``

Bit codes of the full grammar (prefix-free): ``0`` + 3 bits per token for a plain program (``1 + 3n`` bits),
``100`` + code(E) + code(P) + code(Q) for ``SWITCH`` (its first ``0`` is the leading bit of the plain event, so
the marker is ``10``), ``11`` for ``MIX``, and ``101`` + code(U) + code(u) for ``OPT(U, u)``: ``101`` is the
code space of a SWITCH whose event is not plain, which no SWITCH uses, so every earlier code is unchanged. So
``len(SWITCH E P Q) = 2 + len(E) + len(P) + len(Q)`` with every part coded in the full grammar,
``len(OPT(U, u)) = 3 + len(U) + len(u)`` and ``len(u) = len(delta(n + 1)) + len(delta(e + 1))`` for
``u = n / 2^e`` (Elias delta, :func:`aitheory.dsl.codes.elias_delta`), hence
``len(SWITCH(E, OPT(U, u), MIX)) = 7 + len(E) + len(U) + len(u)``. SWITCH's P may be plain or OPT (a P code
starting with ``1`` was unused, and OPT's starts with ``101``); Q stays plain or MIX.
In the plain language alone (what enumeration counts) a plain program has ``3n`` bits.

Every malformed text raises :class:`ParseError`, which names the 0-based character position and the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from aitheory.dsl.codes import (
    BITS_PER_TOKEN,
    CLOSE,
    OPEN,
    TOKEN_CODE,
    TOKENS,
    elias_delta,
    elias_delta_bits,
    read_elias_delta,
)

__all__ = [
    "OPT_MARKER_BITS",
    "SWITCH_OPT_MIX_BITS",
    "Dyadic",
    "Expr",
    "Mix",
    "Opt",
    "ParseError",
    "Plain",
    "Switch",
    "decode_bits",
    "encode_bits",
    "expr_bits",
    "format_expr",
    "parse",
    "parse_expr",
]


class ParseError(ValueError):
    """Malformed BF-8 text or bits; ``position`` is the 0-based index where the problem was found."""

    def __init__(self, text: str, position: int, reason: str) -> None:
        self.text = text
        self.position = position
        self.reason = reason
        super().__init__(f"cannot parse {text!r} at position {position}: {reason}")


@dataclass(frozen=True)
class Plain:
    """A plain BF-8 program: token codes 0..7, the last one its first unmatched ``]``."""

    codes: tuple[int, ...]

    @property
    def n_tokens(self) -> int:
        return len(self.codes)

    @property
    def bits(self) -> int:
        """Length in the plain language, ``3n`` bits (prior ``2^-3n``)."""
        return BITS_PER_TOKEN * len(self.codes)

    def __str__(self) -> str:
        return "".join(TOKENS[c] for c in self.codes)


@dataclass(frozen=True)
class Mix:
    """``MIX``: predict each action with the posterior mixture of all plain programs (2 bits: ``11``)."""

    def __str__(self) -> str:
        return "MIX"


#: Bits of OPT's leading code ``101``.
OPT_MARKER_BITS = 3
#: The grammar constant c of ``len(SWITCH(E, OPT(U, u), MIX)) = c + len(E) + len(U) + len(u)`` (full-grammar
#: lengths of E and U, ``1 + 3n`` each): SWITCH's 2 marker bits, OPT's 3 and MIX's 2.
SWITCH_OPT_MIX_BITS = 2 + OPT_MARKER_BITS + 2


@dataclass(frozen=True)
class Dyadic:
    """A dyadic rational ``numerator / 2^exponent >= 0`` (OPT's threshold u), coded as
    ``delta(numerator + 1) delta(exponent + 1)`` (Elias delta, prefix-free). ``6/16`` and ``3/8`` are different
    codes of the same number; the canonical one (odd numerator, :meth:`of`) is never longer."""

    numerator: int
    exponent: int

    def __post_init__(self) -> None:
        for name, v in (("numerator", self.numerator), ("exponent", self.exponent)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"argument {name}: a dyadic threshold needs an integer >= 0, got {v!r}")

    @classmethod
    def of(cls, value: Fraction | int) -> Dyadic:
        """The canonical (shortest) code of a dyadic rational ``>= 0``: odd numerator, or ``0 = 0/1``."""
        q = Fraction(value)
        e = q.denominator.bit_length() - 1
        if q < 0 or q.denominator != 1 << e:
            raise ValueError(f"argument u: {value} is not a dyadic rational >= 0")
        return cls(q.numerator, e)

    @property
    def value(self) -> Fraction:
        return Fraction(self.numerator, 1 << self.exponent)

    @property
    def bits(self) -> int:
        """``len(u) = len(delta(numerator + 1)) + len(delta(exponent + 1))``."""
        return elias_delta_bits(self.numerator + 1) + elias_delta_bits(self.exponent + 1)

    def code(self) -> str:
        return elias_delta(self.numerator + 1) + elias_delta(self.exponent + 1)

    def __str__(self) -> str:
        return str(self.numerator) if self.exponent == 0 else f"{self.numerator}/{1 << self.exponent}"

    @classmethod
    def shortest_in(cls, lo: Fraction | int, hi: Fraction | int) -> Dyadic:
        """The dyadic ``u`` in ``[lo, hi)`` with the shortest code (ties: the smaller exponent): the cheapest
        threshold for OPT between ``v nu(h)`` and ``V* nu(h)``. For each exponent e the smallest numerator
        ``ceil(lo 2^e)`` is the shortest; e grows until ``delta(e + 1)`` alone is longer than the best found."""
        lo_q, hi_q = Fraction(lo), Fraction(hi)
        if not 0 <= lo_q < hi_q:
            raise ValueError(f"arguments lo, hi: need 0 <= lo < hi, got {lo}, {hi}")
        best: Dyadic | None = None
        e = 0
        while best is None or elias_delta_bits(e + 1) + 1 <= best.bits:
            n = -((-lo_q.numerator << e) // lo_q.denominator)  # ceil(lo 2^e)
            if Fraction(n, 1 << e) < hi_q:
                candidate = cls(n, e)
                if best is None or candidate.bits < best.bits:
                    best = candidate
            e += 1
        return best


@dataclass(frozen=True)
class Opt:
    """``OPT(U, u)``: act by the first deterministic policy of the remaining horizon, in the canonical order, whose
    unnormalised value ``nu(h) V`` under the mixture's model exceeds ``u`` (semantics: ``aitheory.planning.opt``).
    A policy-only component: it predicts actions; observations come from MIX."""

    utility: Plain
    threshold: Dyadic

    def __str__(self) -> str:
        return f"OPT({self.utility}, {self.threshold})"


@dataclass(frozen=True)
class Switch:
    """``SWITCH(E, P, Q)``: act as ``before`` (Q) until event ``event`` (E) first holds, then as ``after``."""

    event: Plain
    after: Plain | Opt
    before: Plain | Mix

    def __str__(self) -> str:
        return f"SWITCH({self.event}, {self.after}, {self.before})"


Expr = Plain | Mix | Switch | Opt


def _scan_plain(text: str, start: int) -> tuple[Plain, int]:
    """Read one plain program from ``text[start:]``; return it and the index just past its halting ``]``.

    Plain programs are self-delimiting (``,`` is a token, so arguments of SWITCH end at their halting ``]``).
    Raises ParseError for an unknown character, no halting ``]`` before the end, and an empty program.
    """
    depth = 0
    codes: list[int] = []
    i = start
    while i < len(text):
        ch = text[i]
        code = TOKEN_CODE.get(ch)
        if code is None:
            raise ParseError(text, i, f"unknown character {ch!r} (tokens are {TOKENS!r})")
        codes.append(code)
        if code == OPEN:
            depth += 1
        elif code == CLOSE:
            if depth == 0:
                return Plain(tuple(codes)), i + 1
            depth -= 1
        i += 1
    if not codes:
        raise ParseError(text, i, "empty program (a program needs at least its halting ']')")
    what = f"{depth} unclosed '['" if depth else "no unmatched ']'"
    raise ParseError(text, i, f"no halting ']' ({what}; a program ends with its first unmatched ']')")


def _skip_spaces(text: str, i: int) -> int:
    while i < len(text) and text[i] == " ":
        i += 1
    return i


def _expect(text: str, i: int, literal: str) -> int:
    if not text.startswith(literal, i):
        found = repr(text[i]) if i < len(text) else "end of text"
        raise ParseError(text, i, f"expected {literal!r}, found {found} (unbalanced combinator)")
    return i + len(literal)


_DYADIC = re.compile(r"(\d+)(?:/(\d+))?")


def _parse_dyadic(text: str, i: int) -> tuple[Dyadic, int]:
    match = _DYADIC.match(text, i)
    if match is None:
        raise ParseError(text, i, "expected the threshold u of OPT: an integer or n/2^e (e.g. 3/8)")
    numerator = int(match.group(1))
    denominator = int(match.group(2)) if match.group(2) is not None else 1
    exponent = denominator.bit_length() - 1
    if denominator != 1 << exponent:
        raise ParseError(text, match.start(2), f"the denominator of u must be a power of 2, got {denominator}")
    return Dyadic(numerator, exponent), match.end()


def _parse_opt(text: str, i: int) -> tuple[Opt, int]:
    i = _skip_spaces(text, _expect(text, i, "OPT("))
    if text.startswith(("SWITCH", "MIX", "OPT"), i):
        raise ParseError(text, i, "argument U of OPT must be a plain program")
    utility, i = _scan_plain(text, i)
    i = _skip_spaces(text, _expect(text, _skip_spaces(text, i), ","))
    threshold, i = _parse_dyadic(text, i)
    return Opt(utility, threshold), _expect(text, _skip_spaces(text, i), ")")


def _parse_switch(text: str, i: int) -> tuple[Switch, int]:
    i = _expect(text, i, "SWITCH(")
    parts: list[Plain | Mix | Opt] = []
    for k, name in enumerate(("E", "P", "Q")):
        i = _skip_spaces(text, i)
        if name == "Q" and text.startswith("MIX", i):
            parts.append(Mix())
            i += 3
        elif name == "P" and text.startswith("OPT", i):
            opt, i = _parse_opt(text, i)
            parts.append(opt)
        else:
            if text.startswith(("SWITCH", "MIX", "OPT"), i):
                kinds = "a plain program or OPT" if name == "P" else "a plain program"
                raise ParseError(text, i, f"argument {name} of SWITCH must be {kinds}")
            prog, i = _scan_plain(text, i)
            parts.append(prog)
        i = _skip_spaces(text, i)
        i = _expect(text, i, "," if k < 2 else ")")
    event, after, before = parts
    assert isinstance(event, Plain) and isinstance(after, Plain | Opt) and isinstance(before, Plain | Mix)
    return Switch(event, after, before), i


def parse_expr(text: str) -> Expr:
    """Parse a BF-8 expression (plain program, ``SWITCH(E, P, Q)`` or ``MIX``); ParseError if malformed."""
    if not isinstance(text, str):
        raise TypeError(f"expected a string, got {type(text).__name__}")
    expr: Expr
    if text.startswith("SWITCH"):
        expr, end = _parse_switch(text, 0)
    elif text.startswith("OPT"):
        expr, end = _parse_opt(text, 0)
    elif text.startswith("MIX"):
        expr, end = Mix(), 3
    else:
        expr, end = _scan_plain(text, 0)
    if end != len(text):
        raise ParseError(text, end, f"characters after the end of the program: {text[end:]!r}")
    return expr


def parse(text: str) -> Plain:
    """Parse a plain BF-8 program such as ``'+[,.+]]'``; ParseError (with the position) if malformed."""
    if text.startswith(("SWITCH", "MIX", "OPT")):
        raise ParseError(text, 0, "expected a plain program, found a combinator")
    expr = parse_expr(text)
    assert isinstance(expr, Plain)
    return expr


def format_expr(expr: Expr) -> str:
    """Canonical text of an expression; ``parse_expr(format_expr(e)) == e``."""
    return str(expr)


def expr_bits(expr: Expr) -> int:
    """Code length in the full grammar, bits: ``1 + 3n`` plain, 2 MIX, ``2 + len(E) + len(P) + len(Q)``,
    ``3 + len(U) + len(u)`` OPT."""
    if isinstance(expr, Plain):
        return 1 + expr.bits
    if isinstance(expr, Mix):
        return 2
    if isinstance(expr, Opt):
        return OPT_MARKER_BITS + expr_bits(expr.utility) + expr.threshold.bits
    return 2 + expr_bits(expr.event) + expr_bits(expr.after) + expr_bits(expr.before)


def encode_bits(expr: Expr) -> str:
    """The full-grammar bit string (``'0'``/``'1'``) of an expression; its length is :func:`expr_bits`."""
    if isinstance(expr, Plain):
        return "0" + "".join(format(c, "03b") for c in expr.codes)
    if isinstance(expr, Mix):
        return "11"
    if isinstance(expr, Opt):
        return "101" + encode_bits(expr.utility) + expr.threshold.code()
    return "10" + encode_bits(expr.event) + encode_bits(expr.after) + encode_bits(expr.before)


def _decode_opt(bits: str, i: int) -> tuple[Opt, int]:
    """``OPT(U, u)`` from ``bits[i:]``, just after its marker ``101``."""
    start = i
    utility, i = _decode(bits, i)
    if not isinstance(utility, Plain):
        raise ParseError(bits, start, f"argument U of OPT has the wrong kind: {utility}")
    parts = []
    for _ in range(2):
        read = read_elias_delta(bits, i)
        if read is None:
            raise ParseError(bits, i, "bits end inside the threshold u of OPT")
        value, i = read
        parts.append(value - 1)
    return Opt(utility, Dyadic(parts[0], parts[1])), i


def _decode(bits: str, i: int) -> tuple[Expr, int]:
    if i >= len(bits):
        raise ParseError(bits, i, "bits end before the expression is complete")
    if bits[i] == "0":
        i += 1
        depth = 0
        codes: list[int] = []
        while True:
            if i + BITS_PER_TOKEN > len(bits):
                raise ParseError(bits, i, "bits end before the halting ']'")
            chunk = bits[i : i + BITS_PER_TOKEN]
            if set(chunk) - {"0", "1"}:
                raise ParseError(bits, i, "bits must be '0' or '1'")
            code = int(chunk, 2)
            codes.append(code)
            i += BITS_PER_TOKEN
            if code == OPEN:
                depth += 1
            elif code == CLOSE:
                if depth == 0:
                    return Plain(tuple(codes)), i
                depth -= 1
    if i + 1 >= len(bits):
        raise ParseError(bits, i, "bits end inside a combinator marker")
    if bits[i : i + 2] == "11":
        return Mix(), i + 2
    if bits[i : i + 2] != "10":
        raise ParseError(bits, i, "bits must be '0' or '1'")
    if i + 2 >= len(bits):
        raise ParseError(bits, i, "bits end inside a combinator marker")
    if bits[i + 2] == "1":
        return _decode_opt(bits, i + 3)
    parts: list[Expr] = []
    j = i + 2
    allowed = {"E": (Plain,), "P": (Plain, Opt), "Q": (Plain, Mix)}
    for name in ("E", "P", "Q"):
        start = j
        part, j = _decode(bits, j)
        if not isinstance(part, allowed[name]):
            raise ParseError(bits, start, f"argument {name} of SWITCH has the wrong kind: {part}")
        parts.append(part)
    event, after, before = parts
    assert isinstance(event, Plain) and isinstance(after, Plain | Opt) and isinstance(before, Plain | Mix)
    return Switch(event, after, before), j


def decode_bits(bits: str) -> Expr:
    """Inverse of :func:`encode_bits`; ParseError if the bits are not exactly one expression."""
    bad = next((i for i, b in enumerate(bits) if b not in "01"), None)
    if bad is not None:
        raise ParseError(bits, bad, "bits must be '0' or '1'")
    expr, end = _decode(bits, 0)
    if end != len(bits):
        raise ParseError(bits, end, "bits left over after the expression")
    return expr
