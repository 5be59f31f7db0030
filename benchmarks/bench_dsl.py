"""Benchmarks of the BF-8 interpreters and enumeration (not unit tests; run by hand).

    PYTHONPATH=. python benchmarks/bench_dsl.py            # 24 and 27 bits, interpreter throughput
    PYTHONPATH=. python benchmarks/bench_dsl.py --full     # also 30 bits (and the kernel at 30 bits) on two workers
    PYTHONPATH=. python benchmarks/bench_dsl.py --only kernel --kernel-bits 30 --workers 2  # kernel vs baseline
    PYTHONPATH=. python benchmarks/bench_dsl.py --only buffers --buffer-bits 30 33 --workers 2  # reused buffers

Every figure is measured in this run; the fast interpreter is always compared with the reference
interpreter on the same programs (ratio), as the design notes ask, and the joint-mode kernel with the
policy-mode kernel on the same programs. Goals (issue 3): 537,531 programs up to
24 bits in <= 1 s on one core; 3,710,009 up to 27 bits in <= 5 s; 25,916,429 up to 30 bits in <= 60 s on two
cores with peak memory <= 4 GB; >= 3e8 machine steps per second per core.

Issue 15 made the batch kernel faster twice: its one-program function is inlined, and the machine
(``aitheory/dsl/machine.py``) indexes its arrays with unsigned integers (no negative-index wraparound). The
``kernel`` benchmarks compare three kernels in the same run (``_KERNELS``): ``baseline``, the kernel as it was
before issue 15 (the function called out of line, the machine frozen in ``benchmarks/baseline_machine.py``);
``inlined``, the same old machine inlined; ``current``, the package's kernel. All run every 9-token program with
identical outputs, tabulate every program up to ``--kernel-bits`` bits (goal: ``current`` >= 1.5x the baseline
at 30 bits, CPU seconds) and run the step-heavy load (goal: >= 3e8 machine steps per CPU-second).

The ``buffers`` benchmark (after issue 15) compares, in the same run, the enumeration with scratch arrays
allocated anew per block (``fresh``, as before) and with each worker's buffers reused across blocks
(``reused``, :mod:`aitheory.dsl.workspace`): equal tables, user and system CPU seconds and minor page faults.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import resource
import subprocess
import sys
import time
import types
from collections.abc import Iterator
from typing import Any

import baseline_machine  # benchmarks/ is this script's directory, so it is on sys.path
import numba
import numpy as np

from aitheory.dsl import behaviour, fast
from aitheory.dsl.behaviour import EnumConfig, behaviour_table
from aitheory.dsl.enumerate import blocks, enumerate_block
from aitheory.dsl.fast import run_batch
from aitheory.dsl.fast_tree import all_sequences
from aitheory.dsl.reference import run_reference
from aitheory.dsl.workspace import Workspace


def _peak_mb() -> float:
    """Peak resident memory (MB) of this process and of its finished child processes, whichever is larger."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its finished child processes (the worker pool)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _compile_kernel(machine: types.ModuleType | None, out_of_line: bool) -> Any:
    """Today's batch loop (same code objects) compiled against the machine functions of ``machine`` (None: the
    package's own) with the one-program function inlined or called out of line."""
    one_f, loop = fast._run_one.py_func, fast._run_many.py_func
    names = ("run_silent", "match_brackets", "clear_cells")
    one_globals = {**one_f.__globals__, **({n: getattr(machine, n) for n in names} if machine else {})}
    flags = {"nogil": True, "boundscheck": False} | ({} if out_of_line else {"inline": "always"})
    one = numba.njit(**flags)(types.FunctionType(one_f.__code__, one_globals, "_run_one"))
    return numba.njit(nogil=True)(
        types.FunctionType(loop.__code__, {**loop.__globals__, "_run_one": one}, "_run_many")
    )


# The kernels compared, all in this run. ``baseline``: the kernel as it was before issue 15, the one-program
# function called out of line and the machine of benchmarks/baseline_machine.py (signed indices);
# ``inlined``: that function inlined, the same old machine; ``current``: the package's kernel as it is.
_KERNELS: dict[str, Any] = {
    "baseline": _compile_kernel(baseline_machine, out_of_line=True),
    "inlined": _compile_kernel(baseline_machine, out_of_line=False),
    "current": fast._run_many,
}


