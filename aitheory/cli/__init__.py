"""The ``aitheory`` command.

Each command group lives in its own module of this package and exposes ``register(subparsers)``, which adds
its parser and sets ``func`` (a callable taking the parsed namespace and returning the exit code). Heavy
modules are imported inside those functions, so ``aitheory --help`` stays fast and needs no optional extra.

Exit codes: 0 success (for ``check``: the result held), 1 a checked result did not hold, 2 bad input.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from aitheory import __version__

#: Command groups, in the order ``--help`` lists them; each is ``aitheory.cli.<name>``.
GROUPS: tuple[str, ...] = ("check", "reproduce", "dsl", "mixture", "kl", "llm")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UserInputError(ValueError):
    """Bad input from the command line; printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aitheory",
        description=(
            "Solomonoff-style imitation and KL bounds: checks of the results of 'RL, but don't do anything "
            "I wouldn't do' (arXiv:2410.06213)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"aitheory {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in GROUPS:
        importlib.import_module(f"aitheory.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except UserInputError as exc:
        print(f"aitheory: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("aitheory: interrupted (completed results were written before stopping)", file=sys.stderr)
        return 130
