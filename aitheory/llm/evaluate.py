"""Evaluation of saved transcripts: empty teacher responses, KL spent on them, the paper's Figures 2-4.

Works on the JSONL transcripts of a run folder (no torch needed), read as :class:`~aitheory.llm.episodes.Episode`
records; every function also takes the parsed JSON records themselves. Definitions, as in the paper:

* an **empty teacher response** is a completed teacher turn of at most ``max_tokens = 4`` tokens (the turn's
  tokens include the hand-over marker, e.g. ``"\\n\\nStudent:"`` is 4 SmolLM2 tokens); an unfinished last turn
  is not counted;
* the **KL spent** on a turn is the sum over its agent tokens of the sampled log-ratio
  ``ln x(a_t) - ln beta(a_t)`` (nats): what the budget was charged;
* Figure 3: the 25/50/75% quantiles, over episodes, of the KL spent on the n-th empty response (sqrt y axis);
* Figure 4: per episode, the fraction of completed teacher turns that are empty (histogram and percentiles);
* Figure 2: a transcript coloured by per-token KL (HTML and PNG).
"""

from __future__ import annotations

import html
import json
import math
import random
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from aitheory.llm.episodes import Episode, EpisodeLike, Turn, TurnLike, as_episode, as_turn
from aitheory.results import write_json

__all__ = [
    "EMPTY_MAX_TOKENS",
    "Judge",
    "budget_overshoot",
    "compare_runs",
    "empty_after_cutoff",
    "empty_fraction",
    "empty_turn_kl",
    "is_empty_teacher_turn",
    "judge_preference",
    "kl_front_share",
    "load_episodes",
    "offline_measures",
    "student_turns",
    "summarize",
]

#: A teacher turn of at most this many tokens is an empty response.
EMPTY_MAX_TOKENS = 4


def is_empty_teacher_turn(turn: TurnLike, max_tokens: int = EMPTY_MAX_TOKENS) -> bool:
    """A completed teacher turn with at most ``max_tokens`` tokens."""
    t = as_turn(turn)
    return t.completed_teacher and t.n_tokens <= max_tokens


def _turns(episode: Episode) -> tuple[Turn, ...]:
    if episode.turns is None:
        raise KeyError("turns")  # as the record's missing key did
    return episode.turns


def _completed_teacher_turns(episode: Episode) -> list[Turn]:
    return [t for t in _turns(episode) if t.completed_teacher]


def student_turns(episode: EpisodeLike) -> int:
    """Completed (rewarded) student replies in the episode."""
    return sum(t.role == "student" and t.reward is not None for t in _turns(as_episode(episode)))


def empty_fraction(episode: EpisodeLike, max_tokens: int = EMPTY_MAX_TOKENS) -> float:
    """Fraction of the episode's completed teacher turns that are empty (``nan`` if it has none)."""
    turns = _completed_teacher_turns(as_episode(episode))
    if not turns:
        return math.nan
    return sum(t.n_tokens <= max_tokens for t in turns) / len(turns)


def empty_turn_kl(episode: EpisodeLike, max_tokens: int = EMPTY_MAX_TOKENS) -> list[float]:
    """KL spent (nats) on the 1st, 2nd, ... empty teacher response of the episode."""
    turns = _completed_teacher_turns(as_episode(episode))
    return [float(t.kl_spent or 0.0) for t in turns if t.n_tokens <= max_tokens]


def _required(value: tuple[Any, ...] | None, key: str) -> tuple[Any, ...]:
    if value is None:
        raise KeyError(key)  # as the record's missing key did
    return value


def kl_front_share(episodes: Sequence[EpisodeLike], fraction: float = 0.25) -> float:
    """Share of the KL spent (summed sampled log-ratios, over all episodes) on the first ``fraction`` of each
    episode's agent tokens: ``fraction`` if spending is uniform over the episode, near 1 if paid up front.
    ``nan`` if no KL was spent in total."""
    front = 0.0
    total = 0.0
    for e in map(as_episode, episodes):
        pairs = zip(_required(e.log_ratio, "log_ratio"), _required(e.roles, "roles"), strict=True)
        lr = [float(v) for v, r in pairs if r == "teacher"]
        cut = math.ceil(fraction * len(lr))
        front += sum(lr[:cut])
        total += sum(lr)
    return front / total if total > 0 else math.nan


