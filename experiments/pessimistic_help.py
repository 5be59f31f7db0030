"""The pessimistic imitator's help probability over a longer horizon than ``aitheory check pessimistic`` affords.

The check builds its class on all ``2^(H-1)`` observation sequences, which limits it to H = 10 steps. Here the
environment is deterministic (every observation 0), so the class needs one observation sequence and the horizon
can be long: the demonstrator's own ``~`` is the only randomness. Same demonstrator, class and thresholds as the
check; writes ``metrics.csv`` (help probability per step and reading: mean and quantiles, top-set size, fraction
of runs where a program that stops at that step is in the top set) and ``pessimistic_help_long.png``/``.svg``.

It also runs the exploit of Theorem 1 once the imitator has stopped asking for help with probability 1: after
``demo_steps`` demonstrator steps, Definition 2's KL (over the single observation sequence) of the exploit and,
as the control, of ``mu`` itself, against ``xi`` and ``nu_alpha`` (``exploit.json``).

    PYTHONPATH=. python experiments/pessimistic_help.py --out runs/pessimistic-help
    PYTHONPATH=. python experiments/pessimistic_help.py --quick
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from aitheory.configs import parse_experiment
from aitheory.dsl.enumerate import check_enumeration_size
from aitheory.mixture import build_class
from aitheory.results import RunFolder, write_json
from aitheory.theory import pessimistic as P

#: Fields of the check's configuration this script does not read (the lossless class, the controls, the protocol).
NOT_READ = ("p_one", "lossless_demonstrator", "lossless_threshold", "ville_power", "control_alpha_factor",
            "outside_p", "outside_horizon", "outside_runs", "protocol_steps", "protocol_runs", "confidence",
            "cross_check_runs", "plot")


@dataclass(frozen=True)
class Config(P.Config):
    """The check's demonstrator, class and thresholds (:class:`aitheory.theory.pessimistic.Config`), run on the
    all-0 observation stream."""

    horizon: int = 60
    """H: action steps per run (the class holds one observation sequence, so H is not limited to the check's)."""
    runs: int = 2_000
    """Number of seeded demonstrator runs."""
    p_one: float = 0.0
    """The environment: every observation 0."""
    demo_steps: int = 20
    """Exploit: demonstrator steps before the exploit policy acts."""
    exploit_runs: int = 3
    """Exploit: number of demonstrator histories to start from."""
    exploit_steps: int = 4
    """Exploit: agent steps (Definition 2's horizon)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.p_one != 0:
            raise ValueError(f"argument p_one: the class holds the all-0 observation stream only, got {self.p_one!r}")
        if self.exploit_steps < 1:
            raise ValueError(f"argument exploit_steps: must be >= 1, got {self.exploit_steps}")

    def refuse_class_size(self) -> None:
        """One observation sequence (all 0): only the programs' number is limited."""
        check_enumeration_size(self.max_bits, "max_bits")

    @classmethod
    def quick(cls) -> Config:
        return cls(max_bits=18, horizon=12, runs=50, demo_steps=8, exploit_steps=2, exploit_runs=1)


def run(config: Config, folder: RunFolder) -> list[dict[str, object]]:
    """Simulate, measure the help probability per step, write the metrics and the figure."""
    mc = build_class(config.class_config())  # the all-0 history only
    mu = P.demonstrator_in_class(mc, config.demonstrator)
    runs = P.simulate(mu, mc, config.runs, config.p_one, np.random.default_rng(config.seed))
    acc = P.collect(mc, mu, config, runs)
    rows = P.help_rows(acc, config)
    folder.write_metrics(rows)
    P.plot_help(rows, config, folder.file("pessimistic_help_long"))
    exploit_config = replace(config, horizon=config.demo_steps + config.exploit_steps)
    histories = [tuple(int(x) for a in runs.actions[b, :config.demo_steps] for x in (a, 0))
                 for b in range(config.exploit_runs)]
    exploits = [P.exploit(mc, exploit_config, h, n_observations=1) for h in histories]
    write_json(folder.file("exploit.json"), exploits)
    for e in exploits:
        print(f"exploit from t = {config.demo_steps + 1}: KL(pi||xi) = {e.kl_xi:.4g}, KL(pi||nu_alpha) = {e.kl_nu}; "
              f"the demonstrator's own KL(mu||.) = {e.control}; switch blocked: {e.switch_blocked}")
    return rows


def main(argv: list[str] | None = None) -> int:
    config, out = parse_experiment(Config, "pessimistic-help", __doc__.split("\n\n")[0] if __doc__ else None, argv,
                                   exclude=NOT_READ)
    folder = RunFolder.create(out, "pessimistic-help")
    folder.write_config(config, seed=config.seed)
    for row in run(config, folder):
        print(f"{row['reading']:>15} t={row['step']:>3}  help mean {row['help_mean']:.4f}  "
              f"median {row['help_q50']:.4f}  top-set rows {row['top_set_rows_mean']:.1f}  "
              f"stopping program in top set {row['stopping_row_in_top_set']:.3f}")
    print(f"[{folder.path}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
