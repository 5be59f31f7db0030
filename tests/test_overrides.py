"""One override syntax, ``--set FIELD=VALUE``, for the checks, the experiments and the LLM configurations."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Literal

import pytest

from aitheory.cli import main
from aitheory.configs import ArgumentParser, add_arguments, apply_overrides, from_namespace, parse_value
from aitheory.theory.theorem1 import Config as Theorem1Config

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class _Demo:
    """A demo configuration."""

    bits: int = 24
    """Length bound in bits."""
    eps: float = 0.5
    """Budget in nats."""
    plot: bool = True
    """Draw figures."""
    ks: tuple[int, ...] = (1, 2)
    """Data sizes."""
    names: tuple[str, ...] = ("a",)
    """Labels."""
    reading: Literal["absolute", "prior_relative"] = "absolute"
    """Top-set reading."""
    scheduler: str | None = None
    """Dask address."""
    cap: int | None = 3
    """An optional cap."""

    def __post_init__(self) -> None:
        if self.bits < 3:
            raise ValueError(f"argument bits: must be >= 3, got {self.bits}")


@pytest.mark.parametrize(("name", "text", "value"), [
    ("bits", "27", 27), ("bits", "1_000", 1000), ("eps", "1e-3", 1e-3), ("plot", "false", False),
    ("plot", "Yes", True), ("plot", "0", False), ("ks", "4,8,16", (4, 8, 16)), ("names", "x,y", ("x", "y")),
    ("reading", "prior_relative", "prior_relative"), ("scheduler", "none", None), ("scheduler", "tcp://x:1",
    "tcp://x:1"), ("cap", "null", None), ("cap", "", None), ("cap", "5", 5),
])
def test_parse_value_reads_every_field_type(name: str, text: str, value: object) -> None:
    assert parse_value(_Demo, name, text) == value


@pytest.mark.parametrize(("name", "text", "message"), [
    ("bits", "x", "field bits: expected int, got 'x'"), ("eps", "nan", "field eps: expected float"),
    ("plot", "maybe", "field plot: expected bool"), ("ks", "1,a", "field ks: expected comma-separated ints"),
    ("reading", "other", "field reading: expected one of absolute, prior_relative"),
    ("bitz", "3", "unknown configuration field 'bitz' of _Demo; fields: bits, eps"),
])
def test_parse_value_names_the_field_and_the_reason(name: str, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_value(_Demo, name, text)


@pytest.mark.parametrize(("name", "text", "value"), [
    ("names", '["+[>,.<]]", "+[>,,.<]]"]', ("+[>,.<]]", "+[>,,.<]]")), ("names", ' ["a, b"] ', ("a, b",)),
    ("names", "[]", ()), ("ks", "[4, 8, 16]", (4, 8, 16)), ("eps", "0.5", 0.5), ("cap", "[1]", None),
])
def test_a_json_list_holds_values_with_commas(name: str, text: str, value: object) -> None:
    """Every tuple field also reads a JSON list, the one form for elements that hold commas (BF-8's read token)."""
    if name == "cap":  # not a tuple field: no JSON form
        with pytest.raises(ValueError, match="field cap: expected int"):
            parse_value(_Demo, name, text)
        return
    assert parse_value(_Demo, name, text) == value
    assert _parse(["--set", f"{name}={text}"]) == _parse([f"--{name}", text])


@dataclass(frozen=True)
class _Floats:
    """Floats."""

    xs: tuple[float, ...] = (1.0,)
    """Budgets in nats."""


def test_a_json_list_of_floats_takes_integers_and_refuses_non_finite() -> None:
    assert parse_value(_Floats, "xs", "[1, 2.5]") == (1.0, 2.5)
    for text, why in (("[NaN]", "NaN is not a value"), ("[Infinity]", "Infinity is not a value"),
                      ("[1e999]", "got the element Infinity"), ("[true]", "got the element true"),
                      ("[" + "9" * 400 + "]", "got the element 999")):
        with pytest.raises(ValueError, match=f"field xs: expected a JSON list of floats.*{why}"):
            parse_value(_Floats, "xs", text)


@pytest.mark.parametrize(("name", "text", "message"), [
    ("names", '["a", 1]', "field names: expected a JSON list of strs, got the element 1"),
    ("names", '["a",', "field names: expected a JSON list of strs, got '[\"a\",' (Expecting value"),
    ("ks", "[1.5]", "field ks: expected a JSON list of ints, got the element 1.5"),
    ("ks", "[true]", "field ks: expected a JSON list of ints, got the element true"),
    ("ks", '["1"]', 'field ks: expected a JSON list of ints, got the element "1"'),
    ("ks", "[[1]]", "field ks: expected a JSON list of ints, got the element [1]"),
    ("ks", '{"a": 1}', "field ks: expected comma-separated ints or a JSON list"),
])
def test_a_bad_json_list_names_the_field_and_the_reason(name: str, text: str, message: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Bad JSON or elements of the wrong type: a ``ValueError`` naming the field; on the command line (``--set``
    and the field's own option) one line and exit 2."""
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_value(_Demo, name, text)
    reason = message.removeprefix(f"field {name}: ")
    for argv, where in ((["--set", f"{name}={text}"], f"argument --set: field {name}: "),
                        ([f"--{name}", text], f"argument --{name}: ")):
        with pytest.raises(SystemExit) as exc:
            _parse(argv)
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and where + reason in err, err


def test_apply_overrides_validates_through_post_init() -> None:
    assert apply_overrides(_Demo(), ["bits=9", "eps=0.125"]) == _Demo(bits=9, eps=0.125)
    assert apply_overrides(_Demo(), {"eps": "0.25", "ks": (3,)}) == _Demo(eps=0.25, ks=(3,))
    with pytest.raises(ValueError, match="argument bits: must be >= 3"):
        apply_overrides(_Demo(), ["bits=2"])
    with pytest.raises(ValueError, match="expected FIELD=VALUE"):
        apply_overrides(_Demo(), ["bits"])
    with pytest.raises(ValueError, match="unknown configuration field 'zz'"):
        apply_overrides(_Demo(), {"zz": 1})


def _parse(argv: list[str], base: _Demo | None = None) -> _Demo:
    parser = ArgumentParser(prog="demo")
    add_arguments(parser, _Demo, explicit_only=base is not None)
    return from_namespace(_Demo, parser.parse_args(argv), base=base)


def test_set_is_the_generated_option() -> None:
    """``--set f=v`` gives what ``--f v`` gives; where both name a field the later one wins; it wins over a base."""
    assert _parse(["--set", "bits=27", "--set", "plot=false"]) == _parse(["--bits", "27", "--no-plot"])
    assert _parse(["--bits", "20", "--set", "bits=27"]).bits == 27
    assert _parse(["--set", "bits=27", "--bits", "20"]).bits == 20
    quick = _Demo(bits=12, eps=0.1)
    assert _parse(["--set", "bits=24"], base=quick) == _Demo(bits=24, eps=0.1)
    assert _parse([], base=quick) == quick


@pytest.mark.parametrize("argv", [["--set", "bitz=3"], ["--set", "bits=x"], ["--set", "bits"],
                                  ["--set", "reading=other"]])
def test_set_refuses_in_one_line_with_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        _parse(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("demo: error: argument --set: ")


def test_set_works_for_a_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["check", "prop1", "--quick", "--set", "eps=0.25", "--set", "sweep_points=5", "--out",
                 str(out)]) == 0
    config = json.loads((out / "config.json").read_text())
    saved = config["config"]
    assert saved["eps"] == 0.25 and saved["sweep_points"] == 5


@pytest.mark.parametrize(("argv", "reason"), [
    (["--set", "epz=0.5"], "unknown configuration field 'epz'"),
    (["--set", "eps=abc"], "field eps: expected float, got 'abc'"),
    (["--set", "eps=-1"], "argument eps: must be a finite number > 0"),  # the value parses; the config refuses it
])
def test_set_is_refused_for_a_check(argv: list[str], reason: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "prop1", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and reason in err


def _experiment(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_experiment_{name}", ROOT / "experiments" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("argv", "reason"), [
    (["--set", "sede=1"], "unknown configuration field 'sede'"),
    (["--set", "seed=x"], "field seed: expected int, got 'x'"),
    (["--set", "environments=uniform:0.5"], "argument environments: expected kind:p"),  # refused by the config
])
def test_set_is_refused_for_an_experiment(argv: list[str], reason: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        _experiment("prop2_environments").main(["--quick", *argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and reason in err


def test_llm_overrides_share_the_parser() -> None:
    pytest.importorskip("aitheory.llm.config")
    from aitheory.llm.config import LLMConfig, get_config, with_overrides

    cfg = with_overrides(get_config("smoke"), ["n_envs=8", "tokenizer=none", "prompt=a\\nb"])
    assert (cfg.n_envs, cfg.tokenizer, cfg.prompt) == (8, None, "a\nb")
    assert parse_value(LLMConfig, "lr-actor", "4e-4") == 4e-4 == with_overrides(cfg, ["lr_actor=4e-4"]).lr_actor


def test_set_gives_theorem1_events_with_commas(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """``aitheory check theorem1 --quick --set 'joint_pattern_events=[...]'`` reaches the check with the events
    whole (the check itself is replaced: this tests the command line only); a split or bad one is exit 2."""
    from aitheory.theory import common

    seen = []

    def fake_run_check(name: str, config: object, *args: object, **kwargs: object) -> SimpleNamespace:
        seen.append(config)
        return SimpleNamespace(held=True, verdict="parsed", statement="Theorem 1: -", run_folder="-")

    monkeypatch.setattr(common, "run_check", fake_run_check)
    events = ["+[>,.<]]", "+[>,,.<]]", "+[,.+]]", "+[,+~~]+.]", "+~[,~~~.+]]"]
    assert main(["check", "theorem1", "--quick", "--set", f"joint_pattern_events={json.dumps(events)}"]) == 0
    assert main(["check", "theorem1", "--quick", "--joint-pattern-events", json.dumps(events)]) == 0
    assert [c.joint_pattern_events for c in seen] == [tuple(events)] * 2  # type: ignore[attr-defined]
    assert seen[0] == dataclasses.replace(Theorem1Config.quick(), joint_pattern_events=tuple(events))
    capsys.readouterr()
    for value, reason in ((",".join(events), "argument joint_pattern_events: "),  # the comma form splits them
                          ('["+[>,.<]]", 3]', "field joint_pattern_events: expected a JSON list of strs, got the "
                                              "element 3"),
                          ('["+[>,.<]]"', "field joint_pattern_events: expected a JSON list of strs")):
        assert main(["check", "theorem1", "--quick", "--set", f"joint_pattern_events={value}"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and reason in err and "Traceback" not in err, err
    assert len(seen) == 2
