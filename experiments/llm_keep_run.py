"""Copy what a long LLM run needs to be resumed and analysed into a folder small enough to commit.

Usage: ``python experiments/llm_keep_run.py RUN_DIR DEST_DIR``. Copies ``config.json``, ``metrics.csv`` and
``checkpoints/latest.pt`` (the head rows and Adam moments that change: a few MB) and, from ``transcripts/``, the
files the results page reads into ``DEST_DIR/kept-transcripts/``: the first iteration, the last
:data:`LAST` iterations of every phase of the schedule that has ended (a phase is the budget stage, ramp or full,
and the episode length, as in :func:`aitheory.llm.evaluate.split_phases`) and the iteration after each (a
``metrics.csv`` row carries the phase of its update's last rollout, so the update that crosses a phase boundary
may hold episodes of the ended phase, which the evaluation assigns per episode), and the :data:`LAST` latest
iterations. Kept transcripts already in ``DEST_DIR`` are never deleted, so an analysis made from an earlier
snapshot can be rerun. Full transcripts (about 0.5 MB per iteration) are not copied.

To resume from ``DEST_DIR``: ``aitheory llm train --resume --out DEST_DIR`` (copy ``kept-transcripts/*`` into
``DEST_DIR/transcripts/`` first if the analysis is to be run there).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aitheory.llm.evaluate import run_budget
from aitheory.results import atomic_write_bytes, read_csv

LAST = 4
"""Iterations kept per ended phase and at the end (the results page uses ``--last 4``)."""
STATE = ("config.json", "metrics.csv", "checkpoints/latest.pt")
"""The files ``--resume`` needs, always copied."""
TRANSCRIPTS, KEPT = "transcripts", "kept-transcripts"


def phase_of(row: dict[str, str], full_budget: float) -> tuple[str, int]:
    """The phase of one ``metrics.csv`` row: (``"ramp"`` or ``"full"``, episode length in tokens)."""
    stage = "full" if float(row["budget"]) >= full_budget else "ramp"
    return stage, int(row["episode_tokens"])


def iterations_to_keep(rows: list[dict[str, str]], full_budget: float) -> list[int]:
    """First iteration, the last :data:`LAST` of each ended phase and the one after it, the :data:`LAST` latest;
    sorted."""
    by_phase: dict[tuple[str, int], list[int]] = {}
    for row in rows:
        by_phase.setdefault(phase_of(row, full_budget), []).append(int(row["iteration"]))
    iterations = [int(row["iteration"]) for row in rows]
    keep = set(iterations[:1]) | set(iterations[-LAST:])
    for its in list(by_phase.values())[:-1]:
        keep |= set(its[-LAST:]) | {its[-1] + 1}
    return sorted(keep)


def keep_run(src: Path, dst: Path) -> list[str]:
    """Copy ``src``'s resumable state and chosen transcripts into ``dst``; the names of the files written."""
    for name in STATE:
        if not (src / name).is_file():
            raise FileNotFoundError(f"{src / name}: missing (is {src} a training run folder?)")
    rows = read_csv(src / "metrics.csv")
    files = [*STATE, *(f"{TRANSCRIPTS}/iter_{it:05d}.jsonl" for it in iterations_to_keep(rows, run_budget(src)))]
    written = []
    for name in files:
        target = dst / name.replace(TRANSCRIPTS, KEPT, 1)
        if name.startswith(TRANSCRIPTS) and (target.is_file() or not (src / name).is_file()):
            continue  # kept already, or an iteration whose transcript was not written
        atomic_write_bytes(target, (src / name).read_bytes())
        written.append(str(target.relative_to(dst)))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("dest_dir", type=Path)
    args = parser.parse_args(argv)
    if args.run_dir.resolve() == args.dest_dir.resolve():
        print(f"llm_keep_run: {args.dest_dir}: the same folder as the run", file=sys.stderr)
        return 2
    try:
        written = keep_run(args.run_dir, args.dest_dir)
    except FileNotFoundError as err:
        print(f"llm_keep_run: {err}", file=sys.stderr)
        return 2
    for name in written:
        print(f"{args.dest_dir}/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
