"""Proposition 1 (no triangle inequality for KL): the witness, and the separating-policy generalisation."""

from __future__ import annotations

import itertools
import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aitheory.measures import kl
from aitheory.mixture import OnlineMixture
from aitheory.results import RunFolder
from aitheory.theory import prop1
from aitheory.theory.common import run_check

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


@pytest.mark.parametrize("bad", [0.0, -1.0, math.inf, math.nan, 5e-324, 1e-310, prop1.EPS_MIN / 2])
def test_witness_rejects_bad_eps(bad: float) -> None:
    """Non-positive and non-finite eps, and eps whose p = eps/2 would not be a normal float, are refused."""
    with pytest.raises(ValueError, match="argument eps"):
        prop1.witness(bad)
    with pytest.raises(ValueError, match="argument eps"):
        prop1.Config(eps=bad)


@pytest.mark.parametrize("eps", [prop1.EPS_MIN, 1e-300, 1e-200, 1e-17, 1e-9])
def test_witness_is_exact_for_tiny_eps(eps: float) -> None:
    """Down to EPS_MIN: KL(tau||beta) = -ln(1-p) ~ p is computed without cancellation (not 0), and held."""
    r = prop1.witness(eps)
    assert r.held and r.chain_exact
    assert r.p == eps / 2 and Fraction(r.p) == Fraction(eps) / 2
    assert r.kl_tau_beta == pytest.approx(-math.log1p(-r.p), rel=1e-15)
    assert 0 < r.kl_tau_beta <= eps


def test_cli_refuses_an_eps_below_what_floats_represent(capsys: pytest.CaptureFixture[str]) -> None:
    from aitheory.cli import main

    assert main(["check", "prop1", "--eps", "5e-324"]) == 2
    err = capsys.readouterr().err
    assert "argument eps" in err and "Traceback" not in err


def test_a_full_support_tau_breaks_the_witness(monkeypatch: pytest.MonkeyPatch) -> None:
    """The claim is broken when tau has no zero: KL(pi||tau) is finite and held is False."""
    monkeypatch.setattr(prop1, "_witness_tau", lambda p: (1 - p / 3, p / 3))
    r = prop1.witness(0.01)
    assert not r.held and math.isfinite(r.kl_pi_tau)


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


# -- the check: the mixture, the controls, the verdict ----------------------------------------------------------


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any], Path]:
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("prop1")
    result = run_check("prop1", prop1.Config.quick(), out)
    return result, json.loads((out / "summary.json").read_text()), out


def test_quick_run_holds_and_every_control_fails(quick_run: tuple[Any, dict[str, Any], Path]) -> None:
    result, summary, out = quick_run
    assert result.held and summary["held"] is True and summary["claim_held"] is True
    assert summary["held_mixture"] and summary["held_at_extremes"] and summary["held_on_sweep"]
    controls = summary["controls"]
    assert set(controls) == {"full_support_tau", "full_support_tau_mixture"}
    for c in controls.values():
        assert c["held"] is False and c["measured"] != "inf" and c["bound"] == "inf"
    assert summary["mixture_kl_xi_tau"] == ["inf"] * len(summary["mixture_k"])
    assert summary["mixture_kl_xi_xi"] == [0.0] * len(summary["mixture_k"])
    for kl_value, bound in zip(summary["mixture_kl_tau_xi"], summary["mixture_bound_tau_xi"], strict=True):
        assert 0 < kl_value <= bound < math.inf
    # the verdict carries the computed numbers
    assert f"{summary['kl_tau_beta']:.6g}" in summary["verdict"]
    assert f"{summary['mixture_kl_tau_xi'][-1]:.6g}" in summary["verdict"]
    assert f"{controls['full_support_tau']['measured']:.4g}" in summary["verdict"]
    assert (out / "mixture.csv").is_file()
    for stem in result.figures:
        assert (out / f"{stem}.png").stat().st_size > 1000


def test_mixture_kl_equals_an_independent_online_computation() -> None:
    """KL(tau||xi) under Definition 2 (tree_kl over BayesianImitator) equals the maximum over observation
    sequences of -sum_t ln xi(0 | h_t), computed step by step with OnlineMixture."""
    config = prop1.Config(mixture_max_bits=21, mixture_window=3, mixture_k=(2, 9))
    mc = prop1._mixture_class(config)
    points = prop1.mixture_points(config, mc)
    for point in points:
        worst = -math.inf
        for obs in itertools.product((0, 1), repeat=config.mixture_window - 1):
            state = OnlineMixture(mc)
            for _ in range(point.k):
                state.update(0, 0)
            total = 0.0
            for i in range(config.mixture_window):
                total -= math.log(state.predict().raw[0])
                if i < len(obs):
                    state.update(0, obs[i])
            worst = max(worst, total)
        assert point.kl_tau_beta == pytest.approx(worst, rel=1e-9)
        assert point.held


def test_a_mixture_point_fails_when_its_parts_fail() -> None:
    ok = prop1.MixturePoint(k=1, kl_pi_beta=0.0, kl_tau_beta=0.2, maximiser=(), bound_tau_beta=0.5,
                            kl_pi_tau=math.inf, kl_pi_uniform=1.0)
    assert ok.held
    from dataclasses import replace

    assert not replace(ok, kl_pi_tau=3.0).held
    assert not replace(ok, bound_tau_beta=math.inf).held
    assert not replace(ok, kl_tau_beta=0.6).held
    assert not replace(ok, kl_pi_beta=1e-3).held


def test_breaking_the_claim_turns_the_check_false(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With a full-support tau in the witness the claim fails, so the check's held is False."""
    monkeypatch.setattr(prop1, "_witness_tau", lambda p: (1 - p / 3, p / 3))
    config = prop1.Config(sweep_points=3, mixture_max_bits=21, mixture_window=2, mixture_k=(1,), plot=False)
    result = prop1.run(config, RunFolder(tmp_path))
    assert not result.held and result.claim_held is False
