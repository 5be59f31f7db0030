"""One :class:`MachineLimits` object: every cap on K, H, T, B and the enumeration is read and checked there, and the
library and the command line refuse exactly the same values."""

from __future__ import annotations

import argparse

import pytest

from aitheory.cli import main
from aitheory.dsl import LIMITS, MachineLimits, program_count_bits
from aitheory.dsl.enumerate import MAX_PROGRAMS, check_enumeration_size
from aitheory.dsl.reference import MAX_HORIZON, MAX_STEPS, MAX_TAPE_BOUND, check_run_args
from aitheory.mixture import ClassConfig
from aitheory.theory import prop2

NAMES = ("k", "horizon", "steps", "tape_bound")


def test_the_module_constants_are_the_limits() -> None:
    limits = (LIMITS.max_horizon, LIMITS.max_steps, LIMITS.max_tape_bound, LIMITS.max_programs)
    assert limits == (MAX_HORIZON, MAX_STEPS, MAX_TAPE_BOUND, MAX_PROGRAMS)
    assert LIMITS.max_bits == 42  # 6.8e10 programs; 45 bits would be 4.9e11 > 1e11
    assert program_count_bits(LIMITS.max_bits) <= LIMITS.max_programs < program_count_bits(LIMITS.max_bits + 3)


@pytest.mark.parametrize("name", NAMES)
def test_check_refuses_outside_the_range_naming_the_argument(name: str) -> None:
    low, high, _ = LIMITS.bounds(name)  # type: ignore[arg-type]
    assert LIMITS.check(name, low) == low and LIMITS.check(name, high) == high  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=rf"argument {name}: must be in {low}\.\.{high}, got {high + 1} \("):
        LIMITS.check(name, high + 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=rf"argument {name}: must be in {low}\.\.{high}, got {low - 1}$"):
        LIMITS.check(name, low - 1)  # type: ignore[arg-type]
    parse = LIMITS.argtype(name)  # type: ignore[arg-type]
    assert parse(str(high)) == high and parse(f" {low} ") == low
    for bad in (str(high + 1), str(low - 1), "x", "\u00b2"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse(bad)


def test_the_interpreters_check_the_limits() -> None:
    good = {"k": 2, "horizon": 4, "steps": 10, "tape_bound": 4}
    check_run_args(**good, obs=None)
    for name in NAMES:
        _, high, _ = LIMITS.bounds(name)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=f"argument {name}: must be in"):
            check_run_args(**{**good, name: high + 1}, obs=None)
    check_run_args(**{**good, "horizon": MAX_HORIZON + 1}, obs=None, max_horizon=None)  # O(1) outputs: no cap


def test_enumeration_cap() -> None:
    assert check_enumeration_size(42) == program_count_bits(42)
    with pytest.raises(ValueError, match=r"argument max_bits: 45 bits means enumerating 4.9.e\+11 programs, .* 42$"):
        check_enumeration_size(45)
    with pytest.raises(ValueError, match=">= 3"):
        LIMITS.check_enumeration(2)
    small = MachineLimits(max_programs=10**6)
    bits = small.max_bits
    assert program_count_bits(bits) <= 10**6 < program_count_bits(bits + 3) and bits < LIMITS.max_bits
    assert small.check_enumeration(bits) == program_count_bits(bits)
    with pytest.raises(ValueError, match=f"at most {bits}$"):
        small.check_enumeration(bits + 3)
    with pytest.raises(ValueError, match=f"at most {bits}$"):
        check_enumeration_size(bits + 3, limit=10**6)


def test_machine_limits_are_validated() -> None:
    with pytest.raises(ValueError, match=r"argument max_k: must be in 2\.\.127"):
        MachineLimits(max_k=200)
    with pytest.raises(ValueError, match="argument max_steps"):
        MachineLimits(max_steps=0)
    with pytest.raises(KeyError, match="no machine limit on 'bits'"):
        LIMITS.bounds("bits")  # type: ignore[arg-type]


def test_configs_use_the_limits() -> None:
    with pytest.raises(ValueError, match=r"argument k: must be in 2\.\.127"):
        ClassConfig(k=128)
    with pytest.raises(ValueError, match=r"argument steps: must be in 1\.\.10000000000"):
        ClassConfig(steps=MAX_STEPS + 1)
    with pytest.raises(ValueError, match=r"argument steps: must be in 1\.\.10000000000"):
        prop2.Config(steps=MAX_STEPS + 1)


@pytest.mark.parametrize("argv", [
    ["dsl", "run", "+[.]]", "--K", "128"], ["dsl", "enumerate", "--max-bits", "6", "--K", "128"],
    ["mixture", "predict", "--actions", "01", "--K", "128"], ["kl", "--history", "00", "--K", "128"],
])
def test_every_command_refuses_what_the_library_refuses(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--K: must be in 2..127, got 128 (symbols and behaviour codes are int8)" in err


@pytest.mark.parametrize("argv", [
    ["dsl", "enumerate", "--max-bits", "45"], ["mixture", "predict", "--actions", "01", "--max-bits", "45"],
    ["kl", "--history", "00", "--class-bits", "45"], ["check", "theorem1", "--quick", "--max-bits", "45"],
])
def test_every_command_refuses_the_same_enumeration(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "45 bits means enumerating 4.92e+11 programs" in err
    assert f"at most {LIMITS.max_bits}" in err
