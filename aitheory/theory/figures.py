"""Redrawing the figures of a finished run folder from its saved files, without recomputing (``aitheory plot``).

A check converted to typed summaries (:mod:`aitheory.theory.common`, "Figures from the run folder") defines
``SUMMARY``, ``FIGURES`` and ``draw_figures(folder, config, summary)``; :func:`redraw` reads the configuration
from ``config.json`` and the summary from ``summary.json`` (as ``summary_class(config)`` where the module
defines it: Theorem 1's summary depends on its mode) and calls it, and ``draw_figures`` reads the rows it plots
from the folder's CSV files. The check's ``run`` draws its figures through the same function, so a redrawn
figure is the figure the run drew.

Bad input (not a run folder, a kind without figures, a missing or malformed file) is a
:class:`aitheory.results.RunFolderError` with one line naming the folder or file (exit code 2 on the command line).
"""

from __future__ import annotations

import os

from aitheory.results import RunFolder, RunFolderError
from aitheory.theory.common import CHECKS, check_module

__all__ = ["redraw", "redrawable"]


def redrawable() -> tuple[str, ...]:
    """The checks whose figures :func:`redraw` can draw from a run folder (imports each check's module)."""
    return tuple(n for n in CHECKS if hasattr(check_module(n), "draw_figures"))


def redraw(path: str | os.PathLike[str]) -> tuple[str, ...]:
    """Redraw every figure of the finished run folder ``path`` from its saved files; return the figure stems
    (the PNG and SVG files are rewritten under the names the run gave them). :class:`RunFolderError` with one
    line if ``path`` is not a finished run folder of a check whose figures can be redrawn, or a file is missing."""
    folder = RunFolder.existing(path)
    kind = folder.kind
    if kind not in CHECKS:
        raise RunFolderError(f"run folder {str(path)!r}: a {kind or 'kind-less'} run, not one of the checks "
                             f"({', '.join(CHECKS)}); 'aitheory plot' redraws the figures of a check's run folder")
    module = check_module(kind)
    if not hasattr(module, "draw_figures"):
        raise RunFolderError(f"run folder {str(path)!r}: the figures of {kind} cannot be redrawn from a run folder "
                             f"yet (not yet converted; redrawable: {', '.join(redrawable())})")
    config = folder.read_config(module.Config)
    cls = module.summary_class(config) if hasattr(module, "summary_class") else module.SUMMARY
    try:
        summary = cls.from_json(folder.read_summary())
    except ValueError as exc:
        if isinstance(exc, RunFolderError):
            raise
        raise RunFolderError(f"{folder.file('summary.json')}: not a {kind} summary ({exc})") from None
    return tuple(module.draw_figures(folder, config, summary))
