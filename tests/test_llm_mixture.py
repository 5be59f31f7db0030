"""The KL fixed mixture ``x = alpha a + (1 - alpha) beta`` with ``KL(x || beta) = k``."""

from __future__ import annotations

import itertools
import math

import pytest

torch = pytest.importorskip("torch")

from aitheory.llm.mixture import kl_fixed_mixture, kl_to_base, mixture_alpha, solve_alpha  # noqa: E402


def _random_pair(rows: int, n: int, seed: int, scale: float = 2.0) -> tuple:
    g = torch.Generator().manual_seed(seed)
    log_beta = torch.log_softmax(torch.randn(rows, n, generator=g, dtype=torch.float64) * scale, -1)
    delta = torch.randn(rows, n, generator=g, dtype=torch.float64) * scale
    log_a = torch.log_softmax(delta + log_beta, -1)
    return log_a, log_beta


def test_reachable_target_is_hit_exactly() -> None:
    """For 0 < k < KL(a||beta), KL(x||beta) = k to float64 rounding, with alpha in (0, 1)."""
    log_a, log_beta = _random_pair(32, 50, seed=1)
    kl_a = kl_to_base(log_a, log_beta)
    k = kl_a * torch.linspace(0.01, 0.99, 32, dtype=torch.float64)
    out = kl_fixed_mixture(log_a, log_beta, k)
    assert torch.allclose(out.kl, k, rtol=1e-10, atol=1e-13)
    assert bool(((out.alpha > 0) & (out.alpha < 1)).all())
    assert not bool(out.saturated.any())
    assert torch.allclose(out.log_x.exp().sum(-1), torch.ones(32, dtype=torch.float64))


def test_unreachable_target_gives_alpha_one_and_the_proposal() -> None:
    """If KL(a||beta) <= k the proposal is used unchanged (alpha = 1) and KL(x||beta) = KL(a||beta) < k."""
    log_a, log_beta = _random_pair(8, 30, seed=2)
    kl_a = kl_to_base(log_a, log_beta)
    out = kl_fixed_mixture(log_a, log_beta, kl_a * 1.5 + 0.1)
    assert bool((out.alpha == 1).all()) and bool(out.saturated.all())
    assert torch.allclose(out.log_x, log_a, atol=1e-12)
    assert torch.allclose(out.kl, kl_a, atol=1e-12)


def test_zero_budget_gives_the_base_distribution() -> None:
    log_a, log_beta = _random_pair(4, 10, seed=3)
    out = kl_fixed_mixture(log_a, log_beta, torch.zeros(4, dtype=torch.float64))
    assert bool((out.alpha == 0).all())
    assert torch.allclose(out.log_x, log_beta, atol=1e-12)


def test_kl_is_monotone_in_alpha_and_solver_matches_bisection() -> None:
    """f(alpha) = KL(x(alpha)||beta) is increasing on [0,1]; the Newton root agrees with plain bisection."""
    log_a, log_beta = _random_pair(1, 40, seed=4)
    a, beta = log_a.exp()[0], log_beta.exp()[0]

    def f(al: float) -> float:
        x = al * a + (1 - al) * beta
        return float((x * (x.log() - beta.log())).sum())

    values = [f(al) for al in torch.linspace(0, 1, 50).tolist()]
    assert all(v2 >= v1 - 1e-15 for v1, v2 in itertools.pairwise(values))
    k = 0.3 * values[-1]
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if f(mid) < k else (lo, mid)
    alpha = float(solve_alpha(log_a, log_beta, torch.tensor([k], dtype=torch.float64))[0])
    assert alpha == pytest.approx(lo, abs=1e-12)


def test_gradcheck_alpha_wrt_log_a_and_k() -> None:
    """Implicit gradients of alpha(log a, k) agree with finite differences (float64)."""
    log_a, log_beta = _random_pair(3, 7, seed=5)
    kl_a = kl_to_base(log_a, log_beta)
    k = (kl_a * torch.tensor([0.2, 0.5, 0.8], dtype=torch.float64)).requires_grad_(True)
    log_a = log_a.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda la, kk: mixture_alpha(la, log_beta, kk), (log_a, k), atol=1e-6)


def test_gradcheck_full_mixture_log_x() -> None:
    """Gradients of log x (direct path through a plus the implicit path through alpha) pass gradcheck."""
    log_a, log_beta = _random_pair(2, 6, seed=6)
    kl_a = kl_to_base(log_a, log_beta)
    k = (kl_a * 0.4).requires_grad_(True)
    log_a = log_a.clone().requires_grad_(True)

    def log_x(la: torch.Tensor, kk: torch.Tensor) -> torch.Tensor:
        return kl_fixed_mixture(la, log_beta, kk).log_x

    assert torch.autograd.gradcheck(log_x, (log_a, k), atol=1e-6)


def test_gradient_of_achieved_kl_wrt_budget_is_one_when_binding() -> None:
    """Where the budget binds, KL(x||beta) = k, so d KL / d k = 1; where it does not, 0."""
    log_a, log_beta = _random_pair(2, 20, seed=7)
    kl_a = kl_to_base(log_a, log_beta)
    k = torch.stack([kl_a[0] * 0.5, kl_a[1] * 2.0]).requires_grad_(True)
    out = kl_fixed_mixture(log_a, log_beta, k)
    (grad,) = torch.autograd.grad(out.kl.sum(), k)
    assert grad[0].item() == pytest.approx(1.0, abs=1e-8)
    assert grad[1].item() == 0.0


def test_no_gradient_to_beta() -> None:
    log_a, log_beta = _random_pair(2, 5, seed=8)
    log_beta = log_beta.clone().requires_grad_(True)
    out = kl_fixed_mixture(log_a, log_beta, torch.tensor([0.01, 0.02], dtype=torch.float64))
    assert not out.log_x.requires_grad


def test_float32_rows_and_zero_base_atoms() -> None:
    """Batched float32 input with atoms the base never emits: those stay at 0 and nothing is NaN."""
    log_a, log_beta = _random_pair(16, 12, seed=9)
    log_beta = log_beta.clone()
    log_beta[:, 0] = -math.inf
    log_beta = torch.log_softmax(log_beta, -1).float()
    log_a = torch.log_softmax(log_a.float() + log_beta, -1).requires_grad_(True)
    k = torch.full((16,), 0.05, requires_grad=True)
    out = kl_fixed_mixture(log_a, log_beta, k)
    assert bool((out.log_x[:, 0] == -math.inf).all())
    (out.log_x[:, 1:].sum() + out.kl.sum()).backward()
    assert torch.isfinite(log_a.grad[:, 1:]).all() and torch.isfinite(k.grad).all()
    binding = ~out.saturated
    assert torch.allclose(out.kl[binding], k[binding].detach(), rtol=1e-4)


def test_infinite_kl_is_inf() -> None:
    log_p = torch.log(torch.tensor([0.5, 0.5], dtype=torch.float64))
    log_beta = torch.log(torch.tensor([1.0, 0.0], dtype=torch.float64))
    assert kl_to_base(log_p, log_beta).item() == math.inf
