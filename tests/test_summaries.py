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


# ----- typed summaries -----

#: The checks whose summaries are typed and whose modules draw their figures from the run folder.
CONVERTED = ("prop1", "theorem1", "prop2", "theorem2", "pessimistic")


def _summary_classes() -> list[type]:
    import dataclasses
    import importlib

    from aitheory.theory.common import Summary

    found: list[type] = []
    for module_name in [*(CHECKS[name] for name in CONVERTED), "aitheory.theory.theorem1_joint"]:
        module = importlib.import_module(module_name)
        found += [obj for obj in vars(module).values() if isinstance(obj, type) and issubclass(obj, Summary)
                  and obj is not Summary and obj.__module__ == module.__name__]
    assert all(dataclasses.is_dataclass(c) and c.__dataclass_params__.frozen for c in found)  # type: ignore[attr-defined]
    return found


@pytest.mark.parametrize("cls", _summary_classes(), ids=lambda c: c.__name__)
def test_every_summary_field_has_a_docstring_giving_its_unit(cls: type) -> None:
    from aitheory.theory.common import summary_units

    units = summary_units(cls)  # type: ignore[arg-type]
    assert units and all(units.values()), f"{cls.__name__}: fields without a [unit] docstring: " \
        f"{[f for f, u in units.items() if not u]}"


def _prop1_summary() -> Any:
    from aitheory.theory.prop1 import Prop1Summary

    return Prop1Summary(
        eps=0.01, p=0.005, kl_pi_beta=0.0, kl_tau_beta=0.005, kl_pi_tau=float("inf"), held_at_eps=True,
        held_on_sweep=True, sweep_points=3, eps_min=1e-300, extremes={"1e+06": {"kl_tau_beta": 0.6, "held": True}},
        held_at_extremes=True, mixture_max_bits=9, mixture_window=2, mixture_k=(1, 2),
        mixture_kl_tau_xi=(0.5, 0.25), mixture_bound_tau_xi=(1.0, 1.0), mixture_kl_xi_tau=(float("inf"),) * 2,
        mixture_kl_xi_xi=(0.0, 0.0), mixture_maximiser=("01", "00"), held_mixture=True)


def test_summary_reads_back_from_json_with_infinities() -> None:
    from aitheory.results import to_jsonable
    from aitheory.theory.prop1 import Prop1Summary

    summary = _prop1_summary()
    text = json.loads(json.dumps(to_jsonable(summary.fields())))
    assert text["kl_pi_tau"] == "inf" and text["mixture_kl_xi_tau"] == ["inf", "inf"]
    assert Prop1Summary.from_json({"name": "prop1", **text}) == summary


def test_check_result_writes_a_typed_summary_like_the_dict_it_replaces() -> None:
    from aitheory.theory.common import CheckResult
    from aitheory.theory.pessimistic import ProtocolReading as Reading

    reading = Reading(alpha=0.1, runs=2, steps=3, mu_row_stayed_runs=2, nu_alpha_above_mu_histories=0,
                      imitator_took_action_mu_never_takes=0, imitator_took_action_mu_never_takes_all_runs=0,
                      queries_per_run_mean=1.5, query_mean_first_tenth=1.0, query_mean_last_tenth=0.5,
                      protocol_vs_mu_max_abs_gap_last_tenth=float("inf"), held=True)
    kw = dict(name="x", statement="s", measured=0.0, bound=0.0, relation="<=", units="bits", held=True)
    typed = CheckResult(details=reading, **kw).summary()  # type: ignore[arg-type]
    loose = CheckResult(details=dict(vars(reading)), **kw).summary()  # type: ignore[arg-type]
    assert list(typed) == list(loose) and typed == loose


@pytest.mark.parametrize("name", list(CHECKS))
def test_config_reads_back_from_config_json(name: str, tmp_path: Path) -> None:
    from aitheory.results import RunFolder
    from aitheory.theory.common import check_module

    config = check_module(name).Config.quick()
    folder = RunFolder.open(tmp_path, name, config)
    assert RunFolder.existing(tmp_path).read_config(type(config)) == config and folder.kind == name


# ----- figures redrawn from the run folder -----

#: Compute functions of each check that a redraw must not call (each replaced by one that raises); ``module:name``
#: for one in another module.
COMPUTE = {
    "prop1": ("run", "witness", "mixture_points", "check"),
    "theorem1": ("run", "_run_policy", "_measure", "switch_cost", "point_class", "event_times", "_summarise",
                 "aitheory.theory.theorem1_joint:measure_joint", "aitheory.theory.theorem1_joint:joint_point",
                 "aitheory.theory.theorem1_joint:summarise_joint"),
    "theorem2": ("run", "check_tree", "support_limit", "count_violations", "_trees"),
    "pessimistic": ("run", "build_class", "collect", "simulate", "lossless_part", "protocol_part"),
    "prop2": ("run", "enumerate_first_holds", "enumerate_streams", "check_counters", "check_towers"),
}


def _forbid_compute(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    import importlib

    module = importlib.import_module(CHECKS[name])

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"{name}: the redraw called the check's compute code")

    for entry in COMPUTE[name]:
        where, _, attr = entry.rpartition(":")
        monkeypatch.setattr(importlib.import_module(where) if where else module, attr, refuse)


