"""``aitheory dsl run`` and ``aitheory dsl enumerate``: outputs, saved tables, bad input."""

from __future__ import annotations

import csv
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from aitheory.cli import main
from aitheory.dsl.behaviour import EnumConfig, behaviour_table, load_table
from aitheory.dsl.codes import kraft_mass_bits, program_count_bits
from aitheory.dsl.enumerate import all_programs, program_at


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, object]:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_run_issue_example(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, ["dsl", "run", "+[,.+]]", "--obs", "0110"])
    assert out == {"actions": [0, 0, 1], "status": "halted", "steps": [4, 8, 12]}


def test_run_tilde_and_budget(capsys: pytest.CaptureFixture[str]) -> None:
    assert _json(capsys, ["dsl", "run", "~+.]", "--K", "3"])["actions"] == ["~", 1]
    out = _json(capsys, ["dsl", "run", "+[.]]", "--actions", "3"])
    assert out["status"] == "emitted" and out["actions"] == [1, 1, 1]
    assert _json(capsys, ["dsl", "run", "+[>+]]", "--steps", "20"])["status"] == "timed_out"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["dsl", "run", "+[."], "position 3"),
        (["dsl", "run", "+x]"], "unknown character 'x'"),
        (["dsl", "run", ".]", "--obs", "012"], "--obs: symbol 3"),
        (["dsl", "run", ".]", "--K", "1"], "--K"),
        (["dsl", "enumerate", "--max-bits", "2"], "--max-bits"),
        (["dsl", "enumerate", "--max-bits", "9", "--obs", "01"], "--obs has 2"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


def test_enumerate_masses_add_up(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = _json(capsys, ["dsl", "enumerate", "--max-bits", "18", "--horizon", "6", "--out", str(tmp_path / "t.npz")])
    assert out["programs"] == program_count_bits(18)
    assert Fraction(out["kraft_mass_exact"]) == kraft_mass_bits(18)
    assert sum(Fraction(v) for v in out["mass_exact"].values()) == kraft_mass_bits(18)
    assert sum(out["count"].values()) == out["programs"]
    table = load_table(tmp_path / "t.npz")
    direct = behaviour_table(EnumConfig(max_bits=18, horizon=6))
    assert np.array_equal(table.weight, direct.weight) and np.array_equal(table.actions, direct.actions)
    assert table.config == direct.config


def test_enumerate_csv(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _json(capsys, ["dsl", "enumerate", "--max-bits", "12", "--horizon", "3", "--out", str(tmp_path / "t.csv")])
    rows = list(csv.DictReader((tmp_path / "t.csv").open()))
    assert sum(int(r["count"]) for r in rows) == program_count_bits(12)
    assert rows[0]["first_program"] == "]" and rows[0]["status"] == "halted"


def test_program_at_unranks_canonical_order() -> None:
    progs = list(all_programs(15))
    assert [program_at(i) for i in range(len(progs))] == ["".join("+<>.,~[]"[c] for c in p) for p in progs]


def test_enumerate_all_obs(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, ["dsl", "enumerate", "--max-bits", "12", "--horizon", "3", "--all-obs"])
    assert out["histories"] == 4 and out["programs"] == program_count_bits(12)
    assert main(["dsl", "enumerate", "--max-bits", "12", "--all-obs", "--obs", "0" * 20]) == 2


def test_index_bits_and_shortest_bits() -> None:
    from aitheory.dsl.enumerate import index_bits

    progs = list(all_programs(15))
    assert index_bits(np.arange(len(progs))).tolist() == [3 * len(p) for p in progs]
    table = behaviour_table(EnumConfig(max_bits=15, horizon=3))
    assert table.shortest_bits().tolist() == [3 * len(program_at(int(i))) for i in table.first]


def test_count(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _json(capsys, ["dsl", "count", "--max-bits", "24"])["lengths"]
    assert [r["programs"] for r in rows] == [1, 6, 37, 234, 1514, 9996, 67181, 458562]
    assert rows[-1]["programs_up_to"] == 537531 and rows[-1]["kraft_mass_up_to"] == 0.4918466806411743
