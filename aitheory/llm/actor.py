r"""The actor (a linear head with a budget neuron) and the critic of the paper's agent.

**Actor.** One linear layer, zero-initialised, from the features ``phi = (observation, remaining budget)`` to
``1 + V`` outputs. Output 0 is the budget neuron ``z``; the KL target for the next token is

.. math::  k_t = \sigma(z - \ln 16)\, B_t + 10^{-6} \quad\text{(nats)},

so at initialisation (``z = 0``) the agent asks for ``B_t / 17``. Outputs ``1..V`` are logit offsets ``delta``
and the proposal is ``a = softmax(delta + log beta)``; the emitted distribution is the KL fixed mixture
``x = alpha a + (1 - alpha) beta`` with ``KL(x || beta) = min(k_t, KL(a || beta))``
(:func:`aitheory.llm.mixture.kl_fixed_mixture`).

**Top-K head.** With ``head="topk"`` the distributions live on ``K + 1`` atoms: the base model's ``K`` most
likely tokens at this position and one *tail* atom holding the rest, ``beta(tail) = 1 - sum_top beta``. The
tail gets one extra output of the linear layer (its own offset); inside the tail the emitted distribution
keeps the base's relative probabilities, ``x(i) = x(tail) beta(i) / beta(tail)``. Then ``x(i)/beta(i)`` is
constant on the tail, so the KL over the ``K + 1`` atoms equals the KL over the full vocabulary exactly.
Offsets of the top tokens are the same rows of the same linear layer as in the full head (the head is
evaluated only on the needed rows), so a top-K actor is the full actor with all tail offsets tied.

**Embedding head.** With ``head="embed"`` the logit offsets are factored through the base model's own
(input, tied) token embeddings: ``delta_v = e_v . (W phi + b)`` with ``E = (e_v)`` the frozen ``V x d``
embedding matrix divided by its mean row L1 norm (so that one Adam step moves a logit by at most about
``lr ||phi||_1 max_v ||e_v||_1`` with ``max_v ||e_v||_1`` of order 1, the same scale as the budget neuron)
and ``W`` (``d x n_features``), ``b`` learned and zero-initialised. Any token can be raised: the offsets
of all ``V`` tokens share ``W``. It acts on the same atoms as the top-K head (the base's top ``K`` plus a
tail atom with its own zero-initialised linear offset ``w_tail . phi``; with ``K = V`` the tail is empty
and the head is exact over the full vocabulary), so the KL over the atoms is the exact full-vocabulary
KL of the induced distribution. Only ``W``, ``b``, the budget neuron and the tail offset are parameters
(about ``(d + 2) n_features`` numbers); ``E`` is not saved in checkpoints (rebuilt from the model).

**Feature standardisation.** With ``feature_norm=True`` the actor (and the critic) first map the features
``phi -> (phi - m) / s`` with fixed buffers ``m``, ``s`` (identity until set; :class:`FeatureNorm`); the
training loop sets them once from base-model rollouts and they are saved with the run.

**Budget-neuron collapse (a trap, designed out).** The paper adds ``(KL_achieved - k_t)^2`` to the loss so the
budget neuron gets a gradient. At a zero-initialised head ``a = beta``, so ``KL_achieved = 0`` for every
``k_t``; that term alone pushes ``z`` to ``-inf``, ``k_t`` to ``1e-6`` and the sigmoid saturates: learning
stalls with the budget unspent. :func:`budget_loss` therefore applies the term only on rows where the proposal
has moved, ``KL(a || beta) >= min_kl`` (where ``k_t`` is out of reach for a reason the actor controls). With
``min_kl = 0`` it is the paper's literal term (tests show the collapse it causes).

**Critic.** ``(observation, remaining budget) -> 128 -> tanh -> 128 -> tanh -> 1``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from aitheory.llm._torch import nn, torch
from aitheory.llm.mixture import MixtureResult, kl_fixed_mixture

__all__ = [
    "BUDGET_FLOOR",
    "BUDGET_OFFSET",
    "Actor",
    "ActorStep",
    "BaseAtoms",
    "Critic",
    "FeatureNorm",
    "base_atoms",
    "budget_loss",
    "budget_target",
    "resolve_tail",
    "sample_atoms",
    "scaled_embedding",
]

#: ``ln 16``: the budget neuron's offset, so that ``k = B/17`` at ``z = 0``.
BUDGET_OFFSET = math.log(16.0)
#: Added to every KL target (nats), so that ``k_t > 0`` even with no budget left.
BUDGET_FLOOR = 1e-6

HeadKind = Literal["full", "topk", "embed"]


def budget_target(z: Any, remaining: Any) -> Any:
    """``k_t = sigmoid(z - ln 16) * B_t + 1e-6`` in nats (``remaining`` is ``B_t``, in nats)."""
    return torch.sigmoid(z - BUDGET_OFFSET) * remaining + BUDGET_FLOOR


@dataclass(frozen=True)
class BaseAtoms:
    """The base distribution on the atoms the actor acts on, row-wise.

    ``log_beta``: ``(N, n_atoms)`` log-probabilities; ``ids``: ``(N, K)`` vocabulary ids of the top atoms, or
    ``None`` for the full vocabulary (atom ``i`` is token ``i``). With ids, the last atom is the tail.
    """

    log_beta: Any
    ids: Any | None

    @property
    def has_tail(self) -> bool:
        return self.ids is not None


def base_atoms(log_beta_vocab: Any, topk: int | None) -> BaseAtoms:
    """Atoms for the full head (``topk=None``) or the top-``topk`` tokens plus a tail atom.

    ``log beta(tail) = logsumexp`` of the non-top log-probabilities (``-inf`` if ``topk`` covers the
    vocabulary).
    """
    if topk is None:
        return BaseAtoms(log_beta=log_beta_vocab, ids=None)
    vocab = log_beta_vocab.shape[-1]
    if not 1 <= topk <= vocab:
        raise ValueError(f"topk must be between 1 and the vocabulary size {vocab}, got {topk}")
    top_lp, ids = torch.topk(log_beta_vocab, topk, dim=-1)
    rest = log_beta_vocab.scatter(-1, ids, torch.full_like(top_lp, -torch.inf))
    tail = torch.logsumexp(rest, dim=-1, keepdim=True)
    return BaseAtoms(log_beta=torch.cat([top_lp, tail], dim=-1), ids=ids)


@dataclass(frozen=True)
class ActorStep:
    """The actor's output on a batch of rows: budget target ``k`` (nats), proposal, mixture."""

    k: Any
    z: Any
    log_a: Any
    mixture: MixtureResult

    @property
    def log_x(self) -> Any:
        return self.mixture.log_x


