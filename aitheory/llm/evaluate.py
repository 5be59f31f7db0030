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
import itertools
import json
import math
import random
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from aitheory.llm.episodes import Episode, EpisodeLike, Turn, TurnLike, as_episode, as_turn
from aitheory.results import write_json

__all__ = [
    "EMPTY_MAX_TOKENS",
    "STAGES",
    "Judge",
    "after_silence",
    "after_speech",
    "bootstrap_difference",
    "budget_overshoot",
    "compare_phases",
    "compare_runs",
    "empty_after_cutoff",
    "empty_fraction",
    "empty_fraction_trends",
    "empty_turn_kl",
    "episode_phase",
    "is_empty_teacher_turn",
    "judge_preference",
    "kl_front_share",
    "kl_position_shares",
    "kl_spending",
    "load_episodes",
    "load_phases",
    "offline_measures",
    "phase_stage",
    "phase_summary",
    "run_accounting",
    "run_budget",
    "run_series",
    "split_phases",
    "student_turns",
    "summarize",
    "teacher_turns_after_cutoff",
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


def _agent_log_ratios(episode: Episode) -> list[float]:
    """The sampled log-ratios of the episode's agent tokens, in order (nats)."""
    pairs = zip(_required(episode.log_ratio, "log_ratio"), _required(episode.roles, "roles"), strict=True)
    return [float(v) for v, r in pairs if r == "teacher"]


def kl_position_shares(episodes: Sequence[EpisodeLike], parts: int = 4) -> list[float]:
    """Shares of the KL spent (summed sampled log-ratios, over all episodes) on each of ``parts`` equal slices of
    each episode's agent tokens, in order: ``1/parts`` each if spending is uniform over the episode's agent
    tokens, the first near 1 if it is paid up front. Slice ``j`` of an episode with ``n`` agent tokens holds the
    tokens ``ceil(j n / parts) .. ceil((j + 1) n / parts) - 1``. ``nan`` each if no KL was spent in total."""
    sums = [0.0] * parts
    for e in map(as_episode, episodes):
        lr = _agent_log_ratios(e)
        cuts = [math.ceil(j * len(lr) / parts) for j in range(parts + 1)]
        for j in range(parts):
            sums[j] += sum(lr[cuts[j] : cuts[j + 1]])
    total = sum(sums)
    return [x / total if total > 0 else math.nan for x in sums]


def kl_front_share(episodes: Sequence[EpisodeLike], fraction: float = 0.25) -> float:
    """Share of the KL spent (summed sampled log-ratios, over all episodes) on the first ``fraction`` of each
    episode's agent tokens: ``fraction`` if spending is uniform over the episode, near 1 if paid up front.
    ``nan`` if no KL was spent in total."""
    front = 0.0
    total = 0.0
    for e in map(as_episode, episodes):
        lr = _agent_log_ratios(e)
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


def teacher_turns_after_cutoff(episode: EpisodeLike) -> tuple[int, int]:
    """``(completed teacher turns that follow a student reply, those that follow a reply ended by the cutoff)``:
    the reference for :func:`empty_after_cutoff` (with a short cutoff most replies are cut, so most turns of any
    length follow a cut)."""
    turns = _turns(as_episode(episode))
    after = [i for i, t in enumerate(turns) if t.completed_teacher and i > 0 and turns[i - 1].role == "student"]
    return len(after), sum(1 for i in after if turns[i - 1].cut)


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
        "teacher_after_cutoff_share": _share(teacher_turns_after_cutoff(e) for e in episodes),
        "budget_overshoot": (
            budget_overshoot(episodes) if all(e.budget_before is not None for e in episodes) else None
        ),
        "kl_on_empty_turns": kl_quantiles_by_index(episodes, min_count=max(1, len(episodes) // 10)),
        "kl_spending": kl_spending(episodes) if all(e.turns is not None for e in episodes) else None,
        "kl_spending_with_empty": (
            kl_spending(silent) if (silent := [e for e in episodes if empty_turn_kl(e)]) else None
        ),
        "after_silence": after_silence(episodes),
        "after_speech": after_speech(episodes),
    }


def _scalar(value: float | None, key: str) -> float:
    if value is None:
        raise KeyError(key)  # as the record's missing key did
    return value


def _share(counts: Iterable[tuple[int, int]]) -> float:
    """``sum(part) / sum(whole)`` over ``(whole, part)`` pairs; ``nan`` if the wholes sum to 0."""
    pairs = list(counts)
    whole = sum(c[0] for c in pairs)
    return sum(c[1] for c in pairs) / whole if whole else math.nan


def _after_cutoff_share(episodes: Sequence[Episode]) -> float:
    counts = [empty_after_cutoff(e) for e in episodes]
    empty = sum(c[0] for c in counts)
    return sum(c[1] for c in counts) / empty if empty else math.nan


def _replies_after(episodes: Sequence[EpisodeLike], silent: bool) -> dict[str, float]:
    replies: list[Turn] = []
    for e in map(as_episode, episodes):
        for prev, turn in itertools.pairwise(_turns(e)):
            speaker_done = prev.completed_teacher and is_empty_teacher_turn(prev) == silent
            if speaker_done and turn.role == "student" and turn.reply is not None:
                replies.append(turn)
    n = len(replies)
    return {
        "replies": n,
        "empty_reply_share": sum(t.reply == "" for t in replies) / n if n else math.nan,
        "cut_share": sum(bool(t.cut) for t in replies) / n if n else math.nan,
        "reply_tokens_mean": sum(t.n_tokens for t in replies) / n if n else math.nan,
        "reward_mean": sum(float(t.reward or 0.0) for t in replies) / n if n else math.nan,
    }


def after_silence(episodes: Sequence[EpisodeLike]) -> dict[str, float]:
    """What the student does right after an empty teacher turn (completed replies only).

    ``replies``: how many; ``empty_reply_share``: replies whose text is empty (the paper's *mutual* silence);
    ``cut_share``: replies ended by the reply cutoff; ``reply_tokens_mean``: their mean length in tokens (marker
    included); ``reward_mean``: their mean reward (reward units). ``nan`` if none.
    """
    return _replies_after(episodes, silent=True)


def after_speech(episodes: Sequence[EpisodeLike]) -> dict[str, float]:
    """:func:`after_silence` for the replies after a completed teacher turn that is *not* empty (the reference)."""
    return _replies_after(episodes, silent=False)


def kl_spending(episodes: Sequence[EpisodeLike], min_share: float = 0.1) -> dict[str, Any]:
    """Where in the episode the KL is spent, beside the paper's pattern (its agent pays up front, on the turn that
    starts the silent regime, then little per token: Figure 3 and its Section 5).

    Shares are ratios of sums over all episodes (nats / nats, the KL of a turn being its summed sampled
    log-ratio, :attr:`Turn.kl_spent`); a share is ``nan`` if no KL was spent in total.

    * ``episodes``; ``kl_spent_mean``: the KL spent on teacher turns per episode (nats);
    * ``quarter_shares``: :func:`kl_position_shares` with 4 slices of each episode's agent tokens (0.25 each if
      spent evenly);
    * ``first_turn_share``: spent on each episode's first teacher turn (the continuation of the prompt);
    * ``top_turn_share``: spent on each episode's costliest teacher turn (near 1: paid on one specific turn);
    * ``empty_turn_share``: spent on empty teacher responses; ``first_empty_share``: on each episode's first one
      (the paper's up-front payment that buys the silent regime);
    * ``kl_per_token_empty`` / ``kl_per_token_other``: nats per agent token on completed empty / other teacher
      turns;
    * ``by_turn``: for n = 1, 2, ... the n-th teacher turn of the episodes (an unfinished last turn included):
      ``count``, ``kl_mean`` (nats), ``empty_share`` (of the completed ones), while at least ``min_share`` of the
      episodes have an n-th turn.
    """
    eps = [as_episode(e) for e in episodes]
    total = first = top = empty = first_empty = 0.0
    tokens = {True: 0, False: 0}
    spent = {True: 0.0, False: 0.0}
    by_turn: list[list[Turn]] = []
    for e in eps:
        teacher = [t for t in _turns(e) if t.role == "teacher"]
        kls = [float(t.kl_spent or 0.0) for t in teacher]
        total += sum(kls)
        first += kls[0] if kls else 0.0
        top += max(kls, default=0.0)
        empties = [k for t, k in zip(teacher, kls, strict=True) if is_empty_teacher_turn(t)]
        empty += sum(empties)
        first_empty += empties[0] if empties else 0.0
        for n, t in enumerate(teacher):
            if n == len(by_turn):
                by_turn.append([])
            by_turn[n].append(t)
            if t.completed_teacher:
                silent = is_empty_teacher_turn(t)
                tokens[silent] += t.n_tokens
                spent[silent] += float(t.kl_spent or 0.0)

    def share(x: float) -> float:
        return x / total if total > 0 else math.nan

    rows = []
    for n, turns in enumerate(by_turn, start=1):
        if len(turns) < max(1, math.ceil(min_share * len(eps))):
            break
        done = [t for t in turns if t.completed_teacher]
        rows.append(
            {
                "n": n,
                "count": len(turns),
                "kl_mean": float(np.mean([float(t.kl_spent or 0.0) for t in turns])),
                "empty_share": sum(map(is_empty_teacher_turn, done)) / len(done) if done else math.nan,
            }
        )
    return {
        "episodes": len(eps),
        "kl_spent_mean": total / len(eps) if eps else math.nan,
        "quarter_shares": kl_position_shares(eps) if all(e.log_ratio is not None for e in eps) else [math.nan] * 4,
        "first_turn_share": share(first),
        "top_turn_share": share(top),
        "empty_turn_share": share(empty),
        "first_empty_share": share(first_empty),
        "kl_per_token_empty": spent[True] / tokens[True] if tokens[True] else math.nan,
        "kl_per_token_other": spent[False] / tokens[False] if tokens[False] else math.nan,
        "by_turn": rows,
    }


#: Stages of the training schedule (:func:`aitheory.llm.config.schedule`), in order: see :func:`episode_phase`.
STAGES = ("base", "ramp", "full")


def episode_phase(episode: EpisodeLike, full_budget: float, tol: float = 1e-9) -> str:
    """The schedule phase of an episode, ``"<stage>/<episode tokens>"`` (``"full/512"``).

    Stage ``base`` if its budget ``B_0`` is 0 (the agent may spend at most 1e-6 nats per token: a base-model
    episode, as in control runs and a training run's first rollout), ``full`` if ``B_0 >= full_budget - tol``
    (the run's budget ``B``), else ``ramp``. A record without a budget counts as ``full``, without a length as
    ``"<stage>/?"``.
    """
    e = as_episode(episode)
    if e.budget is None:
        stage = "full"
    elif e.budget <= 0:
        stage = "base"
    else:
        stage = "full" if e.budget >= full_budget - tol else "ramp"
    return f"{stage}/{e.episode_tokens if e.episode_tokens is not None else '?'}"


def phase_stage(label: str) -> str:
    """The stage of a phase label (``"full/512"`` -> ``"full"``)."""
    return label.split("/", 1)[0]


def _phase_key(label: str) -> tuple[int, int]:
    stage, length = label.split("/", 1)
    return STAGES.index(stage), int(length) if length.isdigit() else 1 << 62


def split_phases(
    episodes: Sequence[EpisodeLike],
    full_budget: float,
    stages: Sequence[str] | None = None,
    last: int | None = None,
) -> dict[str, list[Episode]]:
    """Episodes by phase (:func:`episode_phase`), in schedule order (stage, then length).

    ``stages`` keeps the phases of those stages only. ``last=n`` keeps, per phase, the episodes of its ``n``
    latest iterations (:attr:`Episode.iteration`), except ``base`` phases, which keep all theirs: base-model
    episodes are draws from one distribution whatever their iteration (a control run's rollouts).
    """
    groups: dict[str, list[Episode]] = {}
    for e in map(as_episode, episodes):
        label = episode_phase(e, full_budget)
        if stages is None or phase_stage(label) in stages:
            groups.setdefault(label, []).append(e)
    out: dict[str, list[Episode]] = {}
    for label in sorted(groups, key=_phase_key):
        group = groups[label]
        if last is not None and phase_stage(label) != "base":
            keep = sorted({e.iteration or 0 for e in group})[-last:]
            group = [e for e in group if (e.iteration or 0) in keep]
        out[label] = group
    return out


def _saved_config(run_dir: str | Path) -> dict[str, Any]:
    """The ``config`` object of a run folder's ``config.json`` (empty if there is none)."""
    path = Path(run_dir) / "config.json"
    saved = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    config = saved.get("config") if isinstance(saved, dict) else None
    return config if isinstance(config, dict) else {}


def run_accounting(run_dir: str | Path) -> str:
    """The run's budget bookkeeping (``"sampled"``, the paper's, or ``"expected"``) from its ``config.json``;
    ``"sampled"`` for a folder without one (the default of every configuration)."""
    accounting = _saved_config(run_dir).get("budget_accounting", "sampled")
    return str(accounting)


def run_budget(run_dir: str | Path, episodes: Sequence[EpisodeLike] = ()) -> float:
    """The run's full budget ``B`` (nats): from its ``config.json``, else the largest episode budget, else 0."""
    budget = _saved_config(run_dir).get("budget")
    if isinstance(budget, (int, float)):
        return float(budget)
    return max((float(e.budget or 0.0) for e in map(as_episode, episodes)), default=0.0)


def load_phases(
    run_dir: str | Path, stages: Sequence[str] | None = None, last: int | None = None
) -> dict[str, list[Episode]]:
    """:func:`split_phases` of all the episodes of a run folder, with the run's budget (:func:`run_budget`)."""
    episodes = load_episodes(run_dir)
    return split_phases(episodes, run_budget(run_dir, episodes), stages=stages, last=last)


def run_series(
    run_dir: str | Path, last: int = 1, stages: Sequence[str] | None = None
) -> dict[str, list[Episode]]:
    """The series a run contributes to Figures 3 and 4: its phases (:func:`load_phases`,
    each from its ``last`` latest iterations, base-model phases whole), keyed ``"<run> <phase>"``.

    ``stages`` (``"ramp"``, ``"full"``, ``"base"``) selects phases by stage; a run without any (a control run,
    all base-model episodes) gives its base phases. ``None``: the phases of the run's ``last`` latest iterations.
    """
    name = Path(run_dir).name
    phases = load_phases(run_dir, last=last)
    if stages is None:
        latest = sorted({e.iteration or 0 for eps in phases.values() for e in eps})[-last:]
        keep = [p for p, eps in phases.items() if any((e.iteration or 0) in latest for e in eps)]
    else:
        keep = [p for p in phases if phase_stage(p) in stages]
        if not keep and all(phase_stage(p) == "base" for p in phases):
            keep = list(phases)
    return {f"{name} {p}": phases[p] for p in keep}


def phase_summary(episodes: Sequence[EpisodeLike]) -> dict[str, Any]:
    """:func:`summarize` of a phase's episodes with their budgets, iterations, agent tokens and offline measures."""
    eps = [as_episode(e) for e in episodes]
    budgets = [float(e.budget) for e in eps if e.budget is not None]
    iterations = [e.iteration for e in eps if e.iteration is not None]
    return {
        **summarize(eps),
        "budget_range": [min(budgets), max(budgets)] if budgets else None,
        "iterations": [min(iterations), max(iterations)] if iterations else None,
        "offline": offline_measures(eps),
    }


def compare_phases(
    agent: Mapping[str, Sequence[EpisodeLike]], control: Sequence[EpisodeLike]
) -> dict[str, dict[str, Any]]:
    """Per phase of ``agent``, :func:`compare_runs` against the control episodes of the same length (the control's
    base-model episodes of that episode length, pooled); ``control`` is ``None`` with a ``note`` where the control
    has no episodes of that length yet."""
    by_length: dict[int | None, list[Episode]] = {}
    for e in map(as_episode, control):
        by_length.setdefault(e.episode_tokens, []).append(e)
    out: dict[str, dict[str, Any]] = {}
    for label, episodes in agent.items():
        length = as_episode(episodes[0]).episode_tokens if episodes else None
        matched = by_length.get(length, [])
        if matched:
            out[label] = {**compare_runs(episodes, matched), "control_episodes": len(matched)}
        else:
            have = ", ".join(str(k) for k in sorted(by_length, key=lambda k: k or 0)) or "none"
            out[label] = {
                "agent": {**offline_measures(episodes), **_headline(episodes)},
                "control": None,
                "control_episodes": 0,
                "note": f"no control episodes of {length} tokens (the control has lengths: {have})",
            }
    return out


def bootstrap_difference(
    a: Sequence[float], b: Sequence[float], resamples: int = 2000, seed: int = 0, level: float = 0.95
) -> dict[str, float]:
    """``mean(a) - mean(b)`` with a percentile-bootstrap interval (each sample resampled with replacement,
    ``resamples`` times, seeded); ``nan`` if either sample is empty."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if not x.size or not y.size:
        return {"difference": math.nan, "lo": math.nan, "hi": math.nan}
    rng = np.random.default_rng(seed)
    dx = x[rng.integers(0, x.size, (resamples, x.size))].mean(axis=1)
    dy = y[rng.integers(0, y.size, (resamples, y.size))].mean(axis=1)
    lo, hi = np.quantile(dx - dy, [(1 - level) / 2, (1 + level) / 2])
    return {"difference": float(x.mean() - y.mean()), "lo": float(lo), "hi": float(hi)}


NULL_REPEATS = 100
"""Random re-deals of a contrast's negative control (:func:`_null_control`)."""


def _null_control(
    a: Sequence[float], b: Sequence[float], seed: int, repeats: int = NULL_REPEATS, level: float = 0.95
) -> dict[str, Any]:
    """The negative control of a contrast: the episodes of ``a`` and ``b`` pooled and dealt back at random into
    groups of their sizes (no difference by construction), ``repeats`` times, each re-deal's difference with its
    :func:`bootstrap_difference` interval.

    A calibrated interval excludes 0 in about ``1 - level`` of the re-deals; ``changed`` (the control fails, so
    the contrast gives no verdict) when the share that exclude 0 (``excluded_share``) is above
    ``1 - level`` by more than three binomial standard deviations. ``difference``, ``lo``, ``hi``: the first
    re-deal's, for the table.

    The percentile bootstrap is anti-conservative when a group is (nearly) degenerate, for example every episode
    at the same 8/9 empty fraction: its resampled means barely vary, the intervals come out too narrow, and more
    re-deals than chance exclude 0. That is what this control is for: such a contrast is reported as giving no
    verdict rather than a spurious one.
    """
    pooled = np.concatenate([np.asarray(a, dtype=float), np.asarray(b, dtype=float)])
    rng = np.random.default_rng(seed + 1)
    deals = []
    for r in range(repeats):
        dealt = rng.permutation(pooled)
        first, second = dealt[: len(a)].tolist(), dealt[len(a) :].tolist()
        deals.append(bootstrap_difference(first, second, seed=seed + r, level=level))
    excluded = sum(1 for d in deals if d["lo"] > 0 or d["hi"] < 0) / repeats
    alpha = 1 - level
    limit = alpha + 3 * math.sqrt(alpha * (1 - alpha) / repeats)
    return {**deals[0], "repeats": repeats, "excluded_share": excluded, "changed": excluded > limit}


def _contrast_seed(seed: int, a: str, b: str) -> int:
    """A seed of its own for each contrast (so that the re-deals of two contrasts are not the same draws)."""
    return seed + zlib.crc32(f"{a}|{b}".encode()) % 1_000_003


def _empty_fractions(episodes: Sequence[EpisodeLike]) -> list[float]:
    return [f for f in (empty_fraction(e) for e in episodes) if not math.isnan(f)]


def empty_fraction_trends(
    runs: Mapping[str, Mapping[str, Sequence[EpisodeLike]]],
    seed: int = 0,
    accounting: Mapping[str, str] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Whether the empty fraction rises with the budget and with the episode length, per phase.

    ``runs`` maps run names to their phases (:func:`split_phases`). ``rows``: per run and phase, the mean budget
    ``B_0`` (nats), the length ``L`` (tokens), ``B_0 / L``, the episodes with a completed teacher turn and their
    mean empty fraction. ``contrasts``, each the difference of the mean empty fractions ``a - b`` with a 95%
    bootstrap interval (:func:`bootstrap_difference`), ``rises`` if the interval lies above 0 and ``falls`` if
    below, each only if the contrast's negative control (``controls.shuffled``: the same contrast with the two
    groups' episodes pooled and dealt back at random, so that there is no difference, :data:`NULL_REPEATS` times,
    each contrast with its own seed; it fails when more re-deals than chance allows show a change,
    :func:`_null_control`) shows no change:

    * ``budget``: the same non-base phase label in two runs, the higher budget as ``a``;
    * ``length``: the same run and stage (not base), the longer episodes as ``a``;
    * ``budget per token``: the paper's budget-10/256 against budget-20/512: two non-base phases with the same
      ``B_0 / L`` (within 1%) and different lengths, the longer as ``a``;
    * ``base``: a non-base phase against the base-model episodes of its length (every given run's ``base``
      phases, pooled);
    * ``accounting``: the same non-base phase label at the same budget in two runs whose budget bookkeeping
      differs (``accounting`` maps run names to ``"sampled"`` or ``"expected"``; a run not in it is ``"sampled"``),
      ``expected`` as ``a``.

    The budget, length and budget-per-token contrasts compare runs of the same bookkeeping only, so that a
    difference of accounting is never read as one of budget.
    """
    books = dict(accounting or {})
    cells: list[dict[str, Any]] = []
    for run, phases in runs.items():
        for label, episodes in phases.items():
            eps = [as_episode(e) for e in episodes]
            if not eps:
                continue
            budget = float(np.mean([float(e.budget or 0.0) for e in eps]))
            length = eps[0].episode_tokens or 0
            fr = _empty_fractions(eps)
            cells.append(
                {
                    "run": run,
                    "phase": label,
                    "accounting": books.get(run, "sampled"),
                    "budget": budget,
                    "episode_tokens": length,
                    "budget_per_token": budget / length if length else math.nan,
                    "episodes": len(fr),
                    "empty_fraction": float(np.mean(fr)) if fr else math.nan,
                    "_fr": fr,
                }
            )
    contrasts: list[dict[str, Any]] = []

    def contrast(kind: str, a: dict[str, Any], b_fr: list[float], b_name: str) -> None:
        name = f"{a['run']} {a['phase']}"
        d = bootstrap_difference(a["_fr"], b_fr, seed=seed)
        null = _null_control(a["_fr"], b_fr, _contrast_seed(seed, name, b_name))
        changed = bool(null["changed"])
        contrasts.append(
            {
                "kind": kind,
                "a": name,
                "b": b_name,
                **d,
                "rises": d["lo"] > 0 and not changed,
                "falls": d["hi"] < 0 and not changed,
                "controls": {"shuffled": null},
            }
        )

    live = [c for c in cells if phase_stage(c["phase"]) != "base"]
    for a, b in itertools.combinations(live, 2):
        hi, lo = (a, b) if a["budget"] >= b["budget"] else (b, a)
        long_, short = (a, b) if a["episode_tokens"] >= b["episode_tokens"] else (b, a)
        if a["accounting"] != b["accounting"]:
            same_budget = math.isclose(a["budget"], b["budget"], rel_tol=1e-9)
            if a["phase"] == b["phase"] and same_budget:
                exp, smp = (a, b) if a["accounting"] == "expected" else (b, a)
                contrast("accounting", exp, smp["_fr"], f"{smp['run']} {smp['phase']}")
            continue
        if a["phase"] == b["phase"] and a["run"] != b["run"] and a["budget"] != b["budget"]:
            contrast("budget", hi, lo["_fr"], f"{lo['run']} {lo['phase']}")
        same_stage = phase_stage(a["phase"]) == phase_stage(b["phase"])
        if a["run"] == b["run"] and same_stage and a["episode_tokens"] != b["episode_tokens"]:
            contrast("length", long_, short["_fr"], f"{short['run']} {short['phase']}")
        same_rate = math.isclose(a["budget_per_token"], b["budget_per_token"], rel_tol=0.01)
        if a["episode_tokens"] != b["episode_tokens"] and same_rate:
            contrast("budget per token", long_, short["_fr"], f"{short['run']} {short['phase']}")
    for a in live:
        base = [f for c in cells if c["phase"] == f"base/{a['episode_tokens']}" for f in c["_fr"]]
        if base:
            contrast("base", a, base, f"base/{a['episode_tokens']} (pooled)")
    return {"rows": [{k: v for k, v in c.items() if k != "_fr"} for c in cells], "contrasts": contrasts}


def evaluate_run(
    run_dir: str | Path,
    last: int | None = None,
    control_dir: str | Path | Sequence[str | Path] | None = None,
) -> dict[str, Any]:
    """Summary of a run's transcripts, to ``evaluation.json``.

    The top level summarises the episodes of the last ``last`` transcript files (all if ``None``), ``offline``
    their :func:`offline_measures`; ``phases`` summarises each phase of the schedule (:func:`split_phases`, the
    ``last`` latest iterations of each; :func:`phase_summary`), so that a run's ramp, full-budget and long-episode
    phases are each reported; with control folders (one or several, pooled), ``comparison`` compares each phase
    with the control episodes of the same length (:func:`compare_phases`), and says where there are none.
    """
    episodes = load_episodes(run_dir)
    latest = load_episodes(run_dir, last=last) if last is not None else episodes
    summary = summarize(latest)
    summary["offline"] = offline_measures(latest)
    phases = split_phases(episodes, run_budget(run_dir, episodes), last=last)
    summary["phases"] = {label: phase_summary(eps) for label, eps in phases.items()}
    if control_dir is not None:
        dirs = [control_dir] if isinstance(control_dir, (str, Path)) else list(control_dir)
        control = [e for d in dirs for e in load_episodes(d)]
        summary["comparison"] = compare_phases(phases, control)
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
