"""Actor head (budget neuron, full and top-K + tail heads), budget loss and critic (aitheory.llm.actor)."""

from __future__ import annotations

import itertools
import math

import pytest

torch = pytest.importorskip("torch")

from aitheory.llm.actor import (  # noqa: E402
    Actor,
    Critic,
    FeatureNorm,
    base_atoms,
    budget_loss,
    budget_target,
    resolve_tail,
    sample_atoms,
)
from aitheory.llm.mixture import kl_to_base  # noqa: E402


def test_budget_target_at_zero_is_one_seventeenth() -> None:
    b = torch.tensor([10.0, 20.0, 0.0], dtype=torch.float64)
    k = budget_target(torch.zeros(3, dtype=torch.float64), b)
    assert torch.allclose(k, b / 17 + 1e-6, rtol=1e-12)


def test_zero_initialised_actor_emits_the_base_distribution() -> None:
    g = torch.Generator().manual_seed(0)
    log_beta = torch.log_softmax(torch.randn(5, 40, generator=g), -1)
    actor = Actor(n_features=6, vocab_size=40, head="full")
    step = actor(torch.randn(5, 6, generator=g), base_atoms(log_beta, None), torch.full((5,), 10.0))
    assert torch.allclose(step.log_x, log_beta, atol=1e-6)
    assert torch.allclose(step.k, torch.full((5,), 10 / 17 + 1e-6))
    assert bool(step.mixture.saturated.all())


def _trained_like_actor(head: str, vocab: int, n_features: int, seed: int) -> Actor:
    actor = Actor(n_features=n_features, vocab_size=vocab, head=head)  # type: ignore[arg-type]
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        actor.linear.weight.copy_(torch.randn(actor.linear.weight.shape, generator=g))
        actor.linear.bias.copy_(torch.randn(actor.linear.bias.shape, generator=g))
    return actor


def test_topk_tail_kl_equals_full_vocabulary_kl() -> None:
    """KL over the K+1 atoms equals the KL of the induced full-vocabulary distribution."""
    vocab, k_top, n = 60, 7, 4
    g = torch.Generator().manual_seed(1)
    log_beta = torch.log_softmax(torch.randn(n, vocab, generator=g, dtype=torch.float64) * 2, -1)
    actor = _trained_like_actor("topk", vocab, 3, seed=2).double()
    atoms = base_atoms(log_beta, k_top)
    assert torch.allclose(atoms.log_beta.exp().sum(-1), torch.ones(n, dtype=torch.float64))
    step = actor(torch.randn(n, 3, generator=g, dtype=torch.float64), atoms, torch.full((n,), 0.3).double())
    # the induced full-vocabulary distribution
    log_x_top, log_x_tail = step.log_x[:, :k_top], step.log_x[:, k_top:]
    log_x_full = log_beta + (log_x_tail - atoms.log_beta[:, k_top:])  # tail: x(tail) beta(i)/beta(tail)
    log_x_full = log_x_full.scatter(1, atoms.ids, log_x_top)
    assert torch.allclose(log_x_full.exp().sum(-1), torch.ones(n, dtype=torch.float64))
    kl_full = kl_to_base(log_x_full, log_beta)
    assert torch.allclose(step.mixture.kl, kl_full, rtol=1e-12, atol=1e-14)
    assert float(kl_full.detach().min()) > 0


def test_topk_offsets_are_the_full_heads_rows() -> None:
    """The top-K head evaluates the same linear rows as the full head on the selected tokens."""
    vocab = 30
    actor = _trained_like_actor("topk", vocab, 4, seed=3)
    feats = torch.randn(6, 4, generator=torch.Generator().manual_seed(4))
    log_beta = torch.log_softmax(torch.randn(6, vocab, generator=torch.Generator().manual_seed(5)), -1)
    atoms = base_atoms(log_beta, 5)
    z, delta = actor.offsets(feats, atoms)
    full = actor.linear(feats)
    assert torch.allclose(z, full[:, 0], atol=1e-6)
    assert torch.allclose(delta[:, :5], full[:, 1:].gather(1, atoms.ids), atol=1e-6)
    assert torch.allclose(delta[:, 5], full[:, vocab + 1], atol=1e-6)


def test_tail_sampling_follows_beta_off_the_top() -> None:
    vocab = 12
    log_beta = torch.log_softmax(torch.arange(vocab, dtype=torch.float32) * 0.3, -1).repeat(4000, 1)
    atoms = base_atoms(log_beta, 4)
    tail_atom = torch.full((4000,), 4)
    tokens = resolve_tail(tail_atom, atoms, log_beta, torch.Generator().manual_seed(6))
    assert not bool(torch.isin(tokens, atoms.ids[0]).any())
    freq = torch.bincount(tokens, minlength=vocab).float() / 4000
    expected = log_beta[0].exp().clone()
    expected[atoms.ids[0]] = 0
    expected /= expected.sum()
    assert torch.allclose(freq, expected, atol=0.03)


