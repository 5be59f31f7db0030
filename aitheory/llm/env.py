r"""The batched teacher/student chat environment: all transcripts advance in lock-step, one token per step.

Every episode starts from the same prompt, which ends inside the teacher's turn; the agent (the teacher)
continues it. One agent action is one token. When the teacher's turn ends with the student marker
(``"Student:"``) the student (the same base model, sampled at ``student_temperature``, special tokens masked)
writes until its turn ends with the teacher marker (``"Teacher:"``); after ``reply_cutoff`` student tokens the
environment forces ``"\n\nTeacher:"`` (one forced token per step). The student's reply (its turn without the
marker, stripped) is scored by the reward function, and the reward is given to the agent's last action before
the reply (undiscounted, so the Monte-Carlo return is the same as if it were given at the reply). An episode
ends when the transcript, prompt included, has ``episode_tokens`` tokens; an unfinished reply earns nothing.

Because every environment appends exactly one token per step, all transcripts have the same length at every
step: the batch shares one KV cache with no padding.

Budget bookkeeping (nats): the episode starts with budget ``B_0``; after the agent samples ``a_t`` from ``x``,
``B_{t+1} = max(0, B_t - [ln x(a_t) - ln beta(a_t)])`` (``accounting="sampled"``, the paper's). This is not a
hard cap on what an episode spends: a step whose expected KL is within ``B_t`` can still sample a token with a
log-ratio far above ``B_t``, and the clamp at 0 forgives each such overshoot. With ``accounting="expected"``
the charge is the step's ``KL(x_t || beta_t) <= k_t <= B_t + 1e-6`` instead, so that on every episode
``sum_t KL(x_t || beta_t) <= B_0 + 1e-6 T``; by the chain rule its expectation is the KL of the agent's whole
episode distribution from the base policy's (given the student's replies).

Each episode record keeps, per token, its role, the sampled log-ratio, ``KL(x || beta)`` of the step, the
remaining budget before it and ``ln beta(token)`` (the base model at temperature 1; ``None`` on the prompt).
Observation: the base model's last three hidden layers at the final position and the remaining fraction of the
episode; the actor and the critic also get ``B_t / B_scale``.

With ``actor=None`` the teacher samples from the base model itself (temperature 1): the control transcripts.
With a ``teacher`` (a :data:`ScriptedTeacher`, see :mod:`aitheory.llm.exploits`) the teacher samples from the
distribution it returns, charged by the same bookkeeping; the rollout's tensors are then placeholders (one
atom per step) and only its transcripts are meant to be read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aitheory.llm._torch import torch
from aitheory.llm.actor import Actor, BaseAtoms, Critic, base_atoms, resolve_tail, sample_atoms
from aitheory.llm.episodes import Episode, Turn
from aitheory.llm.mixture import kl_to_base
from aitheory.llm.rewards import RewardFn

__all__ = [
    "EpisodeSettings",
    "Rollout",
    "ScriptedTeacher",
    "embedding_matrix",
    "n_features",
    "run_episodes",
    "vocab_size",
]

TEACHER, STUDENT = "teacher", "student"

#: A scripted teacher: from each agent row's tokens of the current teacher turn, the base model's
#: log-probabilities ``(rows, V)`` and the remaining budgets ``B_t`` ``(rows,)`` in nats, the
#: log-probabilities ``(rows, V)`` of the teacher's next token.
ScriptedTeacher = Callable[[list[list[int]], Any, Any], Any]


@dataclass(frozen=True)
class EpisodeSettings:
    """What one batch of episodes needs besides the models (see :class:`aitheory.llm.config.LLMConfig`)."""

    prompt: str
    n_envs: int
    episode_tokens: int
    budget: float
    budget_scale: float
    student_temperature: float = 0.05
    reply_cutoff: int = 512
    teacher_marker: str = "Teacher:"
    student_marker: str = "Student:"
    topk: int | None = None
    accounting: Literal["sampled", "expected"] = "sampled"


@dataclass
class Rollout:
    """Agent steps of a batch of episodes (tensors of length T = agent tokens) and the transcripts."""

    features: Any
    atom_log_beta: Any
    atom_ids: Any | None
    actions: Any
    old_log_prob: Any
    remaining_budget: Any
    values: Any
    rewards: Any
    env_index: Any
    episodes: list[Episode] = field(default_factory=list)

    @property
    def n_steps(self) -> int:
        return int(self.actions.shape[0])


@dataclass(frozen=True)
class _StepBuffer:
    """The agent steps of a batch while it is played: one chunk per lock-step, of the batch's agent rows.

    Each list holds, per step, the tensor of that step's agent rows; :meth:`to_rollout` concatenates them
    into the :class:`Rollout`'s tensors of length T (agent tokens).
    """

    features: list[Any] = field(default_factory=list)
    """Observations ``(rows, n_features)``: hidden states, time left, ``B_t / B_scale``."""
    atom_log_beta: list[Any] = field(default_factory=list)
    """``ln beta`` of the actor's atoms ``(rows, atoms)`` (nats; float32)."""
    atom_ids: list[Any] = field(default_factory=list)
    """Token ids of the atoms ``(rows, atoms)``, or ``None`` when the atoms are the whole vocabulary."""
    actions: list[Any] = field(default_factory=list)
    """The sampled atom index ``(rows,)``."""
    old_log_prob: list[Any] = field(default_factory=list)
    """``ln x(atom)`` under the acting policy ``(rows,)`` (nats; float32)."""
    remaining_budget: list[Any] = field(default_factory=list)
    """``B_t`` before the step ``(rows,)`` (nats; float32)."""
    values: list[Any] = field(default_factory=list)
    """The critic's value ``(rows,)`` (reward units; float32; 0 without a critic)."""
    env_index: list[Any] = field(default_factory=list)
    """The environment (episode) index of each row ``(rows,)``."""

    def to_rollout(self, rewards: list[float], episodes: list[Episode], device: Any) -> Rollout:
        """The :class:`Rollout` of the buffered steps, their ``rewards`` and the batch's ``episodes``."""

        def cat(chunks: list[Any]) -> Any:
            return torch.cat(chunks) if chunks else torch.zeros(0, device=device)

        ids = None if not self.atom_ids or self.atom_ids[0] is None else torch.cat(self.atom_ids)
        return Rollout(
            features=cat(self.features),
            atom_log_beta=cat(self.atom_log_beta),
            atom_ids=ids,
            actions=cat(self.actions),
            old_log_prob=cat(self.old_log_prob),
            remaining_budget=cat(self.remaining_budget),
            values=cat(self.values),
            rewards=torch.tensor(rewards, dtype=torch.float32, device=device),
            env_index=cat(self.env_index),
            episodes=episodes,
        )


