"""Tests of :mod:`aitheory.ctw`: context tree weighting as the exact Bayes mixture over suffix trees.

The oracle is an independent brute force: enumerate every prediction suffix tree S of depth <= D with its
prior 2^{-Gamma_D(S)}, run an exact (``fractions.Fraction``) KT estimator at each leaf, and sum.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from aitheory.ctw import CTW, CTWSnapshot, ReferenceCTW, ctw_log_prob, ctw_log_probs

# ------------------------------------------------------------------------------------------------------
# Independent brute force over suffix trees (exact arithmetic)
# ------------------------------------------------------------------------------------------------------

Tree = tuple[tuple[tuple[int, ...], ...], int]  # (leaf contexts, most recent symbol first; Gamma_D in bits)


def suffix_trees(depth: int, k: int) -> list[Tree]:
    """Every K-ary prediction suffix tree of depth <= ``depth`` with its code length Gamma_D (bits).

    A node at depth < D is either a leaf (1 bit) or split into K children (1 bit); at depth D it is a leaf
    for free.
    """

    def grow(ctx: tuple[int, ...]) -> list[Tree]:
        if len(ctx) == depth:
            return [((ctx,), 0)]
        out: list[Tree] = [((ctx,), 1)]
        for combo in itertools.product(*(grow((*ctx, c)) for c in range(k))):
            leaves = tuple(leaf for sub, _ in combo for leaf in sub)
            out.append((leaves, 1 + sum(g for _, g in combo)))
        return out

    return grow(())


def kt_sequence_prob(symbols: list[int], k: int) -> Fraction:
    """Exact sequential K-ary KT probability: prod_t (n_{x_t} + 1/2) / (n + K/2)."""
    counts = [0] * k
    p = Fraction(1)
    for x in symbols:
        p *= Fraction(2 * counts[x] + 1, 2 * sum(counts) + k)
        counts[x] += 1
    return p


def brute_force_prob(
    seq: list[int], depth: int, k: int, roles: int = 1, initial: list[int] | None = None
) -> Fraction:
    """P(seq) = prod_roles sum_S 2^{-Gamma_D(S)} prod_{leaves s} KT(symbols of that role with context s)."""
    padded = ([0] * depth if initial is None else list(initial)) + list(seq)
    contexts = [tuple(reversed(padded[t : t + depth])) for t in range(len(seq))]
    total = Fraction(1)
    for role in range(roles):
        positions = [t for t in range(len(seq)) if t % roles == role]
        mix = Fraction(0)
        for leaves, gamma in suffix_trees(depth, k):
            p = Fraction(1, 2**gamma)
            for leaf in leaves:
                routed = [seq[t] for t in positions if contexts[t][: len(leaf)] == leaf]
                p *= kt_sequence_prob(routed, k)
            mix += p
        total *= mix
    return total


def log_fraction(x: Fraction) -> float:
    return math.log(x.numerator) - math.log(x.denominator)


def kt_log_from_counts(counts: tuple[int, ...]) -> float:
    k = len(counts)
    n = sum(counts)
    return (
        sum(math.lgamma(c + 0.5) - math.lgamma(0.5) for c in counts)
        - math.lgamma(n + k / 2)
        + math.lgamma(k / 2)
    )


def state(model: CTW) -> list:
    """Everything observable about the trees, for exact comparisons."""
    return [(n.role, n.context, n.counts, n.log_pe, n.log_pw) for n in model.iter_nodes()]


# small configurations where the brute force is cheap: (depth, K)
SMALL = st.sampled_from([(0, 2), (1, 2), (2, 2), (3, 2), (0, 3), (1, 3), (2, 3), (1, 4)])


@st.composite
def small_case(draw: st.DrawFn, max_len: int = 9) -> tuple[int, int, int, list[int], list[int]]:
    depth, k = draw(SMALL)
    roles = draw(st.integers(1, 2))
    seq = draw(st.lists(st.integers(0, k - 1), max_size=max_len))
    initial = draw(st.lists(st.integers(0, k - 1), min_size=depth, max_size=depth))
    return depth, k, roles, seq, initial


# ------------------------------------------------------------------------------------------------------
# The brute force itself
# ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("depth", "k", "count"), [(0, 2, 1), (1, 2, 2), (2, 2, 5), (3, 2, 26), (2, 3, 9)])
def test_suffix_tree_prior_sums_to_one(depth: int, k: int, count: int) -> None:
    """Kraft: sum_S 2^{-Gamma_D(S)} = 1 over the T(D) = 1 + T(D-1)^K suffix trees of depth <= D."""
    trees = suffix_trees(depth, k)
    assert len(trees) == count
    assert sum(Fraction(1, 2**g) for _, g in trees) == 1


def test_brute_force_binary_gamma_matches_willems() -> None:
    """For K = 2, Gamma_D(S) = 2|S| - 1 - #{leaves at depth D} (Willems, Shtarkov, Tjalkens 1995)."""
    for leaves, gamma in suffix_trees(3, 2):
        assert gamma == 2 * len(leaves) - 1 - sum(len(s) == 3 for s in leaves)


