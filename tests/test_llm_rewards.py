"""Sentiment rewards in [0, 1]: VADER (empty reply = 0.5) and the paper's pipeline mapping."""

from __future__ import annotations

import pytest

pytest.importorskip("vaderSentiment")

from aitheory.llm.rewards import make_reward, pipeline_to_reward, vader_reward


def test_vader_empty_reply_is_neutral_and_sentiment_orders() -> None:
    score = vader_reward()
    empty, happy, sad = score(["", "Thank you, this is great and I love it!", "This is terrible, I hate it."])
    assert empty == 0.5
    assert happy > 0.8 and sad < 0.2
    assert all(0.0 <= s <= 1.0 for s in (empty, happy, sad))


def test_pipeline_mapping_is_the_papers() -> None:
    out = pipeline_to_reward([{"label": "POSITIVE", "score": 0.9}, {"label": "NEGATIVE", "score": 0.8}])
    assert out == pytest.approx([0.95, 0.1])


def test_unknown_reward_spec() -> None:
    with pytest.raises(ValueError, match="unknown reward 'bert'"):
        make_reward("bert")


def test_hf_backend_maps_pipeline_outputs() -> None:
    """``hf:<model>`` builds a sentiment pipeline by name and maps its outputs as the paper does."""
    from aitheory.llm.rewards import hf_reward

    calls: dict[str, object] = {}

    def fake_pipeline(task: str, model: str, device: object = None) -> object:
        calls.update(task=task, model=model)

        def run(texts: list[str], truncation: bool = False) -> list[dict[str, object]]:
            return [{"label": "POSITIVE" if "good" in t else "NEGATIVE", "score": 0.8} for t in texts]

        return run

    score = hf_reward("distilbert-base-uncased-finetuned-sst-2-english", pipeline_factory=fake_pipeline)
    assert calls == {"task": "sentiment-analysis", "model": "distilbert-base-uncased-finetuned-sst-2-english"}
    assert score(["good", "bad"]) == pytest.approx([0.9, 0.1])
    assert score([]) == []
