r"""A policy's history tree as a networkx graph (``graphs`` extra), for drawing, inspection or export (GraphML).

:func:`policy_tree` enumerates the tree of Definition 2 from a start history: a node per history (the tuple,
start included), an edge per action from a history ending in an observation (``action``, ``probability`` =
``pi(a | h)``, and ``beta`` = ``beta(a | h)`` when a base policy is given) and per observation from a history
ending in an action (``observation``; ``probability`` = ``env(o | h a)`` when an environment is given, else
absent: an open-loop observation, chosen, not drawn). Node attributes: ``kind`` (``"decision"``, ``"chance"`` or
``"leaf"``) and ``step`` (action steps since the start). Nothing is renormalised: a semimeasure's deficit is
simply missing from the out-edges. Same size limit as the divergences (:func:`~aitheory.measures.tree_size`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aitheory._optional import require
from aitheory.measures.pmf import as_pmf
from aitheory.measures.tree import DEFAULT_MAX_NODES, TreeShape, _check_history, _check_size
from aitheory.types import Environment, History, Policy

__all__ = ["policy_tree"]


def policy_tree(
    pi: Policy,
    shape: TreeShape,
    *,
    beta: Policy | None = None,
    env: Environment | None = None,
    history: Sequence[int] = (),
    max_nodes: int = DEFAULT_MAX_NODES,
) -> Any:
    """The history tree of ``pi`` over ``shape.horizon`` action steps from ``history``, as a ``networkx.DiGraph``.

    Leaves are the histories ending in the last action (the last observation enters no divergence). Refuses
    (``TreeTooLargeError``) trees with more than ``max_nodes`` nodes before calling any policy.
    """
    nx = require("networkx", "graphs")
    ka, ko = shape.n_actions, shape.n_observations
    start = _check_history(history, ka, ko)
    _check_size(ka, ko, shape.horizon, max_nodes)
    graph = nx.DiGraph(n_actions=ka, n_observations=ko, horizon=shape.horizon)
    frontier: list[History] = [start]
    graph.add_node(start, kind="decision" if shape.horizon else "leaf", step=0)
    for step in range(shape.horizon):
        last = step == shape.horizon - 1
        nxt: list[History] = []
        for h in frontier:
            probs = _row(pi(h), f"pi(history={h})", ka)
            base = None if beta is None else _row(beta(h), f"beta(history={h})", ka)
            for a in range(ka):
                ha = (*h, a)
                graph.add_node(ha, kind="leaf" if last else "chance", step=step + 1)
                extra = {} if base is None else {"beta": float(base[a])}
                graph.add_edge(h, ha, action=a, probability=float(probs[a]), **extra)
                if not last:
                    nxt += _observe(graph, ha, env, ko, step + 1)
        frontier = nxt
    return graph


def _observe(graph: Any, ha: History, env: Environment | None, ko: int, step: int) -> list[History]:
    """The observation children of ``ha`` (with ``env``'s probabilities if given)."""
    weights = None if env is None else _row(env(ha), f"env(history={ha})", ko)
    children = []
    for o in range(ko):
        child = (*ha, o)
        graph.add_node(child, kind="decision", step=step)
        extra = {} if weights is None else {"probability": float(weights[o])}
        graph.add_edge(ha, child, observation=o, **extra)
        children.append(child)
    return children


def _row(out: Any, name: str, size: int) -> Any:
    """``out`` validated as a (semi)measure of ``size`` entries (a ``ValueError`` naming ``name`` otherwise)."""
    p = as_pmf(out, name)
    if p.shape != (size,):
        raise ValueError(f"argument {name}: has {p.shape[0]} entries, expected {size}")
    return p
