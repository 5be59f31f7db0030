"""The Bayesian and pessimistic imitators, and the demonstrator/environment harness."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aitheory.imitators import (
    TOP_SET_READINGS,
    BayesianImitator,
    CTWImitator,
    PessimisticImitator,
    act_and_query,
    bernoulli_environment,
    markov_environment,
    pessimistic_min,
    pessimistic_min_of_codes,
    program_policy,
    run_episode,
    top_set_mask,
    top_set_of_state,
)
from aitheory.measures import tree_kl
from aitheory.mixture import ClassConfig, OnlineMixture, build_class, predict_batch

_MC = {}


def mc():
    if "mc" not in _MC:
        _MC["mc"] = build_class(ClassConfig(max_bits=15, horizon=6), all_histories=True)
    return _MC["mc"]


def random_history(seed: int, length: int) -> tuple[int, ...]:
    rng = np.random.default_rng(seed)
    online = OnlineMixture(mc())
    h: list[int] = []
    for _ in range(length):
        a = int(rng.choice(2, p=online.predict().normalised))
        o = int(rng.integers(2))
        online.update(a, o)
        h += [a, o]
    return tuple(h)


@settings(max_examples=40)
@given(st.integers(0, 2**32 - 1), st.integers(0, 5), st.sampled_from(TOP_SET_READINGS),
       st.floats(1e-4, 1.0))
def test_pessimistic_is_below_every_top_set_model(seed: int, length: int, reading: str, alpha: float) -> None:
    """nu_alpha(a|h) <= nu(a|h) for every nu in the top set, with equality for some nu (it is the minimum);
    an action some top-set model rules out gets 0; help = 1 - sum."""
    h = random_history(seed, length)
    imitator = PessimisticImitator(mc(), alpha=alpha, reading=reading)
    pred = imitator.predict(h)
    state = imitator._replay.state(h)
    rows = state.row_predictions()
    mask = top_set_mask(state.log_likelihood_ratio(), mc().rep_bits, alpha, reading)
    assert pred.top_set_rows == mask.sum()
    assert pred.help == pytest.approx(1 - pred.probs.sum())
    assert 0 <= pred.help <= 1
    if mask.any():
        assert (pred.probs[None, :] <= rows[mask] + 1e-15).all()
        np.testing.assert_allclose(pred.probs, rows[mask].min(axis=0))
        ruled_out = (rows[mask] == 0).any(axis=0)
        assert (pred.probs[ruled_out] == 0).all()
    else:
        assert (pred.probs == 0).all() and pred.help == 1


@settings(max_examples=30)
@given(st.integers(0, 2**32 - 1), st.integers(1, 5), st.floats(1e-3, 0.5))
def test_top_set_readings_match_their_definitions(seed: int, length: int, alpha: float) -> None:
    """prior-relative: w(nu|h) >= alpha w(nu); absolute: w(nu|h) >= alpha for the row's shortest program."""
    h = random_history(seed, length)
    trace = predict_batch(mc(), h[0::2], h[1::2])
    post = trace.posterior[length]
    prior = mc().prior()
    state = OnlineMixture(mc())
    for a, o in zip(h[0::2], h[1::2], strict=True):
        state.update(a, o)
    ratio = state.log_likelihood_ratio()
    rel = top_set_mask(ratio, mc().rep_bits, alpha, "prior_relative")
    absolute = top_set_mask(ratio, mc().rep_bits, alpha, "absolute")
    margin = 1e-9
    clear_rel = np.abs(post / prior - alpha) > margin * alpha
    assert (rel[clear_rel] == (post / prior >= alpha)[clear_rel]).all()
    shortest_post = post / prior * 2.0 ** -mc().rep_bits
    clear_abs = np.abs(shortest_post - alpha) > margin * alpha
    assert (absolute[clear_abs] == (shortest_post >= alpha)[clear_abs]).all()


def test_pessimistic_learns_only_from_the_demonstrator_by_default() -> None:
    h = random_history(3, 5)
    frozen = PessimisticImitator(mc(), alpha=0.01, demo_steps=2)
    learning = PessimisticImitator(mc(), alpha=0.01, demo_steps=2, learn_from_agent=True)
    demo_only = OnlineMixture(mc())
    for s in range(5):
        demo_only.update(h[2 * s], h[2 * s + 1], learn=s < 2)
    np.testing.assert_allclose(frozen._replay.state(h).log_likelihood_ratio(), demo_only.log_likelihood_ratio())
    full = OnlineMixture(mc())
    for s in range(5):
        full.update(h[2 * s], h[2 * s + 1])
    np.testing.assert_allclose(learning._replay.state(h).log_likelihood_ratio(), full.log_likelihood_ratio())


