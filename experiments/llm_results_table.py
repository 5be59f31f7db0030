"""The results table of LLM runs: one row per run folder, from the episodes of its last transcript file(s).

Usage: ``python experiments/llm_results_table.py RUN_DIR... [--last N]`` (training runs and control runs
alike). Prints a Markdown table (means over episodes; KL in nats) and, with ``--json FILE``, writes the same
numbers as JSON. Columns:

* ``B``: the budget of those episodes (control: 0; a range while the budget ramps); ``episodes``: how many;
* ``reward``: summed student-reply rewards per episode; ``student turns``: completed (rewarded) replies;
* ``KL spent``: summed sampled log-ratios per episode (what the budget is charged); ``forgiven``: overshoot
  forgiven by the clamp at 0; ``overshooting steps``: share of agent steps whose sampled log-ratio exceeded
  the remaining budget (and the largest excess); ``front share``: share of the KL spent in the first quarter
  of each episode's agent tokens (0.25 = spread evenly, 1 = all up front);
* ``empty``: mean per-episode fraction of completed teacher turns with at most 4 tokens, with the episodes'
  50th/90th percentiles, the share of episodes with at least one empty turn, and the share of empty turns
  that follow a student reply ended by the reply cutoff;
* ``zlib``, ``NLL``: compression ratio of the teacher's text and its per-token NLL under the base model.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from aitheory.llm.evaluate import empty_turn_kl, load_episodes, offline_measures, summarize
from aitheory.results import write_json

COLUMNS = (
    "run",
    "B",
    "episodes",
    "reward",
    "student turns",
    "KL spent",
    "forgiven",
    "overshooting steps",
    "front share",
    "empty",
    "empty p50/p90",
    "episodes with an empty turn",
    "empty after cutoff",
    "zlib",
    "NLL",
)


def row(run_dir: Path, last: int) -> dict[str, Any]:
    """The table's numbers for one run folder."""
    episodes = load_episodes(run_dir, last=last)
    if not episodes:
        raise SystemExit(f"argument run_dir: {run_dir} has no transcripts")
    s = summarize(episodes)
    off = offline_measures(episodes)
    budgets = sorted({float(e.budget or 0.0) for e in episodes})
    return {
        "run": run_dir.name,
        "budget": budgets,
        "episodes": s["episodes"],
        "reward": s["reward_mean"],
        "student_turns": s["student_turns_mean"],
        "kl_spent": s["kl_spent_mean"],
        "forgiven": s["forgiven_mean"],
        "overshoot": s["budget_overshoot"],
        "front_share": s["kl_front_share"],
        "empty_fraction": s["empty_fraction_mean"],
        "empty_p50": s["empty_fraction_percentiles"]["50"],
        "empty_p90": s["empty_fraction_percentiles"]["90"],
        "with_empty": sum(bool(empty_turn_kl(e)) for e in episodes) / len(episodes),
        "empty_after_cutoff": s["empty_after_cutoff_share"],
        "zlib": off["teacher_zlib_ratio"],
        "nll": off["teacher_nll_nats_per_token"],
    }


def _f(x: float, digits: int = 2) -> str:
    return "nan" if math.isnan(x) else f"{x:.{digits}f}"


def _overshoot(o: dict[str, float] | None) -> str:
    if not o or not o["steps"]:
        return "—"
    return f"{o['overshooting'] / o['steps']:.3f} (max {o['max_overshoot']:.1f})"


def _budget(budgets: list[float]) -> str:
    lo, hi = budgets[0], budgets[-1]
    return f"{lo:g}" if lo == hi else f"{lo:.2f}-{hi:.2f} (ramp)"


def markdown(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows:
        cells = [
            r["run"],
            _budget(r["budget"]),
            str(r["episodes"]),
            _f(r["reward"]),
            _f(r["student_turns"]),
            _f(r["kl_spent"]),
            _f(r["forgiven"]),
            _overshoot(r["overshoot"]),
            _f(r["front_share"]),
            _f(r["empty_fraction"], 3),
            f"{_f(r['empty_p50'])}/{_f(r['empty_p90'])}",
            _f(r["with_empty"]),
            _f(r["empty_after_cutoff"]),
            _f(r["zlib"]),
            _f(r["nll"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dirs", nargs="+", type=Path)
    parser.add_argument("--last", type=int, default=1, help="transcript files per run (default 1, the last)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers to this JSON file")
    args = parser.parse_args(argv)
    rows = [row(d, args.last) for d in args.run_dirs]
    print(markdown(rows))
    if args.json is not None:
        write_json(args.json, {"last": args.last, "rows": rows})


if __name__ == "__main__":
    main()