@dataclass
class _EnvState:
    role: str = TEACHER
    turn_start: int = 0
    turn_tokens: list[int] = field(default_factory=list)
    forced: list[int] = field(default_factory=list)
    student_count: int = 0
    cut: bool = False
    budget: float = 0.0
    last_agent_step: int = -1
    turns: list[Turn] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    log_ratio: list[float] = field(default_factory=list)
    kl: list[float] = field(default_factory=list)
    budget_before: list[float] = field(default_factory=list)
    log_beta: list[float | None] = field(default_factory=list)
    turn_kl: float = 0.0
    forgiven: float = 0.0


def _ends_with(tokenizer: Any, tokens: list[int], marker: str) -> bool:
    return bool(tokens) and tokenizer.decode(tokens[-12:]).endswith(marker)


def _features(hidden: Any, remaining_frac: float, budget: Any, scale: float) -> Any:
    n = hidden.shape[0]
    rem = torch.full((n, 1), remaining_frac, dtype=hidden.dtype, device=hidden.device)
    return torch.cat([hidden, rem, (budget / scale).unsqueeze(1).to(hidden.dtype)], dim=1)


def n_features(model: Any) -> int:
    """Feature width for a base model: three hidden layers, remaining length, remaining budget."""
    return 3 * int(model.config.hidden_size) + 2


