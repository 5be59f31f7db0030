"""Benchmarks of the BF-8 interpreters and enumeration (not unit tests; run by hand).

    PYTHONPATH=. python benchmarks/bench_dsl.py            # 24 and 27 bits, interpreter throughput
    PYTHONPATH=. python benchmarks/bench_dsl.py --full     # also 30 bits on two worker processes

Every figure is measured in this run; the fast interpreter is always compared with the reference
interpreter on the same programs (ratio), as the design notes ask, and the joint-mode kernel with the
policy-mode kernel on the same programs. Goals (issue 3): 537,531 programs up to
24 bits in <= 1 s on one core; 3,710,009 up to 27 bits in <= 5 s; 25,916,429 up to 30 bits in <= 60 s on two
cores with peak memory <= 4 GB; >= 3e8 machine steps per second per core.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np

from aitheory.dsl.behaviour import EnumConfig, behaviour_table
from aitheory.dsl.enumerate import blocks, enumerate_block
from aitheory.dsl.fast import run_batch
from aitheory.dsl.fast_tree import all_sequences
from aitheory.dsl.reference import run_reference


def _peak_mb() -> float:
    """Peak resident memory (MB) of this process and of its finished child processes, whichever is larger."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


def bench_enumerate(max_bits: int, workers: int, repeats: int = 1) -> dict[str, object]:
    """Enumerate, run (T = 1000, H = 16) and tabulate every program up to ``max_bits`` bits; best of repeats."""
    best = None
    for _ in range(repeats):
        table = behaviour_table(EnumConfig(max_bits=max_bits), workers=workers)
        if best is None or table.seconds < best.seconds:
            best = table
    assert best is not None
    return {
        "max_bits": max_bits,
        "workers": workers,
        "programs": best.programs,
        "behaviours": len(best.weight),
        "kraft_mass": float(best.kraft_mass()),
        "machine_steps": best.total_steps,
        "seconds": round(best.seconds, 3),
        "programs_per_second": round(best.programs / best.seconds),
        "peak_memory_mb": round(_peak_mb(), 1),
    }


def _programs(n_tokens: int) -> np.ndarray:
    return np.concatenate([enumerate_block(b) for b in blocks(3 * n_tokens) if b.n_tokens == n_tokens])


def bench_fast_vs_reference(stride: int = 25) -> dict[str, object]:
    """Same programs (every ``stride``-th of the 8-token ones), same settings: fast vs reference."""
    progs = _programs(8)[::stride]
    t0 = time.process_time()
    fast = run_batch(progs, None, 2, 16, None, 1000, 4096, True)
    t_fast = time.process_time() - t0
    t0 = time.process_time()
    ref_steps = sum(run_reference(p, 2, 16, None, 1000, 4096).total_steps for p in progs)
    t_ref = time.process_time() - t0
    assert ref_steps == int(fast.total_steps.sum())
    return {
        "programs": len(progs),
        "machine_steps": ref_steps,
        "fast_cpu_seconds": round(t_fast, 4),
        "reference_cpu_seconds": round(t_ref, 3),
        "speedup": round(t_ref / t_fast, 1),
    }


def bench_throughput(steps: int = 100_000) -> dict[str, object]:
    """Machine steps per second on a step-heavy load: all 7-token programs, T = 1e5, no cycle detection
    (so every non-halting program runs its whole budget); the reference runs a sample of the heavy ones."""
    progs = _programs(7)
    w0, c0 = time.perf_counter(), time.process_time()
    fast = run_batch(progs, None, 2, 16, None, steps, 4096, False)
    w_fast, c_fast = time.perf_counter() - w0, time.process_time() - c0
    heavy = progs[np.argsort(fast.total_steps)[-20:]]
    w0, c0 = time.perf_counter(), time.process_time()
    ref_steps = sum(run_reference(p, 2, 16, None, steps, 4096, False).total_steps for p in heavy)
    w_ref, c_ref = time.perf_counter() - w0, time.process_time() - c0
    total = float(fast.total_steps.sum())
    return {
        "programs": len(progs),
        "machine_steps": int(total),
        "fast_steps_per_cpu_second": f"{total / c_fast:.3g}",
        "fast_steps_per_wall_second": f"{total / w_fast:.3g}",
        "reference_steps_per_cpu_second": f"{ref_steps / c_ref:.3g}",
        "reference_steps_per_wall_second": f"{ref_steps / w_ref:.3g}",
        "ratio_cpu": round((total / c_fast) / (ref_steps / c_ref), 1),
    }


