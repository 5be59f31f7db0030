"""The mixture along many histories at once (predict_histories): equal to the online engine history by history,
and to the brute-force Fraction mixture, in both modes; the evidence and posterior after the last symbol."""

from __future__ import annotations

import math

import numpy as np
import pytest

from aitheory.dsl import split_history
from aitheory.mixture import (
    BUCKETS,
    ClassConfig,
    ModelClass,
    OnlineMixture,
    build_class,
    predict_batch,
    predict_histories,
)
from aitheory.mixture.reference import reference_predictions

_CACHE: dict[tuple, ModelClass] = {}

POLICY = dict(max_bits=15, k=2, horizon=5, switch=True, mix=True)
JOINT = dict(max_bits=15, k=2, horizon=3, switch=True, mix=True, mode="joint")
POLICY_K3 = dict(max_bits=15, k=3, horizon=3, switch=True, mix=True)


def make_class(params: dict) -> ModelClass:
    key = tuple(sorted(params.items()))
    if key not in _CACHE:
        _CACHE[key] = build_class(ClassConfig(**params), all_histories=True)
    return _CACHE[key]


def sample(mc: ModelClass, rng: np.random.Generator, symbols: int) -> tuple[list[int], list[int]]:
    """The predicted symbols (actions in policy mode, a_1 o_1 .. in joint mode) and the observations, drawn from the
    mixture's own normalised predictions (observations uniformly in policy mode; drawn again where the mixture
    then predicts nothing)."""
    for _ in range(100):
        try:
            return _sample_once(mc, rng, symbols)
        except _NothingPredicted:
            continue
    raise AssertionError("no history of positive probability found in 100 draws")


class _NothingPredicted(Exception):
    """The class predicts nothing after the observations drawn."""


def _sample_once(mc: ModelClass, rng: np.random.Generator, symbols: int) -> tuple[list[int], list[int]]:
    online = OnlineMixture(mc)
    predicted: list[int] = []
    obs: list[int] = []
    for _ in range(symbols):
        p = online.predict().normalised
        if np.isnan(p).any():
            raise _NothingPredicted
        x = int(rng.choice(mc.config.k, p=p))
        if mc.config.mode == "policy":  # the class's histories hold H - 1 observations
            o = int(rng.integers(mc.config.k)) if len(obs) < mc.histories.shape[1] else None
            online.update(x, o)
            obs += [] if o is None else [o]
        elif online.role == "action":
            online.update(x)
        else:
            online.observe(x)
        predicted.append(x)
    return predicted, obs