def empty_after_cutoff(episode: EpisodeLike, max_tokens: int = EMPTY_MAX_TOKENS) -> tuple[int, int]:
    """``(empty teacher responses, those that follow a student reply ended by the reply cutoff)``.

    After a cutoff the environment forces the hand-over to the teacher mid-sentence; an immediate hand-back
    is then an empty response that the base model may find likely for reasons unrelated to mutual silence.
    """
    turns = _turns(as_episode(episode))
    empty = [i for i, t in enumerate(turns) if is_empty_teacher_turn(t, max_tokens)]
    after_cut = sum(1 for i in empty if i > 0 and turns[i - 1].role == "student" and turns[i - 1].cut)
    return len(empty), after_cut


def budget_overshoot(episodes: Sequence[EpisodeLike], tol: float = 1e-5) -> dict[str, float]:
    """How the per-step budget held, over all agent steps of the episodes (nats).

    * ``steps``: agent steps; ``kl_above_budget``: steps whose expected cost ``KL(x_t || beta_t)`` exceeds the
      remaining budget ``B_t`` by more than ``tol`` (0 by construction: ``k_t <= B_t + 1e-6``);
    * ``overshooting``: steps whose *sampled* log-ratio exceeds ``B_t`` (the clamp at 0 forgives the excess),
      with the ``mean_overshoot`` and ``max_overshoot`` of the excess.
    """
    steps = above = 0
    excess: list[float] = []
    for e in map(as_episode, episodes):
        agent = [i for i, r in enumerate(_required(e.roles, "roles")) if r == "teacher"]
        kl, log_ratio = _required(e.kl, "kl"), _required(e.log_ratio, "log_ratio")
        for i, b in zip(agent, _required(e.budget_before, "budget_before"), strict=True):
            steps += 1
            above += kl[i] > b + tol
            if log_ratio[i] > b:
                excess.append(log_ratio[i] - b)
    return {
        "steps": steps,
        "kl_above_budget": above,
        "overshooting": len(excess),
        "mean_overshoot": float(np.mean(excess)) if excess else 0.0,
        "max_overshoot": max(excess, default=0.0),
    }


def load_episodes(run_dir: str | Path, last: int | None = None) -> list[Episode]:
    """Episodes of a run folder's transcripts; ``last=n`` keeps the ``n`` latest transcript files."""
    files = sorted(Path(run_dir, "transcripts").glob("*.jsonl"))
    if not files:
        raise FileNotFoundError(f"no transcripts/*.jsonl in {run_dir}")
    if last is not None:
        files = files[-last:]
    episodes: list[Episode] = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            episodes.extend(Episode.from_json(json.loads(line)) for line in fh if line.strip())
    return episodes


def kl_quantiles_by_index(
    episodes: Iterable[EpisodeLike], quantiles: Sequence[float] = (0.25, 0.5, 0.75), min_count: int = 1
) -> list[dict[str, float]]:
    """For n = 1, 2, ...: quantiles of the KL spent on the n-th empty response (episodes that have one)."""
    per_index: list[list[float]] = []
    for e in episodes:
        for n, kl in enumerate(empty_turn_kl(e)):
            if n == len(per_index):
                per_index.append([])
            per_index[n].append(kl)
    rows = []
    for n, values in enumerate(per_index, start=1):
        if len(values) < min_count:
            break
        q = np.quantile(np.asarray(values), quantiles)
        rows.append(
            {
                "n": n,
                "count": len(values),
                **{f"q{int(p * 100)}": float(v) for p, v in zip(quantiles, q, strict=True)},
            }
        )
    return rows


def summarize(episodes: Sequence[EpisodeLike]) -> dict[str, Any]:
    """Headline statistics of a set of episodes (means over episodes; KL in nats)."""
    return _summarize([as_episode(e) for e in episodes])


