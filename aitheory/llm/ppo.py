r"""PPO for the budgeted actor: rollouts, Monte-Carlo returns, clipped updates, checkpoints and resume.

The base model stays frozen; only the linear actor head and the critic train (as in the paper). One PPO
*iteration* collects whole rollouts (``n_envs`` episodes each) until at least ``update_tokens`` agent tokens
have been gathered, then runs ``epochs`` passes of shuffled minibatches of ``minibatch`` agent tokens:

* returns: ``G_t = r_t + gamma G_{t+1}`` over each episode's agent steps (``gamma = 1``: Monte-Carlo, no GAE);
* advantages ``A_t = G_t - V(s_t)`` normalised to mean 0, standard deviation 1 over the batch;
* actor loss: ``-min(rho A, clip(rho, 1-eps, 1+eps) A) - c_ent H(x) + c_B (KL(x||beta) - k_t)^2`` (the last
  term gated, see :func:`aitheory.llm.actor.budget_loss`), ``rho = x_new(a_t) / x_old(a_t)`` on the atoms;
* critic loss: ``(V(s_t) - G_t)^2``; gradients clipped to norm ``grad_clip``; Adam for both.

The budget follows :func:`aitheory.llm.config.schedule` in agent tokens. The run folder holds ``config.json``,
``metrics.csv`` (one row per iteration), ``transcripts/iter_NNNNN.jsonl`` and ``checkpoints/latest.pt``
(actor, critic, optimisers, the sampling generator's state, counters and metrics), all written atomically. A
run resumed from its checkpoint continues exactly as if it had not stopped (fixed seeds, same shapes).

Identity: ``config.json`` records the kind (:data:`TRAIN_KIND` or :data:`CONTROL_KIND`), the configuration's
fingerprint and the code version through :meth:`aitheory.results.RunFolder.open`, which also refuses a resume (or
a new run into a used folder) with another configuration; a folder written before fingerprints is compared by
its saved configuration.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aitheory.llm._torch import torch
from aitheory.llm.actor import Actor, BaseAtoms, Critic, budget_loss
from aitheory.llm.config import LLMConfig, schedule
from aitheory.llm.env import EpisodeSettings, Rollout, embedding_matrix, n_features, run_episodes, vocab_size
from aitheory.llm.episodes import Episode
from aitheory.llm.evaluate import summarize
from aitheory.progress import progress_enabled
from aitheory.results import RunFolder, atomic_write_bytes, atomic_write_text, read_json

__all__ = [
    "CONTROL_KIND",
    "TRAIN_KIND",
    "CheckpointError",
    "TrainState",
    "control",
    "discounted_returns",
    "episode_settings",
    "feature_statistics",
    "load_checkpoint",
    "ppo_update",
    "train",
]

CHECKPOINT = "checkpoints/latest.pt"
#: The run kinds recorded in ``config.json`` (:meth:`aitheory.results.RunFolder.open`).
TRAIN_KIND = "llm-train"
CONTROL_KIND = "llm-control"
#: Standard deviations below this fraction of the mean standard deviation are raised to it (near-constant
#: features would otherwise be multiplied by a huge factor).
STD_FLOOR = 1e-2


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded safely (not a plain tensor/container file, or damaged)."""


