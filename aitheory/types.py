"""The shared types of histories, policies and environments (one home; layer 0, imported by every layer).

A *history* interleaves actions and observations, ``(a_1, o_1, a_2, o_2, ...)``, as a tuple of ints: actions in
``range(K_a)``, observations in ``range(K_o)``. A *policy* maps a history ending in an observation (or the empty
history) to a (semi)measure over the ``K_a`` actions; an *environment* maps a history ending in an action to a
(semi)measure over the ``K_o`` observations. Both return a sequence of floats, a numpy array or a sequence of
:class:`fractions.Fraction` (exact arithmetic where a module supports it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Environment", "History", "ObservationKernel", "Policy"]

History = tuple[int, ...]
#: A policy maps a history ending in an observation (or the empty history) to a (semi)measure over actions.
Policy = Callable[[History], Any]
#: An environment maps a history ending in an action to a (semi)measure over observations.
Environment = Callable[[History], Any]
#: ``nu(. | h, a)``: the same environment with the history and the action passed separately.
ObservationKernel = Callable[[History, int], Any]