@contextlib.contextmanager
def _kernel(name: str) -> Iterator[None]:
    """Run :func:`aitheory.dsl.fast.run_batch` on the kernel ``name`` of ``_KERNELS`` inside the block (worker
    processes are forked, so they inherit it)."""
    current = fast._run_many
    fast._run_many = _KERNELS[name]
    try:
        yield
    finally:
        fast._run_many = current


def bench_kernel_identical(n_tokens: int = 9, repeats: int = 3) -> dict[str, object]:
    """Every ``n_tokens``-token program on each kernel of ``_KERNELS`` (T = 1000, H = 16): all outputs identical
    to the baseline's; best CPU seconds of ``repeats`` runs of each kernel in turn, with the emission steps
    recorded and without (``record_steps=False``, as the enumeration runs)."""
    progs = _programs(n_tokens)
    fields = ("actions", "steps", "n_emitted", "status", "total_steps", "reads")
    cpu = {name: [np.inf, np.inf] for name in _KERNELS}
    differing: dict[str, list[str]] = {}
    old = None
    for rep in range(repeats):
        for name in _KERNELS:
            with _kernel(name):
                c0 = time.process_time()
                res = fast.run_batch(progs, None, 2, 16, None, 1000, 4096, True)
                c1 = time.process_time()
                fast.run_batch(progs, None, 2, 16, None, 1000, 4096, True, record_steps=False)
                c2 = time.process_time()
            cpu[name] = [min(cpu[name][0], c1 - c0), min(cpu[name][1], c2 - c1)]
            if rep == 0:
                old = res if old is None else old
                differing[name] = [f for f in fields if not np.array_equal(getattr(res, f), getattr(old, f))]
            del res
    (c_old, q_old) = cpu["baseline"]
    result: dict[str, object] = {"n_tokens": n_tokens, "programs": len(progs), "repeats": repeats}
    for name, (c, q) in cpu.items():
        result[name] = {
            "identical_to_baseline": not differing[name],
            "differing_fields": differing[name],
            "cpu_seconds": round(c, 3),
            "ns_per_program": round(1e9 * c / len(progs), 1),
            "speedup_cpu": round(c_old / c, 2),
            "no_step_record_cpu_seconds": round(q, 3),
            "no_step_record_speedup_cpu": round(q_old / q, 2),
        }
    return result


def bench_kernel_enumerate(max_bits: int, workers: int, repeats: int = 2) -> dict[str, object]:
    """Every program up to ``max_bits`` bits (T = 1000, H = 16) tabulated on each kernel of ``_KERNELS``, in
    turn, ``repeats`` times each in this run (best wall and best CPU seconds of each): equal tables, ratios to the
    baseline, programs and machine steps per CPU-second."""
    runs: dict[str, tuple[Any, float, float]] = {}
    for _ in range(repeats):
        for name in _KERNELS:
            with _kernel(name):
                w0, c0 = time.perf_counter(), _cpu_seconds()
                table = behaviour_table(EnumConfig(max_bits=max_bits), workers=workers)
                wall, cpu = time.perf_counter() - w0, _cpu_seconds() - c0
            best = runs.get(name)
            runs[name] = (table, min(wall, best[1]) if best else wall, min(cpu, best[2]) if best else cpu)
    old, w_old, c_old = runs["baseline"]
    result: dict[str, object] = {
        "max_bits": max_bits,
        "workers": workers,
        "repeats": repeats,
        "programs": old.programs,
        "behaviours": len(old.weight),
        "machine_steps": old.total_steps,
        "goal_speedup_cpu": 1.5,
    }
    for name, (table, wall, cpu) in runs.items():
        result[name] = {
            "table_equal_to_baseline": bool(
                np.array_equal(old.weight, table.weight) and np.array_equal(old.actions, table.actions)
                and old.total_steps == table.total_steps
            ),
            "wall_seconds": round(wall, 2),
            "cpu_seconds": round(cpu, 2),
            "speedup_wall": round(w_old / wall, 2),
            "speedup_cpu": round(c_old / cpu, 2),
            "programs_per_cpu_second": round(table.programs / cpu),
            "machine_steps_per_cpu_second": f"{table.total_steps / cpu:.3g}",
        }
    result["peak_memory_mb"] = round(_peak_mb(), 1)
    return result


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


