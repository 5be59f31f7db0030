"""Tests of the pmf-level measures (:mod:`aitheory.measures.pmf`).

Property tests state the theorem they check in their docstring (the style of dit's ``test_inequalities``).
Float comparisons use an absolute tolerance of 1e-12 unless stated.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import scipy.stats
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import rel_entr

from aitheory.measures import SUM_TOLERANCE, ExactLogSum, as_pmf, cross_entropy, entropy, kl, kl_exact, tvd
from aitheory.measures.strategies import pmf_strategy

PROPS = settings(max_examples=60, deadline=None)
F = Fraction


def measure_pairs(size: int = 4, zero_prob: float = 0.0, semimeasure_q: bool = False):
    return st.tuples(
        pmf_strategy(size, zero_prob=zero_prob),
        pmf_strategy(size, zero_prob=zero_prob, semimeasure=semimeasure_q),
    )


# ------------------------------------------------------------------------------------- the issue's examples


def test_issue_example_value() -> None:
    """KL([1/2,1/2] || [1/4,3/4]) = (1/2) ln 2 + (1/2) ln(2/3) = (1/2) ln(4/3) = 0.1438... nats."""
    value = kl([0.5, 0.5], [0.25, 0.75])
    assert value == pytest.approx(0.5 * math.log(4 / 3), abs=1e-15)
    assert f"{value:.4f}" == "0.1438"


def test_issue_example_infinite() -> None:
    """p puts mass 1/2 where q puts none: KL is +inf, returned as math.inf (not a clipped number)."""
    assert kl([0.5, 0.5], [1, 0]) == math.inf
    assert kl([0.5, 0.5], [1.0, 0.0]) == math.inf


def test_issue_example_bad_first_argument() -> None:
    """[0.7, 0.7] sums to 1.4 > 1: a ValueError naming the first argument p (not q)."""
    with pytest.raises(ValueError, match=r"argument p: sums to 1\.4") as info:
        kl([0.7, 0.7], [0.5, 0.5])
    assert "argument q" not in str(info.value)


# ------------------------------------------------------------------------------------- units


def test_base_two_gives_bits() -> None:
    """KL([1,0] || [1/2,1/2]) = ln 2 nats = 1 bit; H(uniform on 4) = 2 bits."""
    assert kl([1.0, 0.0], [0.5, 0.5]) == pytest.approx(math.log(2), abs=1e-15)
    assert kl([1.0, 0.0], [0.5, 0.5], base=2) == pytest.approx(1.0, abs=1e-15)
    assert entropy([0.25] * 4, base=2) == pytest.approx(2.0, abs=1e-15)
    assert cross_entropy([1.0, 0.0], [0.25, 0.75], base=2) == pytest.approx(2.0, abs=1e-15)
    assert kl([0.5, 0.5], [0.25, 0.75], base=10) == pytest.approx(0.5 * math.log10(4 / 3), abs=1e-15)


@pytest.mark.parametrize("base", [0, -2, 1])
def test_bad_base(base: float) -> None:
    with pytest.raises(ValueError, match="argument base"):
        kl([0.5, 0.5], [0.5, 0.5], base=base)


# ------------------------------------------------------------------------------------- scipy cross-checks


@PROPS
@given(measure_pairs(zero_prob=0.3, semimeasure_q=True))
def test_kl_equals_rel_entr_sum(pq: tuple[list[float], list[float]]) -> None:
    """KL(p||q) = sum_x rel_entr(p(x), q(x)) (scipy's elementwise p ln(p/q), 0 ln 0 = 0, p ln(p/0) = inf)."""
    p, q = pq
    expected = float(np.sum(rel_entr(p, q)))
    value = kl(p, q)
    if math.isinf(expected):
        assert value == math.inf
    else:
        assert value == pytest.approx(expected, abs=1e-12)


@PROPS
@given(measure_pairs(zero_prob=0.3))
def test_matches_scipy_stats_entropy_on_measures(pq: tuple[list[float], list[float]]) -> None:
    """On normalised inputs scipy.stats.entropy(p) = H(p) and scipy.stats.entropy(p, q) = KL(p||q)."""
    p, q = pq
    assert entropy(p) == pytest.approx(scipy.stats.entropy(p), abs=1e-12)
    expected = scipy.stats.entropy(p, q)
    assert kl(p, q) == (math.inf if math.isinf(expected) else pytest.approx(expected, abs=1e-12))


def test_scipy_stats_entropy_renormalises_semimeasures_and_we_do_not() -> None:
    """scipy.stats.entropy divides by the sums; we keep the deficit of the semimeasure p = [1/10, 3/10].

    Ours: H(p) = -(0.1 ln 0.1 + 0.3 ln 0.3); scipy: H([1/4, 3/4]). Ours: KL(p || [1/2, 1/4]) =
    0.1 ln(0.2) + 0.3 ln(1.2) < 0; scipy: KL([1/4, 3/4] || [2/3, 1/3]) > 0.
    """
    p, q = [0.1, 0.3], [0.5, 0.25]
    assert entropy(p) == pytest.approx(-(0.1 * math.log(0.1) + 0.3 * math.log(0.3)), abs=1e-15)
    assert scipy.stats.entropy(p) == pytest.approx(-(0.25 * math.log(0.25) + 0.75 * math.log(0.75)))
    assert abs(entropy(p) - scipy.stats.entropy(p)) > 0.02
    assert kl(p, q) == pytest.approx(0.1 * math.log(0.2) + 0.3 * math.log(1.2), abs=1e-15)
    assert kl(p, q) < 0
    assert scipy.stats.entropy(p, q) == pytest.approx(0.25 * math.log(0.375) + 0.75 * math.log(2.25))


# ------------------------------------------------------------------------------ exact (Fraction) inputs


def test_fraction_tvd_is_exact() -> None:
    """TVD([1/3, 2/3], [1/2, 1/4]) = (1/6 + 5/12)/2 = 7/24 exactly (q a semimeasure)."""
    value = tvd([F(1, 3), F(2, 3)], [F(1, 2), F(1, 4)])
    assert isinstance(value, Fraction)
    assert value == F(7, 24)


def test_fraction_kl_closed_form_matches_sympy() -> None:
    """KL([1/3,2/3] || [1/2,1/2]) = (1/3) ln(2/3) + (2/3) ln(4/3), checked symbolically with sympy."""
    exact = kl_exact([F(1, 3), F(2, 3)], [F(1, 2), F(1, 2)])
    assert isinstance(exact, ExactLogSum)
    target = sp.Rational(1, 3) * sp.log(sp.Rational(2, 3)) + sp.Rational(2, 3) * sp.log(sp.Rational(4, 3))
    assert sp.simplify(sp.expand_log(exact.to_sympy() - target, force=True)) == 0
    assert kl([F(1, 3), F(2, 3)], [F(1, 2), F(1, 2)]) == pytest.approx(float(target), abs=1e-15)
    assert float(exact) == pytest.approx(float(target), abs=1e-15)


def test_fraction_kl_infinite_and_zero_terms() -> None:
    """Exact support: 0 ln(0/q) = 0 is dropped, p ln(p/0) = inf, equal entries contribute no term."""
    assert kl_exact([F(1), F(0)], [F(1, 2), F(0)]).terms == ((F(1), F(2)),)
    assert kl_exact([F(1, 2), F(1, 2)], [F(1), F(0)]).infinite
    assert kl_exact([F(1, 2), F(1, 2)], [F(1), F(0)]).to_sympy() == sp.oo
    assert kl([F(1, 2), F(1, 2)], [1, 0]) == math.inf
    assert kl_exact([F(1, 4), F(3, 4)], [F(1, 4), F(3, 4)]).terms == ()


@PROPS
@given(st.tuples(pmf_strategy(3, zero_prob=0.3, exact=True), pmf_strategy(3, zero_prob=0.3, exact=True)))
def test_fraction_and_float_paths_agree(pq: tuple[list[Fraction], list[Fraction]]) -> None:
    """The exact path (Fractions) and the float path (the same numbers as floats) agree to 1e-12."""
    p, q = pq
    pf, qf = [float(x) for x in p], [float(x) for x in q]
    assert float(tvd(p, q)) == pytest.approx(tvd(pf, qf), abs=1e-12)
    for f in (kl, cross_entropy):
        exact, approx = f(p, q), f(pf, qf)
        assert exact == approx if math.isinf(approx) else exact == pytest.approx(approx, abs=1e-12)
    assert entropy(p) == pytest.approx(entropy(pf), abs=1e-12)


def test_kl_exact_rejects_non_rational_entries() -> None:
    """kl_exact converts floats exactly (0.5 = 1/2) but NaN/inf are not rationals: ValueError naming q."""
    assert kl_exact([0.5, 0.5], [F(1, 4), F(3, 4)]) == kl_exact([F(1, 2), F(1, 2)], [F(1, 4), F(3, 4)])
    with pytest.raises(ValueError, match=r"argument q: entry 1 \(nan\) is not a finite rational"):
        kl_exact([F(1, 2), F(1, 2)], [0.5, float("nan")])
    with pytest.raises(ValueError, match=r"argument p: entry 0 \('x'\) is not a finite rational"):
        kl_exact(["x"], [F(1)])  # type: ignore[list-item]


def test_fraction_sum_above_one_is_exact() -> None:
    """Fractions are checked exactly: 1 + 10^-30 is rejected even though no float tolerance would notice."""
    with pytest.raises(ValueError, match="argument q: sums to"):
        kl([F(1, 2), F(1, 2)], [F(1, 2), F(1, 2) + F(1, 10**30)])


# ------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("p", "q", "pattern"),
    [
        ([0.5, -0.1], [0.5, 0.5], r"argument p: entry 1 is negative"),
        ([0.5, 0.5], [-0.5, 0.5], r"argument q: entry 0 is negative"),
        ([0.5, float("nan")], [0.5, 0.5], r"argument p: entry 1 is NaN"),
        ([0.5, 0.5], [float("nan"), 0.5], r"argument q: entry 0 is NaN"),
        ([0.5, 0.5], [float("inf"), 0.5], r"argument q: entry 0 is infinite"),
        ([0.5, 0.5], [0.6, 0.6], r"argument q: sums to 1\.2"),
        ([0.5, 0.5], [0.2, 0.3, 0.5], r"arguments p and q: shapes differ"),
        ([[0.5, 0.5]], [[0.5, 0.5]], r"argument p: expected a 1-D vector"),
        ([], [], r"argument p: is empty"),
        (0.5, 0.5, r"argument p: expected a 1-D vector"),
        ([F(1, 2), F(-1, 2)], [F(1, 2), F(1, 2)], r"argument p: entry 1 is negative"),
        ([F(1, 2), F(1, 2)], [F(1, 2)], r"arguments p and q: lengths differ"),
    ],
)
def test_invalid_input_names_the_argument(p: object, q: object, pattern: str) -> None:
    for f in (kl, tvd, cross_entropy):
        with pytest.raises(ValueError, match=pattern):
            f(p, q)  # type: ignore[arg-type]


