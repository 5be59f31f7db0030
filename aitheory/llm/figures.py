"""The paper's Figures 2-4 from saved transcripts (matplotlib, the ``plots`` extra; no torch needed).

* Figure 2: one transcript coloured by per-token KL (sampled log-ratio, nats), as HTML and PNG.
* Figure 3: 25/50/75% quantiles of the KL spent on the n-th empty teacher response, square-root y axis.
* Figure 4: per episode, the fraction of teacher turns that are empty; one histogram per run (budget and
  episode length), percentiles in the legend; runs with the same per-token budget ``B / episode_tokens`` are
  marked with the same symbol (the paper's budget-10/256 vs budget-20/512 comparison).
* Training curves (ours, not in the paper): per PPO iteration, from each run's ``metrics.csv``, the mean
  reward, KL spent against the current budget, empty fraction, student turns, budget target ``k_t`` and
  mixture weight ``alpha``; runs without ``metrics.csv`` (control runs) are left out.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from aitheory.llm.episodes import Episode, EpisodeLike, as_episode
from aitheory.llm.evaluate import (
    empty_fraction,
    empty_turn_kl,
    kl_quantiles_by_index,
    run_series,
    transcript_html,
)
from aitheory.plotting import pyplot, save_figure
from aitheory.results import atomic_write_text

__all__ = ["figure2", "figure3", "figure4", "make_figures", "run_label", "training_curves"]


def run_label(records: Sequence[EpisodeLike], name: str) -> str:
    """``name: B=<budget> nats, L=<episode tokens>`` from the episodes' own records (a budget range
    ``lo-hi`` while the budget ramps)."""
    episodes = [as_episode(e) for e in records]
    budgets = sorted({math.nan if e.budget is None else float(e.budget) for e in episodes})
    lengths = sorted({int(e.episode_tokens or 0) for e in episodes})
    b = f"{budgets[0]:g}" if len(budgets) == 1 else f"{budgets[0]:.2f}-{budgets[-1]:.2f}"
    return f"{name}: B={b} nats, L={'/'.join(map(str, lengths))}"


def _legend_below(ax: Any) -> None:
    """The legend under the axes (it grows with the runs and phases; ``save_figure`` keeps it in the image)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, -0.16), frameon=False)


def _sqrt_axis(ax: Any) -> None:
    ax.set_yscale("function", functions=(lambda y: np.sqrt(np.clip(y, 0, None)), lambda y: np.square(y)))


def figure3(runs: Mapping[str, Sequence[EpisodeLike]], stem: Path) -> tuple[Path, Path]:
    """Quantiles of the KL spent (nats) on the n-th empty response, for each run.

    The KL spent on a turn is its summed sampled log-ratio, which can be slightly negative; the square-root
    axis shows negative quantiles at 0. A point needs at least 10% of the run's episodes; runs with no such
    point are named in the plot with their count of episodes that have an empty response.
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    missing: list[str] = []
    for name, episodes in runs.items():
        min_count = max(1, len(episodes) // 10)
        rows = kl_quantiles_by_index(episodes, min_count=min_count)
        if not rows:
            having = sum(bool(empty_turn_kl(e)) for e in episodes)
            missing.append(f"{name}: {having} of {len(episodes)} episodes have an empty response (< {min_count})")
            continue
        n = [r["n"] for r in rows]
        ax.plot(n, [max(r["q50"], 0.0) for r in rows], marker="o", label=run_label(episodes, name))
        ax.fill_between(n, [max(r["q25"], 0.0) for r in rows], [max(r["q75"], 0.0) for r in rows], alpha=0.25)
    _sqrt_axis(ax)
    ax.set_ylim(bottom=0)
    max_n = max((line.get_xdata()[-1] for line in ax.get_lines()), default=1)
    ax.set_xlim(0.5, max_n + 0.5)
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlabel("n (n-th empty teacher response in the episode)")
    ax.set_ylabel("KL spent on it (nats, sqrt scale)")
    ax.set_title("KL spent on the n-th empty response (median, 25-75%)")
    if missing:
        note = "not drawn (a point needs 10% of the run's episodes):\n" + "\n".join(missing)
        ax.text(0.02, 0.97, note, transform=ax.transAxes, va="top", fontsize=7)
    _legend_below(ax)
    return save_figure(fig, stem)


def figure4(runs: Mapping[str, Sequence[EpisodeLike]], stem: Path) -> tuple[Path, Path]:
    """Histograms of the per-episode fraction of empty teacher turns, one per run, as shares of the run's
    episodes (episodes without a completed teacher turn left out; ``n`` in the legend)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    ratios: dict[float, str] = {}
    symbols = iter("*+x^v")
    bins = np.linspace(0, 1, 21)
    for name, episodes in runs.items():
        fr = np.array([empty_fraction(e) for e in episodes], dtype=float)
        fr = fr[~np.isnan(fr)]
        if fr.size == 0:
            continue
        per_token = round(float(np.mean([_budget_per_token(as_episode(e)) for e in episodes])), 6)
        mark = ratios.setdefault(per_token, next(symbols, "o"))
        p = np.percentile(fr, [25, 50, 75])
        label = f"{mark} {run_label(episodes, name)}; p25/50/75 = {p[0]:.2f}/{p[1]:.2f}/{p[2]:.2f}"
        ax.hist(fr, bins=bins, weights=np.full(fr.size, 1.0 / fr.size), alpha=0.5, label=f"{label} (n={fr.size})")
    ax.set_xlabel("fraction of teacher turns that are empty (per episode)")
    ax.set_ylabel("share of episodes")
    ax.set_title("Empty teacher turns per episode (same symbol = same budget per token)", fontsize=10)
    _legend_below(ax)
    return save_figure(fig, stem)


