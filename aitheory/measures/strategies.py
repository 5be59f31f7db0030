"""Random (semi)measures and policies for tests, plus hypothesis strategies (``test`` extra, imported lazily).

:func:`random_policy` needs only numpy: a deterministic policy whose distribution at each history is drawn
from a generator seeded by ``(seed, len(history), *history)``;
the same history always gets the same answer.
The ``*_strategy`` functions return hypothesis strategies built from draws (so failing examples shrink; they
include near-degenerate and zero-carrying pmfs) and import hypothesis only when called.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from aitheory._optional import require
from aitheory.types import History, Policy

__all__ = ["environment_strategy", "pmf_strategy", "policy_strategy", "random_pmf", "random_policy"]


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


def _float_pmf(draw: Any, st: Any, size: int, zero_prob: float, semimeasure: bool) -> list[float]:
    """Weights drawn one by one: ordinary (0.01..1), near-degenerate (1e-12..1e-6) or, with ``zero_prob > 0``,
    zero; at least one positive; scaled to mass 1 or (``semimeasure``) a drawn mass in [0.05, 1]."""
    weight = st.one_of(st.floats(0.01, 1.0), st.floats(1e-12, 1e-6, allow_subnormal=False))
    raw = [0.0 if zero_prob > 0 and draw(st.floats(0.0, 1.0)) < zero_prob else draw(weight) for _ in range(size)]
    if not any(raw):
        raw[draw(st.integers(0, size - 1))] = 1.0
    mass = draw(st.floats(0.05, 1.0)) if semimeasure else 1.0
    total = math.fsum(raw)
    return [w / total * mass for w in raw]


def _exact_pmf(draw: Any, st: Any, size: int, zero_prob: float, semimeasure: bool) -> list[Fraction]:
    """As :func:`_float_pmf` with integer weights (1..20, or 10^6..10^9 for near-degenerate entries) over an
    integer total (a semimeasure adds up to the same again: a deficit of at most 1/2)."""
    weight = st.one_of(st.integers(1, 20), st.integers(10**6, 10**9))
    raw = [0 if zero_prob > 0 and draw(st.floats(0.0, 1.0)) < zero_prob else draw(weight) for _ in range(size)]
    if not any(raw):
        raw[draw(st.integers(0, size - 1))] = 1
    total = sum(raw) + (draw(st.integers(0, sum(raw))) if semimeasure else 0)
    return [Fraction(w, total) for w in raw]


def pmf_strategy(
    size: int, *, zero_prob: float = 0.0, semimeasure: bool = False, exact: bool = False
) -> Any:
    """Hypothesis strategy for (semi)measures over ``size`` symbols, built from draws so that examples shrink.

    Each entry is ordinary or near-degenerate (``1e-12`` to ``1e-6`` before scaling); with ``zero_prob > 0``
    each is zero when a drawn uniform falls below ``zero_prob`` (at least one stays positive). ``semimeasure``
    draws a mass below 1; ``exact`` gives Fractions (near-degenerate: ratios down to ``1e-9``).
    """
    st = require("hypothesis.strategies", "test")
    if size < 1:
        raise ValueError(f"argument size: expected an int >= 1, got {size}")
    build = _exact_pmf if exact else _float_pmf
    return st.composite(lambda draw: build(draw, st, size, zero_prob, semimeasure))()


def policy_strategy(
    n_actions: int, *, zero_prob: float = 0.0, semimeasure: bool = False, exact: bool = False
) -> Any:
    """Hypothesis strategy for policies: a pure function of the history whose answer at each new history is
    drawn from :func:`pmf_strategy` (hypothesis ``functions(pure=True)``: lazy, shrinkable; the same history
    always gets the same answer). Call it only inside the test that drew it."""
    st = require("hypothesis.strategies", "test")
    pmfs = pmf_strategy(n_actions, zero_prob=zero_prob, semimeasure=semimeasure, exact=exact)
    return st.functions(like=_like, returns=pmfs, pure=True)


def environment_strategy(
    n_observations: int, *, zero_prob: float = 0.0, semimeasure: bool = False, exact: bool = False
) -> Any:
    """Hypothesis strategy for environments (history ending in an action -> (semi)measure over observations),
    as :func:`policy_strategy`."""
    return policy_strategy(n_observations, zero_prob=zero_prob, semimeasure=semimeasure, exact=exact)


def _like(history: History) -> Any:
    """The signature of a drawn policy or environment."""
