r"""The KL fixed mixture: the budgeted token distribution of the paper's agent, as a torch autograd op.

Given a proposal ``a`` and the base distribution ``beta`` over the same atoms, and a KL target ``k >= 0``
(nats), the budgeted distribution is the mixture

.. math::  x(\alpha) = \alpha a + (1 - \alpha) \beta, \qquad \alpha \in [0, 1],

with :math:`\alpha` chosen so that :math:`f(\alpha) = \mathrm{KL}(x(\alpha) \| \beta) = k`, and
:math:`\alpha = 1` when :math:`\mathrm{KL}(a \| \beta) \le k` (the proposal is within budget, used as is).

Facts used here (all logs natural, KL in nats):

* :math:`f(0) = 0`; :math:`f` is convex in :math:`\alpha` (KL is convex in its first argument and ``x`` is
  affine in :math:`\alpha`), with :math:`f'(\alpha) = \sum_i (a_i - \beta_i)(\ln(x_i/\beta_i) + 1)` and
  :math:`f''(\alpha) = \sum_i (a_i - \beta_i)^2 / x_i \ge 0`. For normalised ``a`` and ``beta`` the ``+1``
  term sums to 0; it is kept so that the op is exact also off the simplex (``gradcheck`` perturbs
  ``log a`` freely).
  Hence :math:`f` is non-decreasing on [0, 1] and the root of :math:`f(\alpha) = k` is unique when
  :math:`0 < k < f(1)`.
* Newton's method on a convex increasing function started to the right of the root (at :math:`\alpha = 1`)
  decreases monotonically to the root. It is safeguarded by a bisection bracket ``[lo, hi]``: a Newton
  step that leaves the bracket (or a zero derivative) is replaced by the bracket's midpoint.
* Implicit gradients (:math:`F(\alpha, k, a) = f(\alpha; a) - k = 0`):
  :math:`\partial\alpha/\partial k = 1/f'(\alpha)` and
  :math:`\partial\alpha/\partial \ln a_i = -a_i\,\alpha\,(\ln(x_i/\beta_i) + 1) / f'(\alpha)`.
  ``beta`` gets no gradient (it is the frozen base model). Where :math:`\alpha = 1` (budget not binding) or
  :math:`\alpha = 0` (``k = 0``), :math:`\alpha` is locally constant and its gradient is 0.

Atoms with :math:`\beta_i = 0` must have :math:`a_i = 0` (a proposal built as ``softmax(delta + log beta)``
always does); they contribute 0. The root is found in float64 whatever the input dtype, then cast back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aitheory.llm._torch import torch

__all__ = ["MixtureResult", "kl_fixed_mixture", "kl_to_base", "mixture_alpha", "solve_alpha"]

#: Default tolerance on |f(alpha) - k| in nats for the root finder (float64 arithmetic).
ALPHA_TOL = 1e-12
#: Iteration cap of the safeguarded Newton/bisection loop (bisection alone needs ~60 to reach 1e-18).
MAX_ITER = 100


def kl_to_base(log_p: Any, log_beta: Any) -> Any:
    """``KL(p || beta) = sum_i p_i (ln p_i - ln beta_i)`` over the last dimension, in nats.

    ``inf`` where ``p`` puts mass on an atom with ``beta = 0`` (never clipped). Atoms with ``p = 0``
    contribute 0 and pass no NaN into the gradient.
    """
    live = log_p > -torch.inf
    safe_lp = torch.where(live, log_p, torch.zeros_like(log_p))
    safe_lb = torch.where(live, log_beta, torch.zeros_like(log_beta))
    terms = torch.where(live, safe_lp.exp() * (safe_lp - safe_lb), torch.zeros_like(log_p))
    return terms.sum(-1)


def _f_and_df(alpha: Any, a: Any, beta: Any, log_beta: Any) -> tuple[Any, Any]:
    """``f(alpha) = KL(x || beta)`` and ``f'(alpha)`` for ``x = alpha a + (1 - alpha) beta``, row-wise."""
    x = alpha.unsqueeze(-1) * a + (1 - alpha.unsqueeze(-1)) * beta
    pos = x > 0
    log_x = torch.where(pos, x, torch.ones_like(x)).log()
    lr = torch.where(pos, log_x - log_beta, torch.zeros_like(x))
    f = torch.where(pos, x * lr, torch.zeros_like(x)).sum(-1)
    df = torch.where(pos, (a - beta) * (lr + 1), torch.zeros_like(x)).sum(-1)
    return f, df


def solve_alpha(log_a: Any, log_beta: Any, k: Any, tol: float = ALPHA_TOL, max_iter: int = MAX_ITER) -> Any:
    """Mixing weight ``alpha`` (shape ``log_a.shape[:-1]``) with ``KL(alpha a + (1-alpha) beta || beta) = k``.

    No gradient. ``alpha = 1`` where ``KL(a || beta) <= k``; ``alpha = 0`` where ``k <= 0``. Computed in
    float64 by Newton's method from ``alpha = 1`` inside a bisection bracket (see the module docstring).
    """
    with torch.no_grad():
        la = log_a.detach().double()
        lb = log_beta.detach().double()
        kk = torch.as_tensor(k).detach().double().expand(la.shape[:-1]).clone()
        a, beta = la.exp(), lb.exp()
        one = torch.ones(la.shape[:-1], dtype=torch.float64, device=la.device)
        f1, _ = _f_and_df(one, a, beta, lb)
        saturated = f1 <= kk
        zero = kk <= 0
        lo = torch.zeros_like(one)
        hi = one.clone()
        alpha = one.clone()
        active = ~(saturated | zero)
        for _ in range(max_iter):
            if not bool(active.any()):
                break
            f, df = _f_and_df(alpha, a, beta, lb)
            g = f - kk
            done = g.abs() <= tol * torch.clamp(kk, min=1.0)
            active = active & ~done
            hi = torch.where(active & (g > 0), alpha, hi)
            lo = torch.where(active & (g < 0), alpha, lo)
            newton = alpha - g / torch.where(df > 0, df, torch.ones_like(df))
            ok = (df > 0) & (newton > lo) & (newton < hi)
            step = torch.where(ok, newton, 0.5 * (lo + hi))
            alpha = torch.where(active, step, alpha)
            active = active & ((hi - lo) > 1e-17)
        alpha = torch.where(saturated, one, alpha)
        alpha = torch.where(zero & ~saturated, torch.zeros_like(alpha), alpha)
        return alpha.to(log_a.dtype)


