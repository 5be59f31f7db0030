"""Empty teacher responses and KL statistics on hand-made transcripts (aitheory.llm.evaluate)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from aitheory.llm.evaluate import (
    after_silence,
    after_speech,
    bootstrap_difference,
    budget_overshoot,
    compare_phases,
    empty_after_cutoff,
    empty_fraction,
    empty_fraction_trends,
    empty_turn_kl,
    episode_phase,
    evaluate_run,
    is_empty_teacher_turn,
    kl_front_share,
    kl_position_shares,
    kl_quantiles_by_index,
    kl_spending,
    load_phases,
    run_series,
    split_phases,
    student_turns,
    summarize,
    teacher_turns_after_cutoff,
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
    assert teacher_turns_after_cutoff(ep) == (3, 2)  # the reference: every turn after a reply, empty or not
    assert summarize([ep])["teacher_after_cutoff_share"] == pytest.approx(2 / 3)
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


def _phased(budget: float, length: int, iteration: int, empty: int = 0, turns: int = 4) -> dict[str, Any]:
    """An episode of ``turns`` completed teacher turns, ``empty`` of them empty (first), at a budget and length."""
    ts = [_turn("teacher", 4 if i < empty else 12, 0.1) for i in range(turns)]
    return {**_episode(ts), "budget": budget, "episode_tokens": length, "iteration": iteration}


def test_episode_phase_and_split_phases() -> None:
    assert episode_phase(_phased(0.0, 256, 1), 10.0) == "base/256"
    assert episode_phase(_phased(3.5, 256, 9), 10.0) == "ramp/256"
    assert episode_phase(_phased(10.0, 256, 90), 10.0) == "full/256"
    assert episode_phase(_phased(10.0, 512, 200), 10.0) == "full/512"
    assert episode_phase(_episode([]), 10.0) == "full/?"
    eps = [_phased(0.0, 256, 1), _phased(0.0, 256, 2)]  # base-model episodes of two iterations
    eps += [_phased(5.0, 256, 2), _phased(6.0, 256, 3), _phased(10.0, 256, 4), _phased(10.0, 256, 5)]
    eps += [_phased(10.0, 512, 6), _phased(10.0, 512, 6)]
    phases = split_phases(eps, 10.0, last=1)
    assert list(phases) == ["base/256", "ramp/256", "full/256", "full/512"]  # schedule order
    assert len(phases["base/256"]) == 2  # base phases whole: one distribution whatever the iteration
    assert [e.iteration for e in phases["ramp/256"]] == [3] and [e.iteration for e in phases["full/256"]] == [5]
    assert len(phases["full/512"]) == 2
    assert len(split_phases(eps, 10.0)["full/256"]) == 2  # last=None keeps every iteration
    assert list(split_phases(eps, 10.0, stages=("full",))) == ["full/256", "full/512"]
    # the phase is the run's: a budget of 10 is still the ramp of a budget-20 run
    assert list(split_phases(eps, 20.0, last=1)) == ["base/256", "ramp/256", "ramp/512"]


def _write_run(path: Path, episodes: list[dict[str, Any]], budget: float | None) -> Path:
    (path / "transcripts").mkdir(parents=True)
    by_iteration: dict[int, list[dict[str, Any]]] = {}
    for e in episodes:
        by_iteration.setdefault(e["iteration"], []).append(e)
    for i, group in by_iteration.items():
        text = "\n".join(json.dumps(e) for e in group) + "\n"
        (path / "transcripts" / f"iter_{i:05d}.jsonl").write_text(text)
    if budget is not None:
        (path / "config.json").write_text(json.dumps({"config": {"budget": budget}}))
    return path


def test_evaluate_run_reports_each_phase_against_a_control_of_its_length(tmp_path: Path) -> None:
    run = _write_run(
        tmp_path / "run",
        [_phased(0.0, 256, 1), _phased(4.0, 256, 2), _phased(10.0, 256, 3, empty=2), _phased(10.0, 512, 4, empty=3)],
        budget=10.0,
    )
    control = _write_run(tmp_path / "control", [_phased(0.0, 256, i) for i in (1, 2, 3)], budget=10.0)
    summary = evaluate_run(run, last=1, control_dir=[control])
    assert list(summary["phases"]) == ["base/256", "ramp/256", "full/256", "full/512"]
    assert summary["phases"]["full/256"]["empty_fraction_mean"] == 0.5
    assert summary["phases"]["full/512"]["budget_range"] == [10.0, 10.0]
    assert summary["episodes"] == 1 and summary["empty_fraction_mean"] == 0.75  # the last file, as before
    comparison = summary["comparison"]
    assert comparison["full/256"]["control_episodes"] == 3  # the control's three rollouts, pooled
    assert comparison["full/256"]["control"]["empty_fraction_mean"] == 0.0
    # no 512-token control yet: said, not compared with 256-token episodes
    assert comparison["full/512"]["control"] is None and "no control episodes of 512 tokens" in comparison[
        "full/512"
    ]["note"]
    assert evaluate_run(run)["phases"]["ramp/256"]["episodes"] == 1
    # the phases of a run without config.json come from its largest budget
    assert list(load_phases(_write_run(tmp_path / "bare", [_phased(2.0, 96, 1), _phased(4.0, 96, 2)], None))) == [
        "ramp/96",
        "full/96",
    ]


def test_compare_phases_matches_episode_lengths() -> None:
    agent = {"full/512": [_phased(10.0, 512, 4)]}
    assert compare_phases(agent, [_phased(0.0, 256, 1)])["full/512"]["control"] is None
    matched = compare_phases(agent, [_phased(0.0, 256, 1), _phased(0.0, 512, 1, empty=4)])["full/512"]
    assert matched["control_episodes"] == 1 and matched["control"]["empty_fraction_mean"] == 1.0


def test_run_series_selects_phases_and_keeps_controls(tmp_path: Path) -> None:
    eps = [_phased(0.0, 256, 1), _phased(4.0, 256, 2), _phased(10.0, 256, 3), _phased(10.0, 512, 4)]
    run = _write_run(tmp_path / "b10", eps, 10.0)
    control = _write_run(tmp_path / "control", [_phased(0.0, 256, 1), _phased(0.0, 256, 2)], 10.0)
    assert list(run_series(run)) == ["b10 full/512"]  # default: the phases of the last iteration
    assert list(run_series(run, stages=("full",))) == ["b10 full/256", "b10 full/512"]
    assert list(run_series(run, stages=("ramp",))) == ["b10 ramp/256"]
    assert {k: len(v) for k, v in run_series(control, stages=("full",)).items()} == {"control base/256": 2}
    assert len(run_series(control)["control base/256"]) == 2  # a control's rollouts are all used


def _positions(agent_log_ratios: list[float]) -> dict[str, Any]:
    return {"roles": ["prompt", *["teacher"] * len(agent_log_ratios)], "log_ratio": [0.0, *agent_log_ratios]}


def test_kl_position_shares() -> None:
    assert kl_position_shares([_positions([1.0] * 8)]) == pytest.approx([0.25] * 4)
    assert kl_position_shares([_positions([6.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0])]) == pytest.approx(
        [0.75, 0.0, 0.125, 0.125]
    )
    # an uneven count: slices of ceil(j n / 4) .. : 5 tokens -> 2, 1, 1, 1
    assert kl_position_shares([_positions([1.0] * 5)]) == pytest.approx([0.4, 0.2, 0.2, 0.2])
    assert kl_position_shares([_positions([1.0]), _positions([0.0, 0.0, 0.0, 3.0])]) == pytest.approx(
        [0.25, 0.0, 0.0, 0.75]
    )
    assert all(math.isnan(x) for x in kl_position_shares([_positions([0.0, -1.0])]))
    front = [_positions([3.0, 1.0, 0.0, 0.0])]
    assert kl_position_shares(front)[0] == kl_front_share(front)


def test_kl_spending_finds_the_paper_pattern_and_its_absence() -> None:
    # the paper's pattern: a costly first empty turn that buys cheap later ones
    paper = _episode(
        [_turn("teacher", 10, 1.0), _turn("teacher", 4, 6.0), _turn("teacher", 4, 0.5), _turn("teacher", 4, 0.5)]
    )
    k = kl_spending([paper])
    assert k["first_turn_share"] == pytest.approx(1 / 8) and k["top_turn_share"] == pytest.approx(6 / 8)
    assert k["empty_turn_share"] == pytest.approx(7 / 8) and k["first_empty_share"] == pytest.approx(6 / 8)
    assert k["kl_per_token_empty"] == pytest.approx(7 / 12) and k["kl_per_token_other"] == pytest.approx(0.1)
    assert [r["n"] for r in k["by_turn"]] == [1, 2, 3, 4] and k["by_turn"][1]["kl_mean"] == 6.0
    assert [r["empty_share"] for r in k["by_turn"]] == [0.0, 1.0, 1.0, 1.0]
    # spending spread over long turns: nothing on empty turns, no turn dominant
    spread = _episode([_turn("teacher", 10, 2.0), _turn("teacher", 10, 2.0), _turn("teacher", 10, 2.0)])
    k = kl_spending([spread])
    assert k["empty_turn_share"] == 0.0 and k["first_empty_share"] == 0.0
    assert k["top_turn_share"] == pytest.approx(1 / 3)
    assert math.isnan(k["kl_per_token_empty"])
    both = summarize([paper, spread])
    assert both["kl_spending"]["kl_spent_mean"] == pytest.approx(7.0)
    assert both["kl_spending_with_empty"] == kl_spending([paper])  # the episodes with an empty turn only
    assert summarize([spread])["kl_spending_with_empty"] is None
    # by_turn stops where fewer than 10% of the episodes have an n-th turn
    short = [_episode([_turn("teacher", 10, 1.0)]) for _ in range(19)]
    assert [r["n"] for r in kl_spending([*short, spread])["by_turn"]] == [1]
    assert [r["n"] for r in kl_spending([*short[:9], spread])["by_turn"]] == [1, 2, 3]
    assert math.isnan(kl_spending([_episode([_turn("teacher", 10, 0.0)])])["first_turn_share"])


def test_after_silence_and_after_speech() -> None:
    ep = _episode(
        [
            _turn("teacher", 12),
            _turn("student", 6, reply="Hi", cut=False, reward=0.75),
            _turn("teacher", 4),
            _turn("student", 20, reply="", cut=True, reward=0.5),
            _turn("teacher", 3),
            _turn("student", 18, reply="Well", cut=True, reward=0.25),
            _turn("teacher", 2, unfinished=True),
        ]
    )
    silent = after_silence([ep])
    assert silent == {"replies": 2, "empty_reply_share": 0.5, "cut_share": 1.0, "reply_tokens_mean": 19.0,
                      "reward_mean": 0.375}
    assert after_speech([ep]) == {"replies": 1, "empty_reply_share": 0.0, "cut_share": 0.0, "reply_tokens_mean": 6.0,
                                  "reward_mean": 0.75}
    assert math.isnan(after_silence([_episode([_turn("teacher", 9)])])["cut_share"])
    assert summarize([ep])["after_silence"] == silent


def test_bootstrap_difference() -> None:
    d = bootstrap_difference([1.0, 1.0, 1.0], [0.0, 0.0])
    assert d == {"difference": 1.0, "lo": 1.0, "hi": 1.0}
    d = bootstrap_difference([0.0, 1.0] * 20, [0.0, 1.0] * 20, seed=3)
    assert d["difference"] == 0.0 and d["lo"] < 0 < d["hi"]
    assert bootstrap_difference([0.0, 1.0] * 20, [0.0, 1.0] * 20, seed=3) == d  # seeded
    assert math.isnan(bootstrap_difference([], [1.0])["difference"])


def test_empty_fraction_trends_rise_fall_and_no_change() -> None:
    def phase(budget: float, length: int, empty: int, n: int = 30) -> list[dict[str, Any]]:
        return [_phased(budget, length, 9, empty=empty if i % 3 else 0) for i in range(n)]

    runs = {
        "b10": {"full/256": phase(10.0, 256, 1), "full/512": phase(10.0, 512, 3)},
        "b20": {"full/256": phase(20.0, 256, 2), "full/512": phase(20.0, 512, 2)},
        "control": {"base/256": phase(0.0, 256, 0)},
    }
    trends = empty_fraction_trends(runs)
    rows = {(r["run"], r["phase"]): r for r in trends["rows"]}
    assert rows[("b10", "full/256")]["empty_fraction"] == pytest.approx(1 / 6)
    assert rows[("b20", "full/512")]["budget_per_token"] == rows[("b10", "full/256")]["budget_per_token"]
    found = {(c["kind"], c["a"], c["b"]): c for c in trends["contrasts"]}
    up = found[("budget", "b20 full/256", "b10 full/256")]
    assert up["rises"] and not up["falls"] and up["difference"] == pytest.approx(1 / 6)
    down = found[("budget", "b20 full/512", "b10 full/512")]
    assert down["falls"] and not down["rises"]
    assert found[("length", "b10 full/512", "b10 full/256")]["rises"]
    flat = found[("length", "b20 full/512", "b20 full/256")]
    assert not flat["rises"] and not flat["falls"] and flat["difference"] == 0.0
    same_rate = found[("budget per token", "b20 full/512", "b10 full/256")]
    assert same_rate["rises"]
    assert found[("base", "b10 full/256", "base/256 (pooled)")]["rises"]
    assert ("base", "b10 full/512", "base/512 (pooled)") not in found  # no base-model episodes of 512 tokens
    assert not any(c["kind"] == "budget" and "control" in c["a"] for c in trends["contrasts"])
    # every contrast carries its negative control: the groups shuffled together show no change
    assert all(not c["controls"]["shuffled"]["changed"] for c in trends["contrasts"])
    assert up["controls"]["shuffled"]["lo"] < 0 < up["controls"]["shuffled"]["hi"]


def test_null_control_is_calibrated_and_fails_on_a_broken_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    import aitheory.llm.evaluate as ev

    a = [0.0] * 60 + [0.5] * 40 + [1.0] * 20  # one group with empty turns, one nearly without: a real difference
    b = [0.0] * 110 + [0.25] * 10
    assert ev.bootstrap_difference(a, b)["lo"] > 0
    null = ev._null_control(a, b, seed=4)
    assert null["repeats"] == ev.NULL_REPEATS and null["excluded_share"] <= 0.12 and not null["changed"]
    # an interval too narrow (the re-deals' spread ignored) excludes 0 far more often than 5%: the control fails
    narrow = lambda x, y, seed=0, level=0.95: {  # noqa: E731
        "difference": float(np.mean(x) - np.mean(y)),
        "lo": float(np.mean(x) - np.mean(y)) - 1e-3,
        "hi": float(np.mean(x) - np.mean(y)) + 1e-3,
    }
    monkeypatch.setattr(ev, "bootstrap_difference", narrow)
    assert ev._null_control(a, b, seed=4)["changed"]
    # each contrast draws its own re-deals
    assert ev._contrast_seed(0, "x full/256", "y full/256") != ev._contrast_seed(0, "x full/512", "y full/512")


def test_accounting_contrast_only_between_bookkeepings_at_one_budget() -> None:
    def phase(budget: float, empty: int, n: int = 30) -> list[dict[str, Any]]:
        return [_phased(budget, 256, 9, empty=empty if i % 3 else 0) for i in range(n)]

    runs = {
        "b10": {"full/256": phase(10.0, 1)},
        "b20": {"full/256": phase(20.0, 1)},
        "b20-expected": {"full/256": phase(20.0, 3)},
    }
    books = {"b20-expected": "expected"}
    trends = empty_fraction_trends(runs, accounting=books)
    found = {(c["kind"], c["a"], c["b"]): c for c in trends["contrasts"]}
    acc = found[("accounting", "b20-expected full/256", "b20 full/256")]
    assert acc["rises"] and acc["difference"] == pytest.approx(1 / 3)
    # the expected run is never read as a budget contrast against the sampled budget-10 run, nor the reverse
    assert {k[0] for k in found} == {"accounting", "budget"}
    assert ("budget", "b20 full/256", "b10 full/256") in found
    assert not any("expected" in c["a"] + c["b"] for c in trends["contrasts"] if c["kind"] == "budget")
    assert {r["run"]: r["accounting"] for r in trends["rows"]}["b20-expected"] == "expected"
    # without the bookkeeping given, all three runs are sampled: no accounting contrast, two budget contrasts
    plain = empty_fraction_trends(runs)["contrasts"]
    assert [c["kind"] for c in plain].count("budget") == 2 and all(c["kind"] != "accounting" for c in plain)


def test_run_accounting_reads_the_config(tmp_path: Path) -> None:
    from aitheory.llm.evaluate import run_accounting

    assert run_accounting(tmp_path) == "sampled"
    (tmp_path / "config.json").write_text('{"config": {"budget": 20.0, "budget_accounting": "expected"}}')
    assert run_accounting(tmp_path) == "expected"


def test_a_contrast_whose_control_changes_is_no_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    import aitheory.llm.evaluate as ev

    runs = {
        "b10": {"full/256": [_phased(10.0, 256, 9, empty=0)] * 20},
        "b20": {"full/256": [_phased(20.0, 256, 9, empty=2)] * 20},
    }
    assert ev.empty_fraction_trends(runs)["contrasts"][0]["rises"]
    monkeypatch.setattr(
        ev, "_null_control", lambda a, b, seed: {"difference": 0.3, "lo": 0.2, "hi": 0.4, "changed": True}
    )
    broken = ev.empty_fraction_trends(runs)["contrasts"][0]
    assert broken["lo"] > 0 and not broken["rises"] and broken["controls"]["shuffled"]["changed"]
