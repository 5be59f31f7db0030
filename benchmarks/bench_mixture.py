"""Benchmark of the Bayes mixture (not a unit test; run by hand).

    PYTHONPATH=. python benchmarks/bench_mixture.py            # goal size: 27 bits, every t <= 64
    PYTHONPATH=. python benchmarks/bench_mixture.py --bits 24  # smaller

Goal (issue 4): ``xi(. | h_<t)`` for every t <= 64 over all plain programs up to 27 bits in <= 0.5 s once the
behaviour table is built. Every figure is measured in this run, and the fast mixture is compared with the
brute-force reference (every program listed, reference interpreter, ``fractions.Fraction``) on a class small
enough for the reference, in the same run (a ratio), as the design notes ask. The joint mode (every symbol of
``a_1 o_1 a_2 ..`` predicted) is measured against the policy mode on the same history in the same run.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from aitheory.dsl import interleave
from aitheory.mixture import ClassConfig, OnlineMixture, build_class, predict_batch
from aitheory.mixture.reference import reference_predictions


def _history(config: ClassConfig, length: int, seed: int) -> tuple[list[int], list[int]]:
    """Random observations; actions from 'copy the last observation' with 10% noise (a learnable policy)."""
    rng = np.random.default_rng(seed)
    obs = [int(x) for x in rng.integers(0, config.k, size=length)]
    actions = [0, *obs[:-1]]
    actions = [a if rng.random() > 0.1 else int(rng.integers(config.k)) for a in actions]
    return actions, obs


def bench_goal(bits: int, steps: int, seed: int) -> dict[str, object]:
    config = ClassConfig(max_bits=bits, horizon=steps + 1, switch=True, mix=True)
    actions, obs = _history(config, steps, seed)
    t0 = time.perf_counter()
    mc = build_class(config, observations=[tuple(obs)], workers=None if bits > 27 else 1)
    built = time.perf_counter() - t0
    predict_batch(mc, actions[:2], obs)  # warm-up
    best_batch = min(_timed(lambda: predict_batch(mc, actions, obs)) for _ in range(5))
    online = OnlineMixture(mc)
    t0 = time.perf_counter()
    for a, o in zip(actions, obs, strict=True):
        online.predict()
        online.update(a, o)
    online.predict()
    online_s = time.perf_counter() - t0
    trace = predict_batch(mc, actions, obs)
    return {
        "max_bits": bits, "steps": steps + 1, "rows": mc.rows, "programs": mc.programs_by_kind,
        "build_s": round(built, 2), "batch_all_steps_s": round(best_batch, 4), "online_all_steps_s": round(online_s, 4),
        "final_xi_of_taken_action": float(trace.raw[-2, actions[-1]]),
    }


def bench_joint_vs_policy(bits: int, steps: int, seed: int) -> dict[str, object]:
    """Build and predict on one history of ``steps`` interaction steps: joint mode (2 * steps + 1 positions) vs
    policy mode (steps + 1), same programs and history, same run; CPU seconds beside wall."""
    out: dict[str, object] = {"max_bits": bits, "steps": steps}
    for mode in ("policy", "joint"):
        config = ClassConfig(max_bits=bits, horizon=steps + 1, mode=mode)  # type: ignore[arg-type]
        actions, obs = _history(config, steps, seed)
        w0, c0 = time.perf_counter(), time.process_time()
        if mode == "joint":
            mc = build_class(config, histories=[interleave(actions, obs)])
        else:
            mc = build_class(config, observations=[tuple(obs)])
        build = (time.perf_counter() - w0, time.process_time() - c0)
        predict_batch(mc, actions[:1], obs[:1])  # warm-up
        c0 = time.process_time()
        for _ in range(5):
            trace = predict_batch(mc, actions, obs)
        predict_cpu = (time.process_time() - c0) / 5
        out[mode] = {"rows": mc.rows, "positions": trace.raw.shape[0], "build_wall_s": round(build[0], 3),
                     "build_cpu_s": round(build[1], 3), "predict_all_positions_cpu_s": round(predict_cpu, 4),
                     "log_evidence_final": float(trace.log_evidence[-1])}
    policy, joint = out["policy"], out["joint"]
    assert isinstance(policy, dict) and isinstance(joint, dict)
    out["ratio_build_cpu_joint_to_policy"] = round(joint["build_cpu_s"] / policy["build_cpu_s"], 2)
    out["ratio_predict_cpu_joint_to_policy"] = round(joint["predict_all_positions_cpu_s"]
                                                     / policy["predict_all_positions_cpu_s"], 2)
    return out


def bench_ratio(bits: int, steps: int, seed: int) -> dict[str, object]:
    config = ClassConfig(max_bits=bits, horizon=steps + 1)
    mc = build_class(config, all_histories=False, observations=[(0,) * steps])
    online = OnlineMixture(mc)
    rng = np.random.default_rng(seed)
    actions = []
    for _ in range(steps):
        a = int(rng.choice(config.k, p=online.predict().normalised))
        online.update(a, 0)
        actions.append(a)
    reference_s = _timed(lambda: reference_predictions(config, actions, [0] * steps))
    fast_s = min(_timed(lambda: predict_batch(mc, actions, [0] * steps)) for _ in range(5))
    return {"max_bits": bits, "steps": steps + 1, "reference_s": round(reference_s, 3), "fast_s": round(fast_s, 5),
            "speed_up": round(reference_s / fast_s, 1)}


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bits", type=int, default=27)
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(json.dumps({"ratio_vs_brute_force": bench_ratio(15, 8, args.seed)}))
    print(json.dumps({"goal": bench_goal(args.bits, args.steps, args.seed)}))
    print(json.dumps({"joint_vs_policy": bench_joint_vs_policy(args.bits, args.steps, args.seed)}))


if __name__ == "__main__":
    main()
