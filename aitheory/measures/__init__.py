"""Information measures: pmf level (:mod:`aitheory.measures.pmf`) and tree level (:mod:`aitheory.measures.tree`).

All in nats unless ``base=`` is given; semimeasure-aware; ``inf`` where the support condition fails.
"""

from aitheory.measures.pmf import (
    SUM_TOLERANCE,
    ExactLogSum,
    as_pmf,
    cross_entropy,
    entropy,
    kl,
    kl_exact,
    tvd,
)

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