def vocab_size(model: Any, tokenizer: Any) -> int:
    """Width of the base model's logits (``config.vocab_size``; may exceed ``len(tokenizer)`` when padded)."""
    size = getattr(model.config, "vocab_size", None)
    return int(size) if size else len(tokenizer)


def embedding_matrix(model: Any) -> Any:
    """The base model's input token embeddings (``V x d``, tied to the output layer in SmolLM2), detached."""
    return model.get_input_embeddings().weight.detach()


def _forward(model: Any, ids: Any, past: Any, device: Any) -> tuple[Any, Any, Any]:
    """Logits and the three last hidden layers at the final position (float32, on ``device``), and the cache."""
    out = model(input_ids=ids, past_key_values=past, use_cache=True, output_hidden_states=True)
    hs = out.hidden_states
    hidden = torch.cat([hs[-3][:, -1], hs[-2][:, -1], hs[-1][:, -1]], dim=-1).float()
    return out.logits[:, -1].float().to(device), hidden.to(device), out.past_key_values


def _student_logits(logits: Any, temperature: float, banned: Any) -> Any:
    scaled = logits / temperature
    if banned is not None and banned.numel():
        scaled = scaled.index_fill(1, banned, -torch.inf)
    return scaled


@torch.no_grad()
def run_episodes(
    model: Any,
    tokenizer: Any,
    settings: EpisodeSettings,
    reward_fn: RewardFn,
    generator: Any,
    actor: Actor | None = None,
    critic: Critic | None = None,
    show_progress: bool = False,
    teacher: ScriptedTeacher | None = None,
) -> Rollout:
    """Play ``settings.n_envs`` episodes in lock-step; returns the agent's steps and the transcripts."""
    # the batch lives where the actor does (with a device map the model may span several devices)
    device = next(actor.parameters()).device if actor is not None else next(model.parameters()).device
    prompt_ids = tokenizer(settings.prompt, add_special_tokens=False)["input_ids"]
    if len(prompt_ids) >= settings.episode_tokens:
        raise ValueError(
            f"episode_tokens={settings.episode_tokens} leaves no room after the {len(prompt_ids)}-token prompt"
        )
    if settings.accounting not in ("sampled", "expected"):
        raise ValueError(f"accounting must be 'sampled' or 'expected', got {settings.accounting!r}")
    n = settings.n_envs
    forced_ids = tokenizer("\n\n" + settings.teacher_marker, add_special_tokens=False)["input_ids"]
    special = sorted(set(getattr(tokenizer, "all_special_ids", []) or []))
    banned = torch.tensor(special, dtype=torch.long, device=device) if special else None
    tokens = torch.tensor([prompt_ids] * n, dtype=torch.long, device=device)
    logits, hidden, past = _forward(model, tokens, None, device)
    states = [_EnvState(turn_start=len(prompt_ids), budget=float(settings.budget)) for _ in range(n)]
    for s in states:
        s.roles = ["prompt"] * len(prompt_ids)
        s.log_ratio = [0.0] * len(prompt_ids)
        s.kl = [0.0] * len(prompt_ids)
        s.log_beta = [None] * len(prompt_ids)
    steps = _StepBuffer()
    rewards: list[float] = []
    length = len(prompt_ids)
    bar = None
    if show_progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=settings.episode_tokens - length, desc="rollout", unit="step", leave=False)
    while length < settings.episode_tokens:
        new = torch.zeros(n, dtype=torch.long, device=device)
        log_beta = torch.log_softmax(logits, dim=-1)
        agent_rows = [i for i, s in enumerate(states) if s.role == TEACHER]
        if agent_rows:
            rows = torch.tensor(agent_rows, device=device)
            budget = torch.tensor([states[i].budget for i in agent_rows], device=device)
            _agent_step(
                rows, budget, log_beta, hidden, settings, length, generator, actor, critic, new, states, steps, teacher
            )
            for i in agent_rows:
                states[i].last_agent_step = len(rewards)
                rewards.append(0.0)
        student_rows = [i for i, s in enumerate(states) if s.role == STUDENT]
        forced_now = [False] * n
        if student_rows:
            rows = torch.tensor(student_rows, device=device)
            probs = torch.softmax(_student_logits(logits[rows], settings.student_temperature, banned), -1)
            sampled = torch.multinomial(probs, 1, generator=generator).squeeze(1)
            for j, i in enumerate(student_rows):
                s = states[i]
                forced_now[i] = bool(s.forced)
                new[i] = s.forced.pop(0) if s.forced else int(sampled[j])
        token_lb = log_beta.gather(1, new.unsqueeze(1)).squeeze(1).tolist()
        for i, s in enumerate(states):
            s.log_beta.append(token_lb[i])
        finished: list[tuple[int, str]] = []
        for i, s in enumerate(states):
            _advance(s, i, int(new[i]), forced_now[i], length, tokenizer, settings, finished)
            if s.role == STUDENT and s.student_count >= settings.reply_cutoff and not s.forced and not s.cut:
                s.forced, s.cut = list(forced_ids), True
        if finished:
            scores = reward_fn([text for _, text in finished])
            for (i, _), r in zip(finished, scores, strict=True):
                states[i].turns[-1] = dataclasses.replace(states[i].turns[-1], reward=float(r))
                if states[i].last_agent_step >= 0:
                    rewards[states[i].last_agent_step] += float(r)
        tokens = torch.cat([tokens, new.unsqueeze(1)], dim=1)
        length += 1
        if bar is not None:
            bar.update(1)
        if length < settings.episode_tokens:
            logits, hidden, past = _forward(model, new.unsqueeze(1), past, device)
    if bar is not None:
        bar.close()
    episodes = [_episode_record(tokenizer, tokens[i].tolist(), s, settings) for i, s in enumerate(states)]
    return steps.to_rollout(rewards, episodes, device)


