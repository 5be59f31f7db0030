"""Text form and bit codes of BF-8 expressions: plain programs, ``SWITCH(E, P, Q)``, ``MIX``, ``OPT(U, u)`` and
``ACT(P)``.

Text grammar (design.md section 2)::

    expr   := plain | switch | opt | "MIX"
    switch := "SWITCH(" plain "," (plain | opt | act) "," (plain | "MIX") ")"   (spaces allowed around the commas)
    opt    := "OPT(" plain "," dyadic ")"
    act    := "ACT(" plain ")"                    (only as SWITCH's P)
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
starting with ``1`` was unused, and OPT's starts with ``101``), or ``ACT(P)``, coded ``11`` + code(P) in that
position only: P can never be MIX, so ``11`` was unused there, and ``0``, ``101``, ``11`` are prefix-free. So
``len(ACT(P)) = 2 + len(P)`` and ``len(SWITCH(E, ACT(P), MIX)) = 6 + len(E) + len(P)``. Q stays plain or MIX.
``ACT(P)`` is P read as a policy only (its emissions are actions, ``,`` loads observations); in joint mode the
observations come from MIX (:func:`aitheory.mixture.classes.program_codes`).
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
    "ACT_MARKER_BITS",
    "OPT_MARKER_BITS",
    "SWITCH_ACT_MIX_BITS",
    "SWITCH_OPT_MIX_BITS",
    "Act",
    "Dyadic",
    "Expr",
    "Mix",
    "Opt",
    "ParseError",
    "Part",
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


#: Bits of ACT's code ``11`` in SWITCH's P position (the only place ACT may stand).
ACT_MARKER_BITS = 2
#: The grammar constant c of ``len(SWITCH(E, ACT(P), MIX)) = c + len(E) + len(P)`` (full-grammar lengths of E
#: and P, ``1 + 3n`` each): SWITCH's 2 marker bits, ACT's 2 and MIX's 2.
SWITCH_ACT_MIX_BITS = 2 + ACT_MARKER_BITS + 2


@dataclass(frozen=True)
class Act:
    """``ACT(P)``: the plain program P read as a policy only. Its emissions are actions and its ``,`` loads the
    latest observation, as in policy mode, in either mode of the class; in joint mode the observations it does
    not model come from MIX (a policy-only component, like OPT). In policy mode it predicts exactly as P. It
    stands only as SWITCH's P, where its code is ``11`` + code(P) (``2 + len(P)`` bits)."""

    policy: Plain

    def __str__(self) -> str:
        return f"ACT({self.policy})"


@dataclass(frozen=True)
class Switch:
    """``SWITCH(E, P, Q)``: act as ``before`` (Q) until event ``event`` (E) first holds, then as ``after``."""

    event: Plain
    after: Plain | Opt | Act
    before: Plain | Mix

    def __str__(self) -> str:
        return f"SWITCH({self.event}, {self.after}, {self.before})"


Expr = Plain | Mix | Switch | Opt
#: What may stand in a position of an expression: an expression, or ``ACT(P)`` (SWITCH's P only).
Part = Expr | Act


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


#: The text of every combinator: a plain program never starts with one of these letters.
_COMBINATORS = ("SWITCH", "MIX", "OPT", "ACT")
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
    if text.startswith(_COMBINATORS, i):
        raise ParseError(text, i, "argument U of OPT must be a plain program")
    utility, i = _scan_plain(text, i)
    i = _skip_spaces(text, _expect(text, _skip_spaces(text, i), ","))
    threshold, i = _parse_dyadic(text, i)
    return Opt(utility, threshold), _expect(text, _skip_spaces(text, i), ")")


def _parse_act(text: str, i: int) -> tuple[Act, int]:
    i = _skip_spaces(text, _expect(text, i, "ACT("))
    if text.startswith(_COMBINATORS, i):
        raise ParseError(text, i, "argument P of ACT must be a plain program")
    policy, i = _scan_plain(text, i)
    return Act(policy), _expect(text, _skip_spaces(text, i), ")")


