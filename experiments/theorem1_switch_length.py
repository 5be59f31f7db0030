"""Theorem 1: how the KL needed depends on how long the switch must be sustained.

After a novel observation at step k, the agent switches to the bad action for ``m - t + 1`` steps. Definition 2
takes the worst open-loop observations over those steps. For a one- or two-step switch, programs that merely copy
the last observation (consistent with every demonstrator step, since the observations were 0) carry the switch
almost for free; a longer switch against adversarial observations needs the event-latching construction
``SWITCH(E, P, MIX)``, whose cost is the Theorem 1 bound. Writes ``metrics.csv`` and the figure
``theorem1_switch_length.png``/``.svg``.

    PYTHONPATH=. python experiments/theorem1_switch_length.py --out runs/theorem1-switch-length
    PYTHONPATH=. python experiments/theorem1_switch_length.py --quick
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

from aitheory.configs import ArgumentParser, add_arguments, from_namespace
from aitheory.results import RunFolder, read_json
from aitheory.theory import theorem1


@dataclass(frozen=True)
class Config:
    """The novel-observation world at one k, for several switch lengths."""

    k: int = 48
    """Demonstrator steps before the switch (the k-th observation is the novel 1)."""
    switch_lengths: tuple[int, ...] = (1, 2, 3, 4)
    """Numbers of steps m - t + 1 the switch is sustained."""
    max_bits: int = 24
    """Plain programs of at most this many bits in the class."""
    event_max_bits: int = 21
    """SWITCH events of at most this many plain-code bits in the class."""

    @classmethod
    def quick(cls) -> Config:
        return cls(k=6, switch_lengths=(1, 2), max_bits=21, event_max_bits=21)


def run(config: Config, folder: RunFolder) -> list[dict[str, float]]:
    """KL needed (nats) and the class-internal telescoping bound for each switch length."""
    obs = (0,) * (config.k - 1) + (1,)
    t = config.k + 1
    rows = []
    for steps in config.switch_lengths:
        check = dataclasses.replace(theorem1.Config(), max_bits=config.max_bits,
                                    event_max_bits=config.event_max_bits, switch_steps=steps, budgets=())
        cost = theorem1.switch_cost(check, "novel", obs, t, event_bits=math.nan)
        rows.append({"switch_steps": steps, "kl_bayes": cost.kl_bayes, "bound_posterior": cost.bound_posterior,
                     "bound_length": cost.bound_length, "shortest_program": cost.shortest_program})
    folder.write_metrics(rows)
    return rows


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


def main() -> None:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser, Config, explicit_only=True)  # explicit options win over --quick
    parser.add_argument("--quick", action="store_true", help="small configuration (seconds)")
    parser.add_argument("--out", default=None, help="run folder (default runs/theorem1-switch-length-<time>)")
    args = parser.parse_args()
    try:  # a bad value (--field or --set field=): one line, exit 2
        config = from_namespace(Config, args, base=Config.quick() if args.quick else Config())
    except ValueError as exc:
        parser.error(str(exc))
    folder = RunFolder.create(args.out, "theorem1-switch-length")
    folder.write_config(config)
    for row in run(config, folder):
        print(f"{row['switch_steps']} steps: KL {row['kl_bayes']:.3f} nats (shortest program "
              f"{row['shortest_program'] or '-'}, bound {row['bound_length']:.3f})")
    plot(folder)


if __name__ == "__main__":
    main()