# ------------------------------------------------------------------------------------------------------
# Exactness: CTW == brute-force mixture
# ------------------------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(small_case())
def test_sequence_probability_equals_brute_force(case: tuple[int, int, int, list[int], list[int]]) -> None:
    """ln P_w(x_{1:n}) from CTW equals ln of the exact sum over all suffix trees (within 1e-11 nats)."""
    depth, k, roles, seq, initial = case
    exact = brute_force_prob(seq, depth, k, roles, initial)
    got = ctw_log_prob(seq, depth, k, roles, initial)
    assert got == pytest.approx(log_fraction(exact), abs=1e-11)
    assert sum(ctw_log_probs(seq, depth, k, roles, initial)) == pytest.approx(got, abs=1e-11)


@settings(max_examples=80, deadline=None)
@given(small_case(max_len=7))
def test_predictive_equals_brute_force_ratio(case: tuple[int, int, int, list[int], list[int]]) -> None:
    """predict() equals P(h x) / P(h) of the brute-force mixture for every symbol x (within 1e-12)."""
    depth, k, roles, seq, initial = case
    model = CTW(depth, k, roles, initial)
    model.update_many(seq)
    base = brute_force_prob(seq, depth, k, roles, initial)
    expected = [float(brute_force_prob([*seq, x], depth, k, roles, initial) / base) for x in range(k)]
    np.testing.assert_allclose(model.predict(), expected, rtol=0, atol=1e-12)


def test_role_factor_is_the_observation_tree() -> None:
    """With roles=2, log_prob(seq, role=1) is the brute-force mixture over the observations' trees only."""
    seq = [1, 1, 0, 0, 1, 1, 1, 0, 0, 1]
    model = CTW(2, 2, roles=2)
    joint = brute_force_prob(seq, 2, 2, roles=2)
    obs = brute_force_prob(seq, 2, 2, roles=2) / _single_role_prob(seq, 2, 2, role=0)
    assert model.log_prob(seq, role=1) == pytest.approx(log_fraction(obs), abs=1e-12)
    assert model.log_prob(seq) == pytest.approx(log_fraction(joint), abs=1e-12)
    assert model.log_prob(seq, role=0) + model.log_prob(seq, role=1) == pytest.approx(model.log_prob(seq))
    assert len(model) == 0  # log_prob leaves the predictor unchanged


def _single_role_prob(seq: list[int], depth: int, k: int, role: int) -> Fraction:
    padded = [0] * depth + seq
    total = Fraction(0)
    for leaves, gamma in suffix_trees(depth, k):
        p = Fraction(1, 2**gamma)
        for leaf in leaves:
            routed = [
                seq[t]
                for t in range(role, len(seq), 2)
                if tuple(reversed(padded[t : t + depth]))[: len(leaf)] == leaf
            ]
            p *= kt_sequence_prob(routed, k)
        total += p
    return total


