"""The history tree of a policy as a networkx graph: the right nodes, edges and probabilities."""

from __future__ import annotations

import itertools
import math

import pytest

from aitheory.measures import TreeShape, TreeTooLargeError, tree_kl
from aitheory.measures.graph import policy_tree

nx = pytest.importorskip("networkx", reason="the graphs extra")


def test_tree_has_every_history_with_its_probabilities() -> None:
    pi = lambda h: [0.25, 0.75]  # noqa: E731
    beta = lambda h: [0.5, 0.5]  # noqa: E731
    env = lambda h: [0.1, 0.2, 0.7] if h[-1] else [1.0, 0.0, 0.0]  # noqa: E731
    g = policy_tree(pi, TreeShape(2, 3, 2), beta=beta, env=env, history=(1, 0))
    assert nx.is_tree(g) and g.graph["horizon"] == 2
    # 1 start, 2 chance, 6 decisions, 12 leaves
    kinds = [d["kind"] for _, d in g.nodes(data=True)]
    assert (kinds.count("decision"), kinds.count("chance"), kinds.count("leaf")) == (7, 2, 12)
    assert g.edges[(1, 0), (1, 0, 1)] == {"action": 1, "probability": 0.75, "beta": 0.5}
    assert g.edges[(1, 0, 1), (1, 0, 1, 2)] == {"observation": 2, "probability": 0.7}
    # the open-loop KL from the graph's edge probabilities equals Definition 2 (pi, beta state-free: per step)
    leaves = [n for n, d in g.nodes(data=True) if d["kind"] == "leaf"]
    per_seq: dict[int, float] = {}
    for leaf in leaves:
        path = nx.shortest_path(g, (1, 0), leaf)
        acts = [g.edges[u, v] for u, v in itertools.pairwise(path) if "action" in g.edges[u, v]]
        p = math.prod(e["probability"] for e in acts)
        b = math.prod(e["beta"] for e in acts)
        per_seq[leaf[3]] = per_seq.get(leaf[3], 0.0) + p * math.log(p / b)
    assert max(per_seq.values()) == pytest.approx(
        tree_kl(pi, beta, n_actions=2, n_observations=3, horizon=2, history=(1, 0)).value, rel=1e-12)


def test_open_loop_observations_carry_no_probability_and_limits_hold() -> None:
    g = policy_tree(lambda h: [1.0], TreeShape(1, 2, 3))
    assert all("probability" not in d for _, _, d in g.edges(data=True) if "observation" in d)
    with pytest.raises(TreeTooLargeError):
        policy_tree(lambda h: [0.5, 0.5], TreeShape(2, 2, 12), max_nodes=1000)
    with pytest.raises(ValueError, match="expected 2"):
        policy_tree(lambda h: [1.0], TreeShape(2, 2, 1))