def histories(mc: ModelClass, n: int, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` histories of ``n`` predicted symbols: (symbols (B, n), history indices (B,))."""
    rng = np.random.default_rng(seed)
    symbols, g = [], []
    for _ in range(count):
        predicted, obs = sample(mc, rng, n)
        symbols.append(predicted)
        g.append(mc.history_index(obs[: mc.histories.shape[1]] if mc.config.mode == "policy" else predicted))
    return np.array(symbols, dtype=np.int64).reshape(count, n), np.array(g, dtype=np.int64)


def replay(mc: ModelClass, symbols: np.ndarray, g: int) -> list[OnlineMixture]:
    """The online engine's state before each position 1 .. n + 1 of one history."""
    online = OnlineMixture(mc)
    obs = [int(o) for o in mc.histories[g]]
    states = [online.copy()]
    for j, x in enumerate(symbols):
        if mc.config.mode == "policy":
            online.update(int(x), obs[j] if j < len(obs) else None)
        elif online.role == "action":
            online.update(int(x))
        else:
            online.observe(int(x))
        states.append(online.copy())
    return states


@pytest.mark.parametrize("params", [POLICY, JOINT, POLICY_K3], ids=["policy", "joint", "policy-k3"])
def test_histories_equal_the_online_engine_history_by_history(params: dict) -> None:
    """Evidence, posterior and log-likelihood ratios before every position (the last history included, where the
    class predicts no further), and raw predictions, buckets and every row's prediction at every position."""
    mc = make_class(params)
    n = mc.positions  # condition on every position: the evidence after the last one is known, no prediction
    symbols, g = histories(mc, n, 5, seed=1)
    trace = predict_histories(mc, symbols, g)
    assert trace.positions == n and trace.log_lik.shape == (5, n + 1, mc.rows)
    raw, missing = trace.raw(), trace.missing()
    for b in range(len(g)):
        for j, state in enumerate(replay(mc, symbols[b], int(g[b]))):
            assert trace.log_evidence[b, j] == pytest.approx(state._log_z, rel=1e-12, abs=1e-12)
            np.testing.assert_allclose(trace.posterior[b, j], state.posterior(), rtol=1e-10, atol=1e-15)
            ratio = state.log_likelihood_ratio()
            finite = np.isfinite(ratio)
            assert (np.isfinite(trace.log_likelihood_ratio()[b, j]) == finite).all()
            np.testing.assert_allclose(trace.log_likelihood_ratio()[b, j][finite], ratio[finite], rtol=1e-10,
                                       atol=1e-10)
            if j == n:
                break
            step = state.predict()
            np.testing.assert_allclose(raw[b, j], step.raw, rtol=1e-10, atol=1e-15)
            np.testing.assert_allclose(missing[b, j], [step.missing[name] for name in BUCKETS], rtol=1e-10,
                                       atol=1e-15)
            np.testing.assert_allclose(trace.row_predictions(j + 1)[b], state.row_predictions(), rtol=1e-10,
                                       atol=1e-15)


@pytest.mark.parametrize("params", [POLICY, JOINT], ids=["policy", "joint"])
def test_histories_equal_the_exact_fraction_mixture(params: dict) -> None:
    """Raw predictions, every bucket, xi(h) and xi_plain(h) equal the brute-force Fraction mixture."""
    mc = make_class(params)
    n = mc.positions - 1
    symbols, g = histories(mc, n, 3, seed=2)
    trace = predict_histories(mc, symbols, g)
    raw, missing = trace.raw(), trace.missing()
    for b in range(len(g)):
        if mc.config.mode == "policy":
            ref = reference_predictions(ClassConfig(**params), list(symbols[b]), list(mc.histories[g[b]]))
        else:
            ref = reference_predictions(ClassConfig(**params), *split_history(list(symbols[b])))
        assert len(ref) == n + 1 == trace.positions
        for j, r in enumerate(ref):
            np.testing.assert_allclose(raw[b, j], [float(x) for x in r.raw], rtol=1e-10, atol=1e-14)
            for i, name in enumerate(BUCKETS):
                assert missing[b, j, i] == pytest.approx(float(r.missing.get(name, 0)), rel=1e-10, abs=1e-14)
            assert math.exp(trace.log_evidence[b, j]) == pytest.approx(float(r.evidence), rel=1e-10)
            assert math.exp(trace.log_evidence_plain[b, j]) == pytest.approx(float(r.plain_evidence), rel=1e-10)


def test_predict_batch_is_the_one_history_case() -> None:
    """predict_batch gives the same arrays as predict_histories on that one history."""
    mc = make_class(POLICY)
    symbols, g = histories(mc, 3, 1, seed=3)
    one = predict_batch(mc, list(symbols[0]), list(mc.histories[g[0]][:3]))
    many = predict_histories(mc, symbols, g)
    np.testing.assert_array_equal(one.raw, many.raw()[0])
    np.testing.assert_array_equal(one.missing, many.missing()[0])
    np.testing.assert_array_equal(one.posterior, many.posterior[0])
    np.testing.assert_array_equal(one.log_evidence, many.log_evidence[0])


def test_bad_histories_are_refused_naming_the_argument() -> None:
    mc = make_class(POLICY)
    with pytest.raises(ValueError, match="argument symbols"):
        predict_histories(mc, np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="argument symbols"):
        predict_histories(mc, np.full((1, 2), 2))
    with pytest.raises(ValueError, match="argument symbols"):
        predict_histories(mc, np.zeros((1, mc.positions + 1), dtype=np.int64))
    with pytest.raises(ValueError, match="argument g"):
        predict_histories(mc, np.zeros((2, 2), dtype=np.int64), [0, len(mc.histories)])
    joint = make_class(JOINT)
    with pytest.raises(ValueError, match="argument g"):
        predict_histories(joint, np.array([[1, 0]]), [joint.history_index([0, 0])])
