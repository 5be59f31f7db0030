"""Progress bars that show on a terminal and stay silent elsewhere (CI logs, pipes, tests)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")

__all__ = ["progress", "progress_enabled"]


def progress_enabled() -> bool:
    """True on an interactive terminal unless ``AITHEORY_PROGRESS=0``; ``AITHEORY_PROGRESS=1`` forces it on."""
    forced = os.environ.get("AITHEORY_PROGRESS")
    if forced is not None:
        return forced not in ("0", "", "false", "no")
    return sys.stderr.isatty()


def progress(iterable: Iterable[T], **kwargs: Any) -> Iterator[T]:
    """``tqdm(iterable, **kwargs)`` on a terminal, the plain iterable otherwise."""
    kwargs.setdefault("disable", not progress_enabled())
    kwargs.setdefault("dynamic_ncols", True)
    return iter(tqdm(iterable, **kwargs))
