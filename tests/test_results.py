"""Run folders and the JSON conventions: infinities as the string "inf", atomic writes."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from aitheory.results import (
    RunFolder,
    atomic_write_text,
    parse_float,
    read_json,
    to_jsonable,
    write_csv,
    write_json,
)


@dataclass(frozen=True)
class _Result:
    value: float
    exact: Fraction
    arr: np.ndarray


def test_infinities_are_strings_and_round_trip(tmp_path: Path) -> None:
    obj = {"a": math.inf, "b": -math.inf, "c": 1.5, "d": [np.float64(np.inf), np.int64(3)]}
    write_json(tmp_path / "x.json", obj)
    back = read_json(tmp_path / "x.json")
    assert back == {"a": "inf", "b": "-inf", "c": 1.5, "d": ["inf", 3]}
    assert parse_float(back["a"]) == math.inf and parse_float(back["b"]) == -math.inf
    assert math.isnan(parse_float(to_jsonable(math.nan)))
    with pytest.raises(ValueError, match="expected a number"):
        parse_float("infinity")


def test_dataclasses_fractions_and_arrays() -> None:
    out = to_jsonable(_Result(1.0, Fraction(1, 4), np.array([0.5, np.inf])))
    assert out == {"value": 1.0, "exact": 0.25, "arr": [0.5, "inf"]}
    with pytest.raises(TypeError, match="object"):
        to_jsonable(object())


def test_atomic_write_keeps_old_file_when_writing_fails(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    write_json(path, {"ok": 1})

    class Boom:
        pass

    with pytest.raises(TypeError):
        write_json(path, {"bad": Boom()})
    assert read_json(path) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"], "no temporary file left behind"


def test_atomic_write_gives_new_file_permissions(tmp_path: Path) -> None:
    import stat

    from aitheory.results import _UMASK

    path = atomic_write_text(tmp_path / "f.txt", "x")
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~_UMASK  # not mkstemp's 0o600
    assert os.umask(_UMASK) == _UMASK  # the umask is left as it was


def test_atomic_write_replaces_content(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b.txt"
    atomic_write_text(path, "one")
    atomic_write_text(path, "two")
    assert path.read_text() == "two"


def test_csv_writes_inf(tmp_path: Path) -> None:
    write_csv(tmp_path / "m.csv", [{"x": 1, "kl": math.inf}, {"x": 2, "kl": 0.5}])
    assert (tmp_path / "m.csv").read_text().splitlines() == ["x,kl", "1,inf", "2,0.5"]


def test_run_folder_is_new_each_time(tmp_path: Path) -> None:
    a = RunFolder.create(None, "demo", root=tmp_path)
    b = RunFolder.create(None, "demo", root=tmp_path)
    assert a.path != b.path and a.path.is_dir() and b.path.is_dir()
    a.write_config({"eps": 0.1}, seed=3)
    cfg = json.loads((a.path / "config.json").read_text())
    assert cfg["config"] == {"eps": 0.1}
    assert cfg["provenance"]["seed"] == 3 and cfg["provenance"]["versions"]["aitheory"]
    assert os.access(a.path / "config.json", os.R_OK)
