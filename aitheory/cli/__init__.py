"""The ``aitheory`` command.

Each command group lives in its own module of this package and exposes ``register(subparsers)``, which adds
its parser and sets ``func`` (a callable taking the parsed namespace and returning the exit code). The registry
is lazy: only the group named on the command line is registered (imported); the others appear in ``--help``
with their one-line help from :data:`GROUPS`, so ``aitheory --help`` and ``--version`` import no numba, scipy or
theory module.

Exit codes: 0 success (for ``check``: the result held), 1 a checked result did not hold, 2 a usage or input
error (one line naming the input and the reason: argparse's errors, :class:`UserInputError`, a refused run folder,
a file that cannot be read or written), 3 an unexpected internal error (a short message; the traceback only with
``aitheory --debug ...`` or ``AITHEORY_DEBUG=1``), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

from aitheory import __version__
from aitheory.configs import ArgumentParser as _Parser  # one-line errors, exit 2

#: Command groups, in the order ``--help`` lists them (each is ``aitheory.cli.<name>``), with their help line.
GROUPS: dict[str, str] = {
    "check": "check one of the paper's results and write a run folder",
    "reproduce": "run every check and write a report (Markdown and HTML)",
    "dsl": "the BF-8 language: run a program, enumerate all programs",
    "mixture": "the Bayes mixture xi over BF-8 programs",
    "kl": "KL of switching to your policy after your event, next to the bound [K(E)+K(P)+d] ln 2 (JSON)",
    "llm": "the paper's LLM experiment: KL-budgeted PPO on a teacher/student chat",
    "plot": "redraw the figures of a run folder from its saved rows, without recomputing",
}

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class UserInputError(ValueError):
    """Bad input from the command line; printed as one line, exit code 2."""


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 400 else text[:397] + "..."


def _debug(argv: Sequence[str]) -> bool:
    return "--debug" in argv[:1] or os.environ.get("AITHEORY_DEBUG", "") not in ("", "0")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv``, only the group it names is registered (the others are one-line stubs)."""
    parser = _Parser(
        prog="aitheory",
        description=(
            "Solomonoff-style imitation and KL bounds: checks of the results of 'RL, but don't do anything "
            "I wouldn't do' (arXiv:2410.06213)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"aitheory {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an internal error (or set AITHEORY_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    chosen = None if argv is None else next((a for a in argv if a in GROUPS), "")
    for name, help_line in GROUPS.items():
        if chosen is None or chosen == name:
            importlib.import_module(f"aitheory.cli.{name}").register(sub)
        else:
            sub.add_parser(name, help=help_line, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command ``argv`` (default ``sys.argv[1:]``) and return its exit code (see the module docstring)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser(argv).parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    from aitheory.results import RunFolderError  # after parsing: --help and --version need no numpy

    try:
        return int(args.func(args))
    except (UserInputError, RunFolderError) as exc:
        print(f"aitheory: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # a file or folder named on the command line that cannot be read or written
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"aitheory: error: {where}{exc.strerror or _one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except MemoryError as exc:  # a size that no check refused: still the input's doing, not a crash
        print(f"aitheory: error: out of memory ({_one_line(exc) or 'MemoryError'}); lower the size options of "
              f"'aitheory {' '.join(a for a in argv if not a.startswith('-'))[:60]}'", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("aitheory: interrupted (completed results were written before stopping)", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug or _debug(argv):
            traceback.print_exc()
        print(f"aitheory: internal error: {type(exc).__name__}: {_one_line(exc)} (a bug: please report it; "
              "'aitheory --debug ...' or AITHEORY_DEBUG=1 shows the traceback)", file=sys.stderr)
        return EXIT_INTERNAL
