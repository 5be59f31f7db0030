"""What every checked result returns, and the registry of checks that ``aitheory check`` and ``reproduce`` run.

Each check is a module of :mod:`aitheory.theory` defining ``NAME``, ``STATEMENT``, a frozen ``Config`` dataclass
(fields with docstrings; ``Config.quick()`` a small instance for tests and ``reproduce --quick``) and
``run(config, folder, show_progress=False) -> CheckResult``, which writes its ``metrics.csv`` and figures into
the run folder. :func:`run_check` adds ``config.json`` and ``summary.json``.

**Negative controls.** A verdict is evidence only if it can fail. Each check runs, besides its claim, a few
:class:`Control` cases: the same computation where the result's *hypothesis is false*, so that its conclusion
must fail there. A control records its own measured value, bound, relation and ``held`` (did the conclusion
hold on the control?), and is expected to have ``held = False``. The check's verdict is

    held = claim_held and every control has held = False        (:func:`held_with_controls`)

and :class:`CheckResult` refuses (``ValueError``) to be built with ``held = True`` while a control held.
``summary.json`` carries ``claim_held``, ``controls_failed`` and ``controls`` (name -> the control's summary).
A check without controls still works: ``controls`` is then ``{}`` and ``held`` is the claim's.

**Typed summaries.** A check's own fields of ``summary.json`` (those after ``controls``) are a frozen dataclass
derived from :class:`Summary`, one field per key, in the order of the file, each with a docstring that starts with
its unit in brackets (``[nats] KL(tau||beta) at eps.``; :func:`summary_units` reads them, a test checks every
field has one). It is passed as ``CheckResult(details=...)``; :meth:`CheckResult.summary` writes its fields as
they are (so ``inf`` becomes ``"inf"`` in the file exactly as a dict value would), and :meth:`Summary.from_json`
reads ``summary.json`` back into it. ``details`` may also be a plain dict (every registered check passes its
typed summary).

**Figures from the run folder.** A converted check module also defines ``SUMMARY`` (its :class:`Summary` class),
``FIGURES`` (the figure stems) and ``draw_figures(folder, config, summary) -> tuple[str, ...]``, which reads the
rows the figures need from the run folder (CSV written by ``run``; :meth:`aitheory.results.RunFolder.read_rows`)
and draws them. ``run`` calls it after writing the rows, and ``aitheory plot RUN_DIR``
(:func:`aitheory.theory.figures.redraw`) calls it on a finished folder, with the configuration from
``config.json`` and the summary from ``summary.json``, so the figures are redrawn without recomputing. A check
whose summary class depends on its configuration (Theorem 1: joint or policy mode) also defines
``summary_class(config)``, which ``redraw`` then uses instead of ``SUMMARY``.

Converting a check (a few lines): (1) declare ``@dataclass(frozen=True) class NameSummary(Summary)`` with the
keys of its details dict as fields (documented, with units), ``SUMMARY = NameSummary``; (2) build it where the
dict was built (``NameSummary(**details)`` checks that no key is missing or extra) and pass it as ``details``;
(3) for the figures, save the rows each figure plots, move the drawing into ``draw_figures(folder, config,
summary)`` reading them back (:func:`aitheory.plotting.column`), and list the stems in ``FIGURES``;
``tests/test_summaries.py`` then checks the keys against the golden file and the redraw.

Typical use in a check's ``run``::

    claim = measured <= bound
    controls = (Control.compare("full_support_tau", "tau with full support: KL(pi||tau) is finite",
                                measured=kl_pi_tau, relation="==", bound=math.inf, units="nats"),)
    return CheckResult(..., held=held_with_controls(claim, controls), claim_held=claim, controls=controls,
                       verdict=f"... ; {controls_verdict(controls)}")
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from aitheory.results import RunFolder, from_jsonable

__all__ = ["CHECKS", "CheckResult", "Control", "Summary", "check_module", "compare", "controls_verdict",
           "held_with_controls", "run_check", "summary_units"]

S = TypeVar("S", bound="Summary")

#: Result name -> module, in the order the report lists them.
CHECKS: dict[str, str] = {
    "prop1": "aitheory.theory.prop1",
    "theorem1": "aitheory.theory.theorem1",
    "prop2": "aitheory.theory.prop2",
    "pessimistic": "aitheory.theory.pessimistic",
    "theorem2": "aitheory.theory.theorem2",
}


#: The relations a measured value can have to its bound (see :func:`compare`).
RELATIONS = ("<=", "<", "==", ">=", ">")


def compare(measured: float, relation: str, bound: float, tol: float = 0.0) -> bool:
    """Whether ``measured relation bound`` holds, with slack ``tol`` in the relation's favour.

    ``==`` with ``tol`` means ``|measured - bound| <= tol`` (an infinite bound needs an infinite measured value of
    the same sign); a NaN measured value satisfies no relation.
    """
    if relation not in RELATIONS:
        raise ValueError(f"argument relation: expected one of {', '.join(RELATIONS)}, got {relation!r}")
    m, b = float(measured), float(bound)
    if math.isnan(m) or math.isnan(b):
        return False
    if relation == "==":
        return m == b if math.isinf(b) or math.isinf(m) else abs(m - b) <= tol
    if relation == "<=":
        return m <= b + tol
    if relation == "<":
        return m < b + tol
    if relation == ">=":
        return m >= b - tol
    return m > b - tol


@dataclass(frozen=True)
class Control:
    """A negative control: the check's conclusion evaluated where the hypothesis is false, so it must fail.

    ``held`` says whether the conclusion held on this control; a sound check has ``held = False`` for every
    control. ``measured``, ``bound`` and ``relation`` are the control's own numbers (same meaning as in
    :class:`CheckResult`: the conclusion would hold if ``measured relation bound``).
    """

    name: str
    """Short identifier, the key in ``summary.json["controls"]``."""
    description: str
    """Which hypothesis is made false, and why the conclusion must then fail."""
    measured: float
    bound: float
    relation: str
    held: bool
    """Did the conclusion hold on the control? Expected ``False``."""
    units: str
    details: dict[str, Any] = field(default_factory=dict)
    """Further measured values of the control (written next to the headline ones)."""

    def __post_init__(self) -> None:
        if self.relation not in RELATIONS:
            raise ValueError(f"argument relation: expected one of {', '.join(RELATIONS)}, got {self.relation!r}")

    @classmethod
    def compare(cls, name: str, description: str, *, measured: float, relation: str, bound: float, units: str,
                tol: float = 0.0, details: dict[str, Any] | None = None) -> Control:
        """A control whose ``held`` is ``compare(measured, relation, bound, tol)``."""
        return cls(name=name, description=description, measured=float(measured), bound=float(bound),
                   relation=relation, held=compare(measured, relation, bound, tol), units=units,
                   details=dict(details or {}))

    def summary(self) -> dict[str, Any]:
        return {"description": self.description, "measured": self.measured, "bound": self.bound,
                "relation": self.relation, "held": self.held, "units": self.units, **self.details}


def held_with_controls(claim_held: bool, controls: Sequence[Control]) -> bool:
    """A check's verdict: its claim held and every control failed (``held = False``) as expected."""
    return bool(claim_held) and not any(c.held for c in controls)


