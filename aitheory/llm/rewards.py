"""Sentiment rewards of the student's replies, in [0, 1] (0.5 is neutral).

The paper scores a student turn with DistilBERT SST-2: ``r = score`` if the label is POSITIVE else ``-score``,
and the reward is ``(r + 1) / 2``. Backends:

* ``vader`` (default here; no weights needed): VADER's compound score ``c`` in [-1, 1], reward
  ``(c + 1) / 2``.
  An empty reply has ``c = 0``, reward 0.5 (the paper's "an empty turn scores about neutral").
* ``hf:<model>``: a transformers ``sentiment-analysis`` pipeline by model name, mapped as in the paper.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aitheory._optional import require

__all__ = ["RewardFn", "hf_reward", "make_reward", "pipeline_to_reward", "vader_reward"]

RewardFn = Callable[[Sequence[str]], list[float]]


def vader_reward() -> RewardFn:
    """VADER compound score mapped to ``(c + 1) / 2``; the empty reply gives exactly 0.5."""
    vader = require("vaderSentiment.vaderSentiment", "llm")
    analyzer = vader.SentimentIntensityAnalyzer()

    def score(replies: Sequence[str]) -> list[float]:
        return [(analyzer.polarity_scores(r)["compound"] + 1.0) / 2.0 for r in replies]

    return score


def pipeline_to_reward(outputs: Sequence[dict[str, Any]]) -> list[float]:
    """Paper's mapping of pipeline outputs ``{"label", "score"}``: ``((+/-)score + 1) / 2``."""
    rewards = []
    for out in outputs:
        label = str(out["label"]).upper()
        signed = float(out["score"]) if label in ("POSITIVE", "LABEL_1", "POS") else -float(out["score"])
        rewards.append((signed + 1.0) / 2.0)
    return rewards


def hf_reward(model_name: str, device: Any = None, pipeline_factory: Callable[..., Any] | None = None) -> RewardFn:
    """A transformers sentiment pipeline by name (``distilbert-base-uncased-finetuned-sst-2-english``)."""
    factory = pipeline_factory or require("transformers", "llm").pipeline
    pipe = factory("sentiment-analysis", model=model_name, device=device)

    def score(replies: Sequence[str]) -> list[float]:
        return pipeline_to_reward(pipe(list(replies), truncation=True)) if replies else []

    return score


def make_reward(spec: str, device: Any = None) -> RewardFn:
    """``vader`` or ``hf:<model name>``."""
    if spec == "vader":
        return vader_reward()
    if spec.startswith("hf:") and len(spec) > 3:
        return hf_reward(spec[3:], device=device)
    raise ValueError(f"unknown reward {spec!r}: expected 'vader' or 'hf:<model name>'")