def test_entropy_validation() -> None:
    with pytest.raises(ValueError, match=r"argument p: sums to"):
        entropy([0.9, 0.2])
    with pytest.raises(ValueError, match=r"argument p: entry 0 is negative"):
        entropy([-0.1, 0.2])


def test_sum_tolerance() -> None:
    """Float sums may exceed 1 by rounding (<= SUM_TOLERANCE = 1e-9); beyond that they are rejected."""
    assert SUM_TOLERANCE == 1e-9
    assert kl([0.1] * 10, [0.1] * 10) == 0.0  # sums to 0.9999999999999999 or 1.0000000000000002
    assert as_pmf([0.5, 0.5 + 1e-12]).sum() > 1
    with pytest.raises(ValueError, match="argument p"):
        as_pmf([0.5, 0.5 + 1e-6])
    assert as_pmf([0.5, 0.5 + 1e-6], tol=1e-5).shape == (2,)


def test_no_renormalisation() -> None:
    """A semimeasure's deficit is kept: KL([1/2, 0] || [1/4, 0]) = (1/2) ln 2, not ln 2 (renormalised)."""
    assert kl([0.5, 0.0], [0.25, 0.0]) == pytest.approx(0.5 * math.log(2), abs=1e-15)
    assert tvd([0.5, 0.0], [0.25, 0.0]) == pytest.approx(0.125, abs=1e-15)


