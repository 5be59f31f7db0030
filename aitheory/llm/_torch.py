"""torch for the modules of :mod:`aitheory.llm` that need it at import: ``from aitheory.llm._torch import torch``.

The one place the ``llm`` extra's torch is imported at module level, behind
:func:`aitheory._optional.require`, so that a missing extra gives the install hint
(``pip install 'aitheory[llm]'``) instead of a bare ImportError. Importing this module imports torch.
"""

from __future__ import annotations

from aitheory._optional import require

require("torch", "llm")  # a clear install hint if the extra is missing
import torch  # noqa: E402
from torch import nn  # noqa: E402

__all__ = ["nn", "torch"]
