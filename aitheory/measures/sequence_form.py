r"""Definition 2 on arrays: the sequence form of policies tabulated level by level (the fast path).

A policy over ``n`` action steps after a start history is given as *levels*: ``levels[s]`` has shape
``(N_s, K_a)`` with ``N_s = (K_a K_o)^s``, row ``i`` the (semi)measure over actions at the ``i``-th history
``(a_1, o_1, ..., a_s, o_s)`` after the start in lexicographic order (index
``i = (..((a_1 K_o + o_1) K_a + a_2) K_o + o_2 ..)``). Its **sequence form** is
``Y_s[i K_a + a] = prod_{r <= s} pi(a_r | h_{r-1})``, the probability of the actions of history ``i``
followed by ``a`` given its observations (open loop, no environment factor). With the last level of ``pi``
and ``beta`` and the observation sequence ``o = (o_1..o_{n-1})`` of each entry, Definition 2 is, per sequence,
``KL_o = sum_{a_{1:n}} Y_pi ln(Y_pi / Y_beta)`` and ``TVD_o = (1/2) sum_{a_{1:n}} |Y_pi - Y_beta|``; the
divergence is the maximum over ``o``. These are the literal sums (no chain rule), so they hold for
semimeasures too: :func:`aitheory.measures.tree.tree_divergence` on callables gives the same values (tested).
Nats; ``inf`` where ``Y_pi > 0 = Y_beta``. Cost ``O(K_a N_{n-1})`` arithmetic and memory.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.special import rel_entr

__all__ = ["Levels", "expected_kl", "observation_groups", "open_loop", "sequence_form"]

#: Per-level arrays ``(N_s, K_a)`` of a policy (see the module docstring).
Levels = Sequence[np.ndarray]


def sequence_form(levels: Levels, n_observations: int) -> list[np.ndarray]:
    r"""``Y[s]`` of shape ``(N_s K_a,)`` for ``s = 0..n-1``: ``Y[s][i K_a + a] = prod_{r<=s} pi(a_r | h_{r-1})``."""
    out = []
    prefix = np.ones(1)
    for level in levels:
        joint = (prefix[:, None] * level).reshape(-1)
        out.append(joint)
        prefix = np.repeat(joint, n_observations)
    return out


def observation_groups(n_actions: int, n_observations: int, steps: int) -> np.ndarray:
    """For each last-level sequence-form entry ``i K_a + a``, the index of its observations ``(o_1..o_{n-1})``
    in base ``K_o`` (lexicographic order of the sequences)."""
    index = np.zeros(1, dtype=np.int64)
    for _ in range(steps - 1):
        nxt = index[:, None, None] * n_observations + np.arange(n_observations)[None, None, :]
        index = np.broadcast_to(nxt, (index.size, n_actions, n_observations)).reshape(-1)
    return np.repeat(index, n_actions)


def open_loop(
    pi: Levels, beta: Levels, n_actions: int, n_observations: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(KL_o, TVD_o)`` for every open-loop observation sequence ``o`` (index order), in nats / probability."""
    steps = len(pi)
    y, b = sequence_form(pi, n_observations)[-1], sequence_form(beta, n_observations)[-1]
    groups = observation_groups(n_actions, n_observations, steps)
    n_seq = n_observations ** (steps - 1)
    kls = np.bincount(groups, weights=rel_entr(y, b), minlength=n_seq)
    tvds = 0.5 * np.bincount(groups, weights=np.abs(y - b), minlength=n_seq)
    return kls, tvds


def expected_kl(pi: Levels, beta: Levels, reach: Sequence[np.ndarray], n_observations: int) -> float:
    r"""``E_{pi,nu}[sum_s KL(pi(.|h_s) || beta(.|h_s))]``, nats: the chain-rule form of the expected reading.

    ``reach[s][i]`` is the environment's probability of the observations of level-``s`` history ``i`` given
    its actions. A history reached with probability 0 adds 0. For measures ``pi`` and ``nu`` this equals
    ``KL(P^{pi,nu} || P^{beta,nu})`` (the ``"expected"`` reading of :mod:`aitheory.measures.tree`).
    """
    joints = sequence_form(pi, n_observations)
    total = 0.0
    for s in range(len(pi)):
        prefix = np.ones(1) if s == 0 else np.repeat(joints[s - 1], n_observations)
        weight = reach[s] * prefix
        row_kl = rel_entr(pi[s], beta[s]).sum(axis=1)
        with np.errstate(invalid="ignore"):
            total += math.fsum(np.where(weight > 0, weight * row_kl, 0.0))
    return total