def _agent_step(
    rows: Any,
    budget: Any,
    log_beta: Any,
    hidden: Any,
    settings: EpisodeSettings,
    length: int,
    generator: Any,
    actor: Actor | None,
    critic: Critic | None,
    new: Any,
    states: list[_EnvState],
    steps: _StepBuffer,
    teacher: ScriptedTeacher | None = None,
) -> None:
    remaining_frac = (settings.episode_tokens - length) / settings.episode_tokens
    feats = _features(hidden[rows], remaining_frac, budget, settings.budget_scale)
    lb = log_beta[rows]
    if teacher is not None:
        log_x = teacher([states[i].turn_tokens for i in rows.tolist()], lb, budget)
        tok = torch.multinomial(log_x.exp().float(), 1, generator=generator).squeeze(1)
        lp = log_x.gather(1, tok.unsqueeze(1)).squeeze(1)
        log_ratio = lp - lb.gather(1, tok.unsqueeze(1)).squeeze(1)
        kl = kl_to_base(log_x, lb)
        atoms = BaseAtoms(log_beta=torch.zeros(len(rows), 1, device=lb.device), ids=None)  # placeholder
        atom = torch.zeros(len(rows), dtype=torch.long, device=lb.device)
    elif actor is None:
        tok = torch.multinomial(lb.exp(), 1, generator=generator).squeeze(1)
        atoms = base_atoms(lb, settings.topk)
        log_ratio = torch.zeros(len(rows), device=lb.device)
        kl = torch.zeros(len(rows), device=lb.device)
        atom = tok
        lp = lb.gather(1, tok.unsqueeze(1)).squeeze(1)
    else:
        atoms = base_atoms(lb, settings.topk)
        step = actor(feats, atoms, budget)
        atom = sample_atoms(step, generator)
        tok = resolve_tail(atom, atoms, lb, generator)
        lp = step.log_x.gather(1, atom.unsqueeze(1)).squeeze(1)
        log_ratio = lp - atoms.log_beta.gather(1, atom.unsqueeze(1)).squeeze(1)
        kl = step.mixture.kl
    value = critic(feats) if critic is not None else torch.zeros(len(rows), device=lb.device)
    new[rows] = tok
    for j, i in enumerate(rows.tolist()):
        s = states[i]
        s.budget_before.append(s.budget)
        charge = float(log_ratio[j]) if settings.accounting == "sampled" else float(kl[j])
        s.forgiven += max(0.0, charge - s.budget)
        s.budget = max(0.0, s.budget - charge)
        s.log_ratio.append(float(log_ratio[j]))
        s.kl.append(float(kl[j]))
        s.turn_kl += float(log_ratio[j])
    steps.features.append(feats)
    steps.atom_log_beta.append(atoms.log_beta.float())
    steps.atom_ids.append(atoms.ids)
    steps.actions.append(atom)
    steps.old_log_prob.append(lp.float())
    steps.remaining_budget.append(budget.float())
    steps.values.append(value.float())
    steps.env_index.append(rows)