class FeatureNorm(nn.Module):
    """``phi -> (phi - shift) / scale`` with fixed (non-learned) buffers; the identity until they are set."""

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.register_buffer("shift", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))

    def set_statistics(self, shift: Any, scale: Any) -> None:
        """Fix ``shift`` and ``scale`` (shape ``(n_features,)``, ``scale > 0``)."""
        if bool((scale <= 0).any()):
            raise ValueError("feature scales must be positive")
        with torch.no_grad():
            self.get_buffer("shift").copy_(shift)
            self.get_buffer("scale").copy_(scale)

    def forward(self, features: Any) -> Any:
        return (features - self.shift) / self.scale


def scaled_embedding(embedding: Any) -> Any:
    """The embedding matrix divided by its mean row L1 norm (float32, no gradient): mean ``||e_v||_1 = 1``."""
    e = embedding.detach().float()
    return e / e.abs().sum(1).mean().clamp_min(1e-12)


class Actor(nn.Module):
    """Head: features -> (budget neuron, per-token logit offsets [, tail offset]); zero-initialised.

    ``head="full"``/``"topk"``: one linear layer with a row per token; ``head="embed"``: offsets factored
    through ``embedding`` (the base model's ``V x d`` token embeddings, needed then). ``feature_norm``
    adds a :class:`FeatureNorm` in front.
    """

    def __init__(
        self,
        n_features: int,
        vocab_size: int,
        head: HeadKind = "full",
        embedding: Any | None = None,
        feature_norm: bool = False,
    ) -> None:
        super().__init__()
        if head not in ("full", "topk", "embed"):
            raise ValueError(f"head must be 'full', 'topk' or 'embed', got {head!r}")
        self.head = head
        self.vocab_size = vocab_size
        self.norm = FeatureNorm(n_features) if feature_norm else None
        if head == "embed":
            if embedding is None or tuple(embedding.shape[:1]) != (vocab_size,):
                raise ValueError(f"the embed head needs a ({vocab_size}, d) embedding matrix")
            self.register_buffer("embedding", scaled_embedding(embedding), persistent=False)
            self.readout = nn.Linear(n_features, int(embedding.shape[1]))
            self.budget = nn.Linear(n_features, 1)
            self.tail = nn.Linear(n_features, 1)
            for layer in (self.readout, self.budget, self.tail):
                nn.init.zeros_(layer.weight)
                nn.init.zeros_(layer.bias)
            return
        # rows: 0 = budget neuron, 1..V = token offsets, V+1 = tail offset (top-K head only)
        n_out = 1 + vocab_size + (1 if head == "topk" else 0)
        self.linear = nn.Linear(n_features, n_out)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def _rows(self, features: Any, rows: Any) -> Any:
        """Outputs ``features @ W[rows].T + b[rows]`` for per-sample row indices ``rows`` (N, m)."""
        unique, inverse = torch.unique(rows, return_inverse=True)
        out = features @ self.linear.weight[unique].T + self.linear.bias[unique]
        return out.gather(1, inverse)

    def _embed_offsets(self, features: Any, atoms: BaseAtoms) -> tuple[Any, Any]:
        h = self.readout(features)  # (N, d)
        z = self.budget(features)[:, 0]
        embedding = self.get_buffer("embedding")
        if atoms.ids is None:
            return z, h @ embedding.T
        unique, inverse = torch.unique(atoms.ids, return_inverse=True)
        top = (h @ embedding[unique].T).gather(1, inverse)
        return z, torch.cat([top, self.tail(features)], dim=1)

    def offsets(self, features: Any, atoms: BaseAtoms) -> tuple[Any, Any]:
        """Budget neuron ``z`` (N,) and logit offsets ``delta`` on the atoms (N, n_atoms); features normalised."""
        if self.norm is not None:
            features = self.norm(features)
        if self.head == "embed":
            return self._embed_offsets(features, atoms)
        if atoms.ids is None:
            out = self.linear(features)
            return out[:, 0], out[:, 1:]
        n = features.shape[0]
        zero = torch.zeros(n, 1, dtype=torch.long, device=features.device)
        tail = torch.full((n, 1), self.vocab_size + 1, dtype=torch.long, device=features.device)
        rows = torch.cat([zero, atoms.ids + 1, tail], dim=1)
        out = self._rows(features, rows)
        return out[:, 0], out[:, 1:]

    def forward(self, features: Any, atoms: BaseAtoms, remaining_budget: Any) -> ActorStep:
        """Budget target ``k_t`` (nats), proposal ``a = softmax(delta + log beta)`` and the KL fixed mixture ``x``.

        ``features``: (N, n_features); ``atoms``: the base distribution on this head's atoms;
        ``remaining_budget``: ``B_t`` (N,) in nats.
        """
        if self.head != "embed" and (atoms.ids is None) != (self.head == "full"):
            raise ValueError(f"a {self.head!r} head needs {'full' if self.head == 'full' else 'top-K'} atoms")
        z, delta = self.offsets(features, atoms)
        log_beta = atoms.log_beta.detach().to(delta.dtype)
        log_a = torch.log_softmax(delta + log_beta, dim=-1)
        k = budget_target(z, remaining_budget.to(delta.dtype))
        return ActorStep(k=k, z=z, log_a=log_a, mixture=kl_fixed_mixture(log_a, log_beta, k))