def _budget_per_token(episode: Episode) -> float:
    """``B_0 / episode_tokens`` (nats per token)."""
    if episode.budget is None or episode.episode_tokens is None:
        raise KeyError("budget" if episode.budget is None else "episode_tokens")
    return episode.budget / episode.episode_tokens


def pick_transcript(episodes: Sequence[EpisodeLike]) -> Episode:
    """The episode with the most empty teacher responses (ties: the first)."""
    return max((as_episode(e) for e in episodes), key=lambda e: len(empty_turn_kl(e)))


def figure2(record: EpisodeLike, stem: Path, width: int = 110) -> tuple[Path, Path, Path]:
    """A transcript coloured by per-token KL: ``stem.html`` and ``stem.png``/``stem.svg``.

    The colour of a token is its sampled log-ratio ``ln x(a) - ln beta(a)`` (white at 0 or below, dark red
    at the transcript's maximum, at least 1 nat); ``width`` is the line length in characters.
    """
    episode = as_episode(record)
    if episode.log_ratio is None or episode.tokens is None or episode.roles is None:
        raise KeyError("log_ratio, tokens and roles are needed for figure 2")
    html_path = atomic_write_text(stem.with_suffix(".html"), transcript_html(episode))
    plt = pyplot()
    lr = [float(v) for v in episode.log_ratio]
    vmax = max([1.0, *lr])
    cmap = plt.get_cmap("Reds")
    lines: list[list[tuple[str, float, str]]] = [[]]
    col = 0
    for tok, role, v in zip(episode.tokens, episode.roles, lr, strict=True):
        for k, part in enumerate(tok.split("\n")):
            if k and (lines[-1] or (len(lines) > 1 and lines[-2])):
                lines.append([])
                col = 0
            if col + len(part) > width:
                lines.append([])
                col = 0
            if part:
                lines[-1].append((part, v, role))
                col += len(part)
    fontsize = 8.0
    char_in = 0.6 * fontsize / 72  # monospace advance, inches
    fig_w = width * char_in + 0.4
    line_in = 1.5 * fontsize / 72
    fig_h = len(lines) * line_in + 0.6
    fig = plt.figure(figsize=(fig_w, fig_h))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.axis("off")
    for row, segs in enumerate(lines):
        x = 0.2 / fig_w
        y = 1 - (0.45 + (row + 1) * line_in) / fig_h
        for text, v, role in segs:
            colour = "#1f4e9a" if role in ("student", "forced") else ("#777777" if role == "prompt" else "black")
            face = "white" if v <= 0 else cmap(min(v / vmax, 1.0))
            ax.text(
                x,
                y,
                text,
                family="monospace",
                fontsize=fontsize,
                color=colour,
                bbox={"facecolor": face, "edgecolor": "none", "pad": 0.3},
            )
            x += len(text) * char_in / fig_w
    title = (
        f"per-token KL, 0 to {vmax:.2f} nats (sampled log-ratio); budget {episode.budget:g} nats, "
        f"spent {episode.kl_spent:.2f}; blue = student, grey = prompt"
    )
    ax.text(0.2 / fig_w, 1 - 0.25 / fig_h, title, fontsize=fontsize, family="sans-serif")
    png, svg = save_figure(fig, stem)
    return html_path, png, svg