def test_bayesian_imitator_is_the_mixture_and_a_base_policy() -> None:
    h = random_history(5, 3)
    beta = BayesianImitator(mc())
    trace = predict_batch(mc(), h[0::2], h[1::2])
    np.testing.assert_allclose(beta(h), trace.raw[3])
    np.testing.assert_allclose(BayesianImitator(mc(), "normalised")(h), trace.normalised[3])
    # As a base policy for Definition 2: always-1 costs a finite KL against xi, -ln of its probability at worst.
    always_one = program_policy("+[.]]")
    res = tree_kl(always_one, beta, n_actions=2, n_observations=2, horizon=3)
    assert 0 < res.value < np.inf  # finite: '~' programs give every action positive probability


def test_program_policy_and_episode_harness() -> None:
    rng = np.random.default_rng(0)
    copy_obs = program_policy("+[,.+]]")  # emits the previous observation while the cell is non-zero
    ep = run_episode(program_policy("+[.]]"), bernoulli_environment(0.5), demo_steps=4, total_steps=4, rng=rng)
    assert ep.actions == (1, 1, 1, 1) and ep.actors == ("demonstrator",) * 4 and ep.stopped is None
    assert len(ep.history) == 8
    assert copy_obs(()).tolist() == [1.0, 0.0]
    halts = run_episode(program_policy("+.]"), bernoulli_environment(0.3), demo_steps=3, total_steps=3, rng=rng)
    assert halts.actions == (1,) and halts.stopped == "demonstrator stopped"
    env = markov_environment(np.array([[0.0, 1.0], [1.0, 0.0]]))
    ep2 = run_episode(program_policy("+[.]]"), env, demo_steps=5, total_steps=5, rng=rng)
    assert ep2.observations == (1, 0, 1, 0, 1)


def test_pessimistic_agent_asks_for_help() -> None:
    """A pessimistic imitator that has seen little data defers to the demonstrator ("help")."""
    rng = np.random.default_rng(1)
    demo = program_policy("+[.]]")
    agent = PessimisticImitator(mc(), alpha=0.05, reading="prior_relative", demo_steps=1)
    ep = run_episode(demo, bernoulli_environment(0.5), demo_steps=1, total_steps=5, rng=rng, agent=agent)
    assert ep.actors[0] == "demonstrator"
    assert "help" in ep.actors
    assert set(ep.actions) == {1}, "whatever acts, nothing the demonstrator mightn't do is done"


def test_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match="argument alpha"):
        PessimisticImitator(mc(), alpha=0)
    with pytest.raises(ValueError, match="argument reading"):
        PessimisticImitator(mc(), alpha=0.1, reading="relative")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="argument history"):
        BayesianImitator(mc())((1,))
    with pytest.raises(ValueError, match="argument predictor"):
        BayesianImitator(mc(), "soft")  # type: ignore[arg-type]


def test_ctw_imitator_is_ctw_on_the_interleaved_history() -> None:
    """CTWImitator(h) equals a fresh CTW(roles=2) fed h symbol by symbol; it is a proper measure (sums to 1)."""
    from aitheory.ctw import CTW

    imitator = CTWImitator(depth=4)
    for seed in range(5):
        h = random_history(seed, 4)
        fresh = CTW(4, alphabet_size=2, roles=2)
        for x in h:
            fresh.update(x)
        np.testing.assert_array_equal(imitator(h), fresh.predict())
        assert imitator(h).sum() == pytest.approx(1.0, abs=1e-12)
    always_one = program_policy("+[.]]")
    assert 0 < tree_kl(always_one, imitator, n_actions=2, n_observations=2, horizon=3).value < np.inf


