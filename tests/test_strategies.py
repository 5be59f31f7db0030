"""The shipped hypothesis strategies: valid outputs, near-degenerate and zero-carrying pmfs, shrinking, BF-8 text."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from aitheory.dsl import ParseError, parse_expr
from aitheory.dsl.strategies import exprs, invalid_texts, programs, texts
from aitheory.measures import as_pmf
from aitheory.measures.strategies import environment_strategy, pmf_strategy, policy_strategy

PROPS = settings(max_examples=60, deadline=None)


@PROPS
@given(st.integers(1, 5), st.booleans(), st.booleans(), st.data())
def test_pmfs_are_valid_semimeasures(size, semimeasure, exact, data) -> None:
    p = data.draw(pmf_strategy(size, zero_prob=0.3, semimeasure=semimeasure, exact=exact))
    assert len(p) == size and any(x > 0 for x in p)
    as_pmf(p, "p")
    if exact:
        assert all(isinstance(x, Fraction) for x in p)
        assert semimeasure or sum(p) == 1


def test_pmfs_reach_zeros_and_near_degenerate_entries() -> None:
    find(pmf_strategy(3, zero_prob=0.3), lambda p: 0.0 in p)
    find(pmf_strategy(3), lambda p: 0 < min(p) < 1e-6)
    find(pmf_strategy(3, exact=True), lambda p: 0 < min(p) < Fraction(1, 10**5))


def test_failing_examples_shrink() -> None:
    """A property false for every pmf with an entry above 1/2 shrinks to a small, simple example."""
    p = find(pmf_strategy(4), lambda p: max(p) > 0.5)
    assert max(p) > 0.5 and len(p) == 4
    prog = find(programs(), lambda prog: prog.n_tokens >= 3)
    assert prog.n_tokens == 3


@PROPS
@given(st.data())
def test_policies_are_pure_functions_of_the_history(data) -> None:
    pi = data.draw(policy_strategy(2, semimeasure=True))
    env = data.draw(environment_strategy(3, exact=True))
    assert pi((0, 1)) == pi((0, 1)) and len(pi(())) == 2
    assert len(env((1,))) == 3 and env((1,)) == env((1,))


@PROPS
@given(texts())
def test_valid_texts_parse_back(text) -> None:
    assert str(parse_expr(text)) == text


@PROPS
@given(exprs())
def test_exprs_round_trip(expr) -> None:
    assert parse_expr(str(expr)) == expr


@PROPS
@given(invalid_texts())
def test_invalid_texts_are_refused(text) -> None:
    with pytest.raises(ParseError):
        parse_expr(text)
