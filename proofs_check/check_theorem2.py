r"""The exchange argument behind Theorem 2 (TVD constraints push mass only to optimal actions).

Two actions with action values ``q1 > q2``, base policy ``beta = (b, 1 - b)``. Suppose a policy ``pi`` raises the
*non-optimal* action above the base: ``pi_2 = b_2 + r`` with ``r > 0`` (so ``pi_1 = b_1 - r``). Moving
``delta in (0, r]`` of mass from action 2 to action 1

* lowers the total variation distance to ``beta`` by exactly ``delta`` (it cannot raise it), and
* raises the value by ``delta (q1 - q2) > 0``,

so ``pi`` was not optimal under the TVD constraint. KL instead keeps ``beta(a) = 0 => pi(a) = 0``: checked here as
``KL(pi || beta) = oo`` as soon as ``pi`` puts mass where ``beta`` has none.
"""

from __future__ import annotations

import pytest

sp = pytest.importorskip("sympy")

b, r, delta, q1, q2 = sp.symbols("b r delta q1 q2", real=True)


def test_exchange_lowers_tvd_by_delta() -> None:
    """With r = delta + s (delta > 0, s >= 0): TVD before = r, after = r - delta = s."""
    d = sp.symbols("d", positive=True)
    s_ = sp.symbols("s", nonnegative=True)
    rr = d + s_
    b1, b2 = b, 1 - b
    pi1, pi2 = b1 - rr, b2 + rr
    tvd_before = (sp.Abs(pi1 - b1) + sp.Abs(pi2 - b2)) / 2
    tvd_after = (sp.Abs(pi1 + d - b1) + sp.Abs(pi2 - d - b2)) / 2
    assert sp.simplify(tvd_before - rr) == 0
    assert sp.simplify(tvd_after - s_) == 0
    assert sp.simplify(tvd_before - tvd_after - d) == 0


def test_exchange_raises_value() -> None:
    pi1, pi2 = b - r, 1 - b + r
    value_before = pi1 * q1 + pi2 * q2
    value_after = (pi1 + delta) * q1 + (pi2 - delta) * q2
    gain = sp.simplify(value_after - value_before)
    assert sp.simplify(gain - delta * (q1 - q2)) == 0
    # positive whenever delta > 0 and q1 > q2
    d, g = sp.symbols("d g", positive=True)
    assert sp.simplify(gain.subs({delta: d, q1: q2 + g})).is_positive


def test_tvd_optimum_in_closed_form_raises_only_the_optimal_action() -> None:
    """max pi1 q1 + (1-pi1) q2 s.t. |pi1 - b| <= eps has pi1 = min(b + eps, 1): only action 1 is raised."""
    eps = sp.Rational(1, 10)
    for bv in (sp.Rational(1, 5), sp.Rational(1, 2), sp.Rational(19, 20)):
        x = sp.symbols("x", real=True)
        feasible = sp.Interval(sp.Max(0, bv - eps), sp.Min(1, bv + eps))
        value = x * 3 + (1 - x) * 1  # q1 = 3 > q2 = 1
        best = sp.maximum(value, x, feasible)
        argmax = sp.solve(sp.Eq(value, best), x)
        assert argmax == [sp.Min(1, bv + eps)]
        assert argmax[0] >= bv


def test_kl_keeps_zero_where_beta_is_zero() -> None:
    from fractions import Fraction

    from aitheory.measures import kl_exact

    beta = [Fraction(1), Fraction(0)]
    for mass in (Fraction(1, 10**6), Fraction(1, 2)):
        assert kl_exact([1 - mass, mass], beta).to_sympy() == sp.oo
    assert kl_exact([Fraction(1), Fraction(0)], beta).to_sympy() == 0
