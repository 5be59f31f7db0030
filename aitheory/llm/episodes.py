"""Typed records of the chat environment's episodes: :class:`Turn` and :class:`Episode`.

One :class:`Episode` is one line of a run folder's ``transcripts/iter_NNNNN.jsonl``;
:meth:`Episode.from_json` reads the parsed line and :meth:`Episode.to_json` gives back the same mapping, with
the same key order, so that ``json.dumps(to_json(), allow_nan=False)`` writes the line's bytes again
(infinities as the strings ``"inf"``/``"-inf"``, as :func:`aitheory.results.to_jsonable` writes them).

Per-token sequences are indexed by transcript position ``0 .. episode_tokens - 1`` (prompt included), except
``budget_before``, which has one entry per agent (``"teacher"``) token. Every field of a record may be absent
(hand-written or older records): it is then ``None`` here and left out of :meth:`Episode.to_json`; keys this
schema does not know are kept in ``extra`` and written back after the known ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from aitheory.results import to_jsonable

__all__ = ["Episode", "EpisodeLike", "Turn", "TurnLike", "as_episode", "as_turn"]


def _number(value: Any) -> Any:
    """A JSON number as is; the strings ``"inf"``, ``"-inf"``, ``"nan"`` as floats; ``None`` as ``None``."""
    if isinstance(value, str) and value in ("inf", "-inf", "nan"):
        return float(value)
    return value


def _numbers(values: Any) -> tuple[Any, ...] | None:
    return None if values is None else tuple(_number(v) for v in values)


@dataclass(frozen=True)
class Turn:
    """One turn of the transcript: the tokens ``[start, end)`` written by one speaker."""

    role: str
    """``"teacher"`` (the agent) or ``"student"`` (the base model; forced hand-over tokens included)."""
    n_tokens: int
    """Tokens of the turn, the hand-over marker included (``"\\n\\nStudent:"`` is 4 SmolLM2 tokens)."""
    text: str = ""
    """The decoded tokens of the turn, the marker included."""
    start: int | None = None
    """Transcript position of the turn's first token (tokens)."""
    end: int | None = None
    """Transcript position one past the turn's last token (tokens)."""
    unfinished: bool = False
    """The episode ended inside this turn (the last turn only); an unfinished reply earns no reward."""
    kl_spent: float | None = None
    """Teacher turns: the sum of the sampled log-ratios ``ln x(a_t) - ln beta(a_t)`` of its tokens (nats)."""
    reply: str | None = None
    """Completed student turns: the reply scored by the reward function (the text without the marker, stripped)."""
    cut: bool | None = None
    """Completed student turns: the reply was ended by ``reply_cutoff`` (the hand-over was forced)."""
    reward: float | None = None
    """Completed student turns: the reward of the reply (reward units, e.g. VADER compound in [-1, 1])."""
    extra: tuple[tuple[str, Any], ...] = ()
    """Keys of the record that this schema does not know, with their JSON values, in their order."""

    #: JSON key order of a turn record (the environment writes the keys in this order; absent ones are skipped)
    KEYS = ("role", "start", "end", "n_tokens", "text", "unfinished", "kl_spent", "reply", "cut", "reward")

    @property
    def completed_teacher(self) -> bool:
        """A teacher turn that ended with the hand-over to the student."""
        return self.role == "teacher" and not self.unfinished

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> Turn:
        """The turn of a parsed JSON record."""
        return cls(
            role=record["role"],
            n_tokens=record["n_tokens"],
            text=record.get("text", ""),
            start=record.get("start"),
            end=record.get("end"),
            unfinished=bool(record.get("unfinished", False)),
            kl_spent=_number(record.get("kl_spent")),
            reply=record.get("reply"),
            cut=record.get("cut"),
            reward=_number(record.get("reward")),
            extra=tuple((k, v) for k, v in record.items() if k not in cls.KEYS),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON record, keys in the environment's order (``None`` fields and ``unfinished=False`` omitted),
        then ``extra``."""
        out: dict[str, Any] = {}
        for key in self.KEYS:
            value = getattr(self, key)
            if value is None or (key == "unfinished" and not value):
                continue
            out[key] = to_jsonable(value)
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class Episode:
    """One episode of the chat environment (one transcript line); see :mod:`aitheory.llm.env`."""

    iteration: int | None = None
    """PPO iteration whose rollouts produced the episode (set when the transcripts are written)."""
    agent_tokens: int | None = None
    """Agent tokens trained on before the episode's iteration (0 for control runs)."""
    budget: float | None = None
    """The episode's starting KL budget ``B_0`` (nats)."""
    episode_tokens: int | None = None
    """Transcript length, prompt included (tokens)."""
    prompt_tokens: int | None = None
    """Tokens of the shared prompt at the start of the transcript."""
    token_ids: tuple[int, ...] | None = None
    """Token ids of the transcript, per position."""
    tokens: tuple[str, ...] | None = None
    """Each token decoded on its own, per position (their concatenation is the transcript's text)."""
    roles: tuple[str, ...] | None = None
    """Per position: ``"prompt"``, ``"teacher"`` (an agent token), ``"student"`` or ``"forced"`` (a forced
    hand-over token)."""
    log_ratio: tuple[float, ...] | None = None
    """Per position: the sampled log-ratio ``ln x(a_t) - ln beta(a_t)`` of an agent token, else 0 (nats)."""
    kl: tuple[float, ...] | None = None
    """Per position: ``KL(x_t || beta_t)`` of the agent's step, else 0 (nats)."""
    log_beta: tuple[float | None, ...] | None = None
    """Per position: ``ln beta(token)`` under the base model at temperature 1 (nats); ``None`` on the prompt."""
    budget_before: tuple[float, ...] | None = None
    """Per agent token: the remaining budget ``B_t`` before it was sampled (nats)."""
    turns: tuple[Turn, ...] | None = None
    """The transcript's turns after the prompt, in order (the last may be unfinished)."""
    reward: float | None = None
    """Total reward of the episode's completed student replies (reward units)."""
    kl_spent: float | None = None
    """Sum of the sampled log-ratios over the agent's tokens (nats)."""
    budget_left: float | None = None
    """The budget ``B_T`` at the end of the episode (nats)."""
    forgiven: float | None = None
    """Total excess of the charges over the remaining budget that the clamp at 0 forgave (nats)."""
    extra: tuple[tuple[str, Any], ...] = ()
    """Keys of the record that this schema does not know, with their JSON values, in their order."""

    @classmethod
    def known_keys(cls) -> tuple[str, ...]:
        """The record keys of the schema, in the order the transcripts write them."""
        return tuple(f.name for f in fields(cls) if f.name != "extra")

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> Episode:
        """The episode of a parsed transcript line."""
        known = cls.known_keys()
        turns = record.get("turns")
        return cls(
            iteration=record.get("iteration"),
            agent_tokens=record.get("agent_tokens"),
            budget=_number(record.get("budget")),
            episode_tokens=record.get("episode_tokens"),
            prompt_tokens=record.get("prompt_tokens"),
            token_ids=None if record.get("token_ids") is None else tuple(record["token_ids"]),
            tokens=None if record.get("tokens") is None else tuple(record["tokens"]),
            roles=None if record.get("roles") is None else tuple(record["roles"]),
            log_ratio=_numbers(record.get("log_ratio")),
            kl=_numbers(record.get("kl")),
            log_beta=_numbers(record.get("log_beta")),
            budget_before=_numbers(record.get("budget_before")),
            turns=None if turns is None else tuple(Turn.from_json(t) for t in turns),
            reward=_number(record.get("reward")),
            kl_spent=_number(record.get("kl_spent")),
            budget_left=_number(record.get("budget_left")),
            forgiven=_number(record.get("forgiven")),
            extra=tuple((k, v) for k, v in record.items() if k not in known),
        )

    def to_json(self) -> dict[str, Any]:
        """The transcript line's mapping (known keys in the schema's order, ``None`` fields omitted, then
        ``extra``); write it with ``json.dumps(..., allow_nan=False)``."""
        out: dict[str, Any] = {}
        for key in self.known_keys():
            value = getattr(self, key)
            if value is None:
                continue
            out[key] = [t.to_json() for t in value] if key == "turns" else to_jsonable(value)
        out.update(self.extra)
        return out

    @property
    def all_turns(self) -> tuple[Turn, ...]:
        """``turns``, or no turns if the record has none."""
        return self.turns or ()

    def completed_teacher_turns(self) -> list[Turn]:
        """The teacher turns that ended with a hand-over (the unfinished last turn left out)."""
        return [t for t in self.all_turns if t.completed_teacher]


#: What the readers of episodes accept: an :class:`Episode` or a parsed transcript record.
EpisodeLike = Episode | Mapping[str, Any]
#: What the readers of turns accept: a :class:`Turn` or a parsed turn record.
TurnLike = Turn | Mapping[str, Any]


def as_episode(episode: EpisodeLike) -> Episode:
    """``episode`` itself, or the :class:`Episode` of a parsed transcript record."""
    return episode if isinstance(episode, Episode) else Episode.from_json(episode)


def as_turn(turn: TurnLike) -> Turn:
    """``turn`` itself, or the :class:`Turn` of a parsed turn record."""
    return turn if isinstance(turn, Turn) else Turn.from_json(turn)
