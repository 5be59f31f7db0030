"""``aitheory reproduce``: every check of the paper's results, in parallel, with a report."""

from __future__ import annotations

import argparse

from aitheory.cli import EXIT_FAILED, EXIT_OK, GROUPS, UserInputError
from aitheory.cli._common import workers_count
from aitheory.results import check_out_path


def register(subparsers: argparse._SubParsersAction) -> None:
    from aitheory.theory.common import CHECKS

    parser = subparsers.add_parser(
        "reproduce", help=GROUPS["reproduce"],
        description=(
            "Runs every check (" + ", ".join(CHECKS) + ") at its default scale, in parallel on local processes "
            "(or a Dask cluster), each into OUT/<name>/, then writes OUT/report.md, OUT/report.html (figures "
            "embedded) and OUT/report.json. Checks already finished in OUT with the same configuration are "
            "not run again (resume). Exit code 0 if every result held, 1 otherwise."
        ),
    )
    parser.add_argument("--quick", action="store_true", help="small configurations (about a minute)")
    parser.add_argument("--out", type=check_out_path, default=None,
                        help="output folder (default runs/reproduce, or runs/reproduce-quick with --quick); check "
                             "folders of another configuration (e.g. another scale) are refused")
    parser.add_argument("--overwrite", action="store_true",
                        help="clear the folders of the checks run here first (another scale, say)")
    parser.add_argument("--only", default=None, help="comma-separated subset of the checks")
    parser.add_argument("--workers", type=workers_count, default=None, help="local processes (default: all cores)")
    parser.add_argument("--scheduler", default=None,
                        help="Dask scheduler address, e.g. tcp://host:8786, or 'local' for a local Dask cluster "
                             "of --workers processes (see docs/dask.md)")
    parser.add_argument("--force", action="store_true", help="rerun checks even if finished results exist")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from aitheory.progress import progress_enabled
    from aitheory.theory.reproduce import reproduce

    only = tuple(x.strip() for x in args.only.split(",") if x.strip()) if args.only else ()
    try:
        out = args.out or ("runs/reproduce-quick" if args.quick else "runs/reproduce")
        result = reproduce(out, quick=args.quick, only=only, workers=args.workers, scheduler=args.scheduler,
                           force=args.force, show_progress=progress_enabled(), overwrite=args.overwrite)
    except ValueError as exc:
        raise UserInputError(str(exc)) from None
    for name, s in result.summaries.items():
        mark = "held" if s.get("held") is True else "NOT HELD"
        print(f"{name:12s} {mark:9s} {s.get('verdict', '')}")
    print(f"report: {result.out / 'report.html'} ({result.seconds:.1f} s; all held: {result.held})")
    return EXIT_OK if result.held else EXIT_FAILED