@dataclass
class TrainState:
    """Everything that changes during training (saved in the checkpoint)."""

    actor: Actor
    critic: Critic
    opt_actor: Any
    opt_critic: Any
    generator: Any
    iteration: int = 0
    agent_tokens: int = 0
    metrics: list[dict[str, Any]] = field(default_factory=list)

    def state_dict(self) -> dict[str, Any]:
        return {
            "actor": self.actor.state_dict(),
            "critic": self.critic.state_dict(),
            "opt_actor": self.opt_actor.state_dict(),
            "opt_critic": self.opt_critic.state_dict(),
            "generator": self.generator.get_state(),
            "iteration": self.iteration,
            "agent_tokens": self.agent_tokens,
            "metrics": self.metrics,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.actor.load_state_dict(state["actor"])
        self.critic.load_state_dict(state["critic"])
        self.opt_actor.load_state_dict(state["opt_actor"])
        self.opt_critic.load_state_dict(state["opt_critic"])
        self.generator.set_state(state["generator"])
        self.iteration = int(state["iteration"])
        self.agent_tokens = int(state["agent_tokens"])
        self.metrics = list(state["metrics"])


def _adam(module: Any, lr: float) -> Any:
    """Adam; the fused kernel where torch has one (6x faster on the 85 M-parameter head on a CPU)."""
    try:
        return torch.optim.Adam(module.parameters(), lr=lr, fused=True)
    except (RuntimeError, ValueError):
        return torch.optim.Adam(module.parameters(), lr=lr)


def new_state(config: LLMConfig, model: Any, tokenizer: Any) -> TrainState:
    """Zero-initialised actor, seeded critic, Adam optimisers and the seeded sampling generator."""
    nf = n_features(model)
    norm = config.feature_norm == "standard"
    embedding = embedding_matrix(model) if config.head == "embed" else None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        actor = Actor(nf, vocab_size(model, tokenizer), head=config.head, embedding=embedding, feature_norm=norm)
        critic = Critic(nf, feature_norm=norm)
    device = config.device
    actor, critic = actor.to(device), critic.to(device)
    generator = torch.Generator(device=device).manual_seed(config.seed)
    return TrainState(
        actor=actor,
        critic=critic,
        opt_actor=_adam(actor, config.lr_actor),
        opt_critic=_adam(critic, config.lr_critic),
        generator=generator,
    )


def discounted_returns(rewards: Any, env_index: Any, gamma: float) -> Any:
    """``G_t = r_t + gamma G_{t+1}`` within each environment's agent steps (given in time order)."""
    returns = torch.zeros_like(rewards)
    running: dict[int, float] = {}
    for t in range(rewards.shape[0] - 1, -1, -1):
        e = int(env_index[t])
        running[e] = float(rewards[t]) + gamma * running.get(e, 0.0)
        returns[t] = running[e]
    return returns


def _concat(rollouts: list[Rollout]) -> Rollout:
    offsets = []
    total_envs = 0
    for r in rollouts:
        offsets.append(r.env_index + total_envs)
        total_envs += len(r.episodes)
    ids = None if rollouts[0].atom_ids is None else torch.cat([r.atom_ids for r in rollouts if r.atom_ids is not None])
    return Rollout(
        features=torch.cat([r.features for r in rollouts]),
        atom_log_beta=torch.cat([r.atom_log_beta for r in rollouts]),
        atom_ids=ids,
        actions=torch.cat([r.actions for r in rollouts]),
        old_log_prob=torch.cat([r.old_log_prob for r in rollouts]),
        remaining_budget=torch.cat([r.remaining_budget for r in rollouts]),
        values=torch.cat([r.values for r in rollouts]),
        rewards=torch.cat([r.rewards for r in rollouts]),
        env_index=torch.cat(offsets),
        episodes=[e for r in rollouts for e in r.episodes],
    )


def ppo_update(state: TrainState, batch: Rollout, config: LLMConfig) -> dict[str, float]:
    """``config.epochs`` epochs of clipped PPO on ``batch``; returns mean losses and diagnostics."""
    returns = discounted_returns(batch.rewards, batch.env_index, config.gamma)
    adv = returns - batch.values
    adv = (adv - adv.mean()) / (adv.std(unbiased=False) + 1e-8) if adv.numel() > 1 else adv * 0
    sums: dict[str, float] = {}
    count = 0
    n = batch.n_steps
    for _ in range(config.epochs):
        perm = torch.randperm(n, generator=state.generator, device=batch.actions.device)
        for start in range(0, n, config.minibatch):
            mb = perm[start : start + config.minibatch]
            stats = _minibatch_step(state, batch, mb, adv[mb], returns[mb], config)
            for k, v in stats.items():
                sums[k] = sums.get(k, 0.0) + v
            count += 1
    out = {k: v / max(count, 1) for k, v in sums.items()}
    out["return_mean"] = float(returns.mean()) if n else 0.0
    return out


def _minibatch_step(
    state: TrainState, batch: Rollout, mb: Any, adv: Any, ret: Any, config: LLMConfig
) -> dict[str, float]:
    ids = None if batch.atom_ids is None else batch.atom_ids[mb]
    atoms = BaseAtoms(log_beta=batch.atom_log_beta[mb], ids=ids)
    step = state.actor(batch.features[mb], atoms, batch.remaining_budget[mb])
    new_lp = step.log_x.gather(1, batch.actions[mb].unsqueeze(1)).squeeze(1)
    ratio = torch.exp(new_lp - batch.old_log_prob[mb])
    pg = -torch.min(ratio * adv, torch.clamp(ratio, 1 - config.clip, 1 + config.clip) * adv).mean()
    p = step.log_x.exp()
    entropy = -torch.where(p > 0, p * step.log_x, torch.zeros_like(p)).sum(-1).mean()
    b_loss = budget_loss(step, config.budget_loss_min_kl).mean()
    loss = pg - config.ent_coef * entropy + config.budget_loss_coef * b_loss
    state.opt_actor.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(state.actor.parameters(), config.grad_clip)
    state.opt_actor.step()
    value = state.critic(batch.features[mb])
    v_loss = ((value - ret) ** 2).mean()
    state.opt_critic.zero_grad()
    v_loss.backward()
    torch.nn.utils.clip_grad_norm_(state.critic.parameters(), config.grad_clip)
    state.opt_critic.step()
    return {
        "pg_loss": float(pg.detach()),
        "value_loss": float(v_loss.detach()),
        "entropy": float(entropy.detach()),
        "budget_loss": float(b_loss.detach()),
        "k_mean": float(step.k.detach().mean()),
        "alpha_mean": float(step.mixture.alpha.detach().mean()),
        "saturated_frac": float(step.mixture.saturated.float().mean()),
        "clip_frac": float(((ratio.detach() - 1).abs() > config.clip).float().mean()),
    }


def _episode_stats(episodes: list[Episode]) -> dict[str, float]:
    """The ``metrics.csv`` episode columns: :func:`aitheory.llm.evaluate.summarize` plus the budget left."""
    s = summarize(episodes)
    left = [e.budget_left for e in episodes if e.budget_left is not None]
    return {
        "reward_mean": s["reward_mean"],
        "kl_spent_mean": s["kl_spent_mean"],
        "forgiven_mean": s["forgiven_mean"],
        "budget_left_mean": sum(left) / len(left) if left else math.nan,
        "empty_fraction": s["empty_fraction_mean"],
        "student_turns_mean": s["student_turns_mean"],
    }


def feature_statistics(
    model: Any, tokenizer: Any, config: LLMConfig, reward: Callable[[Any], list[float]]
) -> tuple[Any, Any]:
    """Per-feature mean and standard deviation of the agent's features in base-model rollouts.

    ``config.norm_rollouts`` rollouts in which the teacher samples from the base model (budget 0), with their
    own generator (seed ``config.seed + 1``), so the training stream of random numbers is unchanged. Over the
    hidden-state features: the mean, and the standard deviation raised to at least ``STD_FLOOR`` times its
    mean over the features; the last two features (time left, budget left, both in [0, 1]) keep shift 0 and
    scale 1.
    """
    generator = torch.Generator(device=config.device).manual_seed(config.seed + 1)
    feats = []
    for _ in range(config.norm_rollouts):
        r = run_episodes(model, tokenizer, episode_settings(config, 0.0, config.episode_tokens), reward, generator)
        feats.append(r.features)
    f = torch.cat(feats).double()
    mean, std = f.mean(0), f.std(0, unbiased=False)
    hidden = slice(0, f.shape[1] - 2)
    std[hidden] = std[hidden].clamp_min(STD_FLOOR * float(std[hidden].mean()))
    mean[-2:], std[-2:] = 0.0, 1.0
    return mean.float(), std.float()


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """A checkpoint's state dictionary, loaded with ``weights_only=True`` (no code runs from the file)."""
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError or EOFError depending on the damage
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"checkpoint {path} refused: {first}") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path} refused: not a state dictionary")
    return state