def _figures(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix in (".png", ".svg")}


def _redraw_and_compare(folder: Path, name: str, monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture[str]) -> None:
    from aitheory.cli import main

    before = _figures(folder)
    summary = json.loads((folder / "summary.json").read_text())
    assert before and {p.rsplit(".", 1)[0] for p in before} == set(summary["figures"])
    for figure in before:
        (folder / figure).unlink()
    _forbid_compute(monkeypatch, name)
    assert main(["plot", str(folder)]) == 0
    assert "redrew" in capsys.readouterr().out
    after = _figures(folder)
    assert list(after) == list(before), "the same file names"
    png = [f for f in before if f.endswith(".png")]
    assert all(after[f] == before[f] for f in png), "the redrawn PNGs are the run's figures"


def test_plot_redraws_a_tiny_prop1_run_without_recomputing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    from aitheory.theory import prop1

    config = prop1.Config(sweep_points=5, mixture_max_bits=15, mixture_window=2, mixture_k=(1, 2))
    run_check("prop1", config, tmp_path / "run")
    _redraw_and_compare(tmp_path / "run", "prop1", monkeypatch, capsys)


@pytest.mark.slow
@pytest.mark.parametrize("name", CONVERTED)
def test_plot_redraws_every_figure_of_a_quick_run(name: str, quick_runs: dict[str, Path],
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    _redraw_and_compare(quick_runs[name], name, monkeypatch, capsys)


def test_plot_redraws_a_tiny_policy_mode_theorem1_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Theorem 1 in ``mode="policy"`` (its summary is a :class:`PolicySummary`): redrawn from ``metrics.csv``'s
    series; a metrics.csv without the ``series`` column (a run folder of older code) is refused with one line."""
    pytest.importorskip("matplotlib")
    from aitheory.cli import main
    from aitheory.results import read_csv, write_csv
    from aitheory.theory import theorem1

    config = theorem1.Config(mode="policy", max_bits=15, event_max_bits=15, class_sizes=(12, 15), patterns=("1",),
                             pattern_k=8, k_grid=(4, 8), budgets=(10.0,))
    run_check("theorem1", config, tmp_path / "run")
    _redraw_and_compare(tmp_path / "run", "theorem1", monkeypatch, capsys)
    metrics = tmp_path / "run" / "metrics.csv"
    write_csv(metrics, [{k: v for k, v in row.items() if k != "series"} for row in read_csv(metrics)])
    assert main(["plot", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert "no column 'series'" in err and len(err.splitlines()) == 1
    assert "predates it" in err and "'aitheory check theorem1 --out NEW_DIR'" in err and "Traceback" not in err


def _bad_folders(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Folders ``aitheory plot`` must refuse, with the words its one line must contain."""
    from aitheory.results import RunFolder, write_csv, write_json
    from aitheory.theory import prop1

    empty = tmp_path / "empty"
    empty.mkdir()
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    llm = tmp_path / "llm"
    RunFolder.open(llm, "llm-train", {"steps": 1})
    unfinished = tmp_path / "unfinished"
    RunFolder.open(unfinished, "prop1", prop1.Config.quick())
    bad_summary = tmp_path / "bad_summary"
    RunFolder.open(bad_summary, "prop1", prop1.Config.quick())
    write_json(bad_summary / "summary.json", {"name": "prop1"})
    no_rows = tmp_path / "no_rows"
    RunFolder.open(no_rows, "prop1", prop1.Config.quick())
    write_json(no_rows / "summary.json", _prop1_summary().fields())
    bad_rows = tmp_path / "bad_rows"
    RunFolder.open(bad_rows, "prop1", prop1.Config.quick())
    write_json(bad_rows / "summary.json", _prop1_summary().fields())
    write_csv(bad_rows / "metrics.csv", [{"x": 1}])
    return {"missing": (tmp_path / "nowhere", "no such folder"), "empty": (empty, "not a run folder"),
            "file": (a_file, "not a folder"), "unknown kind": (llm, "llm-train"),
            "no summary": (unfinished, "summary.json: missing"),
            "bad summary": (bad_summary, "not a prop1 summary"), "missing rows": (no_rows, "metrics.csv: missing"),
            "wrong rows": (bad_rows, "no column")}


def test_plot_refuses_bad_input_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from aitheory.cli import main

    for case, (folder, words) in _bad_folders(tmp_path).items():
        assert main(["plot", str(folder)]) == 2, case
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and err.startswith("aitheory: error:") and words in err, (case, err)
        assert "Traceback" not in err


def test_from_jsonable_names_the_value_that_does_not_fit() -> None:
    from aitheory.results import from_jsonable
    from aitheory.theory.pessimistic import ProtocolSummary

    assert from_jsonable(tuple[float, ...], ["inf", 1]) == (float("inf"), 1.0)
    assert from_jsonable(dict[str, tuple[int, int]], {"a": [1, 2]}) == {"a": (1, 2)}
    with pytest.raises(ValueError, match=r"x\[1\]: expected int"):
        from_jsonable(tuple[int, ...], [1, "2"], "x")
    with pytest.raises(ValueError, match=r"summary\.absolute: expected an object"):
        from_jsonable(ProtocolSummary, {"absolute": 3, "prior_relative": {}, "class_rows": 1}, "summary")