def budget_loss(step: ActorStep, min_kl: float) -> Any:
    """Per-row ``(KL(x||beta) - k_t)^2`` where ``KL(a||beta) >= min_kl`` and 0 elsewhere (nats squared).

    ``min_kl = 0`` is the paper's term on every row; ``min_kl > 0`` designs out the budget-neuron collapse
    (see the module docstring).
    """
    gap = (step.mixture.kl - step.k) ** 2
    gate = step.mixture.kl_proposal >= min_kl
    return torch.where(gate, gap, torch.zeros_like(gap))


def sample_atoms(step: ActorStep, generator: Any) -> Any:
    """One atom index per row drawn from ``x = exp(log_x)`` (map it to a token with :func:`resolve_tail`)."""
    probs = step.log_x.detach().exp().float()
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)


def resolve_tail(atom: Any, atoms: BaseAtoms, log_beta_vocab: Any, generator: Any) -> Any:
    """Token ids of sampled atoms: top atoms map through ``ids``; the tail samples ``beta`` off the top."""
    if atoms.ids is None:
        return atom
    k = atoms.ids.shape[1]
    in_top = atom < k
    top_tok = atoms.ids.gather(1, atom.clamp(max=k - 1).unsqueeze(1)).squeeze(1)
    tokens = top_tok.clone()
    if bool((~in_top).any()):
        rows = (~in_top).nonzero().squeeze(1)
        lp = log_beta_vocab[rows].scatter(-1, atoms.ids[rows], -torch.inf)
        tokens[rows] = torch.multinomial(torch.softmax(lp.float(), -1), 1, generator=generator).squeeze(1)
    return tokens


class Critic(nn.Module):
    """Value head: features -> 128 -> tanh -> 128 -> tanh -> 1 (the Monte-Carlo return, undiscounted)."""

    def __init__(self, n_features: int, hidden: int = 128, feature_norm: bool = False) -> None:
        super().__init__()
        self.norm = FeatureNorm(n_features) if feature_norm else None
        self.net = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.Tanh(),
            nn.Linear(hidden, hidden),
            nn.Tanh(),
            nn.Linear(hidden, 1),
        )

    def forward(self, features: Any) -> Any:
        if self.norm is not None:
            features = self.norm(features)
        return self.net(features).squeeze(-1)
