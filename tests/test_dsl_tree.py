"""The observation tree (snapshot at ``,``, resume per observation) equals the reference on every sequence."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aitheory.dsl.enumerate import all_programs
from aitheory.dsl.parser import Plain
from aitheory.dsl.reference import run_reference
from aitheory.dsl.tree import run_tree

from .dsl_strategies import programs


@pytest.mark.parametrize(("k", "horizon"), [(2, 4), (3, 3)])
def test_tree_equals_reference_on_every_sequence(k: int, horizon: int) -> None:
    """Every program up to 15 bits, every observation sequence o_1..o_{H-1}."""
    branching = 0
    for p in all_programs(15):
        tree = run_tree(p, k=k, horizon=horizon, steps=100, tape_bound=6)
        branching += tree.n_nodes() > horizon + 1
        for obs in itertools.product(range(k), repeat=horizon - 1):
            assert tree.lookup(obs) == run_reference(p, k, horizon, obs, 100, 6), (Plain(p), obs)
    assert branching > 0  # some programs really read their observations


@settings(max_examples=60, deadline=None)
@given(programs(max_tokens=16), st.integers(2, 3), st.integers(1, 5))
def test_tree_equals_reference_hypothesis(p: Plain, k: int, horizon: int) -> None:
    tree = run_tree(p, k=k, horizon=horizon, steps=200, tape_bound=8)
    for obs, res in tree.behaviours(k, horizon):
        assert res == run_reference(p, k, horizon, obs, 200, 8)


def test_shared_prefixes_are_run_once() -> None:
    """A program that never reads has a path, not a tree; '+[,.+]]' branches only where it reads."""
    assert run_tree("+[.]]", k=2, horizon=10).n_nodes() == 11
    copier = run_tree(",[.,]+[.,]]", k=2, horizon=6)  # echoes o_{t-1}: reads in every interval
    assert copier.reads is False and copier.interval(0).child is not None
    assert copier.interval(0).child.reads
    assert copier.n_nodes() < 2 ** 6
