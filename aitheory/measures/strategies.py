"""Random (semi)measures and policies for tests, plus hypothesis strategies (``test`` extra, imported lazily).

:func:`random_policy` needs only numpy: a deterministic policy whose distribution at each history is drawn
from a generator seeded by ``(seed, len(history), *history)``;
the same history always gets the same answer.
The ``*_strategy`` functions return hypothesis strategies and import hypothesis only when called.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from aitheory._optional import require
from aitheory.measures.tree import History, Policy

__all__ = ["pmf_strategy", "policy_strategy", "random_pmf", "random_policy"]


def random_pmf(
    rng: np.random.Generator,
    size: int,
    *,
    zero_prob: float = 0.0,
    semimeasure: bool = False,
    exact: bool = False,
) -> list[float] | list[Fraction]:
    """A random (semi)measure over ``size`` symbols.

    Each entry is zero with probability ``zero_prob`` (at least one entry stays positive). A measure sums to 1
    (exactly for ``exact``); a semimeasure keeps a random deficit in ``[0, 1/2]``. ``exact`` gives Fractions
    with small denominators.
    """
    if size < 1:
        raise ValueError(f"argument size: expected an int >= 1, got {size}")
    keep = rng.random(size) >= zero_prob
    if not keep.any():
        keep[int(rng.integers(size))] = True
    if exact:
        weights = [int(w) if k else 0 for w, k in zip(rng.integers(1, 6, size), keep, strict=True)]
        total = sum(weights) * (int(rng.integers(1, 3)) if semimeasure else 1)
        return [Fraction(w, total) for w in weights]
    raw = np.where(keep, rng.random(size) + 0.05, 0.0)
    mass = float(rng.uniform(0.5, 1.0)) if semimeasure else 1.0
    return [float(x) for x in raw / raw.sum() * mass]


def random_policy(
    seed: int,
    n_actions: int,
    *,
    zero_prob: float = 0.0,
    semimeasure: bool = False,
    exact: bool = False,
) -> Policy:
    """A deterministic pseudo-random policy: history ``h`` gets :func:`random_pmf` seeded by ``(seed, h)``."""

    def policy(history: History) -> list[float] | list[Fraction]:
        rng = np.random.default_rng([seed, len(history), *history])
        return random_pmf(rng, n_actions, zero_prob=zero_prob, semimeasure=semimeasure, exact=exact)

    policy.__name__ = f"random_policy_{seed}"
    return policy


def pmf_strategy(
    size: int, *, zero_prob: float = 0.0, semimeasure: bool = False, exact: bool = False
) -> Any:
    """Hypothesis strategy for :func:`random_pmf` vectors of length ``size``."""
    st = require("hypothesis.strategies", "test")
    return st.integers(0, 2**32 - 1).map(
        lambda seed: random_pmf(
            np.random.default_rng(seed), size, zero_prob=zero_prob, semimeasure=semimeasure, exact=exact
        )
    )


def policy_strategy(
    n_actions: int, *, zero_prob: float = 0.0, semimeasure: bool = False, exact: bool = False
) -> Any:
    """Hypothesis strategy for :func:`random_policy` (the seed is drawn; the policy is deterministic)."""
    st = require("hypothesis.strategies", "test")
    return st.integers(0, 2**32 - 1).map(
        lambda seed: random_policy(seed, n_actions, zero_prob=zero_prob, semimeasure=semimeasure, exact=exact)
    )
