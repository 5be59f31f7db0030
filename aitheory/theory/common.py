"""What every checked result returns, and the registry of checks that ``aitheory check`` and ``reproduce`` run.

Each check is a module of :mod:`aitheory.theory` defining ``NAME``, ``STATEMENT``, a frozen ``Config`` dataclass
(fields with docstrings; ``Config.quick()`` a small instance for tests and ``reproduce --quick``) and
``run(config, folder, show_progress=False) -> CheckResult``, which writes its ``metrics.csv`` and figures into
the run folder. :func:`run_check` adds ``config.json`` and ``summary.json``.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from aitheory.results import RunFolder

__all__ = ["CHECKS", "CheckResult", "check_module", "run_check"]

#: Result name -> module, in the order the report lists them.
CHECKS: dict[str, str] = {
    "prop1": "aitheory.theory.prop1",
    "theorem1": "aitheory.theory.theorem1",
    "prop2": "aitheory.theory.prop2",
    "pessimistic": "aitheory.theory.pessimistic",
    "theorem2": "aitheory.theory.theorem2",
}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: the measured value against the bound, and the verdict."""

    name: str
    statement: str
    measured: float
    """The headline measured quantity (units in ``units``)."""
    bound: float
    """What the result says that quantity must satisfy (see ``relation``)."""
    relation: str
    """How measured and bound compare when the result holds, e.g. ``"<="`` or ``"=="``."""
    held: bool
    units: str
    details: dict[str, Any] = field(default_factory=dict)
    """Further measured values (written into summary.json next to the headline ones)."""
    figures: tuple[str, ...] = ()
    """Figure files (stems, without extension) written into the run folder."""
    verdict: str = ""
    """One line saying what was measured against what (printed by ``aitheory check``)."""
    run_folder: str = ""
    """Where the run was written (set by :func:`run_check`)."""

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name, "statement": self.statement, "measured": self.measured, "bound": self.bound,
            "relation": self.relation, "held": self.held, "units": self.units, **self.details,
            "figures": list(self.figures), "verdict": self.verdict,
        }


def check_module(name: str) -> ModuleType:
    """The module of check ``name``; ``ValueError`` naming the known checks otherwise."""
    if name not in CHECKS:
        raise ValueError(f"unknown check {name!r}; known: {', '.join(CHECKS)}")
    return importlib.import_module(CHECKS[name])


def run_check(name: str, config: Any, out: str | Path | None = None, show_progress: bool = False,
              overwrite: bool = False) -> CheckResult:
    """Run check ``name`` with ``config`` into its run folder (``out`` or a new ``runs/NAME-<time>``).

    An ``out`` holding a run of another configuration is refused (:class:`aitheory.results.RunFolderError`)
    unless ``overwrite``, which clears it first (:meth:`aitheory.results.RunFolder.open`).
    """
    module = check_module(name)
    folder = RunFolder.open(out, name, config, overwrite=overwrite, seed=getattr(config, "seed", None))
    start = time.perf_counter()
    result: CheckResult = replace(module.run(config, folder, show_progress=show_progress), run_folder=str(folder.path))
    summary = result.summary()
    summary["seconds"] = round(time.perf_counter() - start, 3)
    summary["run_folder"] = str(folder.path)
    folder.write_summary(summary)
    return result
