"""One vocabulary of run statuses and behaviour codes: every table derives from :class:`aitheory.dsl.status.Status`."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import aitheory.dsl as dsl
from aitheory.dsl import events, fast, machine, reference, status
from aitheory.dsl.status import (
    CODE_LOST_BASE,
    CODE_MIX,
    CODE_TILDE,
    EVENT_STATUSES,
    LOSS_STATUSES,
    NO_ACTION,
    STATUSES,
    Status,
    emission_probs,
    lost_code,
    lost_status,
)
from aitheory.mixture import BUCKETS, classes

PACKAGE = Path(__file__).resolve().parents[1] / "aitheory"
HOME = PACKAGE / "dsl" / "status.py"


def test_status_tables_derive_from_the_enum() -> None:
    assert [s.value for s in Status] == list(range(len(Status)))
    assert tuple(s.name.lower() for s in Status if s is not Status.PERIODIC) == STATUSES
    assert (*STATUSES, "periodic") == EVENT_STATUSES
    assert tuple(s for s in STATUSES if s != "emitted") == LOSS_STATUSES
    assert (*LOSS_STATUSES, "not_enumerated") == BUCKETS
    # the re-exports are the same objects, not copies
    for table in (dsl.STATUSES, reference.STATUSES, fast.STATUSES):
        assert table is STATUSES
    assert events.EVENT_STATUSES is EVENT_STATUSES
    assert all(Status.of(s.label) is s for s in Status)
    with pytest.raises(ValueError, match="unknown status 'stopped'"):
        Status.of("stopped")


def test_kernel_literals_match_the_enum() -> None:
    """The numba kernels compile these module-level ints in as literals: they must be the enum's values."""
    literals = {
        machine.ST_EMITTED: Status.EMITTED, machine.ST_HALTED: Status.HALTED, machine.ST_TIMED_OUT: Status.TIMED_OUT,
        machine.ST_OUT_OF_TAPE: Status.OUT_OF_TAPE, machine.ST_SILENT: Status.PROVEN_SILENT,
        events.ST_PERIODIC: Status.PERIODIC,
    }
    assert len(literals) == len(Status)
    for value, member in literals.items():
        assert type(value) is int and value == member.value
    assert machine.IO not in {s.value for s in Status}


@pytest.mark.parametrize(("program", "label"), [
    ("+[.]]", "emitted"), ("]", "halted"), ("+[]]", "timed_out"), ("+[>+]]", "out_of_tape"),
    ("+[[]+]]", "proven_silent"),
])
def test_kernel_status_codes_name_the_reference_status(program: str, label: str) -> None:
    """Each status, reached by a program, is the same in the reference interpreter and in the kernels' codes."""
    detect = label != "timed_out"
    ref = reference.run_reference(program, horizon=3, steps=64, tape_bound=4, detect_cycles=detect)
    codes, lengths = fast.pack_programs([dsl.parse(program).codes])
    out = fast.run_batch(codes, lengths, horizon=3, steps=64, tape_bound=4, detect_cycles=detect)
    assert ref.status == label
    assert Status(int(out.status[0])).label == label == out.status_names()[0]
    hold = events.first_hold_times(codes, lengths, k=2, horizon=3, steps=64, tape_bound=4, detect_cycles=detect)
    assert EVENT_STATUSES[int(hold.status[0])] == label == hold.status_names()[0]


def test_behaviour_codes_have_one_home() -> None:
    assert (CODE_TILDE, NO_ACTION, CODE_MIX, CODE_LOST_BASE) == (-1, -2, -3, -10)
    assert dsl.TILDE_ACTION == reference.TILDE_ACTION == CODE_TILDE and fast.NO_ACTION == dsl.NO_ACTION == NO_ACTION
    assert (classes.CODE_TILDE, classes.CODE_MIX, classes.CODE_LOST_BASE) == (CODE_TILDE, CODE_MIX, CODE_LOST_BASE)
    assert classes.lost_status is lost_status
    for s in Status:
        code = lost_code(s)
        assert code <= CODE_LOST_BASE and lost_status(code) == s.label
        assert np.iinfo(np.int8).min <= code  # codes are stored as int8
    for code in (0, 1, CODE_TILDE, NO_ACTION, CODE_MIX):
        assert lost_status(code) is None


def _probs_slow(code: int, k: int) -> list[float]:
    if code == CODE_TILDE:
        return [1.0 / k] * k
    return [1.0 if code == a else 0.0 for a in range(k)]


@pytest.mark.parametrize("k", [2, 3, 7])
def test_emission_probs_against_a_loop(k: int) -> None:
    rng = np.random.default_rng(k)
    codes = rng.choice([*range(k), CODE_TILDE, NO_ACTION, CODE_MIX, *(lost_code(s) for s in Status)],
                       size=(4, 5, 6)).astype(np.int8)
    out = emission_probs(codes, k)
    assert out.shape == (*codes.shape, k) and out.dtype == np.float64
    assert out.tolist() == [[[_probs_slow(int(c), k) for c in row] for row in plane] for plane in codes]
    assert emission_probs(CODE_TILDE, k).tolist() == _probs_slow(CODE_TILDE, k)  # a scalar code: one row


def _docstring_ids(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def test_no_module_spells_a_status_name_itself() -> None:
    """Outside :mod:`aitheory.dsl.status` no code string is a status label (``Status.HALTED.label`` instead)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == HOME:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _docstring_ids(tree)
        found += [f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.value!r}" for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and node.value in EVENT_STATUSES and id(node) not in docs]
    assert not found, found


def test_no_module_defines_its_own_one_hot() -> None:
    """The one-hot rows of emissions have one home, :func:`aitheory.dsl.status.emission_probs`."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(PACKAGE)}" for name in ("def _onehot", "def onehot", "def one_hot")
                  if name in text]
    assert not found, found
    assert status.emission_probs is dsl.emission_probs