def bench_all_sequences(max_bits: int = 21, horizon: int = 8) -> dict[str, object]:
    """Every observation sequence (K = 2, 2^(H-1) of them): shared-prefix runs vs one run per sequence."""
    shared = behaviour_table(EnumConfig(max_bits=max_bits, horizon=horizon, all_histories=True))
    seqs = tuple(tuple(int(o) for o in row) for row in all_sequences(2, horizon))
    separate = behaviour_table(EnumConfig(max_bits=max_bits, horizon=horizon, histories=seqs))
    assert np.array_equal(shared.weight, separate.weight) and np.array_equal(shared.actions, separate.actions)
    return {
        "max_bits": max_bits,
        "sequences": len(seqs),
        "behaviours": len(shared.weight),
        "shared_seconds": round(shared.seconds, 3),
        "separate_seconds": round(separate.seconds, 3),
        "speedup": round(separate.seconds / shared.seconds, 1),
        "shared_machine_steps": shared.total_steps,
        "separate_machine_steps": separate.total_steps,
    }


def _kernel_run(blocks_codes: list[np.ndarray], horizon: int, **kw: object) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, machine steps) of one batch run over the blocks."""
    w0, c0 = time.perf_counter(), time.process_time()
    total = 0
    for codes in blocks_codes:
        res = run_batch(codes, None, 2, horizon, steps=1000, record_steps=False, **kw)  # type: ignore[arg-type]
        total += int(res.total_steps.sum())
    return time.process_time() - c0, time.perf_counter() - w0, total


def bench_joint_vs_policy(max_bits: int = 24, horizon: int = 16, seed: int = 0, repeats: int = 7
                          ) -> dict[str, object]:
    """The joint-mode kernel against the policy-mode kernel, same programs (every program up to ``max_bits``),
    same run: policy mode, H actions on random observations; joint mode, the 2H symbols a_1 o_1 .. a_H o_H of a
    random interleaved history (same observations), and joint mode with H emissions (equal work per emission)."""
    rng = np.random.default_rng(seed)
    obs = [int(o) for o in rng.integers(0, 2, horizon - 1)]
    acts = [int(a) for a in rng.integers(0, 2, horizon)]
    history = [x for pair in zip(acts, [*obs, 0], strict=True) for x in pair][: 2 * horizon - 1]
    progs = [enumerate_block(b) for b in blocks(max_bits)]
    run_batch(progs[-1][:10], None, 2, 2, mode="joint")  # load the compiled code
    runs: dict[str, list[tuple[float, float, int]]] = {"policy": [], "joint": [], "joint_same": []}
    for _ in range(repeats):  # interleaved, so that load from other jobs hits all three alike; best CPU time kept
        runs["policy"].append(_kernel_run(progs, horizon, obs=obs))
        runs["joint"].append(_kernel_run(progs, 2 * horizon, mode="joint", history=history))
        runs["joint_same"].append(_kernel_run(progs, horizon, mode="joint", history=history[: horizon - 1]))
    policy, joint, joint_same = (min(runs[name]) for name in ("policy", "joint", "joint_same"))
    return {
        "max_bits": max_bits,
        "programs": sum(len(p) for p in progs),
        "horizon_steps": horizon,
        "policy_cpu_seconds": round(policy[0], 4), "policy_wall_seconds": round(policy[1], 4),
        "policy_machine_steps": policy[2],
        "joint_cpu_seconds": round(joint[0], 4), "joint_wall_seconds": round(joint[1], 4),
        "joint_machine_steps": joint[2],
        "joint_same_emissions_cpu_seconds": round(joint_same[0], 4),
        "joint_same_emissions_machine_steps": joint_same[2],
        "ratio_joint_to_policy_cpu": round(joint[0] / policy[0], 2),
        "ratio_joint_same_emissions_to_policy_cpu": round(joint_same[0] / policy[0], 2),
        "ratio_steps_per_cpu_second_joint_to_policy": round((joint[2] / joint[0]) / (policy[2] / policy[0]), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also enumerate 30 bits on two worker processes")
    parser.add_argument("--out", default=None, help="write the results as JSON to this file")
    parser.add_argument("--joint-only", action="store_true", help="only the joint-vs-policy kernel comparison")
    args = parser.parse_args()
    behaviour_table(EnumConfig(max_bits=9))  # load the compiled code before timing
    if args.joint_only:
        print(json.dumps({"joint_vs_policy": bench_joint_vs_policy()}, indent=2))
        return
    results: dict[str, object] = {
        "joint_vs_policy": bench_joint_vs_policy(),
        "fast_vs_reference": bench_fast_vs_reference(),
        "throughput": bench_throughput(),
        "enumerate_24": bench_enumerate(24, workers=1, repeats=3),
        "enumerate_27": bench_enumerate(27, workers=1),
        "all_sequences": bench_all_sequences(),
    }
    if args.full:
        results["enumerate_30"] = bench_enumerate(30, workers=2)
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        from aitheory.results import atomic_write_text

        atomic_write_text(args.out, text + "\n")


if __name__ == "__main__":
    main()
