"""Fast runs on every observation sequence (shared prefixes) equal separate runs on each sequence."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aitheory.dsl.enumerate import all_programs
from aitheory.dsl.fast import pack_programs, run_batch
from aitheory.dsl.fast_tree import all_sequences, run_batch_all
from aitheory.dsl.parser import Plain
from aitheory.dsl.reference import run_reference
from aitheory.dsl.tree import run_tree

from .dsl_strategies import programs

PROGRAMS_18 = list(all_programs(18))


def _check(
    progs: list[tuple[int, ...]], k: int, horizon: int, steps: int, bound: int, detect: bool = True
) -> np.ndarray:
    codes, lengths = pack_programs(progs)
    every = run_batch_all(codes, lengths, k, horizon, steps, bound, detect)
    separate_steps = np.zeros(len(progs), dtype=np.int64)
    for g, obs in enumerate(all_sequences(k, horizon)):
        one = run_batch(codes, lengths, k, horizon, list(obs), steps, bound, detect)
        assert np.array_equal(every.actions[:, g], one.actions), g
        assert np.array_equal(every.status[:, g], one.status), g
        separate_steps += one.total_steps
    assert (every.total_steps <= separate_steps).all()
    return every.total_steps < separate_steps


@pytest.mark.parametrize(
    ("k", "horizon", "bound", "detect"), [(2, 5, 4096, True), (3, 3, 4, True), (2, 1, 4096, True), (2, 4, 6, False)]
)
def test_every_sequence_equals_separate_runs(k: int, horizon: int, bound: int, detect: bool) -> None:
    shared = _check(PROGRAMS_18, k, horizon, 150, bound, detect)
    if horizon > 1:
        assert shared.any()  # prefixes really are shared


def test_every_sequence_equals_reference_tree() -> None:
    progs = list(all_programs(12))
    codes, lengths = pack_programs(progs)
    every = run_batch_all(codes, lengths, 2, 4, 100, 5)
    seqs = all_sequences(2, 4)
    for i, p in enumerate(progs):
        tree = run_tree(p, 2, 4, 100, 5)
        for g, obs in enumerate(seqs):
            ref = tree.lookup(obs)
            assert ref == run_reference(p, 2, 4, obs, 100, 5)
            assert tuple(int(a) for a in every.actions[i, g, : len(ref.actions)]) == ref.actions


@settings(max_examples=60, deadline=None)
@given(st.lists(programs(max_tokens=20), min_size=1, max_size=5), st.integers(2, 3), st.integers(1, 5))
def test_every_sequence_hypothesis(progs: list[Plain], k: int, horizon: int) -> None:
    _check([p.codes for p in progs], k, horizon, 200, 6)


def test_too_many_sequences_is_an_error() -> None:
    with pytest.raises(ValueError, match="too many"):
        run_batch_all(np.array([[7]], dtype=np.uint8), None, 2, 18)


def test_table_over_all_histories_equals_explicit_histories() -> None:
    from aitheory.dsl.behaviour import EnumConfig, behaviour_table

    every = behaviour_table(EnumConfig(max_bits=15, k=2, horizon=4, steps=100, all_histories=True))
    seqs = tuple(tuple(int(o) for o in row) for row in all_sequences(2, 4))
    explicit = behaviour_table(EnumConfig(max_bits=15, k=2, horizon=4, steps=100, histories=seqs))
    for name in ("actions", "status", "weight", "count", "first"):
        assert np.array_equal(getattr(every, name), getattr(explicit, name)), name
    assert every.total_steps < explicit.total_steps
    assert every.actions.shape[1] == 8


def test_docs_example_predictive_is_a_semimeasure() -> None:
    """The docs' recipe: xi(a_3 | history) sums to <= 1, and the missing mass is the stopped rows' mass."""
    from aitheory.dsl.behaviour import EnumConfig, behaviour_table

    table = behaviour_table(EnumConfig(max_bits=15, k=2, horizon=4, all_histories=True))
    probs = table.action_probs(history=5)
    post = table.prior() * probs[:, 0, 1] * probs[:, 1, 0]
    xi_next = post @ probs[:, 2, :] / post.sum()
    stopped = probs[:, 2, :].sum(axis=1) == 0
    assert xi_next.sum() == pytest.approx(1 - post[stopped].sum() / post.sum())
    assert 0 < xi_next.sum() < 1
