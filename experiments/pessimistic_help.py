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

from dataclasses import dataclass

import numpy as np

from aitheory.configs import ArgumentParser, add_arguments, from_namespace
from aitheory.mixture import ClassConfig, build_class
from aitheory.results import RunFolder, write_json
from aitheory.theory import pessimistic as P


@dataclass(frozen=True)
class Config:
    """Demonstrator runs on the all-0 observation stream."""

    demonstrator: str = "+[~.]]"
    """The demonstrator mu (a plain program of the class that never stops)."""
    max_bits: int = 24
    """L: every plain program of at most L bits (plain code), SWITCH programs and MIX."""
    horizon: int = 60
    """H: action steps per run."""
    runs: int = 2_000
    """Number of seeded demonstrator runs."""
    alpha: float = 0.1
    """Prior-relative threshold."""
    alpha_absolute: float = 2.0**-20
    """Absolute threshold."""
    seed: int = 0
    """Seed of the runs."""
    demo_steps: int = 20
    """Exploit: demonstrator steps before the exploit policy acts."""
    exploit_steps: int = 4
    """Exploit: agent steps (Definition 2's horizon)."""
    exploit_runs: int = 3
    """Exploit: number of demonstrator histories to start from."""

    @classmethod
    def quick(cls) -> Config:
        return cls(max_bits=18, horizon=12, runs=50, demo_steps=8, exploit_steps=2, exploit_runs=1)

    def check_config(self) -> P.Config:
        return P.Config(demonstrator=self.demonstrator, max_bits=self.max_bits, horizon=self.horizon,
                        runs=self.runs, alpha=self.alpha, alpha_absolute=self.alpha_absolute, p_one=0.0,
                        seed=self.seed, exploit_runs=0, cross_check_runs=0)


def run(config: Config, folder: RunFolder) -> list[dict[str, object]]:
    """Simulate, measure the help probability per step, write the metrics and the figure."""
    check = config.check_config()
    mc = build_class(ClassConfig(max_bits=config.max_bits, horizon=config.horizon))  # the all-0 history only
    mu = P.demonstrator_in_class(mc, config.demonstrator)
    runs = P.simulate(mu, mc, config.runs, 0.0, np.random.default_rng(config.seed))
    acc = P.collect(mc, mu, check, runs)
    rows = P.help_rows(acc, check)
    folder.write_metrics(rows)
    P.plot_help(rows, check, folder.file("pessimistic_help_long"))
    exploit_config = P.Config(demonstrator=config.demonstrator, max_bits=config.max_bits,
                              horizon=config.demo_steps + config.exploit_steps, alpha=config.alpha,
                              alpha_absolute=config.alpha_absolute, demo_steps=config.demo_steps)
    histories = [tuple(int(x) for a in runs.actions[b, :config.demo_steps] for x in (a, 0))
                 for b in range(config.exploit_runs)]
    exploits = [P.exploit(mc, exploit_config, h, n_observations=1) for h in histories]
    write_json(folder.file("exploit.json"), exploits)
    for e in exploits:
        print(f"exploit from t = {config.demo_steps + 1}: KL(pi||xi) = {e.kl_xi:.4g}, KL(pi||nu_alpha) = {e.kl_nu}; "
              f"the demonstrator's own KL(mu||.) = {e.control}; switch blocked: {e.switch_blocked}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_arguments(parser, Config, explicit_only=True)  # explicit options win over --quick
    parser.add_argument("--quick", action="store_true", help="small configuration (for the tests)")
    parser.add_argument("--out", default=None, help="run folder (default runs/pessimistic-help-<time>)")
    args = parser.parse_args(argv)
    base = Config.quick() if args.quick else Config()
    try:  # a bad value (--field or --set field=): one line, exit 2
        config = from_namespace(Config, args, base=base)
    except ValueError as exc:
        parser.error(str(exc))
    folder = RunFolder.create(args.out, "pessimistic-help")
    folder.write_config(config, seed=config.seed)
    for row in run(config, folder):
        print(f"{row['reading']:>15} t={row['step']:>3}  help mean {row['help_mean']:.4f}  "
              f"median {row['help_q50']:.4f}  top-set rows {row['top_set_rows_mean']:.1f}  "
              f"stopping program in top set {row['stopping_row_in_top_set']:.3f}")
    print(f"[{folder.path}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
