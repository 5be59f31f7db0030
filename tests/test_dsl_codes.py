"""Tokens, prefix code, parser/printer and exact counts of the BF-8 prior."""

from __future__ import annotations

import contextlib
import itertools
import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aitheory.dsl.codes import (
    balanced_words,
    balanced_words_brute,
    bits_to_codes,
    codes_to_bits,
    codes_to_text,
    is_program_codes,
    kraft_mass,
    program_count,
    program_count_bits,
)
from aitheory.dsl.parser import (
    Mix,
    ParseError,
    Plain,
    Switch,
    decode_bits,
    encode_bits,
    expr_bits,
    format_expr,
    parse,
    parse_expr,
)

from .dsl_strategies import exprs, programs


def test_token_codes_follow_the_contract() -> None:
    expected = dict(zip("+<>.,~[]", ["000", "001", "010", "011", "100", "101", "110", "111"], strict=True))
    for ch, bits in expected.items():
        assert codes_to_bits(bits_to_codes(bits)) == bits
        assert codes_to_text(bits_to_codes(bits)) == ch


@pytest.mark.parametrize("n", range(1, 7))
def test_program_count_matches_brute_force(n: int) -> None:
    """Number of n-token programs = a(n-1), checked against all 8^n token strings."""
    brute = sum(is_program_codes(s) for s in itertools.product(range(8), repeat=n))
    assert program_count(n) == brute


def test_recurrence_matches_depth_dp() -> None:
    for m in range(40):
        assert balanced_words(m) == balanced_words_brute(m)


def test_counts_and_kraft_mass_of_the_issue() -> None:
    assert program_count_bits(24) == 537_531
    assert program_count_bits(27) == 3_710_009
    assert program_count_bits(30) == 25_916_429
    assert float(kraft_mass(8)) == 0.4918466806411743


def test_kraft_mass_increases_to_one() -> None:
    """Partial Kraft sums S_n are < 1, increasing, with tail 1 - S_n ~ sqrt(8 / (pi n)) -> 0 (total 1)."""
    ns = list(range(1, 330, 40))
    masses = [kraft_mass(n) for n in ns]
    assert all(m < 1 for m in masses)
    assert all(a < b for a, b in itertools.pairwise(masses))
    tail = float(1 - masses[-1])
    assert tail == pytest.approx(math.sqrt(8 / (math.pi * ns[-1])), rel=0.01)


def test_prior_sums_to_one_by_generating_function() -> None:
    """A(x) = 1 + 6xA + x^2 A^2 has the root A(1/8) = 8, so sum a(n-1) 8^-n = A(1/8)/8 = 1."""
    x, a = Fraction(1, 8), Fraction(8)
    assert 1 + 6 * x * a + x * x * a * a == a


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("+[.]", 4, "no halting"),
        ("+a]", 1, "unknown character"),
        ("+]]", 2, "after the end"),
        ("", 0, "empty"),
        ("SWITCH(.], .], MIX", 18, "expected ')'"),
        ("SWITCH(.], MIX, MIX)", 11, "must be a plain program"),
        ("SWITCH(.] .], MIX)", 10, "expected ','"),
        ("SWITCH(+[.], .], MIX)", 12, "unknown character ' '"),
        ("MIXX", 3, "after the end"),
    ],
)
def test_parse_errors_name_position_and_reason(text: str, position: int, reason: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_expr(text)
    assert info.value.position == position
    assert reason in info.value.reason
    assert str(position) in str(info.value)


def test_parse_switch_and_mix() -> None:
    e = parse_expr("SWITCH(,.], +.], MIX)")
    assert e == Switch(parse(",.]"), parse("+.]"), Mix())
    assert format_expr(e) == "SWITCH(,.], +.], MIX)"
    assert parse_expr("SWITCH( ,.] , +.] , .] )") == Switch(parse(",.]"), parse("+.]"), parse(".]"))
    assert expr_bits(e) == 2 + (1 + 9) + (1 + 9) + 2
    assert expr_bits(Mix()) == 2
    assert len(encode_bits(e)) == expr_bits(e)


@given(st.text(alphabet="+<>.,~[]SWITCHMX(), a", max_size=40))
def test_parser_never_crashes(text: str) -> None:
    """Any text either parses (and then prints back to itself up to spaces) or raises ParseError."""
    try:
        e = parse_expr(text)
    except ParseError as err:
        assert 0 <= err.position <= len(text)
        return
    assert parse_expr(format_expr(e)) == e


@given(st.text(max_size=30))
def test_parser_never_crashes_on_any_unicode(text: str) -> None:
    with contextlib.suppress(ParseError):
        parse_expr(text)


@given(programs())
def test_print_parse_identity_plain(p: Plain) -> None:
    assert parse(str(p)) == p
    assert is_program_codes(list(p.codes))
    assert decode_bits(encode_bits(p)) == p


@given(exprs())
def test_print_parse_identity_exprs(e: Plain | Switch | Mix) -> None:
    assert parse_expr(format_expr(e)) == e
    assert format_expr(parse_expr(format_expr(e))) == format_expr(e)
    assert decode_bits(encode_bits(e)) == e


@given(exprs(), st.text(alphabet="01", min_size=1, max_size=5))
def test_code_is_prefix_free(e: Plain | Switch | Mix, extra: str) -> None:
    """Appending bits to a codeword never gives another single codeword."""
    with pytest.raises(ParseError):
        decode_bits(encode_bits(e) + extra)


def test_bits_errors() -> None:
    with pytest.raises(ValueError, match="multiple of 3"):
        bits_to_codes("0101")
    with pytest.raises(ParseError):
        decode_bits("0110")