#: The panels of :func:`training_curves`: ``metrics.csv`` column and axis label.
CURVES: tuple[tuple[str, str], ...] = (
    ("reward_mean", "reward per episode"),
    ("kl_spent_mean", "KL spent per episode (nats)"),
    ("empty_fraction", "empty fraction of teacher turns"),
    ("student_turns_mean", "student turns per episode"),
    ("k_mean", "budget target k_t (nats)"),
    ("alpha_mean", "mixture weight alpha"),
)


def read_metrics(run_dir: str | Path) -> list[dict[str, float]] | None:
    """The rows of a run's ``metrics.csv`` as floats (empty cells: ``nan``); ``None`` if it has none."""
    path = Path(run_dir) / "metrics.csv"
    if not path.exists():
        return None
    with path.open(newline="") as f:
        return [{k: float(v) if v not in ("", None) else math.nan for k, v in row.items()} for row in csv.DictReader(f)]


def _length_changes(rows: list[dict[str, float]]) -> list[float]:
    """Agent tokens at the iterations whose ``episode_tokens`` differs from the previous one's."""
    lengths = [r.get("episode_tokens", math.nan) for r in rows]
    pairs = zip(lengths, rows[1:], lengths[1:], strict=False)
    return [r["agent_tokens"] for prev, r, n in pairs if not (math.isnan(prev) or math.isnan(n)) and n != prev]


def training_curves(metrics: dict[str, list[dict[str, float]]], stem: Path) -> tuple[Path, Path]:
    """Per-iteration means against agent tokens, one line per run; the KL panel also shows each run's current
    budget ``B_t`` dashed (the ramp), and a dotted vertical line marks where a run's episode length changes (the
    start of its long-episode phase)."""
    plt = pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(12, 6), sharex=True)
    for name, rows in metrics.items():
        x = [r["agent_tokens"] for r in rows]
        for ax, (column, label) in zip(axes.flat, CURVES, strict=True):
            (line,) = ax.plot(x, [r.get(column, math.nan) for r in rows], marker=".", label=name)
            if column == "kl_spent_mean":
                ax.plot(x, [r["budget"] for r in rows], ls="--", color=line.get_color(), lw=0.8)
            for start in _length_changes(rows):
                ax.axvline(start, ls=":", color=line.get_color(), lw=0.8)
            ax.set_title(label, fontsize=9)
    for ax in axes[1]:
        ax.set_xlabel("agent tokens")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(
        "Training curves (per PPO iteration; dashed: current budget B_t; dotted: episode length changes)", fontsize=10
    )
    return save_figure(fig, stem)


def make_figures(
    run_dirs: Sequence[str | Path], out: str | Path, last: int = 1, stages: Sequence[str] | None = None
) -> list[Path]:
    """Figures 2-4 for the runs into ``out``, one series per run and phase
    (:func:`aitheory.llm.evaluate.run_series`: the episodes of each phase's ``last`` latest iterations, a
    base-model phase whole, so that a control is compared with the phases of its own episode length), and the
    training curves of the runs that have a ``metrics.csv``. Figure 2
    shows one transcript per run, from its last series."""
    out = Path(out)
    per_run = {Path(d).name: run_series(d, last=last, stages=stages) for d in run_dirs}
    series = {label: eps for runs in per_run.values() for label, eps in runs.items()}
    written: list[Path] = []
    written += figure3(series, out / "figure3_kl_per_empty_response")
    written += figure4(series, out / "figure4_empty_fraction")
    metrics = {name: rows for name, rows in ((Path(d).name, read_metrics(d)) for d in run_dirs) if rows}
    if metrics:
        written += training_curves(metrics, out / "training_curves")
    for name, runs in per_run.items():
        if runs:
            written += figure2(pick_transcript(list(runs.values())[-1]), out / f"figure2_transcript_{name}")
    return written
