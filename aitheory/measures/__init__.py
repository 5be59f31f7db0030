"""Information measures: pmf level (:mod:`aitheory.measures.pmf`), tree level (:mod:`aitheory.measures.tree`,
one entry point :func:`tree_divergence`; its array fast path :mod:`aitheory.measures.sequence_form`).

All in nats unless ``base=`` is given; semimeasure-aware; ``inf`` where the support condition fails.
"""

from aitheory.measures import pmf, tree
from aitheory.measures.pmf import *  # noqa: F403 (the names in pmf.__all__, listed once there)
from aitheory.measures.tree import *  # noqa: F403 (the names in tree.__all__, listed once there)

__all__ = [*pmf.__all__, *tree.__all__]