def _usage() -> tuple[float, float, int]:
    """(user CPU s, system CPU s, minor page faults) of this process plus its finished child processes."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + kids.ru_utime, own.ru_stime + kids.ru_stime, own.ru_minflt + kids.ru_minflt


@contextlib.contextmanager
def _fresh_buffers() -> Iterator[None]:
    """Inside the block every block allocates its scratch arrays anew, as before the reused workspace (worker
    processes are forked, so they inherit it): :func:`aitheory.dsl.behaviour.block_workspace` returns a new
    :class:`aitheory.dsl.workspace.Workspace` per call."""
    current = behaviour.block_workspace
    behaviour.block_workspace = Workspace
    try:
        yield
    finally:
        behaviour.block_workspace = current


def _buffers_child(mode: str, max_bits: int, workers: int) -> dict[str, object]:
    """One measured enumeration in this (fresh) process, after loading the compiled code: wall, user and
    system CPU seconds and minor page faults of this process and its workers, and a digest of the table."""
    behaviour_table(EnumConfig(max_bits=9), workers=1)
    with _fresh_buffers() if mode == "fresh" else contextlib.nullcontext():
        w0, (u0, s0, f0) = time.perf_counter(), _usage()
        table = behaviour_table(EnumConfig(max_bits=max_bits), workers=workers)
        wall, (u1, s1, f1) = time.perf_counter() - w0, _usage()
    digest = hashlib.sha256(str(table.total_steps).encode())
    for name in ("actions", "status", "weight", "count", "first"):
        digest.update(np.ascontiguousarray(getattr(table, name)).tobytes())
    return {"wall_seconds": wall, "user_seconds": u1 - u0, "system_seconds": s1 - s0,
            "cpu_seconds": u1 - u0 + s1 - s0, "minor_page_faults": f1 - f0, "programs": table.programs,
            "behaviours": len(table.weight), "table_sha256": digest.hexdigest()}


def bench_buffers(max_bits: int, workers: int, repeats: int = 2) -> dict[str, object]:
    """Every program up to ``max_bits`` bits (T = 1000, H = 16) tabulated with scratch arrays allocated anew per
    block (``fresh``, the strategy before) and with each worker's buffers reused (``reused``, the package's),
    alternately, ``repeats`` times each in this run: equal tables; best user and system CPU seconds and fewest
    minor page faults (``ru_minflt``) of each, summed over the process and its workers; ratios fresh/reused.

    Each enumeration runs in a new process (:func:`_buffers_child`), as ``aitheory dsl enumerate`` does: the C
    allocator's state (glibc raises its mmap threshold after freeing large blocks) carries over within a
    process and into the workers it forks, so measured in one process the later runs would page-fault less.
    """
    best: dict[str, dict[str, Any]] = {}
    digests: dict[str, set[str]] = {"fresh": set(), "reused": set()}
    for _ in range(repeats):
        for mode in ("fresh", "reused"):
            out = subprocess.run(
                [sys.executable, __file__, "--buffers-child", mode, str(max_bits), str(workers)],
                check=True, capture_output=True, text=True,
            ).stdout
            run = json.loads(out.strip().splitlines()[-1])
            digests[mode].add(run.pop("table_sha256"))
            old = best.get(mode, run)
            best[mode] = {k: min(v, old[k]) for k, v in run.items()}
    result: dict[str, object] = {
        "max_bits": max_bits, "workers": workers, "repeats": repeats, "programs": best["reused"]["programs"],
        "behaviours": best["reused"]["behaviours"],
        "tables_equal": len(digests["fresh"] | digests["reused"]) == 1,
    }
    for mode, run in best.items():
        result[mode] = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in run.items()
                        if k not in ("programs", "behaviours")}
    result["ratio_fresh_to_reused"] = {
        k: round(best["fresh"][k] / best["reused"][k], 2) if best["reused"][k] else "inf"
        for k in ("system_seconds", "cpu_seconds", "minor_page_faults", "user_seconds", "wall_seconds")
    }
    return result


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


def bench_throughput(steps: int = 100_000, repeats: int = 5) -> dict[str, object]:
    """Machine steps per CPU-second on a step-heavy load: all 7-token programs, T = 1e5, no cycle detection
    (so every non-halting program runs its whole budget), on each kernel of ``_KERNELS`` in turn, ``repeats``
    times each (best and median); the reference runs a sample of the heavy programs once."""
    progs = _programs(7)
    cpu: dict[str, list[float]] = {name: [] for name in _KERNELS}
    wall: dict[str, list[float]] = {name: [] for name in _KERNELS}
    totals = set()
    for _ in range(repeats):
        for name in _KERNELS:
            with _kernel(name):
                w0, c0 = time.perf_counter(), time.process_time()
                res = run_batch(progs, None, 2, 16, None, steps, 4096, False, record_steps=False)
                cpu[name].append(time.process_time() - c0)
                wall[name].append(time.perf_counter() - w0)
            totals.add(int(res.total_steps.sum()))
    assert len(totals) == 1, "the kernels ran different numbers of steps"
    total = totals.pop()
    heavy = progs[np.argsort(res.total_steps)[-20:]]
    w0, c0 = time.perf_counter(), time.process_time()
    ref_steps = sum(run_reference(p, 2, 16, None, steps, 4096, False).total_steps for p in heavy)
    w_ref, c_ref = time.perf_counter() - w0, time.process_time() - c0
    result: dict[str, object] = {
        "programs": len(progs),
        "machine_steps": total,
        "repeats": repeats,
        "goal_steps_per_cpu_second": 3e8,
        "reference_steps_per_cpu_second": f"{ref_steps / c_ref:.3g}",
        "reference_steps_per_wall_second": f"{ref_steps / w_ref:.3g}",
    }
    for name in _KERNELS:
        result[name] = {
            "best_steps_per_cpu_second": f"{total / min(cpu[name]):.3g}",
            "median_steps_per_cpu_second": f"{total / float(np.median(cpu[name])):.3g}",
            "best_steps_per_wall_second": f"{total / min(wall[name]):.3g}",
            "speedup_cpu_best": round(min(cpu["baseline"]) / min(cpu[name]), 2),
            "ratio_to_reference_cpu": round((total / min(cpu[name])) / (ref_steps / c_ref), 1),
        }
    return result


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
    parser.add_argument("--only", choices=("all", "kernel", "buffers"), default="all",
                        help="'kernel': only the kernels against the baseline; 'buffers': only reused scratch "
                             "buffers against fresh ones")
    parser.add_argument("--buffer-bits", type=int, nargs="+", default=None,
                        help="enumeration sizes of the buffer comparison (default 27; 30 with --full)")
    parser.add_argument("--kernel-bits", type=int, default=None,
                        help="enumeration size of the kernel comparison (default 27; 30 with --full)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes of the kernel comparison (default 1; 2 with --full)")
    parser.add_argument("--out", default=None, help="write the results as JSON to this file")
    parser.add_argument("--joint-only", action="store_true", help="only the joint-vs-policy kernel comparison")
    parser.add_argument("--buffers-child", nargs=3, metavar=("MODE", "BITS", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.buffers_child:  # one run of bench_buffers, in its own process
        mode, bits, workers = args.buffers_child
        print(json.dumps(_buffers_child(mode, int(bits), int(workers))))
        return
    for name in () if args.only == "buffers" else _KERNELS:  # load the compiled code before timing (buffers: per child)
        with _kernel(name):
            behaviour_table(EnumConfig(max_bits=9))
    if args.joint_only:
        print(json.dumps({"joint_vs_policy": bench_joint_vs_policy()}, indent=2))
        return
    buffer_bits = args.buffer_bits or [30 if args.full else 27]
    buffer_workers = args.workers or (2 if args.full else 1)
    if args.only == "buffers":
        text = json.dumps({f"buffers_{b}": bench_buffers(b, buffer_workers) for b in buffer_bits}, indent=2)
        print(text)
        if args.out:
            from aitheory.results import atomic_write_text

            atomic_write_text(args.out, text + "\n")
        return
    results: dict[str, object] = {
        "kernel_identical_9_tokens": bench_kernel_identical(9),
        "kernel_enumerate": bench_kernel_enumerate(
            args.kernel_bits or (30 if args.full else 27), args.workers or (2 if args.full else 1)
        ),
        "throughput": bench_throughput(),
    }
    if args.only == "all":
        results |= {
            "joint_vs_policy": bench_joint_vs_policy(),
            "fast_vs_reference": bench_fast_vs_reference(),
            "enumerate_24": bench_enumerate(24, workers=1, repeats=3),
            "enumerate_27": bench_enumerate(27, workers=1),
            "all_sequences": bench_all_sequences(),
        }
        results |= {f"buffers_{b}": bench_buffers(b, buffer_workers) for b in buffer_bits}
    if args.full:
        results["enumerate_30"] = bench_enumerate(30, workers=2)
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        from aitheory.results import atomic_write_text

        atomic_write_text(args.out, text + "\n")


if __name__ == "__main__":
    main()