# ------------------------------------------------------------------------------------------------------
# Every node's predictive sums to 1 (pyaixi's leaf bug) and equals its weight ratio
# ------------------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    depth=st.integers(0, 6),
    k=st.integers(2, 4),
    seq=st.lists(st.integers(0, 3), max_size=60),
)
def test_every_node_predictive_sums_to_one_and_is_a_weight_ratio(depth: int, k: int, seq: list[int]) -> None:
    """For each node s on the context path, p_w^s(x) = P_w^s(h x) / P_w^s(h) and sum_x p_w^s(x) = 1 (1e-12).

    This fails if leaves are not updated (pyaixi: a stale leaf predicts its old estimate for every symbol,
    so the ratios at the leaf are 1 and the node predictions sum to K).
    """
    seq = [x % k for x in seq]
    model = CTW(depth, k)
    model.update_many(seq)
    rows = model.path_predictives()
    assert rows.shape == (depth + 1, k)
    np.testing.assert_allclose(rows.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    context = [int(c) for c in reversed(([0] * depth + seq)[len(seq) :])]
    for x in range(k):
        before = [model.node(context[:d]) for d in range(depth + 1)]
        model.update(x)
        after = [model.node(context[:d]) for d in range(depth + 1)]
        model.revert()
        for d in range(depth + 1):
            old = before[d].log_pw if before[d] is not None else 0.0
            new = after[d].log_pw
            assert after[d].counts[x] == (before[d].counts[x] if before[d] else 0) + 1  # leaves updated too
            assert rows[d, x] == pytest.approx(math.exp(new - old), rel=1e-11)


@settings(max_examples=30, deadline=None)
@given(
    depth=st.integers(0, 5),
    k=st.integers(2, 3),
    roles=st.integers(1, 2),
    seq=st.lists(st.integers(0, 2), max_size=80),
)
def test_tree_invariants(depth: int, k: int, roles: int, seq: list[int]) -> None:
    """Every stored node: ln P_e = KT(counts); ln P_w = ln(P_e/2 + prod_c P_w^c / 2) (or P_e at depth D);
    an internal node's counts are the sums of its children's; role roots' counts count that role's symbols."""
    seq = [x % k for x in seq]
    model = CTW(depth, k, roles)
    model.update_many(seq)
    nodes = {(n.role, n.context): n for n in model.iter_nodes()}
    assert len(nodes) == model.node_count
    for (role, ctx), node in nodes.items():
        assert node.log_pe == pytest.approx(kt_log_from_counts(node.counts), abs=1e-10)
        kids = [nodes.get((role, (*ctx, c))) for c in range(k)]
        if len(ctx) == depth:
            assert node.log_pw == node.log_pe
            assert all(kid is None for kid in kids)
        else:
            prod = sum(kid.log_pw for kid in kids if kid is not None)
            expected = math.log(0.5 * math.exp(node.log_pe) + 0.5 * math.exp(prod))
            assert node.log_pw == pytest.approx(expected, abs=1e-11)
            assert node.log_pw >= node.log_pe - math.log(2) - 1e-12
            summed = [sum(kid.counts[s] for kid in kids if kid is not None) for s in range(k)]
            assert list(node.counts) == summed
    for role in range(roles):
        root = nodes[(role, ())]
        assert sum(root.counts) == len(range(role, len(seq), roles))


# ------------------------------------------------------------------------------------------------------
# Online == batch, revert and snapshots are exact
# ------------------------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    depth=st.integers(0, 8),
    k=st.integers(2, 5),
    roles=st.integers(1, 3),
    seq=st.lists(st.integers(0, 4), max_size=120),
)
def test_online_equals_batch_bit_for_bit(depth: int, k: int, roles: int, seq: list[int]) -> None:
    """update() one symbol at a time == update_many == predict_many: same log-probs, predictions and trees."""
    seq = [x % k for x in seq]
    online = CTW(depth, k, roles, capacity=1)  # capacity 1 exercises the growth path
    preds, logps = [], []
    for x in seq:
        preds.append(online.predict())
        logps.append(online.update(x))
    batch = CTW(depth, k, roles)
    batch_logp = batch.update_many(seq)
    both = CTW(depth, k, roles)
    pm, lm = both.predict_many(seq)
    assert np.array_equal(np.array(logps, dtype=float), batch_logp)
    assert np.array_equal(lm, batch_logp)
    assert np.array_equal(np.array(preds).reshape(len(seq), k), pm)
    assert state(online) == state(batch) == state(both)
    assert online.log_prob_history() == batch.log_prob_history()
    np.testing.assert_allclose(pm.sum(axis=1) if seq else 1.0, 1.0, rtol=0, atol=1e-12)
    if seq:
        chosen = pm[np.arange(len(seq)), seq]
        np.testing.assert_allclose(np.log(chosen), batch_logp, rtol=0, atol=1e-11)