def _parse_switch(text: str, i: int) -> tuple[Switch, int]:
    i = _expect(text, i, "SWITCH(")
    parts: list[Plain | Mix | Opt | Act] = []
    for k, name in enumerate(("E", "P", "Q")):
        i = _skip_spaces(text, i)
        if name == "Q" and text.startswith("MIX", i):
            parts.append(Mix())
            i += 3
        elif name == "P" and text.startswith("OPT", i):
            opt, i = _parse_opt(text, i)
            parts.append(opt)
        elif name == "P" and text.startswith("ACT", i):
            act, i = _parse_act(text, i)
            parts.append(act)
        else:
            if text.startswith(_COMBINATORS, i):
                kinds = "a plain program, OPT or ACT" if name == "P" else "a plain program"
                raise ParseError(text, i, f"argument {name} of SWITCH must be {kinds}")
            prog, i = _scan_plain(text, i)
            parts.append(prog)
        i = _skip_spaces(text, i)
        i = _expect(text, i, "," if k < 2 else ")")
    event, after, before = parts
    assert isinstance(event, Plain) and isinstance(after, Plain | Opt | Act) and isinstance(before, Plain | Mix)
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
    elif text.startswith("ACT"):
        raise ParseError(text, 0, "ACT(P) stands only as argument P of SWITCH (e.g. SWITCH(E, ACT(P), MIX)); "
                                  "it has no code of its own elsewhere")
    else:
        expr, end = _scan_plain(text, 0)
    if end != len(text):
        raise ParseError(text, end, f"characters after the end of the program: {text[end:]!r}")
    return expr


def parse(text: str) -> Plain:
    """Parse a plain BF-8 program such as ``'+[,.+]]'``; ParseError (with the position) if malformed."""
    if text.startswith(_COMBINATORS):
        raise ParseError(text, 0, "expected a plain program, found a combinator")
    expr = parse_expr(text)
    assert isinstance(expr, Plain)
    return expr


def format_expr(expr: Expr) -> str:
    """Canonical text of an expression; ``parse_expr(format_expr(e)) == e``."""
    return str(expr)


def expr_bits(expr: Part) -> int:
    """Code length in the full grammar, bits: ``1 + 3n`` plain, 2 MIX, ``2 + len(E) + len(P) + len(Q)``,
    ``3 + len(U) + len(u)`` OPT, ``2 + len(P)`` ACT (in SWITCH's P position)."""
    if isinstance(expr, Plain):
        return 1 + expr.bits
    if isinstance(expr, Mix):
        return 2
    if isinstance(expr, Act):
        return ACT_MARKER_BITS + expr_bits(expr.policy)
    if isinstance(expr, Opt):
        return OPT_MARKER_BITS + expr_bits(expr.utility) + expr.threshold.bits
    return 2 + expr_bits(expr.event) + expr_bits(expr.after) + expr_bits(expr.before)


def encode_bits(expr: Part) -> str:
    """The full-grammar bit string (``'0'``/``'1'``) of an expression (or of ``ACT(P)``, the code it has in
    SWITCH's P position); its length is :func:`expr_bits`."""
    if isinstance(expr, Plain):
        return "0" + "".join(format(c, "03b") for c in expr.codes)
    if isinstance(expr, Mix):
        return "11"
    if isinstance(expr, Act):
        return "11" + encode_bits(expr.policy)
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


def _decode(bits: str, i: int, position_p: bool = False) -> tuple[Part, int]:
    """One expression from ``bits[i:]``; in SWITCH's P position (``position_p``) the code ``11`` is ``ACT``."""
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
        if position_p:
            start = i + 2
            policy, end = _decode(bits, start)
            if not isinstance(policy, Plain):
                raise ParseError(bits, start, f"argument P of ACT has the wrong kind: {policy}")
            return Act(policy), end
        return Mix(), i + 2
    if bits[i : i + 2] != "10":
        raise ParseError(bits, i, "bits must be '0' or '1'")
    if i + 2 >= len(bits):
        raise ParseError(bits, i, "bits end inside a combinator marker")
    if bits[i + 2] == "1":
        return _decode_opt(bits, i + 3)
    parts: list[Part] = []
    j = i + 2
    allowed = {"E": (Plain,), "P": (Plain, Opt, Act), "Q": (Plain, Mix)}
    for name in ("E", "P", "Q"):
        start = j
        part, j = _decode(bits, j, position_p=name == "P")
        if not isinstance(part, allowed[name]):
            raise ParseError(bits, start, f"argument {name} of SWITCH has the wrong kind: {part}")
        parts.append(part)
    event, after, before = parts
    assert isinstance(event, Plain) and isinstance(after, Plain | Opt | Act) and isinstance(before, Plain | Mix)
    return Switch(event, after, before), j


def decode_bits(bits: str) -> Expr:
    """Inverse of :func:`encode_bits`; ParseError if the bits are not exactly one expression."""
    bad = next((i for i, b in enumerate(bits) if b not in "01"), None)
    if bad is not None:
        raise ParseError(bits, bad, "bits must be '0' or '1'")
    expr, end = _decode(bits, 0)
    if end != len(bits):
        raise ParseError(bits, end, "bits left over after the expression")
    assert not isinstance(expr, Act)  # only SWITCH's P position decodes 11 as ACT
    return expr