def _save_checkpoint(run: RunFolder, state: TrainState) -> None:
    buf = io.BytesIO()
    torch.save(state.state_dict(), buf)
    atomic_write_bytes(run.file(CHECKPOINT), buf.getvalue())


def _write_transcripts(run: RunFolder, iteration: int, agent_tokens: int, episodes: list[Episode]) -> None:
    lines = [
        json.dumps(dataclasses.replace(e, iteration=iteration, agent_tokens=agent_tokens).to_json(), allow_nan=False)
        for e in episodes
    ]
    atomic_write_text(run.file(f"transcripts/iter_{iteration:05d}.jsonl"), "\n".join(lines) + "\n")


def train(
    config: LLMConfig,
    out: str | Path | None = None,
    resume: bool = False,
    max_iterations: int | None = None,
    reward_fn: Callable[[Any], list[float]] | None = None,
    on_iteration: Callable[[dict[str, Any]], None] | None = None,
) -> Path:
    """Train (or resume) a run and return its folder; ``max_iterations`` stops early (after a checkpoint).

    A folder holding a run of another configuration is refused (:class:`aitheory.results.RunFolderError`, before
    the model loads), for a resume as for a new run.
    """
    from aitheory.llm.models import load_base
    from aitheory.llm.rewards import make_reward

    if resume and (out is None or not Path(out, CHECKPOINT).exists()):
        raise FileNotFoundError(f"nothing to resume: no {CHECKPOINT} in {out}")
    if resume:
        run = RunFolder.open(out, TRAIN_KIND, config, seed=config.seed)
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    model, tokenizer = load_base(config)  # before creating the folder: a model that cannot load leaves nothing
    reward = reward_fn or make_reward(config.reward, device=None if config.device == "cpu" else config.device)
    if not resume:
        run = RunFolder.open(out, TRAIN_KIND, config, seed=config.seed, name=f"llm-{config.name}-b{config.budget:g}")
    state = new_state(config, model, tokenizer)
    if resume:
        state.load_state_dict(load_checkpoint(run.file(CHECKPOINT)))
    elif config.feature_norm == "standard":
        mean, std = feature_statistics(model, tokenizer, config, reward)
        for module in (state.actor, state.critic):
            assert module.norm is not None
            module.norm.set_statistics(mean.to(config.device), std.to(config.device))
    done_here = 0
    while not schedule(config, state.agent_tokens).done:
        if max_iterations is not None and done_here >= max_iterations:
            break
        t0 = time.perf_counter()
        rollouts: list[Rollout] = []
        gathered = 0
        phase = schedule(config, state.agent_tokens)
        while gathered < config.update_tokens:
            phase = schedule(config, state.agent_tokens + gathered)
            settings = episode_settings(config, phase.budget, phase.episode_tokens)
            r = run_episodes(
                model,
                tokenizer,
                settings,
                reward,
                state.generator,
                state.actor,
                state.critic,
                show_progress=progress_enabled(),
            )
            rollouts.append(r)
            gathered += r.n_steps
            if r.n_steps == 0:
                raise RuntimeError("a rollout produced no agent tokens; check episode_tokens and the prompt")
        batch = _concat(rollouts)
        losses = ppo_update(state, batch, config)
        state.iteration += 1
        state.agent_tokens += gathered
        row = {
            "iteration": state.iteration,
            "agent_tokens": state.agent_tokens,
            "budget": phase.budget,  # the last rollout's phase: an update may straddle a phase boundary
            "episode_tokens": phase.episode_tokens,
            "episodes": len(batch.episodes),
            **_episode_stats(batch.episodes),
            **losses,
            "seconds": time.perf_counter() - t0,
        }
        state.metrics.append(row)
        if state.iteration % config.transcripts_every == 0:
            _write_transcripts(run, state.iteration, state.agent_tokens, batch.episodes)
        run.write_metrics(state.metrics)
        finished = schedule(config, state.agent_tokens).done
        if state.iteration % config.checkpoint_every == 0 or finished:
            _save_checkpoint(run, state)
        done_here += 1
        if on_iteration is not None:
            on_iteration(row)
    _save_checkpoint(run, state)
    run.write_summary(
        {
            "iterations": state.iteration,
            "agent_tokens": state.agent_tokens,
            "finished": schedule(config, state.agent_tokens).done,
            "last": state.metrics[-1] if state.metrics else None,
        }
    )
    return run.path