@settings(max_examples=30, deadline=None)
@given(
    depth=st.integers(0, 7),
    k=st.integers(2, 3),
    seq=st.lists(st.integers(0, 2), max_size=60),
    more=st.lists(st.integers(0, 2), min_size=1, max_size=40),
)
def test_revert_restores_state_exactly(depth: int, k: int, seq: list[int], more: list[int]) -> None:
    """After update_many(more), revert(len(more)): trees, node pool and predictions are bitwise equal."""
    seq, more = [x % k for x in seq], [x % k for x in more]
    model = CTW(depth, k)
    model.update_many(seq)
    snap_state, snap_nodes, snap_pred = state(model), model.node_count, model.predict()
    model.update_many(more)
    model.revert(len(more))
    assert state(model) == snap_state
    assert model.node_count == snap_nodes
    assert np.array_equal(model.predict(), snap_pred)
    assert list(model.history) == seq


class CTWMachine(RuleBasedStateMachine):
    """Random interleavings of update / revert / snapshot / restore / log_prob against a fresh rebuild."""

    def __init__(self) -> None:
        super().__init__()
        self.model = CTW(3, 3, roles=2)
        self.history: list[int] = []
        self.ids: list[int] = []  # a unique id per append event, to know which snapshots are still ancestors
        self.next_id = 0
        self.snaps: list[tuple[CTWSnapshot, int, int]] = []

    def _append(self, xs: list[int]) -> None:
        self.history.extend(xs)
        self.ids.extend(range(self.next_id, self.next_id + len(xs)))
        self.next_id += len(xs)

    @rule(x=st.integers(0, 2))
    def update(self, x: int) -> None:
        fresh = CTW(3, 3, roles=2)
        fresh.update_many(self.history)
        expected = fresh.update(x)
        assert self.model.update(x) == expected
        self._append([x])

    @rule(xs=st.lists(st.integers(0, 2), max_size=6))
    def update_many(self, xs: list[int]) -> None:
        self.model.update_many(xs)
        self._append(xs)

    @precondition(lambda self: len(self.history) > 0)
    @rule(data=st.data())
    def revert(self, data: st.DataObject) -> None:
        n = data.draw(st.integers(1, len(self.history)))
        self.model.revert(n)
        del self.history[len(self.history) - n :]
        del self.ids[len(self.ids) - n :]

    @rule()
    def snapshot(self) -> None:
        length = len(self.history)
        self.snaps.append((self.model.snapshot(), length, self.ids[-1] if length else -1))

    @precondition(lambda self: len(self.snaps) > 0)
    @rule(data=st.data())
    def restore(self, data: st.DataObject) -> None:
        snap, length, last_id = data.draw(st.sampled_from(self.snaps))
        ancestor = length <= len(self.history) and (length == 0 or self.ids[length - 1] == last_id)
        if not ancestor:
            with pytest.raises(ValueError, match="snapshot"):
                self.model.restore(snap)
            return
        self.model.restore(snap)
        del self.history[length:]
        del self.ids[length:]

    @rule(xs=st.lists(st.integers(0, 2), max_size=5))
    def log_prob(self, xs: list[int]) -> None:
        before = state(self.model)
        lp = self.model.log_prob(xs)
        fresh = CTW(3, 3, roles=2)
        fresh.update_many(self.history)
        h = fresh.log_prob_history()
        fresh.update_many(xs)
        assert lp == pytest.approx(fresh.log_prob_history() - h, abs=1e-12)
        assert state(self.model) == before

    @invariant()
    def matches_rebuild(self) -> None:
        fresh = CTW(3, 3, roles=2)
        fresh.update_many(self.history)
        assert list(self.model.history) == self.history
        assert state(self.model) == state(fresh)
        assert self.model.node_count == fresh.node_count
        assert np.array_equal(self.model.predict(), fresh.predict())


