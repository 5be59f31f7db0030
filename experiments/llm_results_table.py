"""The results table of LLM runs: one row per run folder, from the episodes of its last transcript file(s).

Usage: ``python experiments/llm_results_table.py RUN_DIR... [--last N] [--phases STAGES]`` (training runs and
control runs alike). Prints a Markdown table (means over episodes; KL in nats) and, with ``--json FILE``, writes
the same numbers as JSON. With ``--phases`` (comma-separated stages of ``base``, ``ramp``, ``full``) the rows are
per run *and phase* of the schedule (``ramp/256``, ``full/256``, ``full/512``: the ``last`` latest iterations of
each; a control run gives its base-model phases, all its episodes; :func:`aitheory.llm.evaluate.run_series`),
followed by three more tables from the same episodes: where the KL is spent
(:func:`aitheory.llm.evaluate.kl_spending`), what the student does after a silent teacher turn and after a
non-empty one (:func:`aitheory.llm.evaluate.after_silence`), and whether the empty fraction rises with the
budget and the episode length, and whether it differs between the paper's sampled bookkeeping and
``budget_accounting="expected"`` (:func:`aitheory.llm.evaluate.empty_fraction_trends`, 95% bootstrap intervals).
Columns of the first table:

* ``B``: the budget of those episodes (control: 0; a range while the budget ramps); ``episodes``: how many;
* ``reward``: summed student-reply rewards per episode; ``student turns``: completed (rewarded) replies;
* ``KL spent``: summed sampled log-ratios per episode (what the budget is charged); ``forgiven``: overshoot
  forgiven by the clamp at 0; ``overshooting steps``: share of agent steps whose sampled log-ratio exceeded
  the remaining budget (and the largest excess); ``front share``: share of the KL spent in the first quarter
  of each episode's agent tokens (0.25 = spread evenly, 1 = all up front);
* ``empty``: mean per-episode fraction of completed teacher turns with at most 4 tokens, with the episodes'
  50th/90th percentiles, the share of episodes with at least one empty turn, and the share of empty turns
  that follow a student reply ended by the reply cutoff (in brackets the same share for all teacher turns that
  follow a reply, the reference: with a short cutoff most replies are cut);
* ``zlib``, ``NLL``: compression ratio of the teacher's text and its per-token NLL under the base model.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from aitheory.llm.episodes import Episode
from aitheory.llm.evaluate import (
    STAGES,
    empty_fraction_trends,
    empty_turn_kl,
    load_episodes,
    offline_measures,
    run_accounting,
    run_series,
    summarize,
)
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
    return episodes_row(run_dir.name, episodes)


def episodes_row(name: str, episodes: list[Episode]) -> dict[str, Any]:
    """The table's numbers for a set of episodes."""
    s = summarize(episodes)
    off = offline_measures(episodes)
    budgets = sorted({float(e.budget or 0.0) for e in episodes})
    return {
        "run": name,
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
        "teacher_after_cutoff": s["teacher_after_cutoff_share"],
        "zlib": off["teacher_zlib_ratio"],
        "nll": off["teacher_nll_nats_per_token"],
        "kl_spending": s["kl_spending"],
        "kl_spending_with_empty": s["kl_spending_with_empty"],
        "with_empty_count": sum(bool(empty_turn_kl(e)) for e in episodes),
        "after_silence": s["after_silence"],
        "after_speech": s["after_speech"],
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
            f"{_f(r['empty_after_cutoff'])} ({_f(r['teacher_after_cutoff'])})",
            _f(r["zlib"]),
            _f(r["nll"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


SPENDING_COLUMNS = (
    "run",
    "KL spent",
    "quarters 1/2/3/4",
    "first turn",
    "costliest turn",
    "empty turns",
    "first empty turn",
    "nats/token empty / other",
)


def _spending_rows(rows: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Per run that spent KL: its spending, then that of its episodes with an empty turn."""
    out = []
    for r in rows:
        if r["kl_spending"] is None or r["kl_spent"] == 0:
            continue
        out.append((r["run"], r["kl_spending"]))
        if r["kl_spending_with_empty"] is not None:
            name = f"{r['run']}, the {r['with_empty_count']} episodes with an empty turn"
            out.append((name, r["kl_spending_with_empty"]))
    return out


def spending_markdown(rows: list[dict[str, Any]]) -> str:
    """Where the KL is spent (shares of the KL spent; :func:`aitheory.llm.evaluate.kl_spending`), over all the
    episodes and over those with an empty turn."""
    lines = ["| " + " | ".join(SPENDING_COLUMNS) + " |", "|" + "---|" * len(SPENDING_COLUMNS)]
    for name, k in _spending_rows(rows):
        cells = [
            name,
            _f(k["kl_spent_mean"]),
            "/".join(_f(x) for x in k["quarter_shares"]),
            _f(k["first_turn_share"]),
            _f(k["top_turn_share"]),
            _f(k["empty_turn_share"]),
            _f(k["first_empty_share"]),
            f"{_f(k['kl_per_token_empty'], 3)} / {_f(k['kl_per_token_other'], 3)}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _after(a: dict[str, float]) -> str:
    if not a["replies"]:
        return "— (0 replies)"
    return (
        f"{a['replies']:.0f}: {_f(a['empty_reply_share'])} / {_f(a['cut_share'])} / {_f(a['reply_tokens_mean'], 1)}"
        f" / {_f(a['reward_mean'])}"
    )


def after_markdown(rows: list[dict[str, Any]]) -> str:
    """The student's replies after an empty and after a non-empty teacher turn."""
    head = (
        "| run | after an empty teacher turn: replies: empty / cut / tokens / reward "
        "| after a non-empty teacher turn: the same |"
    )
    lines = [head, "|---|---|---|"]
    lines += [f"| {r['run']} | {_after(r['after_silence'])} | {_after(r['after_speech'])} |" for r in rows]
    return "\n".join(lines)


def trends_markdown(trends: dict[str, list[dict[str, Any]]]) -> str:
    """The contrasts of :func:`aitheory.llm.evaluate.empty_fraction_trends`."""
    head = (
        "| contrast | a | b | a - b (empty fraction) | 95% interval "
        "| control: re-deals whose interval excludes 0 (first re-deal: a - b, interval) | verdict |"
    )
    lines = [head, "|---|---|---|---|---|---|---|"]
    for c in trends["contrasts"]:
        verdict = "rises" if c["rises"] else "falls" if c["falls"] else "no detectable change"
        null = c["controls"]["shuffled"]
        if null["changed"]:
            verdict = "none (the control changed)"
        interval = f"{_f(c['lo'], 3)} to {_f(c['hi'], 3)}"
        first = f"{_f(null['difference'], 3)}, {_f(null['lo'], 3)} to {_f(null['hi'], 3)}"
        control = f"{_f(null['excluded_share'], 2)} of {null['repeats']} ({first})"
        lines.append(
            f"| {c['kind']} | {c['a']} | {c['b']} | {_f(c['difference'], 3)} | {interval} | {control} | {verdict} |"
        )
    return "\n".join(lines)


def _stages(text: str) -> tuple[str, ...]:
    stages = tuple(s.strip() for s in text.split(",") if s.strip())
    bad = [s for s in stages if s not in STAGES]
    if bad or not stages:
        raise argparse.ArgumentTypeError(f"unknown stage {', '.join(bad) or '(none)'}; choose from {', '.join(STAGES)}")
    return stages


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dirs", nargs="+", type=Path)
    parser.add_argument("--last", type=int, default=1, help="transcript files per run (default 1, the last)")
    parser.add_argument(
        "--phases", type=_stages, default=None, help="rows per run and phase of these stages (base, ramp, full)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers to this JSON file")
    args = parser.parse_args(argv)
    if args.phases is None:
        rows = [row(d, args.last) for d in args.run_dirs]
        print(markdown(rows))
        if args.json is not None:
            write_json(args.json, {"last": args.last, "rows": rows})
        return
    series = {d.name: run_series(d, last=args.last, stages=args.phases) for d in args.run_dirs}
    rows = [episodes_row(label, eps) for runs in series.values() for label, eps in runs.items()]
    books = {d.name: run_accounting(d) for d in args.run_dirs}
    phases = {run: {k.split(" ", 1)[1]: v for k, v in s.items()} for run, s in series.items()}
    trends = empty_fraction_trends(phases, accounting=books)
    print(markdown(rows), spending_markdown(rows), after_markdown(rows), trends_markdown(trends), sep="\n\n")
    if args.json is not None:
        write_json(args.json, {"last": args.last, "phases": list(args.phases), "rows": rows, "trends": trends})


if __name__ == "__main__":
    main()
