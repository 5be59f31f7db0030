"""The largest logit move of one Adam step of the actor, for choosing its learning rate.

Usage: ``python experiments/llm_step_size.py --config cpu16 [--set lr_actor=...]``. Builds the run's initial
state (the feature statistics too, as ``train`` does), plays one rollout at full budget with the
zero-initialised actor, takes one Adam step of the PPO loss on the whole rollout (``epochs=1``, one
minibatch) and prints, over the rollout's rows: the largest and the 99th-percentile absolute change of a
logit offset on the head's atoms, the largest change of the budget neuron ``z``, the mean L1 norm of the
actor's (normalised) features and the share of that norm carried by the budget-left and time-left features.
Adam's first step moves every parameter by ``lr`` times the sign of its gradient, so the moves scale
linearly with the learning rate: ``move / lr`` is printed too.
"""

from __future__ import annotations

import dataclasses
import time

import torch
from llm_probe import full_budget_rollout, probe_config

from aitheory.llm.actor import BaseAtoms
from aitheory.llm.models import load_base
from aitheory.llm.ppo import feature_statistics, new_state, ppo_update
from aitheory.llm.rewards import make_reward


def main() -> None:
    config = probe_config(__doc__, "cpu16")
    model, tok = load_base(config)
    reward = make_reward(config.reward)
    state = new_state(config, model, tok)
    t0 = time.perf_counter()
    if config.feature_norm == "standard":
        mean, std = feature_statistics(model, tok, config, reward)
        for module in (state.actor, state.critic):
            assert module.norm is not None
            module.norm.set_statistics(mean, std)
    t1 = time.perf_counter()
    _, batch = full_budget_rollout(config, model, tok, reward, state)
    t2 = time.perf_counter()
    atoms = BaseAtoms(log_beta=batch.atom_log_beta, ids=batch.atom_ids)
    with torch.no_grad():
        z0, d0 = state.actor.offsets(batch.features, atoms)
        feats = state.actor.norm(batch.features) if state.actor.norm is not None else batch.features
    one_step = dataclasses.replace(config, epochs=1, minibatch=max(batch.n_steps, 1))
    c0 = time.process_time()
    ppo_update(state, batch, one_step)
    c1, t3 = time.process_time(), time.perf_counter()
    with torch.no_grad():
        z1, d1 = state.actor.offsets(batch.features, atoms)
    move = (d1 - d0).abs()
    l1 = feats.abs().sum(1)
    lr = config.lr_actor
    print(f"config {config.name}: head {config.head} (K={config.topk}), feature_norm {config.feature_norm}, lr {lr:g}")
    print(
        f"statistics {t1 - t0:.1f} s, rollout {t2 - t1:.1f} s ({batch.n_steps} agent tokens), "
        f"one Adam step {t3 - t2:.1f} s wall / {c1 - c0:.1f} s CPU"
    )
    flat = move.flatten().float()
    p99 = (
        float(flat.quantile(0.99)) if flat.numel() < 2**24 else float(flat[:: flat.numel() // 2**23 + 1].quantile(0.99))
    )
    print(
        f"max logit move {float(move.max()):.4g} nats (per unit lr {float(move.max()) / lr:.4g}); "
        f"99th percentile {p99:.4g}"
    )
    print(f"max budget-neuron move {float((z1 - z0).abs().max()):.4g}")
    print(
        f"feature L1 norm per row: mean {float(l1.mean()):.4g}, max {float(l1.max()):.4g}; "
        f"budget+time share {float(feats[:, -2:].abs().sum(1).mean() / l1.mean()):.2e}; "
        f"max |feature| {float(feats.abs().max()):.4g}"
    )


if __name__ == "__main__":
    main()
