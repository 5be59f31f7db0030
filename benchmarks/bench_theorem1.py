"""Benchmark of Theorem 1's streamed class against ``build_class`` (not a unit test; run by hand).

    PYTHONPATH=. python benchmarks/bench_theorem1.py               # events up to 21 bits, k = 56
    PYTHONPATH=. python benchmarks/bench_theorem1.py --event-bits 24

Both build the same class (plain programs, MIX, every SWITCH E P MIX) on the novel world's four histories: the
baseline materialises every event's behaviour (``aitheory.mixture.build_class``), the streamed one keeps only the
first-hold histogram (``aitheory.theory.theorem1.PointClass``). Reported in the same run: CPU and wall seconds of
each, their ratio, peak traced memory (``tracemalloc``), and whether the two classes are equal row by row.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from aitheory.mixture import build_class
from aitheory.theory import theorem1


def _measure(fn: Callable[[], Any]) -> tuple[Any, float, float, float]:
    tracemalloc.start()
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, cpu, wall, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--event-bits", type=int, default=21)
    parser.add_argument("--max-bits", type=int, default=21)
    parser.add_argument("--k", type=int, default=56)
    args = parser.parse_args()
    config = dataclasses.replace(theorem1.Config(), max_bits=args.max_bits, event_max_bits=args.event_bits,
                                 class_sizes=(args.event_bits,))
    obs = (0,) * (args.k - 1) + (1,)
    t = args.k + 1
    theorem1.point_class(dataclasses.replace(config, max_bits=9, event_max_bits=9, policy_max_bits=9), obs, t, 9)
    point, s_cpu, s_wall, s_mem = _measure(lambda: theorem1.point_class(config, obs, t).model_class(None))
    histories = [tuple(h) for h in point.histories]
    ref, b_cpu, b_wall, b_mem = _measure(lambda: build_class(config.class_config(point.config.horizon),
                                                             observations=histories))
    same = ({r.tobytes(): tuple(w) for r, w in zip(point.codes, point.weight_by_kind, strict=True)}
            == {r.tobytes(): tuple(w) for r, w in zip(ref.codes, ref.weight_by_kind, strict=True)})
    print(json.dumps({
        "event_bits": args.event_bits, "max_bits": args.max_bits, "k": args.k, "rows": point.rows,
        "streamed": {"cpu_s": round(s_cpu, 2), "wall_s": round(s_wall, 2), "peak_mib": round(s_mem, 1)},
        "build_class": {"cpu_s": round(b_cpu, 2), "wall_s": round(b_wall, 2), "peak_mib": round(b_mem, 1)},
        "cpu_ratio_build_over_streamed": round(b_cpu / s_cpu, 2), "peak_ratio": round(b_mem / max(s_mem, 1e-9), 2),
        "equal_classes": same,
    }, indent=1))


if __name__ == "__main__":
    main()