class _Alpha(torch.autograd.Function):
    """``alpha(log a, k)`` with implicit-function gradients; ``log beta`` is treated as a constant."""

    @staticmethod
    def forward(ctx: Any, log_a: Any, log_beta: Any, k: Any) -> Any:
        alpha = solve_alpha(log_a, log_beta, k)
        ctx.save_for_backward(log_a, log_beta, k, alpha)
        return alpha

    @staticmethod
    def backward(ctx: Any, grad_alpha: Any) -> tuple[Any, None, Any]:
        log_a, log_beta, k, alpha = ctx.saved_tensors
        a, beta = log_a.exp(), log_beta.exp()
        _, df = _f_and_df(alpha, a, beta, log_beta)
        interior = (alpha > 0) & (alpha < 1) & (df > 0)
        inv = torch.where(interior, 1.0 / torch.where(df > 0, df, torch.ones_like(df)), torch.zeros_like(df))
        x = alpha.unsqueeze(-1) * a + (1 - alpha.unsqueeze(-1)) * beta
        pos = x > 0
        lr = torch.where(pos, torch.where(pos, x, torch.ones_like(x)).log() - log_beta, torch.zeros_like(x))
        dfd_loga = torch.where(pos, a * alpha.unsqueeze(-1) * (lr + 1), torch.zeros_like(x))
        grad_log_a = -(grad_alpha * inv).unsqueeze(-1) * dfd_loga
        grad_k = grad_alpha * inv
        if k.shape != grad_k.shape:
            grad_k = grad_k.sum_to_size(k.shape)
        return grad_log_a, None, grad_k


def mixture_alpha(log_a: Any, log_beta: Any, k: Any) -> Any:
    """Differentiable ``alpha`` (w.r.t. ``log_a`` and ``k``, not ``log_beta``); shapes (..., n), (...)."""
    k = torch.as_tensor(k, dtype=log_a.dtype, device=log_a.device)
    return _Alpha.apply(log_a, log_beta.detach(), k.expand(log_a.shape[:-1]) if k.dim() == 0 else k)


@dataclass(frozen=True)
class MixtureResult:
    """Output of :func:`kl_fixed_mixture` (tensors, rows along the leading dimensions).

    ``log_x``: log of the budgeted distribution; ``alpha``: mixing weight; ``kl``: ``KL(x || beta)`` in
    nats (equal to ``k`` where ``alpha < 1``); ``kl_proposal``: ``KL(a || beta)``; ``saturated``: rows where
    the budget does not bind (``alpha = 1``, ``KL(a || beta) <= k``).
    """

    log_x: Any
    alpha: Any
    kl: Any
    kl_proposal: Any
    saturated: Any


def kl_fixed_mixture(log_a: Any, log_beta: Any, k: Any) -> MixtureResult:
    """The budgeted distribution ``x = alpha a + (1-alpha) beta``, ``KL(x || beta) = min(k, KL(a || beta))``.

    ``log_a`` and ``log_beta`` are normalised log-probabilities over the last dimension; ``k`` (nats, >= 0)
    has the leading shape or is a scalar. Gradients flow to ``log_a`` (directly and through ``alpha``) and to
    ``k`` (through ``alpha``), never to ``log_beta``.
    """
    log_beta = log_beta.detach()
    alpha = mixture_alpha(log_a, log_beta, k)
    al = alpha.unsqueeze(-1)
    # log(alpha a + (1-alpha) beta) computed stably in log space; log(0) = -inf handled by logaddexp.
    tiny = torch.finfo(al.dtype).tiny
    log_alpha = torch.where(al > 0, al.clamp_min(tiny).log(), torch.full_like(al, -torch.inf))
    log_1m = torch.where(al < 1, (1 - al).clamp_min(tiny).log(), torch.full_like(al, -torch.inf))
    live = log_beta > -torch.inf  # atoms the base can emit; elsewhere x = 0 (a = 0 there by construction)
    safe_la = torch.where(live, log_a, torch.zeros_like(log_a))
    safe_lb = torch.where(live, log_beta, torch.zeros_like(log_beta))
    log_x = torch.logaddexp(log_alpha + safe_la, log_1m + safe_lb)
    log_x = torch.where(live, log_x, torch.full_like(log_x, -torch.inf))
    kl = kl_to_base(log_x, log_beta)
    kl_a = kl_to_base(log_a, log_beta).detach()
    return MixtureResult(log_x=log_x, alpha=alpha, kl=kl, kl_proposal=kl_a, saturated=(alpha >= 1).detach())
