"""The set-up the LLM probe scripts share (``llm_timing.py``, ``llm_step_size.py``): the configuration from
``--config`` and ``--set``, and one rollout at full budget.

Imported by those scripts as a sibling module (``python experiments/llm_timing.py`` puts ``experiments/`` on the
path); not a script itself.
"""

from __future__ import annotations

from typing import Any

import torch

from aitheory.configs import ArgumentParser
from aitheory.llm.config import LLMConfig, Phase, get_config, schedule, with_overrides
from aitheory.llm.env import Rollout, run_episodes
from aitheory.llm.ppo import TrainState, episode_settings


def probe_config(description: str | None, default: str) -> LLMConfig:
    """The configuration named by ``--config`` (default ``default``) with the ``--set FIELD=VALUE`` overrides; a bad
    name or value is one line and exit 2. Sets torch's threads to ``config.threads`` where it is given."""
    parser = ArgumentParser(description=description)
    parser.add_argument("--config", default=default, help=f"smoke, cpu, cpu16 or paper (default {default})")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override any configuration field (repeatable), e.g. --set n_envs=8")
    args = parser.parse_args()
    try:
        config = with_overrides(get_config(args.config), args.set)
    except ValueError as exc:
        parser.error(str(exc))
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    return config


def full_budget_rollout(config: LLMConfig, model: Any, tok: Any, reward: Any, state: TrainState
                        ) -> tuple[Phase, Rollout]:
    """One rollout (``n_envs`` episodes) at the schedule's phase after the ramp (full budget), with the state's
    actor, critic and generator; returns the phase and the rollout."""
    phase = schedule(config, config.ramp_tokens)
    settings = episode_settings(config, phase.budget, phase.episode_tokens)
    return phase, run_episodes(model, tok, settings, reward, state.generator, state.actor, state.critic)
