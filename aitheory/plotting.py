"""Figures from saved results, written as PNG and SVG (matplotlib, the ``plots`` extra, imported lazily)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aitheory._optional import require
from aitheory.results import atomic_write_bytes

__all__ = ["pyplot", "save_figure"]


def pyplot() -> Any:
    """``matplotlib.pyplot`` with the non-interactive Agg backend (no display needed)."""
    matplotlib = require("matplotlib", "plots")
    matplotlib.use("Agg", force=True)
    return require("matplotlib.pyplot", "plots")


def save_figure(fig: Any, stem: str | os.PathLike[str], dpi: int = 150) -> tuple[Path, Path]:
    """Save ``fig`` as ``stem.png`` and ``stem.svg`` atomically, close it, and return both paths."""
    import io

    stem = Path(stem)
    paths = []
    for ext in ("png", "svg"):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, dpi=dpi, bbox_inches="tight")
        paths.append(atomic_write_bytes(stem.with_suffix(f".{ext}"), buf.getvalue()))
    pyplot().close(fig)
    return paths[0], paths[1]