# ------------------------------------------------------------------------------------- inequalities


@PROPS
@given(measure_pairs(zero_prob=0.3, semimeasure_q=True))
def test_gibbs_inequality_semimeasure_q(pq: tuple[list[float], list[float]]) -> None:
    """Gibbs: for a measure p and a semimeasure q (sum q <= 1), KL(p||q) >= 0, with equality iff p = q."""
    p, q = pq
    assert kl(p, q) >= -1e-12
    assert kl(p, p) == 0.0


def test_gibbs_needs_p_a_measure() -> None:
    """For a semimeasure p, KL can be negative: KL([1/10, 0] || [1/2, 1/2]) = (1/10) ln(1/5) < 0."""
    assert kl([0.1, 0.0], [0.5, 0.5]) == pytest.approx(0.1 * math.log(0.2), abs=1e-15)
    assert kl([0.1, 0.0], [0.5, 0.5]) < 0


@PROPS
@given(measure_pairs(zero_prob=0.3))
def test_pinsker(pq: tuple[list[float], list[float]]) -> None:
    """Pinsker: for measures p, q, TVD(p, q) <= sqrt(KL(p||q) / 2)."""
    p, q = pq
    assert tvd(p, q) <= math.sqrt(kl(p, q) / 2) + 1e-12


def test_pinsker_is_tight_near_equality() -> None:
    """Pinsker is asymptotically tight for Bernoullis near 1/2: TVD / sqrt(KL/2) -> 1."""
    p, q = [0.5 + 1e-3, 0.5 - 1e-3], [0.5, 0.5]
    assert tvd(p, q) / math.sqrt(kl(p, q) / 2) == pytest.approx(1.0, abs=1e-5)