def test_sampled_atoms_follow_x() -> None:
    actor = _trained_like_actor("full", 5, 2, seed=7)
    log_beta = torch.log_softmax(torch.randn(1, 5, generator=torch.Generator().manual_seed(8)), -1)
    feats = torch.ones(20000, 2)
    step = actor(feats, base_atoms(log_beta.repeat(20000, 1), None), torch.full((20000,), 0.2))
    atoms = sample_atoms(step, torch.Generator().manual_seed(9))
    freq = torch.bincount(atoms, minlength=5).float() / 20000
    assert torch.allclose(freq, step.log_x[0].exp(), atol=0.015)


def _budget_steps(min_kl: float, steps: int) -> list[float]:
    """Gradient steps on the budget loss alone from a zero-initialised head; returns k after each step."""
    actor = Actor(n_features=3, vocab_size=20, head="full")
    opt = torch.optim.Adam(actor.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(10)
    log_beta = torch.log_softmax(torch.randn(32, 20, generator=g), -1)
    feats = torch.ones(32, 3)
    out = []
    for _ in range(steps):
        step = actor(feats, base_atoms(log_beta, None), torch.full((32,), 10.0))
        loss = budget_loss(step, min_kl).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        out.append(float(step.k.detach().mean()))
    return out


def test_budget_neuron_collapse_with_the_literal_loss() -> None:
    """The trap: with the paper's term on every row, a zero head drives k towards its floor."""
    ks = _budget_steps(min_kl=0.0, steps=60)
    assert all(b < a for a, b in itertools.pairwise(ks))
    assert ks[-1] < 0.2 * ks[0]


def test_budget_neuron_collapse_is_designed_out() -> None:
    """With the gate, a zero-initialised head keeps k = B/17 (no gradient while the proposal is beta)."""
    ks = _budget_steps(min_kl=1e-3, steps=40)
    assert ks[-1] == pytest.approx(10 / 17 + 1e-6, rel=1e-6)


def test_gated_budget_loss_still_acts_when_the_proposal_moved() -> None:
    """Rows with KL(a||beta) >= min_kl and an out-of-reach target get the gradient pulling k down to it."""
    actor = _trained_like_actor("full", 10, 2, seed=11)
    log_beta = torch.log_softmax(torch.zeros(4, 10), -1)
    with torch.no_grad():
        actor.linear.weight[0].zero_()
        actor.linear.bias[0] = 5.0  # k close to B: out of reach
    step = actor(torch.ones(4, 2), base_atoms(log_beta, None), torch.full((4,), 1000.0))
    assert bool(step.mixture.saturated.all()) and float(step.mixture.kl_proposal.min()) > 1e-3
    budget_loss(step, 1e-3).sum().backward()
    assert float(actor.linear.bias.grad[0]) > 0  # gradient descent lowers z


def test_critic_shape_and_architecture() -> None:
    critic = Critic(n_features=9)
    layers = [m for m in critic.net if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in layers] == [(9, 128), (128, 128), (128, 1)]
    assert critic(torch.randn(5, 9)).shape == (5,)


def test_bad_head_and_topk_rejected() -> None:
    with pytest.raises(ValueError, match="head"):
        Actor(3, 10, head="half")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="topk"):
        base_atoms(torch.zeros(1, 10), 11)
    assert math.isinf(float(base_atoms(torch.log_softmax(torch.zeros(1, 4), -1), 4).log_beta[0, -1]))


def _trained_like_embed_actor(vocab: int, n_features: int, d: int, seed: int, norm: bool = False) -> Actor:
    g = torch.Generator().manual_seed(seed)
    embedding = torch.randn(vocab, d, generator=g)
    actor = Actor(n_features, vocab, head="embed", embedding=embedding, feature_norm=norm)
    with torch.no_grad():
        for p in actor.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    return actor


def test_zero_initialised_embed_actor_emits_the_base_distribution() -> None:
    g = torch.Generator().manual_seed(20)
    log_beta = torch.log_softmax(torch.randn(5, 40, generator=g), -1)
    actor = Actor(6, 40, head="embed", embedding=torch.randn(40, 8, generator=g))
    for atoms in (base_atoms(log_beta, None), base_atoms(log_beta, 7)):
        step = actor(torch.randn(5, 6, generator=g), atoms, torch.full((5,), 10.0))
        assert torch.allclose(step.log_x, atoms.log_beta, atol=1e-6)
        assert torch.allclose(step.k, torch.full((5,), 10 / 17 + 1e-6))


