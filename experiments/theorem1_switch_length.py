"""Theorem 1: how the KL needed depends on how long the switch is sustained, and on events up to 33 bits.

Part 1 (switch length). After a novel observation at step k, the agent switches to the bad action for
``m - t + 1`` steps. Definition 2 takes the worst open-loop observations over those steps. For a one- or two-step
switch, programs that merely copy the last observation (consistent with every demonstrator step, since the
observations were 0) carry the switch almost for free; a longer switch against adversarial observations needs the
event-latching construction ``SWITCH(E, P, MIX)``, whose cost is the Theorem 1 bound.

Part 2 (long events). The pattern worlds of ``aitheory check theorem1`` (zeros, a novel pattern ending at step
``pattern_k``, the switch right after it) with events streamed up to ``max(event_class_sizes)`` bits (33 bits:
1.8e8 detectors per point, beyond the default check's time), the KL measured at every class size: the KL against
K(E) and its convergence in the class size.

Writes ``metrics.csv`` (part 1), ``events.csv`` (part 2) and the figures ``theorem1_switch_length`` and
``theorem1_event_length`` (png/svg).

    PYTHONPATH=. python experiments/theorem1_switch_length.py --out runs/theorem1-switch-length
    PYTHONPATH=. python experiments/theorem1_switch_length.py --quick
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aitheory.configs import parse_experiment
from aitheory.results import RunFolder, read_json, write_csv
from aitheory.theory import theorem1


@dataclass(frozen=True)
class Config:
    """The novel-observation world at one k for several switch lengths; the pattern worlds up to long events."""

    k: int = 48
    """Demonstrator steps before the switch (the k-th observation is the novel 1)."""
    switch_lengths: tuple[int, ...] = (1, 2, 3, 4)
    """Numbers of steps m - t + 1 the switch is sustained."""
    max_bits: int = 24
    """Plain programs of at most this many bits in the class."""
    event_max_bits: int = 21
    """SWITCH events of at most this many plain-code bits in the class (part 1)."""
    patterns: tuple[str, ...] = ("1", "11", "10", "100100", "1000")
    """Part 2: novel patterns (their shortest unprecedented events have 21, 24, 27, 30 and 33 bits)."""
    pattern_k: int = 56
    """Part 2: demonstrator steps before the switch."""
    event_class_sizes: tuple[int, ...] = (24, 27, 30, 33)
    """Part 2: event caps (bits) of the class; events are enumerated once, up to the largest."""

    @classmethod
    def quick(cls) -> Config:
        return cls(k=6, switch_lengths=(1, 2), max_bits=21, event_max_bits=21, patterns=("1", "11"), pattern_k=8,
                   event_class_sizes=(21, 24))


def run(config: Config, folder: RunFolder) -> list[dict[str, Any]]:
    """KL needed (nats) and the class-internal telescoping bound for each switch length."""
    obs = (0,) * (config.k - 1) + (1,)
    t = config.k + 1
    rows = []
    for steps in config.switch_lengths:
        check = dataclasses.replace(theorem1.Config(), max_bits=config.max_bits, event_max_bits=config.event_max_bits,
                                    class_sizes=(config.event_max_bits,), switch_steps=steps, budgets=())
        cost = theorem1.switch_cost(check, "novel", obs, t, "+[.]]", extras=False)
        rows.append({"switch_steps": steps, "kl_bayes": cost.kl_bayes, "bound_posterior": cost.bound_posterior,
                     "bound_length": cost.bound_length, "shortest_program": cost.shortest_program})
    folder.write_metrics(rows)
    return rows


def run_events(config: Config, folder: RunFolder) -> list[dict[str, Any]]:
    """Part 2: every pattern world at every class size of ``event_class_sizes`` (events streamed once)."""
    caps = sorted(set(config.event_class_sizes))
    check = dataclasses.replace(theorem1.Config(), max_bits=config.max_bits, event_max_bits=caps[-1],
                                class_sizes=tuple(caps), pattern_k=config.pattern_k, budgets=())
    rows: list[dict[str, Any]] = []
    for pattern in config.patterns:
        obs = (0,) * (config.pattern_k - len(pattern)) + tuple(int(c) for c in pattern)
        t = config.pattern_k + 1
        start = time.perf_counter()
        point = theorem1.point_class(check, obs, t, caps[-1])
        for cap in caps:
            cost = theorem1.switch_cost(check, f"pattern {pattern}", obs, t, "+[.]]", point, cap, extras=False)
            rows.append({"pattern": pattern, "event_cap": cap, "event_bits": cost.event_bits, "event": cost.event,
                         "kl_bayes": cost.kl_bayes, "bound": cost.bound, "bound_posterior": cost.bound_posterior,
                         "seconds": round(time.perf_counter() - start, 1)})
    write_csv(folder.file("events.csv"), rows)
    return rows


def converged_slope(rows: list[dict[str, Any]]) -> tuple[float, float, list[float]]:
    """The slope (nats/bit) of the KL against K(E) at the largest class size, fitted on the event lengths already
    in the next smaller class, and the slope on the same lengths at that smaller size (as
    ``aitheory check theorem1`` reports it: their difference says whether the slope converged); and those K(E)."""
    caps = sorted({r["event_cap"] for r in rows})
    if len(caps) < 2:
        return math.nan, math.nan, []
    old = {r["pattern"] for r in rows if r["event_cap"] == caps[-2] and math.isfinite(r["event_bits"])}

    def fit(cap: int) -> tuple[float, list[float]]:
        pts = sorted((r for r in rows if r["event_cap"] == cap and r["pattern"] in old), key=lambda r: r["event_bits"])
        xs = [float(r["event_bits"]) for r in pts]
        slope = float(np.polyfit(xs, [r["kl_bayes"] for r in pts], 1)[0]) if len(set(xs)) >= 2 else math.nan
        return slope, xs

    slope, xs = fit(caps[-1])
    return slope, fit(caps[-2])[0], xs


def plot(folder: RunFolder) -> None:
    """The KL needed against the switch length, from the saved ``metrics.csv``."""
    import csv

    from aitheory.plotting import pyplot, save_figure

    with open(folder.file("metrics.csv"), encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    k = read_json(folder.file("config.json"))["config"]["k"]
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 4.0))
    steps = [int(r["switch_steps"]) for r in rows]
    ax.plot(steps, [float(r["kl_bayes"]) for r in rows], "o-", label=r"KL$(\pi^*\|\xi)$ needed (Definition 2)")
    ax.plot(steps, [float(r["bound_length"]) for r in rows], "k--", lw=1,
            label="len(shortest program playing the switch) x ln 2")
    ax.set_xlabel("steps the switch is sustained (m - t + 1)")
    ax.set_ylabel("nats")
    ax.set_xticks(steps)
    ax.set_title(f"Novel observation after k = {k} demonstrator steps", fontsize=9)
    ax.legend(fontsize=7)
    save_figure(fig, Path(folder.path) / "theorem1_switch_length")


def plot_events(rows: list[dict[str, Any]], folder: RunFolder) -> None:
    """Part 2: the KL against K(E) at each class size, with the bound."""
    from aitheory.plotting import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    caps = sorted({r["event_cap"] for r in rows})
    for i, cap in enumerate(caps):
        pts = [r for r in rows if r["event_cap"] == cap and math.isfinite(r["event_bits"])]
        ax.plot([r["event_bits"] for r in pts], [r["kl_bayes"] for r in pts], "o-", color=f"C{i}",
                label=f"events <= {cap} bits in the class")
    top = [r for r in rows if r["event_cap"] == caps[-1] and math.isfinite(r["bound"])]
    ax.plot([r["event_bits"] for r in top], [r["bound"] for r in top], "k--", lw=1,
            label=r"bound $[K(E)+K(\pi^*)+d]\,\ln 2$")
    slope, before, xs = converged_slope(rows)
    ax.set_xlabel("K(E): bits of the shortest event unprecedented at t")
    ax.set_ylabel(r"KL$(\pi^*\|\xi)$ needed (nats)")
    ax.set_title(f"Theorem 1, novel patterns: slope {slope:.3f} nats/bit on {[int(x) for x in xs]} at the largest "
                 f"class ({before:.3f} at the next smaller; ln 2 = {math.log(2):.3f})", fontsize=8)
    ax.legend(fontsize=7)
    save_figure(fig, Path(folder.path) / "theorem1_event_length")


def main() -> None:
    config, out = parse_experiment(Config, "theorem1-switch-length", __doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    folder = RunFolder.create(out, "theorem1-switch-length")
    folder.write_config(config)
    for row in run(config, folder):
        print(f"{row['switch_steps']} steps: KL {row['kl_bayes']:.3f} nats (shortest program "
              f"{row['shortest_program'] or '-'}, bound {row['bound_length']:.3f})")
    plot(folder)
    rows = run_events(config, folder)
    for r in rows:
        print(f"pattern {r['pattern']}, events <= {r['event_cap']} bits: K(E) = {r['event_bits']} "
              f"({r['event'] or '-'}), KL {r['kl_bayes']:.3f} nats, bound {r['bound']:.3f} [{r['seconds']} s]")
    slope, before, xs = converged_slope(rows)
    print(f"slope on the lengths {[int(x) for x in xs]}: {slope:.3f} nats/bit at the largest class size, {before:.3f} "
          f"at the next smaller (ln 2 = {math.log(2):.3f})")
    plot_events(rows, folder)


if __name__ == "__main__":
    main()