def _summarize(episodes: list[Episode]) -> dict[str, Any]:
    fracs = np.array([empty_fraction(e) for e in episodes], dtype=float)
    fracs = fracs[~np.isnan(fracs)]

    def mean(xs: Iterable[float]) -> float:
        arr = np.asarray(list(xs), dtype=float)
        return float(arr.mean()) if arr.size else math.nan

    return {
        "episodes": len(episodes),
        "reward_mean": mean(_scalar(e.reward, "reward") for e in episodes),
        "kl_spent_mean": mean(_scalar(e.kl_spent, "kl_spent") for e in episodes),
        "forgiven_mean": mean(0.0 if e.forgiven is None else e.forgiven for e in episodes),
        "student_turns_mean": mean(student_turns(e) for e in episodes),
        "teacher_turns_mean": mean(len(_completed_teacher_turns(e)) for e in episodes),
        "kl_front_share": kl_front_share(episodes) if all(e.log_ratio is not None for e in episodes) else math.nan,
        "empty_fraction_mean": float(fracs.mean()) if fracs.size else math.nan,
        "empty_fraction_percentiles": {
            str(p): float(np.percentile(fracs, p)) if fracs.size else math.nan for p in (10, 25, 50, 75, 90)
        },
        "empty_turns_mean": mean(len(empty_turn_kl(e)) for e in episodes),
        "empty_after_cutoff_share": _after_cutoff_share(episodes),
        "budget_overshoot": (
            budget_overshoot(episodes) if all(e.budget_before is not None for e in episodes) else None
        ),
        "kl_on_empty_turns": kl_quantiles_by_index(episodes, min_count=max(1, len(episodes) // 10)),
    }


def _scalar(value: float | None, key: str) -> float:
    if value is None:
        raise KeyError(key)  # as the record's missing key did
    return value


def _after_cutoff_share(episodes: Sequence[Episode]) -> float:
    counts = [empty_after_cutoff(e) for e in episodes]
    empty = sum(c[0] for c in counts)
    return sum(c[1] for c in counts) / empty if empty else math.nan


def evaluate_run(run_dir: str | Path, last: int | None = None, control_dir: str | Path | None = None) -> dict[str, Any]:
    """Summary of a run's transcripts (and a comparison with control transcripts), to ``evaluation.json``."""
    episodes = load_episodes(run_dir, last=last)
    summary = summarize(episodes)
    summary["offline"] = offline_measures(episodes)
    if control_dir is not None:
        summary["comparison"] = compare_runs(episodes, load_episodes(control_dir))
    write_json(Path(run_dir) / "evaluation.json", summary)
    return summary


def _kl_colour(value: float, vmax: float) -> str:
    t = 0.0 if vmax <= 0 else max(0.0, min(1.0, value / vmax))
    r, g, b = 255, int(255 * (1 - t)), int(255 * (1 - t))
    return f"#{r:02x}{g:02x}{b:02x}"


def transcript_html(record: EpisodeLike, vmax: float | None = None) -> str:
    """Figure 2 as HTML: each token on a background from white (0 nats) to red (``vmax`` nats or more)."""
    episode = as_episode(record)
    lr = [float(v) for v in _required(episode.log_ratio, "log_ratio")]
    vmax = vmax if vmax is not None else max([1.0, *lr])
    spans = []
    for tok, role, v in zip(_required(episode.tokens, "tokens"), _required(episode.roles, "roles"), lr, strict=True):
        style = f"background:{_kl_colour(v, vmax)}"
        if role in ("student", "forced"):
            style += ";color:#1f4e9a"
        if role == "prompt":
            style += ";color:#777"
        title = f"{role}; log x/beta = {v:.3f} nats"
        spans.append(f'<span style="{style}" title="{html.escape(title)}">{html.escape(tok)}</span>')
    head = (
        f"<p>budget {_scalar(episode.budget, 'budget'):g} nats; spent {_scalar(episode.kl_spent, 'kl_spent'):.2f} "
        f"nats; reward {_scalar(episode.reward, 'reward'):.2f}; colour scale 0 to {vmax:.2f} nats "
        "(sampled log-ratio per token); "
        "blue text: student; grey: prompt</p>"
    )
    body = f'<pre style="white-space:pre-wrap;font-size:14px">{"".join(spans)}</pre>'
    return f"<html><body>{head}{body}</body></html>"


#: A pairwise judge: ``judge(transcript_a, transcript_b)`` is the probability that ``a`` is better (for
#: example an LLM asked "which teacher is better?"); plug in your own, none ships with aitheory.
Judge = Callable[[str, str], float]


def transcript_text(episode: EpisodeLike) -> str:
    """The episode's full text (prompt included)."""
    return "".join(_required(as_episode(episode).tokens, "tokens"))


def teacher_text(episode: EpisodeLike) -> str:
    """Concatenated text of the episode's completed teacher turns (what the agent wrote)."""
    return "".join(t.text for t in _completed_teacher_turns(as_episode(episode)))


def _teacher_log_beta(episode: Episode) -> list[float]:
    lb = episode.log_beta or ()
    roles = episode.roles or ()
    return [float(v) for v, r in zip(lb, roles, strict=False) if r == "teacher" and v is not None]


def offline_measures(episodes: Sequence[EpisodeLike]) -> dict[str, float]:
    """Offline stand-ins for the paper's Table 1 judgements, averaged over episodes.

    * ``teacher_zlib_ratio``: zlib-compressed bytes / raw bytes of the teacher's text (complexity, higher =
      less predictable by a generic compressor);
    * ``teacher_nll_nats_per_token``: ``-mean ln beta(token)`` over the teacher's tokens under the base model
      (unpredictability for the base model);
    * ``teacher_tokens``: agent tokens per episode; ``teacher_chars``: characters of completed teacher turns.
    """
    ratios: list[float] = []
    nll: list[float] = []
    toks: list[float] = []
    chars: list[float] = []
    for e in map(as_episode, episodes):
        raw = teacher_text(e).encode("utf-8")
        if raw:
            ratios.append(len(zlib.compress(raw, 9)) / len(raw))
        lb = _teacher_log_beta(e)
        if lb:
            nll.append(-sum(lb) / len(lb))
        toks.append(sum(r == "teacher" for r in e.roles or ()))
        chars.append(len(raw))

    def mean(xs: list[float]) -> float:
        return float(np.mean(xs)) if xs else math.nan

    return {
        "teacher_zlib_ratio": mean(ratios),
        "teacher_nll_nats_per_token": mean(nll),
        "teacher_tokens": mean(toks),
        "teacher_chars": mean(chars),
    }


def judge_preference(
    first: Sequence[EpisodeLike], second: Sequence[EpisodeLike], judge: Judge, pairs: int, seed: int
) -> float:
    """Mean ``judge(a, b)`` over ``pairs`` random pairs (a from ``first``, b from ``second``), order-balanced.

    Each pair is judged both ways and scored ``(judge(a, b) + 1 - judge(b, a)) / 2`` to cancel position bias.
    """
    rng = random.Random(seed)
    scores = []
    for _ in range(pairs):
        a, b = transcript_text(rng.choice(first)), transcript_text(rng.choice(second))
        scores.append((judge(a, b) + 1.0 - judge(b, a)) / 2.0)
    return float(np.mean(scores)) if scores else math.nan


def compare_runs(
    agent: Sequence[EpisodeLike],
    control: Sequence[EpisodeLike],
    judge: Judge | None = None,
    pairs: int = 100,
    seed: int = 0,
) -> dict[str, Any]:
    """Table 1 analogue: offline measures (and a judge's preference if given) for agent vs base transcripts."""
    out: dict[str, Any] = {
        "agent": {**offline_measures(agent), **_headline(agent)},
        "control": {**offline_measures(control), **_headline(control)},
    }
    if judge is not None:
        out["judge_prefers_agent"] = judge_preference(agent, control, judge, pairs, seed)
    return out


def _headline(episodes: Sequence[EpisodeLike]) -> dict[str, float]:
    s = summarize(episodes)
    keys = ("reward_mean", "kl_spent_mean", "student_turns_mean", "empty_fraction_mean", "empty_turns_mean")
    return {k: s[k] for k in keys}
