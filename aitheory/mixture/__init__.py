"""The Bayesian mixture ``xi`` over BF-8 programs: a finite, computable stand-in for Solomonoff induction.

- :mod:`aitheory.mixture.classes`: the model class (plain programs up to L bits, SWITCH, MIX) as behaviour rows,
  in policy mode (rows predict actions) or joint mode (rows predict ``a_1 o_1 a_2 ..``: ``ClassConfig(mode=)``);
- :mod:`aitheory.mixture.engine`: posterior, predictions (``xi(a | h)``; in joint mode also ``xi(o | h a)``) and
  missing-mass buckets, online and in batch (one history, or many at once: ``predict_histories``);
- :mod:`aitheory.mixture.reference`: a brute-force mixture in exact arithmetic, the oracle for the tests.
"""

from aitheory.mixture.classes import KINDS, ClassConfig, ModelClass, build_class
from aitheory.mixture.engine import (
    BUCKETS,
    HistoriesTrace,
    MixtureTrace,
    OnlineMixture,
    Step,
    TopProgram,
    mix_posterior_ratio,
    predict_batch,
    predict_histories,
)

__all__ = [
    "BUCKETS",
    "KINDS",
    "ClassConfig",
    "HistoriesTrace",
    "MixtureTrace",
    "ModelClass",
    "OnlineMixture",
    "Step",
    "TopProgram",
    "build_class",
    "mix_posterior_ratio",
    "predict_batch",
    "predict_histories",
]