@PROPS
@given(measure_pairs(size=5, zero_prob=0.3))
def test_tvd_is_a_metric_bounded_by_one(pq: tuple[list[float], list[float]]) -> None:
    """For measures: 0 <= TVD <= 1, TVD(p,q) = TVD(q,p), TVD(p,p) = 0, and TVD(p,q) = max_A |p(A) - q(A)|."""
    p, q = pq
    d = tvd(p, q)
    assert 0 <= d <= 1 + 1e-12
    assert d == pytest.approx(tvd(q, p), abs=1e-15)
    assert tvd(p, p) == 0
    best = max(abs(sum(p[i] - q[i] for i in range(5) if mask >> i & 1)) for mask in range(32))
    assert d == pytest.approx(best, abs=1e-12)


@PROPS
@given(measure_pairs(zero_prob=0.3, semimeasure_q=True))
def test_cross_entropy_decomposition(pq: tuple[list[float], list[float]]) -> None:
    """H(p, q) = H(p) + KL(p||q) (any p, q with sum <= 1; both sides inf together)."""
    p, q = pq
    ce, total = cross_entropy(p, q), entropy(p) + kl(p, q)
    assert ce == total if math.isinf(total) else ce == pytest.approx(total, abs=1e-12)


@PROPS
@given(pmf_strategy(6, zero_prob=0.3))
def test_entropy_bounds(p: list[float]) -> None:
    """For a measure p on K symbols: 0 <= H(p) <= ln K, i.e. ln K - H(p) = KL(p || uniform) >= 0."""
    h = entropy(p)
    assert -1e-12 <= h <= math.log(6) + 1e-12
    assert math.log(6) - h == pytest.approx(kl(p, [1 / 6] * 6), abs=1e-12)


@PROPS
@given(measure_pairs(size=4, zero_prob=0.3, semimeasure_q=True))
def test_data_processing(pq: tuple[list[float], list[float]]) -> None:
    """Data processing: merging symbols {0,1} and {2,3} cannot increase KL or TVD (q may be a semimeasure)."""
    p, q = pq
    pm, qm = [p[0] + p[1], p[2] + p[3]], [q[0] + q[1], q[2] + q[3]]
    assert kl(pm, qm) <= kl(p, q) + 1e-12
    assert tvd(pm, qm) <= tvd(p, q) + 1e-12


@pytest.mark.parametrize("tol", [math.nan, -1e-9, math.inf])
def test_a_tolerance_that_would_skip_the_sum_check_is_refused(tol: float) -> None:
    half = [Fraction(1, 2), Fraction(1, 2)]
    for call in (lambda: kl([0.6, 0.6], [0.5, 0.5], tol=tol), lambda: tvd(half, half, tol=tol),
                 lambda: entropy([0.5, 0.5], tol=tol), lambda: cross_entropy(half, half, tol=tol)):
        with pytest.raises(ValueError, match="argument tol"):
            call()
