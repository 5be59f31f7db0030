"""Proposition 2 across environments: which detectors are the simplest unprecedented events, and when.

"In any environment": the proposition does not depend on the environment, but *which* events are the simplest
unprecedented ones does. With fair coin flips every short detector that reads observations fires early, and the
late records are time-only events; when 1s are rare (Bernoulli with small p) or the stream rarely changes
(a sticky Markov chain), short observation-reading detectors ("the first 1 so far") are unprecedented late.

For each environment: every detector of at most ``max_bits`` bits on ``horizon`` observations, all
environments in one pass (:func:`aitheory.theory.prop2.enumerate_streams`: a detector that reads no observation
runs once for all of them); writes ``records.csv`` (the record-setting events: t, bits, program, whether it
reads observations), ``metrics.csv`` (f(t) per environment), ``summary.json`` (per environment: f exact up to
which t, its values, the statuses; the programs, the CPU and wall seconds of this process) and the figure
``prop2_environments.png``/``.svg`` (f against log2 t). The enumeration checkpoints to the run folder every
minute: run again with the same ``--out`` to resume an interrupted run (``resumed_from_checkpoint``).

    PYTHONPATH=. python experiments/prop2_environments.py --out runs/prop2-environments
    PYTHONPATH=. python experiments/prop2_environments.py --quick
    nice -n 10 env PYTHONPATH=. python experiments/prop2_environments.py --max-bits 33 --out runs/prop2-33
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aitheory.configs import parse_experiment
from aitheory.results import RunFolder, write_csv
from aitheory.theory import prop2


@dataclass(frozen=True)
class Config:
    """Every detector up to ``max_bits`` on several environments' histories."""

    environments: tuple[str, ...] = ("bernoulli:0.5", "bernoulli:0", "bernoulli:1", "markov:0.01", "bernoulli:0.01",
                                     "bernoulli:0.001")
    """Environments as kind:p (kind bernoulli or markov; see ``aitheory check prop2 --help``): the check's four
    streams (``bernoulli:0.5`` and its ``--streams``) and two with rare 1s."""
    horizon: int = 10_000
    """N: time steps of each history."""
    max_bits: int = 27
    """L: every plain detector of at most this many bits."""
    seed: int = 0
    """Seed of every history."""
    plot: bool = True
    """Draw the figure (needs matplotlib)."""

    def __post_init__(self) -> None:
        for env in self.environments:
            kind, _, p = env.partition(":")
            if kind not in ("bernoulli", "markov") or not p:
                raise ValueError(f"argument environments: expected kind:p with kind bernoulli or markov, got {env!r}")
            prop2.Config(environment=kind, p=float(p), horizon=self.horizon, max_bits=self.max_bits)  # type: ignore[arg-type]

    @classmethod
    def quick(cls) -> Config:
        return cls(environments=("bernoulli:0.5", "bernoulli:0.01"), horizon=2000, max_bits=21)


def run(config: Config, folder: RunFolder) -> list[dict[str, object]]:
    """Enumerate on every environment (one pass); returns the record rows (also written to ``records.csv``)."""
    t = np.arange(1, config.horizon + 1)
    rows: list[dict[str, object]] = []
    curves: dict[str, np.ndarray] = {}
    cfgs = [prop2.Config(environment=kind, p=float(p), horizon=config.horizon, max_bits=config.max_bits,  # type: ignore[arg-type]
                         seed=config.seed) for kind, _, p in (env.partition(":") for env in config.environments)]
    obs = [prop2.observations(cfg) for cfg in cfgs]
    cpu, wall = time.process_time(), time.perf_counter()
    checkpoint = folder.file("enumeration.ckpt.npz")  # every minute; a run with the same --out resumes from it
    resumed = checkpoint.is_file()
    enums = prop2.enumerate_streams([config.max_bits] * len(cfgs), config.horizon, obs, cfgs[0].steps,
                                    cfgs[0].tape_bound, show_progress=True, checkpoint=checkpoint)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    per_env: dict[str, object] = {}
    for env, o, enum in zip(config.environments, obs, enums, strict=True):
        f = prop2.suffix_min(enum.g[1:])
        curves[env] = f
        first_one = int(np.argmax(o == 1)) + 1 if o.any() else math.inf
        records = prop2._records(t, enum.g[1:], f, enum)
        rows += [{"environment": env, "first_one_at": first_one, **r} for r in records]
        finite = np.flatnonzero(np.isfinite(f))
        last = int(finite[-1]) + 1 if finite.size else 0
        per_env[env] = {"f_exact_up_to_t": last, "f_exact_bits": [float(x) for x in f[:last]],
                        "distinct_first_hold_times": int(np.isfinite(enum.g).sum()), "records": records,
                        "status_count": enum.status_count, "steps": enum.steps, "ones_fraction": float(o.mean())}
    write_csv(folder.file("records.csv"), rows)
    folder.write_metrics({"t": int(ti), **{f"f_{e}": curves[e][i] for e in config.environments}}
                         for i, ti in enumerate(t.tolist()))
    folder.write_summary({"max_bits": config.max_bits, "horizon": config.horizon, "seed": config.seed,
                          "programs": enums[0].programs, "cpu_s": cpu, "wall_s": wall,
                          "resumed_from_checkpoint": resumed, "environments": per_env})
    checkpoint.unlink()
    if config.plot:
        plot(t, curves, config, folder.file("prop2_environments"))
    print(f"{enums[0].programs:,} detectors <= {config.max_bits} bits on {len(cfgs)} environments: {cpu:.1f} s CPU, "
          f"{wall:.1f} s wall")
    return rows


def plot(t: np.ndarray, curves: dict[str, np.ndarray], config: Config, stem: str | Path) -> None:
    from aitheory.plotting import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.8, 4.0))
    x = np.log2(t.astype(float))
    for i, (env, f) in enumerate(curves.items()):
        ok = np.isfinite(f)
        ax.step(x[ok], f[ok] + 0.25 * i, where="post", lw=1.5, label=env)
    ax.set_xlabel(r"$\log_2 t$")
    ax.set_ylabel(rf"$f_L(t)$, bits (L = {config.max_bits}; curves offset by 0.25)")
    ax.set_title(f"Simplest event first holding at or after t, {config.horizon:,} steps", fontsize=10)
    ax.legend(fontsize=8, title="environment:p", title_fontsize=8)
    save_figure(fig, stem)


def main(argv: list[str] | None = None) -> int:
    config, out = parse_experiment(Config, "prop2-environments", __doc__.split("\n\n")[0] if __doc__ else None, argv)
    folder = RunFolder.create(out, "prop2-environments")
    folder.write_config(config, seed=config.seed)
    for row in run(config, folder):
        print(f"{row['environment']:>16}  t={row['t']:>5}  {row['bits']:>2} bits  "
              f"{'time-only' if row['blind'] else 'reads obs'}  {row['program']}")
    print(f"[{folder.path}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
