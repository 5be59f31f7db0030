"""``aitheory check NAME``: run one of the paper's results as a computation with a verdict.

Each check writes a run folder (``config.json``, ``summary.json``, ``metrics.csv``, figures as PNG and SVG),
prints a one-line verdict, and exits 0 when the result held, 1 when it did not.
"""

from __future__ import annotations

import argparse
import math

from aitheory.cli._common import positive_float, positive_int

DEFAULT_EPS = 0.01


def register(sub: argparse._SubParsersAction) -> None:
    check = sub.add_parser("check", help="check one of the paper's results and write a run folder")
    names = check.add_subparsers(dest="result", metavar="RESULT")
    names.required = True

    prop1 = names.add_parser(
        "prop1",
        help="Proposition 1: KL has no triangle inequality",
        description=(
            "Build the witness of Proposition 1 (tau = Bern(0), pi = beta = Bern(min(eps,1)/2)) and check "
            "KL(pi||beta) <= eps, KL(tau||beta) <= eps, KL(pi||tau) = inf. Also sweeps eps over a log grid "
            "for metrics.csv and the figure."
        ),
    )
    prop1.add_argument("--eps", type=positive_float, default=DEFAULT_EPS, help="the budget eps > 0 in nats "
                       f"(default {DEFAULT_EPS})")
    prop1.add_argument("--sweep-points", type=positive_int, default=61,
                       help="number of eps values in the sweep from 1e-4 to 10 (default 61)")
    prop1.add_argument("--out", default=None, help="run folder (default runs/prop1-<timestamp>)")
    prop1.add_argument("--no-plot", action="store_true", help="skip the figure (no matplotlib needed)")
    prop1.set_defaults(func=_run_prop1)


def _run_prop1(args: argparse.Namespace) -> int:
    import numpy as np

    from aitheory.results import RunFolder
    from aitheory.theory import prop1

    folder = RunFolder.create(args.out, "prop1")
    config = {"eps": args.eps, "sweep": {"min": 1e-4, "max": 10.0, "points": args.sweep_points}}
    folder.write_config(config)
    grid = sorted({*np.logspace(-4, 1, args.sweep_points).tolist(), args.eps})
    sweep = prop1.check(grid)
    folder.write_metrics(
        {"eps": r.eps, "p": r.p, "kl_pi_beta": r.kl_pi_beta, "kl_tau_beta": r.kl_tau_beta,
         "kl_pi_tau": r.kl_pi_tau, "bound": r.bound, "held": r.held}
        for r in sweep
    )
    result = prop1.witness(args.eps)
    summary = {
        "result": "Proposition 1 (no triangle inequality for KL)",
        "eps": result.eps,
        "p": result.p,
        "kl_pi_beta": result.kl_pi_beta,
        "kl_tau_beta": result.kl_tau_beta,
        "kl_pi_tau": result.kl_pi_tau,
        "bound": result.bound,
        "held": result.held,
        "held_on_sweep": all(r.held for r in sweep),
        "sweep_points": len(sweep),
        "units": "nats",
    }
    folder.write_summary(summary)
    if not args.no_plot:
        prop1.plot_sweep(sweep, folder.file("prop1_kl_vs_eps"), highlight=result)
    held = result.held and summary["held_on_sweep"]
    verdict = "HELD" if held else "FAILED"
    inf = "inf" if math.isinf(result.kl_pi_tau) else f"{result.kl_pi_tau:.6g}"
    print(
        f"Proposition 1 {verdict} at eps={result.eps:g}: KL(pi||beta)={result.kl_pi_beta:.6g} <= eps, "
        f"KL(tau||beta)={result.kl_tau_beta:.6g} <= eps, KL(pi||tau)={inf} nats  [{folder.path}]"
    )
    return 0 if held else 1
