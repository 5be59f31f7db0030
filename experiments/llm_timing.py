"""Timing probe of one PPO iteration of an LLM configuration (rollout, then update), without a run folder.

Usage: ``python experiments/llm_timing.py --config cpu [--set n_envs=16 ...]``. Prints seconds for loading,
one rollout (``n_envs`` episodes) and one PPO update on it, and the agent tokens per second.
"""

from __future__ import annotations

import time

import torch
from llm_probe import full_budget_rollout, probe_config

from aitheory.llm.models import load_base
from aitheory.llm.ppo import new_state, ppo_update
from aitheory.llm.rewards import make_reward


def main() -> None:
    config = probe_config(__doc__, "cpu")
    t0 = time.perf_counter()
    model, tok = load_base(config)
    state = new_state(config, model, tok)
    reward = make_reward(config.reward)
    t1 = time.perf_counter()
    phase, rollout = full_budget_rollout(config, model, tok, reward, state)
    t2 = time.perf_counter()
    losses = ppo_update(state, rollout, config)
    t3 = time.perf_counter()
    tokens = config.n_envs * (phase.episode_tokens - (rollout.episodes[0].prompt_tokens or 0))
    print(
        f"load {t1 - t0:.1f} s; rollout {t2 - t1:.1f} s ({tokens / (t2 - t1):.0f} generated tokens/s, "
        f"{rollout.n_steps} agent tokens); update {t3 - t2:.1f} s; threads {torch.get_num_threads()}"
    )
    print({k: round(v, 4) for k, v in losses.items()})


if __name__ == "__main__":
    main()
