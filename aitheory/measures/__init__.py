"""Information measures: pmf level (:mod:`aitheory.measures.pmf`), tree level (:mod:`aitheory.measures.tree`,
one entry point :func:`tree_divergence`; its array fast path :mod:`aitheory.measures.sequence_form`).

All in nats unless ``base=`` is given; semimeasure-aware; ``inf`` where the support condition fails.
"""

from aitheory.measures import tree
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
from aitheory.measures.tree import *  # noqa: F403 (the names in tree.__all__, listed once there)

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
__all__ += tree.__all__
