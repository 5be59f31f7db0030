r"""Exact checks of the two identities behind Theorem 1 (little constraint in novel situations).

Setting: a finite class of predictive semimeasures over one alphabet, prior ``w``, mixture
``xi(x | h) = sum_nu w(nu | h) nu(x | h)``, posterior ``w(nu | h) = w(nu) nu(h) / xi(h)``. Everything here is
computed with ``fractions.Fraction``, so the identities are checked exactly, not to a tolerance. The reference
mixture is written out in this file, independently of ``aitheory``.

1. **Invariance.** If ``nu(h) = nu'(h)`` then ``w(nu' | h) / w(nu | h) = w(nu') / w(nu)``, whatever the length
   of ``h``.
2. **Telescoping.** Let ``nu*`` copy ``xi`` until time ``t`` (so ``nu*(x_{<t}) = xi(x_{<t})``) and from then
   on put probability 1 on the symbols ``x*_t, x*_{t+1}, ...``. Then
   ``prod_{s=t}^{n-1} xi(x*_s | x_{<s}) = w(nu* | x_{<t}) / w(nu* | x_{<n})``, and since ``w(nu* | x_{<t}) = w(nu*)``
   exactly and a posterior is at most 1, the product is at least ``w(nu*)``: following ``nu*`` costs at most
   ``-ln w(nu*) = length(nu*) ln 2`` nats of log-loss against ``xi``, at every data size ``t``.
   (Here observations are among the symbols; ``nu*`` copies ``xi`` on them, so they do not move its posterior.)
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from fractions import Fraction

import pytest

Seq = tuple[int, ...]
Model = Callable[[Seq], list[Fraction]]


def random_model(rng: random.Random, k: int, deficit: bool) -> Model:
    """A random predictive semimeasure over ``k`` symbols with rational probabilities (memoised per history)."""
    table: dict[Seq, list[Fraction]] = {}

    def predict(h: Seq) -> list[Fraction]:
        if h not in table:
            raw = [rng.randint(0, 6) for _ in range(k)] + ([rng.randint(0, 2)] if deficit else [])
            if sum(raw) == 0:
                raw[0] = 1
            total = sum(raw)
            table[h] = [Fraction(r, total) for r in raw[:k]]
        return table[h]

    return predict


def likelihood(model: Model, seq: Seq) -> Fraction:
    out = Fraction(1)
    for i, x in enumerate(seq):
        out *= model(seq[:i])[x]
    return out


class Mixture:
    """The exact Bayes mixture of ``models`` with prior ``weights`` (a reference, written for these checks)."""

    def __init__(self, models: Sequence[Model], weights: Sequence[Fraction]) -> None:
        self.models, self.weights = list(models), list(weights)

    def prob(self, seq: Seq) -> Fraction:
        return sum((w * likelihood(m, seq) for m, w in zip(self.models, self.weights, strict=True)), Fraction(0))

    def predict(self, h: Seq, x: int) -> Fraction:
        return self.prob((*h, x)) / self.prob(h)

    def posterior(self, index: int, h: Seq) -> Fraction:
        return self.weights[index] * likelihood(self.models[index], h) / self.prob(h)


def switch_model(base: Mixture, t: int, target: Seq) -> Model:
    """``nu*``: predicts like the mixture ``base`` before time ``t``, then deterministically ``target[s]``."""

    def predict(h: Seq) -> list[Fraction]:
        k = len(base.models[0](()))
        if len(h) < t:
            return [base.predict(h, x) for x in range(k)]
        return [Fraction(int(x == target[len(h)])) for x in range(k)]

    return predict


@pytest.mark.parametrize("seed", range(12))
def test_posterior_ratio_invariance(seed: int) -> None:
    """Two models that agree on h keep their prior ratio: w(nu'|h)/w(nu|h) = w(nu')/w(nu), for every |h|."""
    rng = random.Random(seed)
    k = rng.choice([2, 3])
    shared = random_model(rng, k, deficit=True)
    other = random_model(rng, k, deficit=True)
    n = 5
    h = tuple(rng.randrange(k) for _ in range(n))
    # nu' agrees with nu ("shared") on every prefix of h, and differs elsewhere.
    def nu_prime(x: Seq) -> list[Fraction]:
        return shared(x) if x == h[: len(x)] else other(x)

    models = [shared, nu_prime, random_model(rng, k, deficit=False), random_model(rng, k, deficit=True)]
    weights = [Fraction(1, 2 ** rng.randint(1, 6)) for _ in models]
    mix = Mixture(models, weights)
    for length in range(n + 1):
        prefix = h[:length]
        if mix.prob(prefix) == 0 or likelihood(shared, prefix) == 0:
            break
        assert mix.posterior(1, prefix) / mix.posterior(0, prefix) == weights[1] / weights[0]


@pytest.mark.parametrize("seed", range(12))
def test_telescoping_identity_and_bound(seed: int) -> None:
    """prod_{s=t}^{n-1} xi(x*_s|x_{<s}) = w(nu*|x_{<t}) / w(nu*|x_{<n}) >= w(nu*), with w(nu*|x_{<t}) = w(nu*)."""
    rng = random.Random(1000 + seed)
    k = rng.choice([2, 3])
    n, t = 6, rng.randint(1, 4)
    others = [random_model(rng, k, deficit=rng.random() < 0.5) for _ in range(3)]
    other_w = [Fraction(1, 2 ** rng.randint(1, 4)) for _ in others]
    base = Mixture(others, other_w)
    history = tuple(rng.randrange(k) for _ in range(t))
    while base.prob(history) == 0:
        history = tuple(rng.randrange(k) for _ in range(t))
    target = history + tuple(rng.randrange(k) for _ in range(n - t))
    w_star = Fraction(1, 2 ** rng.randint(3, 8))
    # xi over the class including nu*: since nu* copies the others' mixture before t, xi_full = base there.
    nu_star = switch_model(base, t, target)
    full = Mixture([*others, nu_star], [*other_w, w_star])
    # nu*(x_{<t}) = xi(x_{<t}) / xi(empty), so its posterior at t is exactly its (normalised) prior, at every t.
    total_prior = sum(other_w, Fraction(0)) + w_star
    assert full.posterior(len(others), history) == w_star / total_prior
    post_t = full.posterior(len(others), history)
    product = Fraction(1)
    for s in range(t, n):
        product *= full.predict(target[:s], target[s])
    post_n = full.posterior(len(others), target)
    assert product == post_t / post_n
    assert product >= post_t
    assert post_n <= 1


@pytest.mark.parametrize("seed", range(8))
def test_posterior_of_the_copying_model_is_its_prior(seed: int) -> None:
    """If nu*(h) = xi(h) (nu* copies the mixture), then w(nu*|h) = w(nu*) exactly: data cannot rule it out.

    With the class normalised (prior weights summing to 1), the posterior of a model that predicts exactly as
    the mixture of the *whole* class is its prior; here the copying model copies the other models' mixture,
    which the whole-class mixture then equals on h as well.
    """
    rng = random.Random(2000 + seed)
    k = 2
    others = [random_model(rng, k, deficit=False) for _ in range(3)]
    w_star = Fraction(1, 8)
    raw = [Fraction(rng.randint(1, 5)) for _ in others]
    other_w = [r / sum(raw) * (1 - w_star) for r in raw]
    base = Mixture(others, [w / (1 - w_star) for w in other_w])
    n = 5
    copy = switch_model(base, n + 1, (0,) * (n + 2))  # never switches within the horizon
    full = Mixture([*others, copy], [*other_w, w_star])
    h = tuple(rng.randrange(k) for _ in range(n))
    checked = 0
    for length in range(n + 1):
        if full.prob(h[:length]) == 0:
            break
        assert full.posterior(len(others), h[:length]) == w_star
        checked += 1
    assert checked >= 1