CTWMachine.TestCase.settings = settings(
    max_examples=25, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_ctw_state_machine = CTWMachine.TestCase


def test_restore_refuses_a_reverted_snapshot() -> None:
    model = CTW(2)
    model.update_many([1, 0, 1])
    snap = model.snapshot()
    model.revert(2)
    model.update_many([1, 1])  # same length, different history
    with pytest.raises(ValueError, match="snapshot"):
        model.restore(snap)


# ------------------------------------------------------------------------------------------------------
# Cross-check with the plain-Python reference, learning behaviour, large counts
# ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("depth", "k", "roles"), [(6, 2, 1), (4, 3, 2), (8, 2, 2)])
def test_matches_reference_implementation(depth: int, k: int, roles: int) -> None:
    """Fast CTW == plain-Python ReferenceCTW (incremental KT, predictions by hypothetical update)."""
    rng = np.random.default_rng(depth * 10 + k)
    seq = (rng.random(400) < 0.3).astype(int) if k == 2 else rng.integers(0, k, 400)
    fast, ref = CTW(depth, k, roles), ReferenceCTW(depth, k, roles)
    for x in seq[:300]:
        np.testing.assert_allclose(fast.predict(), ref.predict(), rtol=1e-10)
        assert fast.update(int(x)) == pytest.approx(ref.update(int(x)), abs=1e-10)
    assert fast.log_prob_history() == pytest.approx(ref.log_prob_history(), rel=1e-12)


def test_learns_a_deterministic_period_two_sequence() -> None:
    """On 0101..., depth-1 CTW's loss grows like ln n, not n: <= 1 bit + the two leaves' KT losses.

    (With the initial context 0 the leaf of context 0 sees one 0 and then only 1s.)
    """
    n = 2000
    seq = [t % 2 for t in range(n)]
    logp = ctw_log_probs(seq, 1)
    leaf0 = math.lgamma(1.5) + math.lgamma(n / 2 + 0.5) - 2 * math.lgamma(0.5) - math.lgamma(n / 2 + 2)
    leaf1 = math.lgamma(n / 2 - 0.5) - math.lgamma(0.5) - math.lgamma(n / 2)
    assert -logp.sum() <= math.log(2) - leaf0 - leaf1 + 1e-9
    assert -logp.sum() < 20.0
    assert -logp[n // 2 :].sum() < 2.0
    model = CTW(1)
    model.update_many(seq)
    assert model.predict()[0] > 0.999


def test_mixture_dominates_every_suffix_tree() -> None:
    """P_w >= 2^{-Gamma_D(S)} prod_leaves P_e: the depth-0 tree (1 bit) and the full tree (2^D - 1 bits)."""
    rng = np.random.default_rng(1)
    depth = 4
    model = CTW(depth)
    model.update_many(rng.integers(0, 2, 500))
    nodes = list(model.iter_nodes())
    root = next(n for n in nodes if n.context == ())
    full = sum(n.log_pe for n in nodes if len(n.context) == depth)
    assert root.log_pw >= root.log_pe - math.log(2)
    assert root.log_pw >= full - (2**depth - 1) * math.log(2)


def test_predictable_data_keeps_relative_precision() -> None:
    """n zeros at depth 0: ln P = sum_j ln((j + 1/2)/(j + 1)) to 1e-13 relative, though it is tiny next to the
    ln Gamma(n) ~ 2e5 that an lgamma-of-counts formula would cancel; the last step's loss to 1e-9 relative."""
    n = 20_000
    model = CTW(0)
    logp = model.update_many(np.zeros(n, dtype=int))
    exact = math.fsum(math.log1p(-0.5 / (j + 1)) for j in range(n))
    assert model.log_prob_history() == pytest.approx(exact, rel=1e-13)
    assert logp[-1] == pytest.approx(math.log1p(-0.5 / n), rel=1e-9)
    assert model.predict()[0] == pytest.approx((n + 0.5) / (n + 1), rel=1e-15)
    assert model.predict()[1] == pytest.approx(0.5 / (n + 1), rel=1e-12)


def test_role_trees_are_separate() -> None:
    """Observations copying the action are learnt by the observation tree; the action tree stays near 1/2."""
    rng = np.random.default_rng(3)
    actions = rng.integers(0, 2, 300)
    seq = np.ravel(np.column_stack([actions, actions]))
    model = CTW(2, roles=2)
    model.update_many(seq)
    assert model.next_role == 0
    assert abs(model.predict()[0] - 0.5) < 0.2
    model.update(1)
    assert model.next_role == 1
    assert model.predict()[1] > 0.97
    assert model.log_prob_history(role=1) > -20.0 > model.log_prob_history(role=0)


# ------------------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"depth": -1}, "depth"),
        ({"depth": 2, "alphabet_size": 1}, "alphabet_size"),
        ({"depth": 2, "roles": 0}, "roles"),
        ({"depth": 2.5}, "depth"),
        ({"depth": 2, "initial_context": [0]}, "initial_context"),
        ({"depth": 2, "initial_context": [0, 2]}, "initial_context"),
    ],
)
def test_bad_construction_names_the_argument(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=f"argument {name}"):
        CTW(**kwargs)


