"""One Definition 2: planning's array values and the measures entry point agree on random trees.

:func:`aitheory.planning.tree_divergence` (level arrays, :mod:`aitheory.measures.sequence_form`) against
:func:`aitheory.measures.tree_divergence` on the same callables (the depth-first pass over the history tree), for
semimeasure policies with zeros and near-degenerate entries; the expected KL against the ``expected`` reading
for measures. A negative control: a perturbed ``beta`` must make them disagree.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aitheory.measures import TreeShape, tree_divergence, tree_kl, tree_kl_adaptive, tree_tvd
from aitheory.measures.strategies import environment_strategy, policy_strategy
from aitheory.planning import Environment, PlanningProblem
from aitheory.planning import tree_divergence as planning_divergence

PROPS = settings(max_examples=30, deadline=None)


def close(x: float, y: float, tol: float = 1e-9) -> bool:
    if math.isinf(x) or math.isinf(y):
        return x == y
    return abs(x - y) <= tol * max(1.0, abs(x), abs(y))


def problem_of(env, k_a: int, k_o: int, steps: int, start: tuple[int, ...]) -> PlanningProblem:
    world = Environment(k_a, k_o, lambda h, a: env((*h, a)))
    return PlanningProblem.build(world, lambda h: 0.5, start, m=len(start) // 2 + steps)


shapes = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.sampled_from([(), (0, 0), (1, 0)]))


@PROPS
@given(shapes, st.data())
def test_planning_and_measures_agree_on_open_loop(shape, data) -> None:
    k_a, k_o, steps, start = shape
    start = tuple(min(x, k - 1) for x, k in zip(start, (k_a, k_o), strict=False)) if start else ()
    pi = data.draw(policy_strategy(k_a, zero_prob=0.2, semimeasure=True), "pi")
    beta = data.draw(policy_strategy(k_a, zero_prob=0.2, semimeasure=True), "beta")
    env = data.draw(environment_strategy(k_o), "env")
    problem = problem_of(env, k_a, k_o, steps, start)
    planned = planning_divergence(problem, pi, beta)
    tree = TreeShape(k_a, k_o, steps)
    kl = tree_divergence(pi, beta, tree, history=start, per_sequence=True)
    tv = tree_divergence(pi, beta, tree, history=start, measure="tvd", per_sequence=True)
    assert close(planned.kl, kl.value) and close(planned.tvd, float(tv.value))
    assert kl.per_sequence is not None and tv.per_sequence is not None
    assert set(planned.kl_per_sequence) == set(kl.per_sequence)
    for o, v in kl.per_sequence.items():
        assert close(planned.kl_per_sequence[o], v)
        assert close(planned.tvd_per_sequence[o], float(tv.per_sequence[o]))
    alias = tree_kl(pi, beta, n_actions=k_a, n_observations=k_o, horizon=steps, history=start)
    assert (alias.value, alias.maximiser) == (kl.value, kl.maximiser)


@PROPS
@given(shapes, st.data())
def test_planning_expected_kl_is_the_expected_reading_for_measures(shape, data) -> None:
    k_a, k_o, steps, _ = shape
    pi = data.draw(policy_strategy(k_a, zero_prob=0.2), "pi")
    beta = data.draw(policy_strategy(k_a), "beta")
    env = data.draw(environment_strategy(k_o, zero_prob=0.2), "env")
    problem = problem_of(env, k_a, k_o, steps, ())
    world = Environment(k_a, k_o, lambda h, a: env((*h, a)))
    got = tree_divergence(pi, beta, TreeShape(k_a, k_o, steps), reading="expected", env=world)
    assert close(planning_divergence(problem, pi, beta).kl_expected, got.value, 1e-8)


@PROPS
@given(shapes, st.data())
def test_a_perturbed_beta_breaks_the_agreement(shape, data) -> None:
    """Negative control: the comparison can fail (planning on beta, measures on a different beta')."""
    k_a, k_o, steps, _ = shape
    if k_a == 1:
        k_a = 2
    pi = data.draw(policy_strategy(k_a), "pi")
    problem = problem_of(data.draw(environment_strategy(k_o), "env"), k_a, k_o, steps, ())
    beta = lambda h: [1.0 / k_a] * k_a  # noqa: E731
    other = lambda h: [0.9, 0.1] + [0.0] * (k_a - 2)  # noqa: E731
    planned = planning_divergence(problem, pi, beta)
    moved = tree_divergence(pi, other, TreeShape(k_a, k_o, steps))
    assert not (close(planned.kl, moved.value) and close(planned.tvd, float(
        tree_divergence(pi, other, TreeShape(k_a, k_o, steps), measure="tvd").value)))


def test_level_arrays_take_the_fast_path() -> None:
    """Level arrays give the same result as callables, with no policy calls; other readings are refused."""
    pi_row, beta_row = [0.7, 0.3], [0.5, 0.5]
    levels = lambda row: [[row] * (4**s) for s in range(3)]  # noqa: E731
    shape = TreeShape(2, 2, 3)
    fast = tree_divergence(levels(pi_row), levels(beta_row), shape, per_sequence=True)
    slow = tree_divergence(lambda h: pi_row, lambda h: beta_row, shape, per_sequence=True)
    assert fast.policy_calls == 0 and close(fast.value, slow.value) and fast.maximiser == slow.maximiser
    assert fast.per_sequence is not None and slow.per_sequence is not None
    assert all(close(fast.per_sequence[o], v) for o, v in slow.per_sequence.items())
    with pytest.raises(ValueError, match="open-loop reading only"):
        tree_divergence(levels(pi_row), levels(beta_row), shape, reading="adaptive")
    assert tree_divergence([], [], TreeShape(2, 2, 0), measure="tvd").value == 0.0
    with pytest.raises(ValueError, match="level shapes"):
        tree_divergence(levels(pi_row)[:2], levels(beta_row)[:2], shape)


def test_meaningless_options_are_refused() -> None:
    pi = beta = lambda h: [0.5, 0.5]
    shape = TreeShape(2, 2, 2)
    for kwargs, word in (({"measure": "tvd", "base": 2.0}, "base"), ({"reading": "adaptive", "per_sequence": True},
                         "per_sequence"), ({"strategy": True}, "strategy"), ({"reading": "expected"}, "env"),
                         ({"measure": "js"}, "measure"), ({"reading": "closed"}, "reading")):
        with pytest.raises(ValueError, match=f"argument {word}"):
            tree_divergence(pi, beta, shape, **kwargs)
    # the aliases are the entry point with fixed (measure, reading)
    assert tree_tvd(pi, beta, n_actions=2, n_observations=2, horizon=2).measure == "tvd"
    assert tree_kl_adaptive(pi, beta, n_actions=2, n_observations=2, horizon=2).reading == "adaptive"


def test_a_planning_environment_is_an_environment() -> None:
    """``Environment(h_with_action)`` is ``nu(. | h, a)``; a history ending in an observation is refused."""
    world = Environment(2, 3, lambda h, a: [0.5, 0.25 * a, 0.25 * (1 - a)] if len(h) < 2 else [1.0, 0.0, 0.0])
    assert list(world((1,))) == [0.5, 0.25, 0.0] and list(world((0, 2, 1))) == [1.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="argument h"):
        world((0, 1))
