"""``aitheory plot RUN_DIR``: redraw every figure of a check's run folder from its saved files, without
recomputing (:func:`aitheory.theory.figures.redraw`).

The figures (PNG and SVG) are rewritten under the names the run gave them. Exit 0 when they were drawn; 2 with one
line when ``RUN_DIR`` is not a finished run folder of a check whose figures can be redrawn, or a file the figures
are drawn from is missing or malformed.
"""

from __future__ import annotations

import argparse

from aitheory.cli import EXIT_OK, GROUPS


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("plot", help=GROUPS["plot"], description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by 'aitheory check' or 'reproduce'")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from aitheory.theory.figures import redraw

    stems = redraw(args.run_dir)
    print(f"redrew {len(stems)} figures in {args.run_dir}: {', '.join(stems)} (.png, .svg)")
    return EXIT_OK
