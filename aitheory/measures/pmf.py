r"""Information measures between finite (semi)measures: KL, TVD, entropy, cross-entropy.

A *semimeasure* over a finite alphabet is a vector of non-negative numbers summing to at most 1; the
deficit ``1 - sum(p)`` is mass that was lost (a program halted, timed out, ...). Nothing here renormalises
that deficit away: every measure is computed on the vectors exactly as given.

Definitions (natural logarithms; pass ``base=2`` for bits):

* ``kl(p, q) = sum_x p(x) ln(p(x)/q(x))`` with ``0 ln(0/q) = 0`` and ``p ln(p/0) = inf`` for ``p > 0``.
  For a semimeasure ``q`` and a measure ``p`` it is still ``>= 0`` (Gibbs' inequality needs only
  ``sum q <= 1``).
  An infinite KL is ``math.inf``, never an epsilon-clipped number.
* ``tvd(p, q) = (1/2) sum_x |p(x) - q(x)|`` (over the listed symbols; the deficits are not a symbol).
* ``entropy(p) = -sum_x p(x) ln p(x)``; ``cross_entropy(p, q) = -sum_x p(x) ln q(x)``.

Inputs may be sequences of floats, numpy arrays or sequences of :class:`fractions.Fraction`. With Fraction
inputs, TVD is returned as an exact Fraction; the logarithmic measures are returned as floats whose support
decisions (zero terms, infinities) are exact and whose log-ratios are formed from the exact rational ratio;
:func:`kl_exact` gives the closed form ``sum_i c_i ln(r_i)`` with rational ``c_i, r_i`` for symbolic checks.

Validation: a ``ValueError`` naming the argument (``p`` or ``q``) for negative or NaN entries, sums above
``1 + tol`` (default ``tol = 1e-9``; exact for Fractions), non-1-D input, and shape mismatches.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, TypeGuard

import numpy as np
from scipy.special import rel_entr, xlogy

__all__ = [
    "SUM_TOLERANCE",
    "ExactLogSum",
    "as_pmf",
    "cross_entropy",
    "entropy",
    "kl",
    "kl_exact",
    "tvd",
]

#: How far above 1 a float (semi)measure may sum before it is rejected (rounding slack).
SUM_TOLERANCE = 1e-9

PmfLike = Sequence[float] | Sequence[Fraction] | np.ndarray


def _is_exact(values: Any) -> TypeGuard[Sequence[Any]]:
    """True for a non-empty sequence of Fractions/ints (not bools); False for arrays, scalars, floats."""
    return (
        isinstance(values, Sequence)
        and not isinstance(values, str)
        and len(values) > 0
        and all(isinstance(v, (Fraction, int)) and not isinstance(v, bool) for v in values)
    )


def _check_exact(values: Sequence[Any], name: str) -> list[Fraction]:
    out = []
    for i, v in enumerate(values):
        try:
            out.append(Fraction(v))
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValueError(f"argument {name}: entry {i} ({v!r}) is not a finite rational number") from exc
    for i, v in enumerate(out):
        if v < 0:
            raise ValueError(f"argument {name}: entry {i} is negative ({v}); a (semi)measure is non-negative")
    total = sum(out, Fraction(0))
    if total > 1:
        raise ValueError(f"argument {name}: sums to {total} > 1; a (semi)measure sums to at most 1")
    return out


def check_tolerance(tol: float) -> None:
    """``ValueError`` unless ``tol`` is a finite number >= 0 (``nan`` compares false and would skip sum checks)."""
    try:
        ok = math.isfinite(tol) and tol >= 0
    except TypeError:
        ok = False
    if not ok:
        raise ValueError(f"argument tol: must be a finite number >= 0, got {tol!r}")


def as_pmf(values: PmfLike, name: str = "p", tol: float = SUM_TOLERANCE) -> np.ndarray:
    """Validate ``values`` as a float (semi)measure and return it as a 1-D float64 array.

    Raises ``ValueError`` naming ``name`` if it is not 1-D, is empty, has a NaN or negative entry, or sums
    to more than ``1 + tol``; and if ``tol`` is not a finite number >= 0 (a NaN tolerance would pass every sum).
    """
    check_tolerance(tol)
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"argument {name}: expected a 1-D vector of probabilities, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"argument {name}: is empty; expected at least one probability")
    if np.isnan(arr).any():
        raise ValueError(f"argument {name}: entry {int(np.flatnonzero(np.isnan(arr))[0])} is NaN")
    if np.isinf(arr).any():
        raise ValueError(f"argument {name}: entry {int(np.flatnonzero(np.isinf(arr))[0])} is infinite")
    if (arr < 0).any():
        i = int(np.flatnonzero(arr < 0)[0])
        raise ValueError(
            f"argument {name}: entry {i} is negative ({arr[i]}); a (semi)measure is non-negative"
        )
    total = float(arr.sum())
    if total > 1 + tol:
        raise ValueError(
            f"argument {name}: sums to {total:.12g} > 1 (tolerance {tol:g}); "
            "a (semi)measure sums to at most 1"
        )
    return arr


def _pair(p: PmfLike, q: PmfLike, tol: float) -> tuple[np.ndarray, np.ndarray]:
    pa, qa = as_pmf(p, "p", tol), as_pmf(q, "q", tol)
    if pa.shape != qa.shape:
        raise ValueError(
            f"arguments p and q: shapes differ ({pa.shape} vs {qa.shape}); both must be over one alphabet"
        )
    return pa, qa


def _exact_pair(p: Sequence[Any], q: Sequence[Any]) -> tuple[list[Fraction], list[Fraction]]:
    pe, qe = _check_exact(p, "p"), _check_exact(q, "q")
    if len(pe) != len(qe):
        raise ValueError(
            f"arguments p and q: lengths differ ({len(pe)} vs {len(qe)}); both must be over one alphabet"
        )
    return pe, qe


def _scale(nats: float, base: float | None) -> float:
    if base is None:
        return nats
    if base <= 0 or base == 1:
        raise ValueError(f"argument base: must be > 0 and != 1, got {base}")
    return nats / math.log(base)


@dataclass(frozen=True)
class ExactLogSum:
    r"""An exact value ``sum_i c_i ln(r_i)`` (rational ``c_i``, positive rational ``r_i``), or ``+inf``.

    ``float(x)`` evaluates it; :meth:`to_sympy` gives the symbolic expression (needs the ``proofs`` extra).
    """

    terms: tuple[tuple[Fraction, Fraction], ...]
    infinite: bool = False

    def __float__(self) -> float:
        if self.infinite:
            return math.inf
        return math.fsum(float(c) * _log_fraction(r) for c, r in self.terms)

    def to_sympy(self) -> Any:
        from aitheory._optional import require

        sp = require("sympy", "proofs")
        if self.infinite:
            return sp.oo
        return sp.Add(
            *[
                sp.Rational(c.numerator, c.denominator) * sp.log(sp.Rational(r.numerator, r.denominator))
                for c, r in self.terms
            ]
        )


def _log_fraction(r: Fraction) -> float:
    """``ln r`` for a positive Fraction, accurate even when numerator/denominator overflow a float, and near 1.

    Near 1 (``|r - 1| < 1/2``) it is ``log1p(r - 1)`` with ``r - 1`` formed exactly: the difference of two
    logarithms would cancel (``ln(1/(1 - 1e-300))`` would come out 0 instead of 1e-300).
    """
    d = r - 1
    if abs(d) < Fraction(1, 2):
        return math.log1p(d.numerator / d.denominator)
    return math.log(r.numerator) - math.log(r.denominator)


def kl_exact(p: Sequence[Fraction | int], q: Sequence[Fraction | int]) -> ExactLogSum:
    """``KL(p || q)`` in nats as an exact :class:`ExactLogSum` (for rational inputs)."""
    pe, qe = _exact_pair(p, q)
    terms = []
    for pi, qi in zip(pe, qe, strict=True):
        if pi == 0:
            continue
        if qi == 0:
            return ExactLogSum((), infinite=True)
        if pi != qi:
            terms.append((pi, pi / qi))
    return ExactLogSum(tuple(terms))


def kl(p: PmfLike, q: PmfLike, *, base: float | None = None, tol: float = SUM_TOLERANCE) -> float:
    """Kullback-Leibler divergence ``KL(p || q) = sum_x p(x) log(p(x)/q(x))``, in nats (or ``base``).

    ``inf`` when some ``p(x) > 0`` has ``q(x) = 0``. Semimeasures are accepted as they are (no renormalising).
    """
    check_tolerance(tol)
    if _is_exact(p) and _is_exact(q):
        return _scale(float(kl_exact(p, q)), base)
    pa, qa = _pair(p, q, tol)
    return _scale(float(math.fsum(rel_entr(pa, qa))), base)


def tvd(p: PmfLike, q: PmfLike, *, tol: float = SUM_TOLERANCE) -> float | Fraction:
    """Total variation distance ``(1/2) sum_x |p(x) - q(x)|``; an exact Fraction for Fraction inputs."""
    check_tolerance(tol)
    if _is_exact(p) and _is_exact(q):
        pe, qe = _exact_pair(p, q)
        return sum((abs(a - b) for a, b in zip(pe, qe, strict=True)), Fraction(0)) / 2
    pa, qa = _pair(p, q, tol)
    return 0.5 * math.fsum(np.abs(pa - qa))


def entropy(p: PmfLike, *, base: float | None = None, tol: float = SUM_TOLERANCE) -> float:
    """Shannon entropy ``-sum_x p(x) log p(x)`` in nats (or ``base``); not renormalised for a semimeasure."""
    check_tolerance(tol)
    if _is_exact(p):
        pe = _check_exact(p, "p")
        return _scale(-math.fsum(float(v) * _log_fraction(v) for v in pe if v > 0), base)
    pa = as_pmf(p, "p", tol)
    return _scale(-math.fsum(xlogy(pa, pa)), base)


def cross_entropy(p: PmfLike, q: PmfLike, *, base: float | None = None, tol: float = SUM_TOLERANCE) -> float:
    """Cross-entropy ``-sum_x p(x) log q(x)`` in nats (or ``base``); ``inf`` if ``p(x) > 0 = q(x)``."""
    check_tolerance(tol)
    if _is_exact(p) and _is_exact(q):
        pe, qe = _exact_pair(p, q)
        if any(a > 0 and b == 0 for a, b in zip(pe, qe, strict=True)):
            return math.inf
        return _scale(
            -math.fsum(float(a) * _log_fraction(b) for a, b in zip(pe, qe, strict=True) if a > 0), base
        )
    pa, qa = _pair(p, q, tol)
    return _scale(-math.fsum(xlogy(pa, qa)), base)