def episode_settings(config: LLMConfig, budget: float, episode_tokens: int) -> EpisodeSettings:
    """The environment settings of a configuration at a budget (nats) and episode length (tokens)."""
    return EpisodeSettings(
        prompt=config.prompt,
        n_envs=config.n_envs,
        episode_tokens=episode_tokens,
        budget=budget,
        budget_scale=max(config.budget, 1e-6),
        student_temperature=config.student_temperature,
        reply_cutoff=config.reply_cutoff,
        teacher_marker=config.teacher_marker,
        student_marker=config.student_marker,
        topk=None if config.head == "full" else config.topk,
        accounting=config.budget_accounting,
    )


def control(
    config: LLMConfig,
    out: str | Path | None = None,
    rollouts: int = 1,
    reward_fn: Callable[[Any], list[float]] | None = None,
) -> Path:
    """Base-model transcripts (the teacher samples from the base model itself): the control run.

    Writes ``config.json``, ``transcripts/iter_NNNNN.jsonl`` (one file per rollout of ``n_envs`` episodes, budget
    recorded as 0, nothing spent) and ``summary.json`` (:func:`aitheory.llm.evaluate.summarize`).
    """
    from aitheory.llm.models import load_base
    from aitheory.llm.rewards import make_reward

    if config.threads is not None:
        torch.set_num_threads(config.threads)
    run = RunFolder.open(out, CONTROL_KIND, config, seed=config.seed, name=f"llm-{config.name}-control")
    model, tokenizer = load_base(config)
    reward = reward_fn or make_reward(config.reward, device=None if config.device == "cpu" else config.device)
    generator = torch.Generator(device=config.device).manual_seed(config.seed)
    episodes: list[Episode] = []
    for i in range(1, rollouts + 1):
        r = run_episodes(model, tokenizer, episode_settings(config, 0.0, config.episode_tokens), reward, generator)
        _write_transcripts(run, i, 0, r.episodes)
        episodes += r.episodes
    run.write_summary(summarize(episodes))
    return run.path


def load_run_config(run_dir: str | Path) -> LLMConfig:
    """The configuration saved in a run folder's ``config.json``."""
    data = read_json(Path(run_dir) / "config.json")["config"]
    return LLMConfig(**data)