def test_bad_calls_name_the_argument() -> None:
    model = CTW(2, alphabet_size=3, roles=2)
    with pytest.raises(ValueError, match="argument symbol"):
        model.update(3)
    with pytest.raises(ValueError, match="argument symbol"):
        model.update(-1)
    with pytest.raises(ValueError, match="argument symbols"):
        model.update_many([0, 1, 5])
    with pytest.raises(ValueError, match="argument symbols"):
        model.update_many([0.5])
    with pytest.raises(ValueError, match="argument sequence"):
        model.log_prob([[0, 1]])
    with pytest.raises(ValueError, match="argument role"):
        model.log_prob([0], role=2)
    with pytest.raises(ValueError, match="argument n"):
        model.revert(1)
    with pytest.raises(ValueError, match="argument context"):
        model.node([0, 0, 0])
    with pytest.raises(ValueError, match="argument context"):
        model.path_predictives(context=[0])
    with pytest.raises(ValueError, match="argument symbol"):
        model.update(True)
    with pytest.raises(ValueError, match="argument role"):
        model.node([], role=5)
    assert len(model) == 0 and model.node_count == 2  # nothing was changed by the failed calls


def test_copy_is_independent_and_revertible_false_still_answers() -> None:
    """copy() shares nothing; revertible=False: same numbers, log_prob still works, revert refused."""
    seq = [0, 1, 1, 0, 1, 1, 1, 0]
    model = CTW(3)
    model.update_many(seq)
    twin = model.copy()
    twin.update_many([1, 1, 1])
    assert len(model) == len(seq) and len(twin) == len(seq) + 3
    assert state(model) != state(twin)
    twin.revert(3)
    assert state(model) == state(twin)
    lean = CTW(3, revertible=False)
    assert np.array_equal(lean.update_many(seq), ctw_log_probs(seq, 3))
    assert lean.log_prob([1, 0, 1]) == model.log_prob([1, 0, 1])
    assert len(lean) == len(seq)
    with pytest.raises(ValueError, match="revertible=False"):
        lean.revert(1)


def test_restore_refuses_a_snapshot_of_a_diverged_copy() -> None:
    """Snapshots identify update events, not lengths: a copy that diverged cannot take the original's."""
    model = CTW(2)
    model.update_many([1, 0])
    twin = model.copy()
    model.update(1)
    twin.update(0)
    with pytest.raises(ValueError, match="snapshot"):
        twin.restore(model.snapshot())
    early = CTW(2)
    early.update_many([1, 0])
    shared = early.snapshot()
    clone = early.copy()
    clone.update_many([1, 1])
    clone.restore(shared)  # the common ancestor is valid for both
    assert list(clone.history) == [1, 0]


@settings(max_examples=15, deadline=None)
@given(
    depth=st.integers(1, 8),
    k=st.integers(2, 4),
    roles=st.integers(1, 2),
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 3000),
)
def test_every_stored_node_predictive_sums_to_one(depth: int, k: int, roles: int, seed: int, n: int) -> None:
    """Every stored node, reached through a context extending it (random tail), has a predictive in [0, 1]^K
    summing to 1 within 1e-12, also after thousands of skewed symbols (large counts, b_s near 0 or 1)."""
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(k, 0.3))
    model = CTW(depth, k, roles)
    model.update_many(rng.choice(k, size=n, p=probs))
    for node in model.iter_nodes():
        tail = rng.integers(0, k, depth - len(node.context))
        rows = model.path_predictives(context=[*node.context, *tail], role=node.role)
        assert np.all(rows >= 0) and np.all(rows <= 1)
        np.testing.assert_allclose(rows.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    default = model.path_predictives()
    explicit = model.path_predictives(context=list(model.history[::-1][:depth]) if n >= depth else None)
    if n >= depth:
        assert np.array_equal(default, explicit)
    assert np.array_equal(default[0], model.predict())


@pytest.mark.parametrize(("depth", "k", "count", "n"), [(4, 2, 677, 16), (3, 3, 730, 8)])
def test_deeper_brute_force(depth: int, k: int, count: int, n: int) -> None:
    """The brute force at depth 4 binary (677 trees) and depth 3 ternary (730 trees) on a random sequence."""
    rng = np.random.default_rng(depth * 7 + k)
    seq = [int(x) for x in rng.integers(0, k, n)]
    initial = [int(x) for x in rng.integers(0, k, depth)]
    assert len(suffix_trees(depth, k)) == count
    exact = brute_force_prob(seq, depth, k, 1, initial)
    assert ctw_log_prob(seq, depth, k, 1, initial) == pytest.approx(log_fraction(exact), abs=1e-11)
