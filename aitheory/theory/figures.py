"""Redrawing the figures of a finished run folder from its saved files, without recomputing (``aitheory plot``).

A check converted to typed summaries (:mod:`aitheory.theory.common`, "Figures from the run folder") defines
``SUMMARY``, ``FIGURES`` and ``draw_figures(folder, config, summary)``; :func:`redraw` reads the configuration
from ``config.json`` and the summary from ``summary.json`` and calls it, and ``draw_figures`` reads the rows it
plots from the folder's CSV files. The check's ``run`` draws its figures through the same function, so a redrawn
figure is the figure the run drew.

Checks not converted yet: Proposition 2's figures are drawn from its saved ``metrics.csv`` and the growth fit in
``summary.json`` by its own :func:`aitheory.theory.prop2.plot_f` (:func:`_prop2`, until ``prop2.py`` defines
``draw_figures``); Theorem 1's figures need its in-memory switch costs (its ``metrics.csv`` does not say which
list a row belongs to), so they are *not yet* redrawable: ``redraw`` refuses its folders with a one-line message.

Bad input (not a run folder, a kind without figures, a missing or malformed file) is a
:class:`aitheory.results.RunFolderError` with one line naming the folder or file (exit code 2 on the command line).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from aitheory.results import RunFolder, RunFolderError
from aitheory.theory.common import CHECKS, check_module

__all__ = ["redraw", "redrawable"]


def _prop2(folder: RunFolder) -> tuple[str, ...]:
    """Proposition 2's two figures from ``metrics.csv`` (g, f, the counters' lengths and envelope at every t) and
    the fitted envelope line in ``summary.json``, drawn by :func:`aitheory.theory.prop2.plot_f`."""
    from aitheory.plotting import column
    from aitheory.theory import prop2

    config = folder.read_config(prop2.Config)
    summary = folder.read_summary()
    rows = folder.read_rows("metrics.csv", ("t", "g_enum_bits", "f_enum_bits", "counter_bits",
                                            "counter_envelope_bits"))
    try:
        fit = prop2.GrowthFit(slope=float(summary["growth_slope_bits_per_doubling"]),
                              intercept=float(summary["growth_intercept_bits"]), split=int(summary["growth_split_t"]),
                              excess=float(summary["growth_excess_bits"]), worst_t=int(summary["growth_worst_t"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise RunFolderError(f"{folder.file('summary.json')}: no growth fit of Proposition 2 ({exc})") from None
    t = column(rows, "t").astype(np.int64)
    g, f, ell, u = (column(rows, c) for c in ("g_enum_bits", "f_enum_bits", "counter_bits", "counter_envelope_bits"))
    stems = ("prop2_f_vs_log2_t", "prop2_f_vs_log2log2_t")
    for stem, loglog in zip(stems, (False, True), strict=True):
        prop2.plot_f(t, g, f, ell, u, fit, config, folder.file(stem), loglog=loglog)
    return stems


#: Figures of checks whose module does not draw them from the run folder yet, drawn here from its saved files.
_NOT_CONVERTED: dict[str, Callable[[RunFolder], tuple[str, ...]]] = {"prop2": _prop2}


def redrawable() -> tuple[str, ...]:
    """The checks whose figures :func:`redraw` can draw from a run folder (imports each check's module)."""
    return tuple(n for n in CHECKS if n in _NOT_CONVERTED or hasattr(check_module(n), "draw_figures"))


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
    if kind in _NOT_CONVERTED:
        return _NOT_CONVERTED[kind](folder)
    if not hasattr(module, "draw_figures"):
        raise RunFolderError(f"run folder {str(path)!r}: the figures of {kind} cannot be redrawn from a run folder "
                             f"yet (not yet converted; redrawable: {', '.join(redrawable())})")
    config = folder.read_config(module.Config)
    try:
        summary = module.SUMMARY.from_json(folder.read_summary())
    except ValueError as exc:
        if isinstance(exc, RunFolderError):
            raise
        raise RunFolderError(f"{folder.file('summary.json')}: not a {kind} summary ({exc})") from None
    return tuple(module.draw_figures(folder, config, summary))
