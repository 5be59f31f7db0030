"""Information measures: pmf level (:mod:`aitheory.measures.pmf`), tree level (:mod:`aitheory.measures.tree`).

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
from aitheory.measures.tree import (
    DEFAULT_MAX_NODES,
    Environment,
    History,
    Policy,
    TreeDivergence,
    TreeTooLargeError,
    sequence_kl,
    sequence_kl_exact,
    sequence_tvd,
    tree_kl,
    tree_kl_adaptive,
    tree_kl_brute_force,
    tree_kl_expected,
    tree_size,
    tree_tvd,
    tree_tvd_adaptive,
    tree_tvd_brute_force,
    tree_tvd_expected,
)

__all__ = [
    "DEFAULT_MAX_NODES",
    "SUM_TOLERANCE",
    "Environment",
    "ExactLogSum",
    "History",
    "Policy",
    "TreeDivergence",
    "TreeTooLargeError",
    "as_pmf",
    "cross_entropy",
    "entropy",
    "kl",
    "kl_exact",
    "sequence_kl",
    "sequence_kl_exact",
    "sequence_tvd",
    "tree_kl",
    "tree_kl_adaptive",
    "tree_kl_brute_force",
    "tree_kl_expected",
    "tree_size",
    "tree_tvd",
    "tree_tvd_adaptive",
    "tree_tvd_brute_force",
    "tree_tvd_expected",
    "tvd",
]
