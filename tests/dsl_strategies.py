"""Hypothesis strategies for BF-8 programs and expressions (shared by the dsl tests)."""

from __future__ import annotations

from hypothesis import strategies as st

from aitheory.dsl.codes import CLOSE, OPEN
from aitheory.dsl.parser import Mix, Plain, Switch


@st.composite
def programs(draw: st.DrawFn, max_tokens: int = 14) -> Plain:
    """A random plain program: a balanced word of up to ``max_tokens - 1`` tokens, then the halting ``]``."""
    raw = draw(st.lists(st.integers(0, 7), max_size=max_tokens - 1))
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


@st.composite
def exprs(draw: st.DrawFn) -> Plain | Mix | Switch:
    kind = draw(st.sampled_from(["plain", "mix", "switch"]))
    if kind == "plain":
        return draw(programs())
    if kind == "mix":
        return Mix()
    before = draw(st.one_of(programs(), st.just(Mix())))
    return Switch(draw(programs()), draw(programs()), before)
