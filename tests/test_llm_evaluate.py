"""Empty teacher responses and KL statistics on hand-made transcripts (aitheory.llm.evaluate)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from aitheory.llm.evaluate import (
    budget_overshoot,
    empty_after_cutoff,
    empty_fraction,
    empty_turn_kl,
    evaluate_run,
    is_empty_teacher_turn,
    kl_front_share,
    kl_quantiles_by_index,
    student_turns,
    summarize,
    transcript_html,
)


def _turn(role: str, n: int, kl: float = 0.0, **kw: Any) -> dict[str, Any]:
    return {"role": role, "n_tokens": n, "kl_spent": kl, "text": "x" * n, **kw}


def _episode(turns: list[dict[str, Any]], reward: float = 1.0, kl: float = 1.0) -> dict[str, Any]:
    return {"turns": turns, "reward": reward, "kl_spent": kl}


def test_empty_response_is_a_completed_teacher_turn_of_at_most_four_tokens() -> None:
    assert is_empty_teacher_turn(_turn("teacher", 4))
    assert not is_empty_teacher_turn(_turn("teacher", 5))
    assert not is_empty_teacher_turn(_turn("student", 2))
    assert not is_empty_teacher_turn(_turn("teacher", 2, unfinished=True))


def test_empty_fraction_and_kl_per_empty_turn() -> None:
    ep = _episode(
        [
            _turn("teacher", 20, 0.5),
            _turn("student", 8),
            _turn("teacher", 4, 3.0),
            _turn("student", 3),
            _turn("teacher", 3, 0.2),
            _turn("student", 3),
            _turn("teacher", 2, 9.0, unfinished=True),
        ]
    )
    assert empty_fraction(ep) == pytest.approx(2 / 3)
    assert empty_turn_kl(ep) == [3.0, 0.2]
    assert math.isnan(empty_fraction(_episode([_turn("teacher", 2, unfinished=True)])))


def test_student_turns_count_only_rewarded_replies() -> None:
    ep = _episode(
        [
            _turn("teacher", 20),
            _turn("student", 8, reward=0.7),
            _turn("teacher", 4),
            _turn("student", 3, reward=0.5),
            _turn("teacher", 3),
            _turn("student", 30, unfinished=True),
        ]
    )
    assert student_turns(ep) == 2
    other = _episode([_turn("teacher", 9, unfinished=True)])
    s = summarize([{**ep, "forgiven": 1.5}, other])
    assert s["student_turns_mean"] == 1.0 and s["teacher_turns_mean"] == 1.5 and s["forgiven_mean"] == 0.75


def test_empty_responses_after_a_reply_cutoff() -> None:
    ep = _episode(
        [
            _turn("teacher", 20),
            _turn("student", 52, cut=True, reward=0.5),
            _turn("teacher", 4),
            _turn("student", 10, cut=False, reward=0.5),
            _turn("teacher", 3),
            _turn("student", 52, cut=True, reward=0.5),
            _turn("teacher", 9),
        ]
    )
    assert empty_after_cutoff(ep) == (2, 1)
    assert summarize([ep])["empty_after_cutoff_share"] == 0.5
    assert math.isnan(summarize([_episode([_turn("teacher", 9)])])["empty_after_cutoff_share"])


def test_budget_overshoot() -> None:
    ep = {
        "roles": ["prompt", "teacher", "student", "teacher", "teacher"],
        "budget_before": [2.0, 0.5, 0.0],  # one entry per agent (teacher) step
        "kl": [0.0, 1.5, 0.0, 0.5, 0.0],
        "log_ratio": [0.0, 1.5, 0.0, 3.0, -0.1],
    }
    out = budget_overshoot([ep])
    assert out == {"steps": 3, "kl_above_budget": 0, "overshooting": 1, "mean_overshoot": 2.5, "max_overshoot": 2.5}
    bad = {**ep, "kl": [0.0, 2.5, 0.0, 0.5, 0.0]}
    assert budget_overshoot([bad])["kl_above_budget"] == 1
    with pytest.raises(ValueError):
        budget_overshoot([{**ep, "budget_before": [2.0]}])  # misaligned record


def test_kl_front_share() -> None:
    roles = ["prompt", "teacher", "teacher", "student", "teacher", "teacher"]
    up_front = {"log_ratio": [0.0, 3.0, 0.0, 0.0, 0.0, 1.0], "roles": roles}
    assert kl_front_share([up_front]) == pytest.approx(0.75)  # first quarter of 4 agent tokens = 1 token
    uniform = {"log_ratio": [0.0, 1.0, 1.0, 0.0, 1.0, 1.0], "roles": roles}
    assert kl_front_share([uniform], fraction=0.5) == pytest.approx(0.5)
    assert kl_front_share([up_front, uniform]) == pytest.approx(4 / 8)
    assert math.isnan(kl_front_share([{"log_ratio": [0.0, -1.0], "roles": ["prompt", "teacher"]}]))


def test_kl_quantiles_by_index() -> None:
    eps = [_episode([_turn("teacher", 4, float(i)), _turn("teacher", 4, 10.0 + i)]) for i in range(5)]
    eps.append(_episode([_turn("teacher", 30, 1.0)]))
    rows = kl_quantiles_by_index(eps)
    assert [r["n"] for r in rows] == [1, 2]
    assert rows[0]["count"] == 5 and rows[0]["q50"] == 2.0 and rows[0]["q25"] == 1.0 and rows[0]["q75"] == 3.0
    assert rows[1]["q50"] == 12.0


def test_evaluate_run_reads_transcripts(tmp_path: Path) -> None:
    eps = [_episode([_turn("teacher", 4, 1.0), _turn("teacher", 9, 0.0)], reward=r) for r in (0.5, 1.5)]
    (tmp_path / "transcripts").mkdir()
    (tmp_path / "transcripts" / "iter_00001.jsonl").write_text("\n".join(json.dumps(e) for e in eps) + "\n")
    summary = evaluate_run(tmp_path)
    assert summary["episodes"] == 2 and summary["reward_mean"] == 1.0
    assert summary["empty_fraction_mean"] == 0.5
    assert json.loads((tmp_path / "evaluation.json").read_text())["episodes"] == 2
    with pytest.raises(FileNotFoundError, match="transcripts"):
        evaluate_run(tmp_path / "nothing")


def test_transcript_html_escapes_and_colours() -> None:
    ep = {
        "tokens": ["<b>", " hi"],
        "roles": ["prompt", "teacher"],
        "log_ratio": [0.0, 2.0],
        "budget": 10.0,
        "kl_spent": 2.0,
        "reward": 0.5,
    }
    page = transcript_html(ep)
    assert "&lt;b&gt;" in page and "<b>" not in page.split("</p>")[1]
    assert "#ff0000" in page and "#ffffff" in page


def test_offline_measures_and_judge() -> None:
    from aitheory.llm.evaluate import compare_runs, judge_preference, offline_measures

    def ep(text: str, lb: float) -> dict[str, Any]:
        turns = [{"role": "teacher", "n_tokens": len(text), "text": text, "kl_spent": 0.0}]
        return {
            "turns": turns,
            "tokens": list(text),
            "roles": ["teacher"] * len(text),
            "log_beta": [lb] * len(text),
            "reward": 0.0,
            "kl_spent": 0.0,
        }

    repetitive = [ep("ab" * 200, -0.1)]
    varied = [ep("".join(chr(33 + (i * 37) % 90) for i in range(400)), -3.0)]
    r, v = offline_measures(repetitive), offline_measures(varied)
    assert r["teacher_zlib_ratio"] < 0.1 < v["teacher_zlib_ratio"]
    assert r["teacher_nll_nats_per_token"] == pytest.approx(0.1)
    assert v["teacher_nll_nats_per_token"] == pytest.approx(3.0)

    def longer(a: str, b: str) -> float:
        return 1.0 if len(a) > len(b) else 0.0

    short = [ep("hi", -1.0)]
    assert judge_preference(repetitive, short, longer, pairs=5, seed=0) == 1.0
    assert judge_preference(short, repetitive, longer, pairs=5, seed=0) == 0.0

    def first(a: str, b: str) -> float:  # pure position bias cancels to 1/2
        return 1.0

    assert judge_preference(repetitive, short, first, pairs=3, seed=0) == 0.5
    table = compare_runs(repetitive, varied, judge=longer, pairs=2)
    assert table["judge_prefers_agent"] == 0.5  # equal lengths: neither is longer
    assert table["agent"]["teacher_zlib_ratio"] == r["teacher_zlib_ratio"]