def test_act_and_query_learns_only_from_the_answers() -> None:
    """Replaying a run with a mixture that learns only on the queried steps gives back every step's nu_alpha and
    query probability; the imitator's own actions never get mu-probability 0 while mu's row is in the top set;
    the protocol's action probabilities are nu_alpha + theta_q mu."""
    model = build_class(ClassConfig(max_bits=18, horizon=30))  # the all-0 observation stream
    demo = program_policy("+[~.]]")
    row = int(np.flatnonzero(np.array(model.rep_text) == "+[~.]]")[0])
    for reading, alpha in (("absolute", 2.0**-20), ("prior_relative", 0.1)):
        run = act_and_query(model, demo, bernoulli_environment(0.0), 30, alpha, reading,  # type: ignore[arg-type]
                            np.random.default_rng(2), track_row=row)
        assert run.queried[0] and run.query[0] == 1.0  # a program that halts at once is in the top set
        assert run.queried.sum() < 30 and (run.observations == 0).all()
        state = OnlineMixture(model)
        for t in range(30):
            mask = top_set_of_state(state, int(run.queried[:t].sum()), alpha, reading)
            rows = state.row_predictions()
            nu = rows[mask].min(axis=0) if mask.any() else np.zeros(2)
            np.testing.assert_allclose(run.nu[t], nu, atol=1e-15)
            assert run.query[t] == pytest.approx(1 - nu.sum())
            assert run.row_in_top[t] == mask[row]
            state.update(int(run.actions[t]), 0, learn=bool(run.queried[t]))
        own = ~run.queried
        assert (run.mu[own, run.actions[own]] > 0).all()
        np.testing.assert_allclose(run.action_probs, run.nu + run.query[:, None] * run.mu)
        assert (run.action_probs.sum(axis=1) <= 1 + 1e-12).all()
    with pytest.raises(ValueError, match="argument steps"):
        act_and_query(model, demo, bernoulli_environment(0.0), 31, 0.1, "absolute", np.random.default_rng(0))


def test_renormalised_pessimist_divides_the_prior_by_the_enumerated_mass() -> None:
    """renormalise=True: the prior-relative ratio moves by ln Z once a step was learned, the absolute reading's
    prior by 1/Z (shortest program's bits + log2 Z)."""
    import math

    h = random_history(4, 3)
    state = OnlineMixture(mc())
    for a, o in zip(h[0::2], h[1::2], strict=True):
        state.update(a, o)
    log_z = math.log(float(sum(mc().enumerated_mass().values())))
    ratio = state.log_likelihood_ratio()
    for reading, alpha in (("prior_relative", 0.3), ("absolute", 1e-4)):
        bits = mc().rep_bits + log_z / math.log(2)
        expected = top_set_mask(ratio + log_z, bits, alpha, reading)
        np.testing.assert_array_equal(top_set_of_state(state, 3, alpha, reading, renormalise=True), expected)
    empty = OnlineMixture(mc())
    np.testing.assert_array_equal(top_set_of_state(empty, 0, 0.5, "prior_relative", renormalise=True),
                                  top_set_mask(np.zeros(mc().rows), mc().rep_bits, 0.5, "prior_relative"))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([2, 3]))
def test_pessimistic_min_of_codes_equals_the_minimum_of_the_row_predictions(seed: int, k: int) -> None:
    """nu_alpha from the codes equals pessimistic_min over the rows' predictions (emission_probs, MIX rows
    predicting xi_plain), for every kind of code, empty top sets included, over leading axes."""
    from aitheory.dsl.status import emission_probs
    from aitheory.mixture.classes import CODE_LOST_BASE, CODE_MIX, CODE_TILDE

    rng = np.random.default_rng(seed)
    kinds = np.array([*range(k), CODE_TILDE, CODE_MIX, CODE_LOST_BASE, CODE_LOST_BASE - 3], dtype=np.int8)
    rows = int(rng.integers(1, 6))
    codes = rng.choice(kinds, size=(4, 3, rows)).astype(np.int8)
    mask = rng.random((4, 3, rows)) < rng.random()
    xi_plain = rng.random((4, 3, k)) / k
    predictions = emission_probs(codes, k)
    predictions[codes == CODE_MIX] = np.broadcast_to(xi_plain[:, :, None, :], predictions.shape)[codes == CODE_MIX]
    np.testing.assert_array_equal(pessimistic_min_of_codes(codes, mask, xi_plain, k),
                                  pessimistic_min(predictions, mask))
    for i in range(4):  # the batched minimum is the one-history minimum
        np.testing.assert_array_equal(pessimistic_min(predictions[i, 0], mask[i, 0]),
                                      pessimistic_min(predictions, mask)[i, 0])
