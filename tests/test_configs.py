"""Command-line options generated from frozen configuration dataclasses."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Literal

import pytest

from aitheory.configs import add_arguments, field_docs, from_namespace


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
    reading: Literal["absolute", "prior_relative"] = "absolute"
    """Top-set reading."""
    scheduler: str | None = None
    """Dask address."""


def _parse(argv: list[str]) -> _Demo:
    parser = argparse.ArgumentParser()
    add_arguments(parser, _Demo)
    return from_namespace(_Demo, parser.parse_args(argv))


def test_field_docstrings_are_read() -> None:
    assert field_docs(_Demo) == {
        "bits": "Length bound in bits.", "eps": "Budget in nats.", "plot": "Draw figures.", "ks": "Data sizes.",
        "reading": "Top-set reading.", "scheduler": "Dask address.",
    }


def test_defaults_and_overrides_round_trip() -> None:
    assert _parse([]) == _Demo()
    got = _parse(["--bits", "27", "--eps", "0.1", "--no-plot", "--ks", "4,8,16", "--reading", "prior_relative",
                  "--scheduler", "tcp://x:1"])
    assert got == _Demo(27, 0.1, False, (4, 8, 16), "prior_relative", "tcp://x:1")


def test_help_uses_the_docstrings() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser, _Demo)
    text = parser.format_help()
    assert "Length bound in bits." in text and "Budget in nats." in text and "--no-plot" in text


@pytest.mark.parametrize("argv", [["--bits", "x"], ["--ks", "1,a"], ["--reading", "other"]])
def test_bad_values_are_usage_errors(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        _parse(argv)
    assert exc.value.code == 2


def test_explicit_options_win_over_a_base() -> None:
    """With ``explicit_only``, an option given on the command line wins even when it equals the full default
    (the old pattern kept only values that differed from the default, so ``--quick --bits 24`` ran with quick's)."""
    parser = argparse.ArgumentParser()
    add_arguments(parser, _Demo, explicit_only=True)
    quick = _Demo(bits=12, eps=0.1, plot=False)
    assert from_namespace(_Demo, parser.parse_args(["--bits", "24"]), base=quick) == _Demo(bits=24, eps=0.1,
                                                                                          plot=False)
    assert from_namespace(_Demo, parser.parse_args(["--plot"]), base=quick).plot is True
    assert from_namespace(_Demo, parser.parse_args([]), base=quick) == quick
    assert "(default: 24)" in parser.format_help()


def test_nan_is_not_a_float_option() -> None:
    with pytest.raises(SystemExit):
        _parse(["--eps", "nan"])