def _advance(
    s: _EnvState,
    i: int,
    tok: int,
    forced: bool,
    length: int,
    tokenizer: Any,
    settings: EpisodeSettings,
    finished: list[tuple[int, str]],
) -> None:
    """Append ``tok`` to environment ``i`` (at position ``length``) and detect the end of its turn."""
    if s.role == TEACHER:
        s.roles.append(TEACHER)
    else:
        s.roles.append("forced" if forced else STUDENT)
        s.log_ratio.append(0.0)
        s.kl.append(0.0)
        s.student_count += 1
    s.turn_tokens.append(tok)
    marker = settings.student_marker if s.role == TEACHER else settings.teacher_marker
    if not _ends_with(tokenizer, s.turn_tokens, marker):
        return
    text = tokenizer.decode(s.turn_tokens)
    turn = Turn(role=s.role, start=s.turn_start, end=length + 1, n_tokens=len(s.turn_tokens), text=text)
    if s.role == TEACHER:
        turn = dataclasses.replace(turn, kl_spent=s.turn_kl)
        s.role, s.student_count = STUDENT, 0
    else:
        reply = text[: len(text) - len(marker)].strip()
        turn = dataclasses.replace(turn, reply=reply, cut=s.cut)
        finished.append((i, reply))
        s.role, s.cut = TEACHER, False
    s.turns.append(turn)
    s.turn_start, s.turn_tokens, s.turn_kl = length + 1, [], 0.0


def _episode_record(tokenizer: Any, ids: list[int], s: _EnvState, settings: EpisodeSettings) -> Episode:
    turns = list(s.turns)
    if s.turn_tokens:
        turns.append(
            Turn(
                role=s.role,
                start=s.turn_start,
                end=len(ids),
                n_tokens=len(s.turn_tokens),
                text=tokenizer.decode(s.turn_tokens),
                unfinished=True,
                kl_spent=s.turn_kl if s.role == TEACHER else None,
            )
        )
    return Episode(
        budget=settings.budget,
        episode_tokens=settings.episode_tokens,
        prompt_tokens=s.roles.count("prompt"),
        token_ids=tuple(ids),
        tokens=tuple(tokenizer.decode([t]) for t in ids),
        roles=tuple(s.roles),
        log_ratio=tuple(s.log_ratio),
        kl=tuple(s.kl),
        log_beta=tuple(s.log_beta),
        budget_before=tuple(s.budget_before),
        turns=tuple(turns),
        reward=float(sum(0.0 if t.reward is None else t.reward for t in s.turns)),
        kl_spent=float(sum(s.log_ratio)),
        budget_left=s.budget,
        forgiven=s.forgiven,
    )
