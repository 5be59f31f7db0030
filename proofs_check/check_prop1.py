"""Symbolic checks (sympy) of the arithmetic in the proof of Proposition 1.

Witness: ``tau = Bern(0)``, ``pi = beta = Bern(p)``, ``p = min(eps, 1)/2``, so ``0 < p <= 1/2``.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

sp = pytest.importorskip("sympy")

p = sp.symbols("p", positive=True)


def _nonnegative_on_half_interval(expr: sp.Expr) -> bool:
    """``expr(p) >= 0`` for all ``0 < p <= 1/2``: the infimum over the interval, found by sympy, is >= 0."""
    interval = sp.Interval.Lopen(0, sp.Rational(1, 2))
    return bool(sp.minimum(expr, p, interval) >= 0)


def test_neg_log_one_minus_p_below_p_over_one_minus_p() -> None:
    """-ln(1-p) <= p/(1-p) on 0 < p <= 1/2 (in fact on 0 < p < 1)."""
    gap = p / (1 - p) + sp.log(1 - p)
    # gap(0) = 0 and gap'(p) = p/(1-p)^2 >= 0, so gap >= 0.
    assert sp.simplify(gap.subs(p, 0)) == 0
    assert sp.simplify(sp.diff(gap, p) - p / (1 - p) ** 2) == 0
    assert _nonnegative_on_half_interval(gap)


def test_p_over_one_minus_p_below_two_p() -> None:
    """p/(1-p) <= 2p on 0 < p <= 1/2, with equality at p = 1/2."""
    gap = sp.together(2 * p - p / (1 - p))
    assert sp.simplify(gap - p * (1 - 2 * p) / (1 - p)) == 0
    assert _nonnegative_on_half_interval(gap)
    assert gap.subs(p, sp.Rational(1, 2)) == 0


def test_the_chain_fails_beyond_one_half() -> None:
    """The step p/(1-p) <= 2p needs p <= 1/2: at p = 3/4 it is false (so min(eps, 1)/2 is needed)."""
    q = sp.Rational(3, 4)
    assert q / (1 - q) > 2 * q


@pytest.mark.parametrize("eps", [Fraction(1, 100), Fraction(1, 3), Fraction(1), Fraction(7, 2)])
def test_exact_kl_values_of_the_witness(eps: Fraction) -> None:
    """KL(pi||beta) = 0, KL(tau||beta) = -ln(1-p) exactly, KL(pi||tau) = oo; agrees with aitheory.measures."""
    from aitheory.measures import kl_exact

    pv = min(eps, Fraction(1)) / 2
    pi = beta = [1 - pv, pv]
    tau = [Fraction(1), Fraction(0)]
    assert kl_exact(pi, beta).to_sympy() == 0
    expected = -sp.log(1 - sp.Rational(pv.numerator, pv.denominator))
    assert sp.simplify(kl_exact(tau, beta).to_sympy() - expected) == 0
    assert kl_exact(pi, tau).to_sympy() == sp.oo
    assert sp.simplify(expected - sp.Rational(eps.numerator, eps.denominator)) <= 0
