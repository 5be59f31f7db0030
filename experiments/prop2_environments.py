"""Proposition 2 across environments: which detectors are the simplest unprecedented events, and when.

"In any environment": the proposition does not depend on the environment, but *which* events are the simplest
unprecedented ones does. With fair coin flips every short detector that reads observations fires early, and the
late records are time-only events; when 1s are rare (Bernoulli with small p) or the stream rarely changes
(a sticky Markov chain), short observation-reading detectors ("the first 1 so far") are unprecedented late.

For each environment: every detector of at most ``max_bits`` bits on ``horizon`` observations; writes
``records.csv`` (the record-setting events: t, bits, program, whether it reads observations), ``metrics.csv``
(f(t) per environment) and the figure ``prop2_environments.png``/``.svg`` (f against log2 t).

    PYTHONPATH=. python experiments/prop2_environments.py --out runs/prop2-environments
    PYTHONPATH=. python experiments/prop2_environments.py --quick
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aitheory.configs import ArgumentParser, add_arguments, from_namespace
from aitheory.results import RunFolder, write_csv
from aitheory.theory import prop2


@dataclass(frozen=True)
class Config:
    """Every detector up to ``max_bits`` on several environments' histories."""

    environments: tuple[str, ...] = ("bernoulli:0.5", "bernoulli:0.01", "bernoulli:0.001", "markov:0.01")
    """Environments as kind:p (kind bernoulli or markov; see ``aitheory check prop2 --help``)."""
    horizon: int = 10_000
    """N: time steps of each history."""
    max_bits: int = 24
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
    """Enumerate on each environment; returns the record rows (also written to ``records.csv``)."""
    t = np.arange(1, config.horizon + 1)
    rows: list[dict[str, object]] = []
    curves: dict[str, np.ndarray] = {}
    for env in config.environments:
        kind, _, p = env.partition(":")
        cfg = prop2.Config(environment=kind, p=float(p), horizon=config.horizon, max_bits=config.max_bits,  # type: ignore[arg-type]
                           seed=config.seed)
        obs = prop2.observations(cfg)
        enum = prop2.enumerate_first_holds(cfg.max_bits, cfg.horizon, obs, cfg.steps, cfg.tape_bound)
        f = prop2.suffix_min(enum.g[1:])
        curves[env] = f
        first_one = int(np.argmax(obs == 1)) + 1 if obs.any() else math.inf
        for r in prop2._records(t, enum.g[1:], f, enum):
            rows.append({"environment": env, "first_one_at": first_one, **r})
    write_csv(folder.file("records.csv"), rows)
    folder.write_metrics({"t": int(ti), **{f"f_{e}": curves[e][i] for e in config.environments}}
                         for i, ti in enumerate(t.tolist()))
    if config.plot:
        plot(t, curves, config, folder.file("prop2_environments"))
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
    parser = ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_arguments(parser, Config, explicit_only=True)  # explicit options win over --quick
    parser.add_argument("--quick", action="store_true", help="small configuration (for the tests)")
    parser.add_argument("--out", default=None, help="run folder (default runs/prop2-environments-<time>)")
    args = parser.parse_args(argv)
    base = Config.quick() if args.quick else Config()
    try:  # a bad value (--field or --set field=): one line, exit 2
        config = from_namespace(Config, args, base=base)
    except ValueError as exc:
        parser.error(str(exc))
    folder = RunFolder.create(args.out, "prop2-environments")
    folder.write_config(config, seed=config.seed)
    for row in run(config, folder):
        print(f"{row['environment']:>16}  t={row['t']:>5}  {row['bits']:>2} bits  "
              f"{'time-only' if row['blind'] else 'reads obs'}  {row['program']}")
    print(f"[{folder.path}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
