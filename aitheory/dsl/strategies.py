"""Hypothesis strategies for BF-8 (``test`` extra): plain programs, combinators, valid and invalid text.

For users' own property tests; every strategy is built from hypothesis draws, so failing examples shrink (to
short programs, ``MIX``, a one-character defect). Hypothesis (``test`` extra) is imported when a strategy is
built::

    from hypothesis import given
    from aitheory.dsl.strategies import exprs, invalid_texts, programs

    @given(programs(max_tokens=8))
    def test_runs(program): ...

* :func:`programs`: a plain program (a balanced word, then its halting ``]``), as :class:`~aitheory.dsl.Plain`;
* :func:`exprs`: a plain program, ``MIX``, ``OPT(U, u)`` or ``SWITCH(E, P, Q)`` (:func:`thresholds`: OPT's u);
* :func:`texts`: the canonical text of :func:`exprs` (``parse_expr`` accepts it and gives back the expression);
* :func:`invalid_texts`: text that ``parse_expr`` refuses with a ``ParseError`` (unknown characters, no halting
  ``]``, trailing characters, unbalanced combinators).
"""

from __future__ import annotations

from typing import Any

from aitheory._optional import require
from aitheory.dsl.codes import CLOSE, OPEN
from aitheory.dsl.parser import Act, Dyadic, Mix, Opt, ParseError, Plain, Switch, format_expr, parse_expr

__all__ = ["exprs", "invalid_texts", "programs", "texts", "thresholds"]


def _st() -> Any:
    """hypothesis.strategies, imported when a strategy is asked for (the core never imports hypothesis)."""
    return require("hypothesis.strategies", "test")


def _balanced(raw: list[int]) -> Plain:
    """Drop unmatched ``]``, close every open ``[``, then append the halting ``]``."""
    codes: list[int] = []
    depth = 0
    for c in raw:
        if c == CLOSE:
            if depth == 0:
                continue
            depth -= 1
        elif c == OPEN:
            depth += 1
        codes.append(c)
    codes.extend([CLOSE] * depth)
    codes.append(CLOSE)
    return Plain(tuple(codes))


def programs(max_tokens: int = 14) -> Any:
    """A random plain program: a balanced word of up to ``max_tokens - 1`` tokens, then the halting ``]``."""
    st = _st()
    return st.lists(st.integers(0, 7), max_size=max_tokens - 1).map(_balanced)


def thresholds() -> Any:
    """OPT's threshold ``u = n / 2^e`` (any numerator, so non-canonical codes too)."""
    st = _st()
    return st.builds(Dyadic, st.integers(0, 2**20), st.integers(0, 40))


def exprs(max_tokens: int = 14) -> Any:
    """A plain program, ``MIX``, ``OPT(U, u)`` or ``SWITCH(E, P, Q)`` (``P`` plain, OPT or ``ACT(P')``, ``Q``
    plain or MIX)."""
    st = _st()
    plain = programs(max_tokens)
    opt = st.builds(Opt, plain, thresholds())
    act = st.builds(Act, plain)
    return st.one_of(plain, st.just(Mix()), opt,
                     st.builds(Switch, plain, st.one_of(plain, opt, act), st.one_of(plain, st.just(Mix()))))


def texts(max_tokens: int = 14) -> Any:
    """Valid BF-8 text: the canonical text of an expression of :func:`exprs`."""
    return exprs(max_tokens).map(format_expr)


def _refused(text: str) -> bool:
    try:
        parse_expr(text)
    except ParseError:
        return True
    return False


def _defect(draw: Any, max_tokens: int) -> str:
    st = _st()
    text = draw(texts(max_tokens))
    kind = draw(st.sampled_from(["unknown", "unhalted", "trailing", "unbalanced"]))
    if kind == "unknown":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.sampled_from("abxyz!-{")) + text[at:]
    if kind == "unhalted":
        return text[:-1] if not text.endswith(")") else "+[" + text
    if kind == "trailing":
        return text + draw(st.sampled_from(["]", "+", ".]", "MIX", " "]))
    return "SWITCH(" + str(draw(programs(max_tokens)))


def invalid_texts(max_tokens: int = 14) -> Any:
    """Text that :func:`~aitheory.dsl.parse_expr` refuses (``ParseError``): one defect in a valid text."""
    return _st().composite(lambda draw: _defect(draw, max_tokens))().filter(_refused)