def test_embed_offsets_are_the_embeddings_times_the_readout() -> None:
    """delta_v = e_v . (W phi + b) with E scaled to mean row L1 norm 1; the same on the top-K atoms."""
    vocab, nf, d = 30, 4, 6
    actor = _trained_like_embed_actor(vocab, nf, d, seed=21)
    feats = torch.randn(6, nf, generator=torch.Generator().manual_seed(22))
    log_beta = torch.log_softmax(torch.randn(6, vocab, generator=torch.Generator().manual_seed(23)), -1)
    e = actor.embedding
    assert float(e.abs().sum(1).mean()) == pytest.approx(1.0, rel=1e-6)
    expected = (feats @ actor.readout.weight.T + actor.readout.bias) @ e.T
    z_full, full = actor.offsets(feats, base_atoms(log_beta, None))
    assert torch.allclose(full, expected, atol=1e-5)
    atoms = base_atoms(log_beta, 5)
    z, delta = actor.offsets(feats, atoms)
    assert torch.allclose(delta[:, :5], expected.gather(1, atoms.ids), atol=1e-5)
    assert torch.allclose(delta[:, 5], actor.tail(feats)[:, 0], atol=1e-6)
    assert torch.allclose(z, z_full) and torch.allclose(z, actor.budget(feats)[:, 0])


def test_embed_tail_kl_equals_full_vocabulary_kl() -> None:
    """The embed head on K+1 atoms: its KL equals the KL of the induced full-vocabulary distribution."""
    vocab, k_top, n = 60, 9, 5
    g = torch.Generator().manual_seed(24)
    log_beta = torch.log_softmax(torch.randn(n, vocab, generator=g, dtype=torch.float64) * 2, -1)
    actor = _trained_like_embed_actor(vocab, 3, 5, seed=25, norm=True).double()
    atoms = base_atoms(log_beta, k_top)
    step = actor(torch.randn(n, 3, generator=g, dtype=torch.float64), atoms, torch.full((n,), 0.4).double())
    log_x_full = log_beta + (step.log_x[:, k_top:] - atoms.log_beta[:, k_top:])
    log_x_full = log_x_full.scatter(1, atoms.ids, step.log_x[:, :k_top])
    assert torch.allclose(log_x_full.exp().sum(-1), torch.ones(n, dtype=torch.float64))
    kl_full = kl_to_base(log_x_full, log_beta)
    assert torch.allclose(step.mixture.kl, kl_full, rtol=1e-12, atol=1e-14)
    assert float(kl_full.detach().min()) > 0
    # with K = V the tail is empty and the head is the exact full-vocabulary head
    full_atoms = base_atoms(log_beta, vocab)
    step_v = actor(torch.randn(n, 3, generator=g, dtype=torch.float64), full_atoms, torch.full((n,), 0.4).double())
    assert bool(torch.isinf(step_v.log_x[:, -1]).all())


def test_embed_head_raises_a_token_outside_any_top_k() -> None:
    """Gradient steps on one token's log-probability raise it under the full-vocabulary embed head."""
    vocab, nf, d = 50, 3, 8
    g = torch.Generator().manual_seed(26)
    log_beta = torch.log_softmax(torch.randn(1, vocab, generator=g) * 3, -1)
    target = int(log_beta.argmin())  # the least likely token: last in every top-K
    actor = Actor(nf, vocab, head="embed", embedding=torch.randn(vocab, d, generator=g))
    opt = torch.optim.Adam(actor.parameters(), lr=0.05)
    feats = torch.ones(1, nf)
    for _ in range(50):
        step = actor(feats, base_atoms(log_beta, None), torch.full((1,), 1e6))
        loss = -step.log_x[0, target]
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(step.log_x[0, target].detach()) > float(log_beta[0, target]) + 3


def test_embed_actor_state_holds_no_embedding_and_feature_norm_is_saved() -> None:
    actor = _trained_like_embed_actor(40, 5, 6, seed=27, norm=True)
    keys = set(actor.state_dict())
    assert "embedding" not in keys and {"norm.shift", "norm.scale", "readout.weight", "tail.weight"} <= keys
    assert sum(p.numel() for p in actor.parameters()) == (6 + 2) * 5 + 6 + 2


def test_feature_norm_standardises_and_refuses_bad_scales() -> None:
    norm = FeatureNorm(3)
    x = torch.tensor([[1.0, 2.0, 3.0]])
    assert torch.equal(norm(x), x)
    norm.set_statistics(torch.tensor([1.0, 0.0, 1.0]), torch.tensor([2.0, 1.0, 0.5]))
    assert torch.allclose(norm(x), torch.tensor([[0.0, 2.0, 4.0]]))
    with pytest.raises(ValueError, match="positive"):
        norm.set_statistics(torch.zeros(3), torch.tensor([1.0, 0.0, 1.0]))
    critic = Critic(3, feature_norm=True)
    critic.norm.set_statistics(torch.tensor([1.0, 0.0, 1.0]), torch.tensor([2.0, 1.0, 0.5]))  # type: ignore[union-attr]
    plain = Critic(3)
    plain.net.load_state_dict(critic.net.state_dict())
    assert torch.allclose(critic(x), plain(norm(x)))


def test_embed_head_needs_a_matching_embedding() -> None:
    with pytest.raises(ValueError, match="embedding"):
        Actor(3, 10, head="embed")
    with pytest.raises(ValueError, match="embedding"):
        Actor(3, 10, head="embed", embedding=torch.zeros(9, 4))
