"""summary.json keeps its keys and value types (a golden test), and ``aitheory plot RUN_DIR`` redraws a run
folder's figures from its saved rows without recomputing.

The golden file ``tests/golden/summary_schema.json`` holds, for each check at ``--quick`` scale, the *schema* of
its summary.json (:func:`schema`: every key, nested, with the JSON type of its value; ``"inf"``/``"nan"`` strings
count as ``float``). It was written from the summaries of the code before the summaries were typed, so the typed
summaries are provably key- and type-preserving. Regenerate it (only on a deliberate change of the summaries) with
``AITHEORY_WRITE_GOLDEN=1 pytest tests/test_summaries.py -k golden``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from aitheory.theory.common import CHECKS, run_check

GOLDEN = Path(__file__).parent / "golden" / "summary_schema.json"

#: Dicts whose keys are data (solver names, solver statuses, tree shapes), not fields: only their values' types
#: are compared.
DATA_KEYED = {"solvers_used", "full_simplex_statuses", "tree_shapes_ka_x_ko_x_n"}


def schema(value: Any, key: str = "") -> Any:
    """The JSON schema of ``value``: dicts key by key (``{"<map>": ...}`` for :data:`DATA_KEYED`), lists as
    ``["list", element schemas...]`` (distinct, sorted), scalars as their JSON type name."""
    if isinstance(value, dict):
        if key in DATA_KEYED:
            return {"<map>": _union(value.values())}
        return {k: schema(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return ["list", *_union(value)]
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float) or value in ("inf", "-inf", "nan"):
        return "float"
    if isinstance(value, str):
        return "str"
    if value is None:
        return "null"
    raise TypeError(f"not a JSON value: {value!r}")


def _union(values: Any) -> list[Any]:
    found = {json.dumps(schema(v), sort_keys=True) for v in values}
    return [json.loads(s) for s in sorted(found)]


def compatible(want: Any, got: Any, where: str = "") -> list[str]:
    """Differences between two schemas (an empty list, or a map with no values, matches any list or map)."""
    if isinstance(want, list) and isinstance(got, list) and want[:1] == got[:1] == ["list"]:
        if len(want) == 1 or len(got) == 1:
            return []
        return [] if want == got else [f"{where}: list elements {want[1:]} -> {got[1:]}"]
    if isinstance(want, dict) and isinstance(got, dict):
        if "<map>" in want or "<map>" in got:
            a, b = want.get("<map>", []), got.get("<map>", [])
            return [] if not a or not b or a == b else [f"{where}: map values {a} -> {b}"]
        out = [f"{where}.{k}: missing" for k in want if k not in got]
        out += [f"{where}.{k}: new key" for k in got if k not in want]
        for k in want:
            if k in got:
                out += compatible(want[k], got[k], f"{where}.{k}")
        return out
    return [] if want == got else [f"{where}: {want} -> {got}"]


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every check at ``--quick`` scale (with its figures), run once for this module: name -> run folder."""
    pytest.importorskip("matplotlib")
    out = {}
    for name in CHECKS:
        module = __import__(CHECKS[name], fromlist=["Config"])
        folder = tmp_path_factory.mktemp(name)
        run_check(name, module.Config.quick(), folder)
        out[name] = folder
    return out


@pytest.mark.slow
def test_summary_keys_and_types_match_the_golden_file(quick_runs: dict[str, Path]) -> None:
    got = {name: schema(json.loads((folder / "summary.json").read_text())) for name, folder in quick_runs.items()}
    if os.environ.get("AITHEORY_WRITE_GOLDEN"):
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=False) + "\n")
    want = json.loads(GOLDEN.read_text())
    assert set(want) == set(got)
    for name in want:
        diff = compatible(want[name], got[name], name)
        assert not diff, "\n".join(diff)
        assert list(want[name]) == list(got[name]), f"{name}: top-level key order changed"


def test_schema_marks_infinity_as_a_float_and_finds_a_missing_key() -> None:
    assert schema({"a": "inf", "b": [1, 2.0], "c": {"x": True}}) == {"a": "float", "b": ["list", "float", "int"],
                                                                      "c": {"x": "bool"}}
    assert compatible(schema({"a": 1, "b": 2}), schema({"a": 1}), "s") == ["s.b: missing"]
    assert compatible(schema({"a": 1}), schema({"a": 1.5}), "s") == ["s.a: int -> float"]
    assert compatible(["list", "int"], ["list"]) == []
