"""Proposition 1 (no triangle inequality for KL): the witness, and the separating-policy generalisation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aitheory.measures import kl
from aitheory.theory import prop1

eps_values = st.floats(min_value=1e-12, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(eps_values)
def test_witness_holds_for_every_eps(eps: float) -> None:
    """For every eps > 0: KL(pi||beta) <= eps, KL(tau||beta) <= eps and KL(pi||tau) = inf."""
    r = prop1.witness(eps)
    assert r.held
    assert r.kl_pi_beta == 0.0
    assert r.kl_tau_beta <= eps
    assert math.isinf(r.kl_pi_tau) and r.kl_pi_tau > 0
    # The proof's chain -ln(1-p) <= p/(1-p) <= 2p, evaluated in floating point.
    assert r.chain[0] <= r.chain[1] <= r.chain[2] <= eps


@given(eps_values)
def test_witness_kls_match_their_closed_forms(eps: float) -> None:
    """KL(tau||beta) = -ln(1-p) with p = min(eps,1)/2, recomputed independently."""
    r = prop1.witness(eps)
    p = min(eps, 1.0) / 2
    assert r.p == p
    assert r.kl_tau_beta == pytest.approx(-math.log1p(-p), rel=1e-12)


@pytest.mark.parametrize("bad", [0.0, -1.0, math.inf, math.nan])
def test_witness_rejects_bad_eps(bad: float) -> None:
    with pytest.raises(ValueError, match="eps"):
        prop1.witness(bad)


@st.composite
def beta_tau_eps(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, float]:
    k = draw(st.integers(min_value=2, max_value=6))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    rng = np.random.default_rng(seed)
    beta = rng.dirichlet(np.full(k, draw(st.sampled_from([0.2, 1.0, 5.0]))))
    beta = np.maximum(beta, 1e-12)
    beta /= beta.sum()
    tau = rng.dirichlet(np.ones(k))
    zeros = draw(st.lists(st.integers(0, k - 1), min_size=1, max_size=k - 1, unique=True))
    tau[zeros] = 0.0
    tau /= tau.sum()
    eps = draw(st.floats(min_value=1e-6, max_value=5.0))
    return beta, tau, eps


@settings(max_examples=200)
@given(beta_tau_eps())
def test_separating_policy_exists_and_is_returned(case: tuple[np.ndarray, np.ndarray, float]) -> None:
    """For full-support beta and tau with a zero entry: a pi with KL(pi||beta) <= eps and KL(pi||tau) = inf."""
    beta, tau, eps = case
    sep = prop1.separating_policy(beta, tau, eps)
    assert sep.pi.sum() == pytest.approx(1.0, abs=1e-12)
    assert (sep.pi >= 0).all()
    assert sep.kl_pi_beta <= eps * (1 + 1e-9)
    assert math.isinf(sep.kl_pi_tau)
    zero = tau == 0
    assert sep.forbidden == tuple(np.flatnonzero(zero))
    assert sep.mass_forbidden >= beta[zero].sum() * (1 - 1e-12)


@settings(max_examples=100)
@given(beta_tau_eps(), st.integers(0, 2**32 - 1))
def test_separating_policy_is_optimal(case: tuple[np.ndarray, np.ndarray, float], seed: int) -> None:
    """No random pi' with KL(pi'||beta) <= eps puts more mass on {tau = 0} than the returned tilt."""
    beta, tau, eps = case
    sep = prop1.separating_policy(beta, tau, eps)
    rng = np.random.default_rng(seed)
    zero = tau == 0
    for _ in range(50):
        other = rng.dirichlet(np.ones(beta.size)) * rng.uniform() + beta * 0.5
        other /= other.sum()
        if kl(other, beta) <= eps:
            assert other[zero].sum() <= sep.mass_forbidden + 1e-9


def test_separating_policy_binary_constraint_is_tight() -> None:
    """When r < 1 the constraint is active: KL(pi||beta) equals eps to rounding."""
    beta = np.array([0.7, 0.2, 0.1])
    tau = np.array([0.5, 0.5, 0.0])
    sep = prop1.separating_policy(beta, tau, 0.05)
    assert sep.mass_forbidden < 1
    assert sep.kl_pi_beta == pytest.approx(0.05, rel=1e-9)
    assert sep.kl_pi_beta <= 0.05


def test_separating_policy_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match="argument tau"):
        prop1.separating_policy([0.5, 0.5], [0.5, 0.5], 0.1)
    with pytest.raises(ValueError, match="argument beta"):
        prop1.separating_policy([1.0, 0.0], [1.0, 0.0], 0.1)
    with pytest.raises(ValueError, match="argument eps"):
        prop1.separating_policy([0.5, 0.5], [1.0, 0.0], -0.1)
