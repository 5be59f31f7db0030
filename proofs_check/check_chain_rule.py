r"""The chain rule for KL along a fixed observation sequence (used by Definition 2 and the planning code).

For a fixed open-loop observation sequence, the joint KL over action sequences equals the expected sum of the
per-step KLs:

``sum_{a_1..a_m} P(a) ln(P(a)/B(a)) = E_{a ~ P}[ sum_t KL(pi(.|h_t) || beta(.|h_t)) ]``

with ``P(a) = prod_t pi(a_t | h_t)`` and ``B(a) = prod_t beta(a_t | h_t)``. Checked symbolically with sympy for
two steps and two actions (general conditional probabilities as symbols), and exactly for three steps and three
actions with ``aitheory.measures.kl_exact`` on random rationals (compared as exact coefficients of ``ln p`` over
primes ``p``).
"""

from __future__ import annotations

import itertools
import random
from fractions import Fraction

import pytest

sp = pytest.importorskip("sympy")


def test_chain_rule_symbolic_two_steps_two_actions() -> None:
    p1, b1 = sp.symbols("p1 b1", positive=True)
    p2 = sp.symbols("p2_0 p2_1", positive=True)  # pi(a_2 = 1 | a_1)
    b2 = sp.symbols("b2_0 b2_1", positive=True)

    def bern(x: sp.Expr, a: int) -> sp.Expr:
        return x if a == 1 else 1 - x

    joint = 0
    for a1, a2 in itertools.product((0, 1), repeat=2):
        pp = bern(p1, a1) * bern(p2[a1], a2)
        bb = bern(b1, a1) * bern(b2[a1], a2)
        joint += pp * sp.log(pp / bb)

    def kl2(x: sp.Expr, y: sp.Expr) -> sp.Expr:
        return x * sp.log(x / y) + (1 - x) * sp.log((1 - x) / (1 - y))

    chained = kl2(p1, b1) + (1 - p1) * kl2(p2[0], b2[0]) + p1 * kl2(p2[1], b2[1])
    difference = sp.expand(sp.expand_log(joint - chained, force=True))
    assert sp.simplify(difference) == 0


@pytest.mark.parametrize("seed", range(6))
def test_chain_rule_exact_three_steps_three_actions(seed: int) -> None:
    from aitheory.measures import kl_exact

    rng = random.Random(seed)
    k, m = 3, 3

    def random_pmf() -> list[Fraction]:
        raw = [rng.randint(1, 9) for _ in range(k)]
        return [Fraction(r, sum(raw)) for r in raw]

    pi = {h: random_pmf() for n in range(m) for h in itertools.product(range(k), repeat=n)}
    beta = {h: random_pmf() for h in pi}
    joint_p, joint_b = [], []
    for seq in itertools.product(range(k), repeat=m):
        pp = bb = Fraction(1)
        for t in range(m):
            pp *= pi[seq[:t]][seq[t]]
            bb *= beta[seq[:t]][seq[t]]
        joint_p.append(pp)
        joint_b.append(bb)
    lhs = prime_log_coefficients(kl_exact(joint_p, joint_b).terms)
    rhs_terms = []
    for h in pi:
        reach = Fraction(1)
        for t in range(len(h)):
            reach *= pi[h[:t]][h[t]]
        rhs_terms += [(reach * c, r) for c, r in kl_exact(pi[h], beta[h]).terms]
    assert lhs == prime_log_coefficients(rhs_terms)
    assert lhs, "a non-trivial KL"


def prime_log_coefficients(terms: list[tuple[Fraction, Fraction]] | tuple[tuple[Fraction, Fraction], ...]) -> dict:
    """Write ``sum_i c_i ln r_i`` as ``sum_p e_p ln p`` over primes p; return ``{p: e_p}`` without zeros.

    The logarithms of distinct primes are linearly independent over the rationals (unique factorisation), so two
    such sums are equal exactly when these coefficient maps are equal: an exact equality test with no rounding.
    """
    coefficients: dict[int, Fraction] = {}
    for c, r in terms:
        for prime, e in sp.factorint(r.numerator).items():
            coefficients[prime] = coefficients.get(prime, Fraction(0)) + c * e
        for prime, e in sp.factorint(r.denominator).items():
            coefficients[prime] = coefficients.get(prime, Fraction(0)) - c * e
    return {p: e for p, e in coefficients.items() if e != 0}
