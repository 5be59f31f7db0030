"""Figures from saved results, written as PNG and SVG (matplotlib, the ``plots`` extra, imported lazily).

Figures are drawn with matplotlib's object-oriented API (:class:`matplotlib.figure.Figure`, rendered by the Agg
canvas), never through ``pyplot``'s global state: importing or using this module does not change the user's
backend, so a Jupyter notebook keeps its inline figures and a GUI session its windows, and figures can be drawn
from worker threads. :func:`pyplot` returns a small stand-in with the few ``pyplot`` functions the package uses.

**Figures from saved rows.** The checks draw their figures from the rows they save in their run folder (CSV,
read back as strings by :meth:`aitheory.results.RunFolder.read_rows`), so that ``aitheory plot RUN_DIR``
(:func:`aitheory.theory.figures.redraw`) redraws them without recomputing; :func:`column` turns a column of
such rows (or of in-memory rows of numbers) into floats.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from aitheory._optional import require
from aitheory.results import atomic_write_bytes

__all__ = ["column", "figure", "pyplot", "save_figure", "subplots"]


def _cell(value: object) -> float:
    if isinstance(value, str):
        special = {"": math.nan, "True": 1.0, "False": 0.0}
        return special[value.strip()] if value.strip() in special else float(value)
    return float(value)  # type: ignore[arg-type]


def column(rows: Sequence[Mapping[str, object]], name: str) -> np.ndarray:
    """Column ``name`` of ``rows`` as floats: numbers as they are; strings as written by
    :func:`aitheory.results.write_csv` (``"inf"``, ``"nan"``, ``"True"``/``"False"`` as 1/0, empty as NaN)."""
    return np.array([_cell(r[name]) for r in rows], dtype=float)


def figure(**kwargs: Any) -> Any:
    """A new :class:`matplotlib.figure.Figure` (keyword arguments as for ``Figure``), outside ``pyplot``."""
    require("matplotlib", "plots")
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def subplots(nrows: int = 1, ncols: int = 1, **kwargs: Any) -> tuple[Any, Any]:
    """``(figure, axes)`` like ``pyplot.subplots``, on a new :func:`figure` (figure keywords: ``figsize``,
    ``dpi``, ``layout``; the rest go to ``Figure.subplots``)."""
    fig_keys = ("figsize", "dpi", "layout", "constrained_layout", "tight_layout")
    fig = figure(**{k: kwargs.pop(k) for k in fig_keys if k in kwargs})
    return fig, fig.subplots(nrows, ncols, **kwargs)


def pyplot() -> Any:
    """The ``pyplot`` functions the package's figures use (``subplots``, ``figure``, ``get_cmap``,
    ``MaxNLocator``, ``close``), without ``pyplot``'s global state or a backend change."""
    matplotlib = require("matplotlib", "plots")
    from matplotlib.ticker import MaxNLocator

    return SimpleNamespace(subplots=subplots, figure=figure, get_cmap=matplotlib.colormaps.get_cmap,
                           MaxNLocator=MaxNLocator, close=lambda fig=None: None)


def save_figure(fig: Any, stem: str | os.PathLike[str], dpi: int = 150) -> tuple[Path, Path]:
    """Save ``fig`` as ``stem.png`` and ``stem.svg`` atomically and return both paths."""
    stem = Path(stem)
    paths = []
    for ext in ("png", "svg"):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, dpi=dpi, bbox_inches="tight")
        paths.append(atomic_write_bytes(stem.with_suffix(f".{ext}"), buf.getvalue()))
    return paths[0], paths[1]
