"""aitheory: a theory-first toolkit for Solomonoff-style imitation and KL bounds.

Built around Cohen, Hutter, Bengio and Russell, "RL, but don't do anything I wouldn't do"
(arXiv:2410.06213). Modules are named after the ideas of the theory and import in one direction:

``measures``, ``dsl``  ->  ``mixture``, ``ctw``  ->  ``imitators``, ``planning``  ->  ``theory``  ->  ``llm``, ``cli``

Units: information in nats unless a function takes ``base=``; program lengths in bits.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
