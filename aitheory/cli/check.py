"""``aitheory check NAME``: run one of the paper's results as a computation with a verdict.

The options of each check are generated from its ``Config`` dataclass (one ``--option`` per field, help from the
field's docstring), and ``--set FIELD=VALUE`` sets any field the same way (:mod:`aitheory.configs`). Each check
writes a run folder (``config.json``, ``summary.json``, ``metrics.csv``, figures as PNG and SVG), prints a
one-line verdict, and exits 0 when the result held, 1 when it did not.
"""

from __future__ import annotations

import argparse
import math

from aitheory.cli import EXIT_FAILED, EXIT_OK, GROUPS, UserInputError


def register(sub: argparse._SubParsersAction) -> None:
    from aitheory.configs import add_arguments
    from aitheory.results import check_out_path
    from aitheory.theory.common import CHECKS, check_module

    check = sub.add_parser("check", help=GROUPS["check"])
    names = check.add_subparsers(dest="result", metavar="RESULT")
    names.required = True
    for name in CHECKS:
        module = check_module(name)
        parser = names.add_parser(name, help=module.STATEMENT, description=module.__doc__.strip().split("\n\n")[0]
                                  if module.__doc__ else module.STATEMENT)
        add_arguments(parser, module.Config, explicit_only=True)  # explicit options win over --quick
        parser.add_argument("--quick", action="store_true",
                            help="start from the small configuration used by the tests (options given here win)")
        parser.add_argument("--out", type=check_out_path, default=None,
                            help=f"run folder (default runs/{name}-<timestamp>); one holding another "
                                 "configuration is refused")
        parser.add_argument("--overwrite", action="store_true",
                            help="clear --out first if it holds a run of another configuration")
        parser.set_defaults(func=_run, check_name=name)


def _format(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:.6g}"


def _run(args: argparse.Namespace) -> int:
    from aitheory.configs import from_namespace
    from aitheory.progress import progress_enabled
    from aitheory.theory.common import check_module, run_check

    module = check_module(args.check_name)
    defaults = module.Config.quick() if args.quick else module.Config()
    try:  # only the options given (as --field or --set field=) are on args: they win over --quick
        config = from_namespace(module.Config, args, base=defaults)
    except ValueError as exc:
        raise UserInputError(str(exc)) from None
    result = run_check(args.check_name, config, args.out, show_progress=progress_enabled(), overwrite=args.overwrite)
    verdict = "HELD" if result.held else "FAILED"
    line = result.verdict or (f"measured {_format(result.measured)} {result.relation} bound {_format(result.bound)} "
                              f"{result.units}")
    print(f"{result.statement.split(':')[0]} {verdict}: {line}  [{result.run_folder}]")
    return EXIT_OK if result.held else EXIT_FAILED
