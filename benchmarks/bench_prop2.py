"""Benchmark of Proposition 2's exhaustive enumeration: the one-pass multi-stream search against the slow path.

    PYTHONPATH=. nice -n 10 python benchmarks/bench_prop2.py               # 27 bits, the check's four streams
    PYTHONPATH=. nice -n 10 python benchmarks/bench_prop2.py --bits 24 --out bench-prop2.json

Both paths enumerate every detector of at most ``--bits`` bits on the same streams in the same run (N = 10,000,
the check's defaults): the baseline is :func:`aitheory.theory.prop2.enumerate_first_holds_reference` once per
stream (:func:`aitheory.dsl.events.first_hold_times` per block), the new path
:func:`aitheory.theory.prop2.enumerate_streams` (all streams in one pass). Reported: CPU and wall seconds of each,
their ratio, machine steps, and whether every per-t table is identical (it must be). Not a unit test: no timing
is asserted anywhere.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from aitheory.theory import prop2

FIELDS = ("g", "first_index", "blind", "g_blind", "count")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--bits", type=int, default=27, help="every detector of at most this many bits (3..30)")
    parser.add_argument("--out", default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    if not 3 <= args.bits <= 30:
        parser.error(f"argument --bits: must be in 3..30, got {args.bits}")
    config = prop2.Config()
    specs = (f"{config.environment}:{config.p:g}", *config.streams)
    streams = [prop2.stream_observations(spec, config) for spec in specs]
    prop2.enumerate_streams([9] * len(streams), config.horizon, streams)  # compile / load the numba caches
    prop2.enumerate_first_holds_reference(9, config.horizon, streams[0])

    cpu, wall = time.process_time(), time.perf_counter()
    slow = [prop2.enumerate_first_holds_reference(args.bits, config.horizon, obs) for obs in streams]
    slow_cpu, slow_wall = time.process_time() - cpu, time.perf_counter() - wall
    cpu, wall = time.process_time(), time.perf_counter()
    fast = prop2.enumerate_streams([args.bits] * len(streams), config.horizon, streams)
    fast_cpu, fast_wall = time.process_time() - cpu, time.perf_counter() - wall

    identical = all(np.array_equal(getattr(a, f), getattr(b, f)) for a, b in zip(fast, slow, strict=True)
                    for f in FIELDS)
    result = {
        "bits": args.bits, "programs": fast[0].programs, "streams": list(specs), "horizon": config.horizon,
        "slow_cpu_s": slow_cpu, "slow_wall_s": slow_wall, "fast_cpu_s": fast_cpu, "fast_wall_s": fast_wall,
        "speedup_cpu": slow_cpu / fast_cpu, "speedup_wall": slow_wall / fast_wall,
        "slow_steps": [e.steps for e in slow], "fast_steps": [e.steps for e in fast], "identical": identical,
    }
    print(f"{fast[0].programs:,} detectors <= {args.bits} bits on {len(specs)} streams ({', '.join(specs)}):")
    print(f"  slow path, per stream: {slow_cpu:8.2f} s CPU {slow_wall:8.2f} s wall")
    print(f"  one pass:              {fast_cpu:8.2f} s CPU {fast_wall:8.2f} s wall   "
          f"({result['speedup_cpu']:.1f}x CPU, {result['speedup_wall']:.1f}x wall); identical tables: {identical}")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
