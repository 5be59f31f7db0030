"""The episode schema (aitheory.llm.episodes): transcripts round-trip byte for byte; readers agree on both forms."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path

import pytest

from aitheory.llm.episodes import Episode, Turn, as_episode, as_turn
from aitheory.llm.evaluate import evaluate_run, load_episodes, offline_measures, summarize


def _dumps(episode: Episode) -> str:
    return json.dumps(episode.to_json(), allow_nan=False)  # as ppo._write_transcripts writes a line


def test_turn_shapes_round_trip_in_the_environment_key_order() -> None:
    shapes = [
        {"role": "teacher", "start": 5, "end": 9, "n_tokens": 4, "text": "a", "kl_spent": 0.5},
        {
            "role": "student",
            "start": 9,
            "end": 20,
            "n_tokens": 11,
            "text": "b",
            "reply": "b",
            "cut": False,
            "reward": 1,
        },
        {"role": "teacher", "start": 20, "end": 24, "n_tokens": 4, "text": "c", "unfinished": True, "kl_spent": "inf"},
        {"role": "student", "start": 20, "end": 24, "n_tokens": 4, "text": "d", "unfinished": True},
    ]
    for record in shapes:
        turn = Turn.from_json(record)
        assert json.dumps(turn.to_json()) == json.dumps(record)
    assert Turn.from_json(shapes[2]).kl_spent == float("inf")  # the JSON convention for infinities is read
    assert as_turn(shapes[0]) == Turn.from_json(shapes[0]) and as_turn(as_turn(shapes[0])) == as_turn(shapes[0])
    unknown = {**shapes[0], "note": [1, 2]}
    assert json.dumps(Turn.from_json(unknown).to_json()) == json.dumps(unknown)  # kept, written after the known keys


def test_a_changed_record_does_not_round_trip_to_the_original() -> None:  # the round-trip test can fail
    record = {"role": "teacher", "n_tokens": 4, "text": "a", "kl_spent": 0.5}
    turn = Turn.from_json(record)
    assert json.dumps(dataclasses.replace(turn, kl_spent=0.25).to_json()) != json.dumps(record)
    reordered = {"n_tokens": 4, "role": "teacher", "text": "a", "kl_spent": 0.5}
    assert json.dumps(Turn.from_json(reordered).to_json()) != json.dumps(reordered)  # the schema fixes the order


def test_partial_records_read_with_absent_fields_as_none() -> None:
    e = Episode.from_json({"turns": [{"role": "teacher", "n_tokens": 3}], "reward": 1.0, "kl_spent": 2.0})
    assert e.log_ratio is None and e.budget_before is None and e.forgiven is None
    assert e.to_json() == {"turns": [{"role": "teacher", "n_tokens": 3, "text": ""}], "reward": 1.0, "kl_spent": 2.0}
    assert as_episode(e) is e
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.reward = 0.0  # type: ignore[misc]


#: The tests below train the smoke model (the ``llm`` extra); those above need nothing but the project.
needs_llm = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("torch", "transformers", "vaderSentiment")),
    reason="needs the llm extra (torch, transformers, vaderSentiment)",
)


@needs_llm
def test_smoke_transcripts_round_trip_byte_for_byte(smoke_run: Path) -> None:
    files = sorted((smoke_run / "transcripts").glob("*.jsonl"))
    assert files
    shapes = set()
    for f in files:
        text = f.read_text(encoding="utf-8")
        episodes = [Episode.from_json(json.loads(line)) for line in text.splitlines()]
        assert "\n".join(_dumps(e) for e in episodes) + "\n" == text
        assert all(not e.extra and all(not t.extra for t in e.all_turns) for e in episodes)  # the schema is whole
        shapes |= {tuple(t.to_json()) for e in episodes for t in e.all_turns}
    assert len(shapes) >= 3  # completed teacher turns, rewarded replies and an unfinished last turn at least


@needs_llm
def test_evaluation_is_the_same_on_records_and_on_episodes(smoke_run: Path) -> None:
    episodes = load_episodes(smoke_run)
    assert all(isinstance(e, Episode) for e in episodes)
    records = [e.to_json() for e in episodes]
    assert json.dumps(summarize(records)) == json.dumps(summarize(episodes))
    assert offline_measures(records) == offline_measures(episodes)
    assert evaluate_run(smoke_run)["episodes"] == len(records)