def _fmt(x: float) -> str:
    return ("inf" if x > 0 else "-inf") if math.isinf(x) else f"{x:.4g}"


def _why_not_held(control: Control) -> str:
    """Why a control whose numbers satisfy its relation still did not hold (empty when they do not): an
    infinite bound certifies nothing, a vacuous one (``details["bound_vacuous"]``) promises nothing."""
    if control.held or not compare(control.measured, control.relation, control.bound):
        return ""
    if math.isinf(control.bound):
        return " (an infinite bound certifies nothing)"
    if control.details.get("bound_vacuous"):
        return " (the bound is vacuous)"
    return " (its further conditions failed: see its description)"


def controls_verdict(controls: Sequence[Control]) -> str:
    """One clause for a verdict line: each control's measured value against its bound, and whether it failed."""
    if not controls:
        return "no controls"
    failed = sum(not c.held for c in controls)
    parts = [f"{c.name}: {_fmt(c.measured)} {c.relation} {_fmt(c.bound)} {c.units} "
             f"{'failed' if not c.held else 'HELD (unexpected)'}{_why_not_held(c)}" for c in controls]
    return f"controls failed as expected {failed}/{len(controls)} ({'; '.join(parts)})"


@dataclass(frozen=True)
class Summary:
    """Base of a check's typed summary: its own keys of ``summary.json``, one documented field each (module
    docstring). Subclasses are frozen dataclasses; field order is the order of the keys in the file."""

    def fields(self) -> dict[str, Any]:
        """``{key: value}`` in field order, values as they are (``summary.json`` converts them on writing)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_json(cls: type[S], summary: Mapping[str, Any]) -> S:
        """This summary read back from a parsed ``summary.json`` (its other keys ignored; ``"inf"`` back to
        floats, lists back to tuples: :func:`aitheory.results.from_jsonable`)."""
        return from_jsonable(cls, {f.name: summary[f.name] for f in dataclasses.fields(cls) if f.name in summary},
                             "summary")


#: A field docstring's unit: ``[nats]``, ``[count]``, ``[probability]``, ... at its start.
_UNIT = re.compile(r"^\[([^\]]+)\]")


def summary_units(cls: type[Summary]) -> dict[str, str | None]:
    """``{field: unit}`` of a :class:`Summary` class, from the ``[unit]`` opening each field's docstring
    (``None`` where a field has no docstring or no unit)."""
    from aitheory.configs import field_docs

    docs = field_docs(cls)  # type: ignore[arg-type]  # a class is hashable
    units: dict[str, str | None] = {}
    for f in dataclasses.fields(cls):
        match = _UNIT.match(docs.get(f.name, ""))
        units[f.name] = match.group(1) if match else None
    return units


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
    """The verdict: the claim held and every control failed (:func:`held_with_controls`)."""
    units: str
    details: Summary | dict[str, Any] = field(default_factory=dict)
    """Further measured values (written into summary.json next to the headline ones): the check's typed
    :class:`Summary`, or a plain dict."""
    figures: tuple[str, ...] = ()
    """Figure files (stems, without extension) written into the run folder."""
    verdict: str = ""
    """One line saying what was measured against what (printed by ``aitheory check``)."""
    run_folder: str = ""
    """Where the run was written (set by :func:`run_check`)."""
    controls: tuple[Control, ...] = ()
    """The negative controls run with the check (each expected to have ``held = False``)."""
    claim_held: bool | None = None
    """Whether the claim itself held (before the controls); ``None``: same as ``held`` (no controls)."""

    def __post_init__(self) -> None:
        names = [c.name for c in self.controls]
        if len(set(names)) != len(names):
            raise ValueError(f"argument controls: names must be distinct, got {names}")
        if self.held and any(c.held for c in self.controls):
            raise ValueError("argument held: True although a control held (a check cannot hold when one of its "
                             "negative controls does; use held_with_controls)")
        if self.held and self.claim_held is False:
            raise ValueError("argument held: True although claim_held is False")

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name, "statement": self.statement, "measured": self.measured, "bound": self.bound,
            "relation": self.relation, "held": self.held, "units": self.units,
            "claim_held": self.held if self.claim_held is None else self.claim_held,
            "controls_failed": not any(c.held for c in self.controls),
            "controls": {c.name: c.summary() for c in self.controls},
            **(self.details.fields() if isinstance(self.details, Summary) else self.details),
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
