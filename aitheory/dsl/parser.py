"""Text form and bit codes of BF-8 expressions: plain programs, ``SWITCH(E, P, Q)`` and ``MIX``.

Text grammar (design.md section 2)::

    expr   := plain | switch | "MIX"
    switch := "SWITCH(" plain "," plain "," (plain | "MIX") ")"      (spaces allowed around the commas)
    plain  := a token string over ``+<>.,~[]`` whose last token is its first unmatched ``]``

Bit codes of the full grammar (prefix-free): ``0`` + 3 bits per token for a plain program (``1 + 3n`` bits),
``10`` + code(E) + code(P) + code(Q) for ``SWITCH`` and ``11`` for ``MIX``, so
``len(SWITCH E P Q) = 2 + len(E) + len(P) + len(Q)`` with every part coded in the full grammar.
In the plain language alone (what enumeration counts) a plain program has ``3n`` bits.

Every malformed text raises :class:`ParseError`, which names the 0-based character position and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from aitheory.dsl.codes import BITS_PER_TOKEN, CLOSE, OPEN, TOKEN_CODE, TOKENS

__all__ = [
    "Expr",
    "Mix",
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


@dataclass(frozen=True)
class Switch:
    """``SWITCH(E, P, Q)``: act as ``before`` (Q) until event ``event`` (E) first holds, then as ``after``."""

    event: Plain
    after: Plain
    before: Plain | Mix

    def __str__(self) -> str:
        return f"SWITCH({self.event}, {self.after}, {self.before})"


Expr = Plain | Mix | Switch


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


def _parse_switch(text: str, i: int) -> tuple[Switch, int]:
    i = _expect(text, i, "SWITCH(")
    parts: list[Plain | Mix] = []
    for k, name in enumerate(("E", "P", "Q")):
        i = _skip_spaces(text, i)
        if name == "Q" and text.startswith("MIX", i):
            parts.append(Mix())
            i += 3
        else:
            if text.startswith("SWITCH", i) or text.startswith("MIX", i):
                raise ParseError(text, i, f"argument {name} of SWITCH must be a plain program")
            prog, i = _scan_plain(text, i)
            parts.append(prog)
        i = _skip_spaces(text, i)
        i = _expect(text, i, "," if k < 2 else ")")
    event, after, before = parts
    assert isinstance(event, Plain) and isinstance(after, Plain)
    return Switch(event, after, before), i


def parse_expr(text: str) -> Expr:
    """Parse a BF-8 expression (plain program, ``SWITCH(E, P, Q)`` or ``MIX``); ParseError if malformed."""
    if not isinstance(text, str):
        raise TypeError(f"expected a string, got {type(text).__name__}")
    expr: Expr
    if text.startswith("SWITCH"):
        expr, end = _parse_switch(text, 0)
    elif text.startswith("MIX"):
        expr, end = Mix(), 3
    else:
        expr, end = _scan_plain(text, 0)
    if end != len(text):
        raise ParseError(text, end, f"characters after the end of the program: {text[end:]!r}")
    return expr


def parse(text: str) -> Plain:
    """Parse a plain BF-8 program such as ``'+[,.+]]'``; ParseError (with the position) if malformed."""
    if text.startswith(("SWITCH", "MIX")):
        raise ParseError(text, 0, "expected a plain program, found a combinator")
    expr = parse_expr(text)
    assert isinstance(expr, Plain)
    return expr


def format_expr(expr: Expr) -> str:
    """Canonical text of an expression; ``parse_expr(format_expr(e)) == e``."""
    return str(expr)


def expr_bits(expr: Expr) -> int:
    """Code length in the full grammar, bits: ``1 + 3n`` plain, 2 MIX, ``2 + len(E) + len(P) + len(Q)``."""
    if isinstance(expr, Plain):
        return 1 + expr.bits
    if isinstance(expr, Mix):
        return 2
    return 2 + expr_bits(expr.event) + expr_bits(expr.after) + expr_bits(expr.before)


def encode_bits(expr: Expr) -> str:
    """The full-grammar bit string (``'0'``/``'1'``) of an expression; its length is :func:`expr_bits`."""
    if isinstance(expr, Plain):
        return "0" + "".join(format(c, "03b") for c in expr.codes)
    if isinstance(expr, Mix):
        return "11"
    return "10" + encode_bits(expr.event) + encode_bits(expr.after) + encode_bits(expr.before)


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
    parts: list[Expr] = []
    j = i + 2
    for name in ("E", "P", "Q"):
        start = j
        part, j = _decode(bits, j)
        if isinstance(part, Switch) or (name != "Q" and isinstance(part, Mix)):
            raise ParseError(bits, start, f"argument {name} of SWITCH has the wrong kind: {part}")
        parts.append(part)
    event, after, before = parts
    assert isinstance(event, Plain) and isinstance(after, Plain) and isinstance(before, Plain | Mix)
    return Switch(event, after, before), j


def decode_bits(bits: str) -> Expr:
    """Inverse of :func:`encode_bits`; ParseError if the bits are not exactly one expression."""
    expr, end = _decode(bits, 0)
    if end != len(bits):
        raise ParseError(bits, end, "bits left over after the expression")
    return expr
