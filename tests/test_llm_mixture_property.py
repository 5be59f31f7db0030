"""Property test of the KL fixed mixture: ``KL(x || beta) = min(k, KL(a || beta))`` for any input."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
hypothesis = pytest.importorskip("hypothesis")

from aitheory.llm.mixture import kl_fixed_mixture, kl_to_base  # noqa: E402

st = hypothesis.strategies


@hypothesis.settings(max_examples=60, deadline=None)
@hypothesis.given(
    n=st.integers(2, 30),
    seed=st.integers(0, 10_000),
    scale=st.floats(0.1, 6.0),
    frac=st.floats(0.0, 2.0),
)
def test_property_kl_is_min_of_target_and_proposal(n: int, seed: int, scale: float, frac: float) -> None:
    """For any proposal and target: alpha in [0, 1] and KL(x||beta) = min(k, KL(a||beta))."""
    g = torch.Generator().manual_seed(seed)
    log_beta = torch.log_softmax(torch.randn(1, n, generator=g, dtype=torch.float64) * scale, -1)
    delta = torch.randn(1, n, generator=g, dtype=torch.float64) * scale
    log_a = torch.log_softmax(delta + log_beta, -1)
    kl_a = float(kl_to_base(log_a, log_beta)[0])
    k = torch.tensor([frac * kl_a], dtype=torch.float64)
    out = kl_fixed_mixture(log_a, log_beta, k)
    alpha = float(out.alpha[0])
    assert 0.0 <= alpha <= 1.0
    assert float(out.kl[0]) == pytest.approx(min(float(k[0]), kl_a), rel=1e-9, abs=1e-12)
