"""Benchmark of values under xi and of OPT (not a unit test; run by hand).

    PYTHONPATH=. python benchmarks/bench_values_xi.py            # 15 and 18 bits, horizons 3 and 4
    PYTHONPATH=. python benchmarks/bench_values_xi.py --bits 18 --horizon 4

For each joint-mode class (every history, SWITCH up to L + 1 bits, MIX) it measures, in CPU seconds of this
process: building the class (the baseline, as a ratio), the prediction tree from the empty history, one
``V*`` from the empty history, ``V*`` from every start history of one step (what a Theorem 1 check over switch
points needs), one OPT search, adding five ``SWITCH(E, OPT(U, u), MIX)`` rows, and one Definition-2 KL optimum.
Every figure is measured in this run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections.abc import Callable
from fractions import Fraction

from aitheory.dsl import parse_expr
from aitheory.mixture import ClassConfig, build_class
from aitheory.planning import add_opt_programs, opt_choice, prediction_tree, xi_problem

U = ".+[>,..<]]"  # mean of a_t
E = "+[>,.<]]"  # holds at t when o_{t-1} = 1


def _cpu(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.process_time()
    out = fn()
    return time.process_time() - t0, out


def bench(bits: int, horizon: int) -> dict[str, object]:
    config = ClassConfig(max_bits=bits, k=2, horizon=horizon, mode="joint", switch=True, switch_max_bits=bits + 1)
    build, mc = _cpu(lambda: build_class(config, all_histories=True))
    tree_s, tree = _cpu(lambda: prediction_tree(mc))
    vstar_s, _ = _cpu(lambda: xi_problem(tree, U, (), horizon).v_star())
    starts = list(itertools.product(range(2), repeat=2))
    per_start_s, _ = _cpu(lambda: [xi_problem(tree, U, h, horizon).v_star() for h in starts])
    opt_s, choice = _cpu(lambda: opt_choice(xi_problem(tree, U, (), horizon, model="mix"), Fraction(1, 64)))
    rows = [parse_expr(f"SWITCH({E}, OPT({U}, 1/{2 ** j}), MIX)") for j in range(6, 11)]
    add_s, _ = _cpu(lambda: add_opt_programs(mc, rows, tree=tree))
    xp = xi_problem(tree, U, (1, 1), horizon)
    eps = xp.least_divergence().kl + 1.0
    kl_s, sol = _cpu(lambda: xp.kl_optimum(eps))
    return {
        "bits": bits, "horizon": horizon, "rows": mc.rows, "build_class_cpu_s": round(build, 3),
        "prediction_tree_cpu_s": round(tree_s, 4), "tree_over_build": round(tree_s / max(build, 1e-9), 3),
        "v_star_cpu_s": round(vstar_s, 4), "v_star_from_4_starts_cpu_s": round(per_start_s, 4),
        "opt_search_cpu_s": round(opt_s, 4), "opt_policy_index": getattr(choice, "index", None),
        "add_5_opt_rows_cpu_s": round(add_s, 4), "kl_definition2_cpu_s": round(kl_s, 4),
        "kl_definition2_value": round(float(getattr(sol, "value", 0.0)), 6),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", type=int, nargs="*", default=[15, 18])
    parser.add_argument("--horizon", type=int, nargs="*", default=[3, 4])
    args = parser.parse_args()
    for bits, horizon in itertools.product(args.bits, args.horizon):
        print(json.dumps(bench(bits, horizon)))


if __name__ == "__main__":
    main()
