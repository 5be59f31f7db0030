r"""The Bayes mixture ``xi`` over a :class:`~aitheory.mixture.classes.ModelClass`: posterior and predictions.

For a history ``h_{<t} = a_1 o_1 ... a_{t-1} o_{t-1}`` (the agent's own actions included) and rows ``i`` with
prior ``w_i``:

* likelihood ``nu_i(h_{<t}) = prod_{s<t} nu_i(a_s | h_{<s})``, where ``nu_i(a | h)`` is 1 for a ``.`` of ``a``,
  ``1/K`` for a ``~``, 0 once the row's run has stopped, and ``xi_plain(a | h)`` for a MIX code;
* evidence ``xi(h_{<t}) = sum_i w_i nu_i(h_{<t})`` (and ``xi(empty) = 1``: the whole prior, enumerated or not);
* posterior ``w(i | h) = w_i nu_i(h) / xi(h)``;
* prediction ``xi(a | h) = sum_i w(i | h) nu_i(a | h) = xi(h a) / xi(h)`` (a semimeasure: sums to at most 1).

**Where the missing mass goes** (``1 - sum_a xi(a | h)``), split by cause: the posterior mass of rows whose run
stops at this step (``halted``, ``timed_out``, ``out_of_tape``, ``proven_silent``), and ``not_enumerated``: the
prior mass of programs beyond the length bound. Their behaviour is unknown, so this lower approximation counts
them as predicting nothing: their mass is lost at the first step (all of it is in the step-1 bucket) and they
carry no posterior afterwards. ``unenumerated_bound`` reports at every step how much posterior they *could* hold
if they had all predicted the history perfectly: ``u / (u + xi(h))`` with ``u`` their prior.
MIX rows pass on the plain mixture's own missing mass, in the same buckets.

``xi_plain`` is the mixture of the plain programs alone (prior: the plain programs' weights; ``xi_plain(empty)``
is the total plain prior 1/2), which is what the MIX program predicts with.

Three predictors are reported: ``raw`` (the semimeasure), ``normalised`` (Solomonoff's normalisation
``raw / sum(raw)``; NaN if nothing is predicted) and ``with_missing`` (K + 1 entries: the raw predictions and the
missing mass as an explicit extra symbol, summing to 1).

**Joint mode** (the class built with ``mode="joint"``; design.md section 2). The same computation runs over the
*positions* of the interleaved history ``x = a_1 o_1 a_2 o_2 ...`` instead of over the actions: every row
predicts every symbol, ``nu_i(x_1..x_n) = prod_{m<=n} nu_i(x_m | x_{<m})``, ``xi(x) = sum_i w_i nu_i(x)``, and
one posterior gives both the base policy ``xi(a_t | h_{<t}) = xi(h a_t) / xi(h)`` (odd positions) and the
environment model ``xi(o_t | h_{<t} a_t) = xi(h a_t o_t) / xi(h a_t)`` (even positions); observations move the
posterior as actions do. MIX predicts every position with ``xi_plain(x_n | x_{<n})``; the buckets are the same,
and ``not_enumerated`` is lost at position 1. Policy mode is the special case in which only the actions are
predicted and the observations select the history.

**The posterior ratio of MIX.** Writing ``nu_MIX(h) = prod xi_plain(x_m | x_{<m}) = xi_plain(h) / xi_plain(empty)
= 2 xi_plain(h)`` for the likelihood of MIX (and of every ``SWITCH(E, P, MIX)`` before E holds), its posterior
ratio is ``w(MIX | h) / w(MIX) = nu_MIX(h) / xi(h) = 2 xi_plain(h) / xi(h)``. As ``xi(h) = xi_plain(h) +
nu_MIX(h) / 4 + S(h)``, with ``S(h) = sum_{SWITCH s} w_s nu_s(h)``, this is ``2 / (3/2 + S(h) / xi_plain(h))``
for every non-empty h (1 at h = empty): exactly ``4/3`` in a class without SWITCH programs, below ``4/3`` with
them, and below 1 exactly when ``S(h) > xi_plain(h) / 2``, i.e. when the SWITCH programs explain h better than
half the plain mixture does (after their events). The paper's ``nu*`` copies ``xi`` itself, ratio 1; MIX
copies ``xi_plain``, so a bound ``len(nu) ln 2`` on the KL that uses ratio >= 1 needs checking, and
:func:`mix_posterior_ratio` reports it.

Two implementations: :class:`OnlineMixture` (one symbol at a time, as an agent would use it) and
:func:`predict_batch` (every position at once, vectorised over rows and positions). They are independent code
paths and are tested against each other and against a brute-force reference in exact arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from aitheory.dsl import emission_role, interleave
from aitheory.dsl.status import CODE_MIX, LOSS_STATUSES, Status, emission_probs, lost_code
from aitheory.mixture.classes import KINDS, ModelClass

__all__ = ["BUCKETS", "MixtureTrace", "OnlineMixture", "Step", "TopProgram", "mix_posterior_ratio", "predict_batch"]

#: Missing-mass buckets, in output order.
BUCKETS: tuple[str, ...] = (*LOSS_STATUSES, "not_enumerated")
_LOSS_CODES = tuple(lost_code(Status.of(name)) for name in LOSS_STATUSES)


@dataclass(frozen=True)
class TopProgram:
    """A behaviour row with high posterior, shown by its shortest program."""

    program: str
    bits: int
    """Full-grammar length of the shortest program in the row."""
    kind: str
    posterior: float


@dataclass(frozen=True)
class Step:
    """The mixture's prediction of the next symbol given the history so far (all information in nats): of
    ``a_t`` given ``h_{<t}`` (policy mode; joint mode, odd positions) or of ``o_t`` given ``h_{<t} a_t`` (joint
    mode, even positions)."""

    t: int
    """1-based step being predicted."""
    raw: np.ndarray
    """``xi(x | past)`` for each symbol x: the semimeasure (sums to at most 1)."""
    normalised: np.ndarray
    """``raw / sum(raw)`` (Solomonoff normalisation)."""
    with_missing: np.ndarray
    """``K + 1`` entries: ``raw`` and the total missing mass; sums to 1."""
    missing: dict[str, float]
    """Missing mass by cause (:data:`BUCKETS`); ``sum(raw) + sum(missing) = 1``."""
    log_evidence: float
    """``ln xi(h_{<t})`` in nats."""
    posterior_entropy: float
    """Entropy (nats) of the posterior over behaviour rows (and the not-enumerated mass at t = 1)."""
    kind_mass: dict[str, float]
    """Posterior mass per program kind (:data:`KINDS`) and ``not_enumerated``; sums to 1."""
    unenumerated_bound: float
    """Largest posterior share the not-enumerated programs could have: ``u / (u + xi(h))``."""
    top: tuple[TopProgram, ...] = ()
    position: int = 0
    """1-based position of the predicted symbol (``t`` in policy mode; ``2t - 1`` or ``2t`` in joint mode)."""
    role: str = "action"
    """``"action"`` or ``"observation"``: what is predicted."""


@dataclass(frozen=True)
class MixtureTrace:
    """Predictions at every position of a history, as arrays (T positions, K symbols): the steps t in policy
    mode; the symbols ``a_1 o_1 a_2 ...`` in joint mode (:attr:`roles`)."""

    raw: np.ndarray
    """``(T, K)``"""
    missing: np.ndarray
    """``(T, len(BUCKETS))``"""
    log_evidence: np.ndarray
    """``(T,)``: ``ln xi`` of the history before each position."""
    posterior: np.ndarray
    """``(T, R)``: posterior of each row before each position."""
    xi_plain: np.ndarray
    """``(T, K)``: the plain mixture's raw predictions."""
    mode: str = "policy"
    """The class's mode."""

    @property
    def roles(self) -> tuple[str, ...]:
        """What each position predicts: ``"action"`` or ``"observation"``."""
        return tuple(emission_role(n, self.mode) for n in range(1, self.raw.shape[0] + 1))

    @property
    def normalised(self) -> np.ndarray:
        total = self.raw.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, self.raw / total, np.nan)


def _loss_mass(codes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``(..., len(LOSS_STATUSES))``: weight of rows lost with each status (rows along the first axis)."""
    return np.stack([(weights * (codes == code)).sum(axis=0) for code in _LOSS_CODES], axis=-1)


def _log(x: np.ndarray | float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(x)


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


class OnlineMixture:
    """The mixture driven one step at a time: :meth:`predict`, then :meth:`update` with the action taken and
    the observation that followed. Conditions on every action, the agent's own included.

    Joint mode: :meth:`predict` gives the prediction of the next symbol, an action or an observation
    (:attr:`role`); :meth:`update` conditions on the action (and on the observation, if given), :meth:`observe`
    on the observation after it, so ``update(a)``, ``predict()`` gives ``xi(o | h a)``."""

    def __init__(self, model_class: ModelClass) -> None:
        self.mc = model_class
        self.k = model_class.config.k
        prior = model_class.prior_by_kind()
        self._log_w = _log(prior.sum(axis=1))
        self._log_w_plain = _log(prior[:, 0])
        self._log_lik = np.zeros(model_class.rows)
        self._log_z = 0.0  # ln xi(h): xi(empty) = 1
        self._log_z_plain = math.log(0.5)  # ln xi_plain(h): xi_plain(empty) = 1/2
        self._u = float(model_class.not_enumerated_mass())
        self._u_plain = float(model_class.plain_not_enumerated_mass())
        self.actions: list[int] = []
        self.observations: list[int] = []
        self._g = model_class.history_index([])

    def copy(self) -> OnlineMixture:
        """An independent copy (the class is shared, the state is not)."""
        other = object.__new__(OnlineMixture)
        other.__dict__.update(self.__dict__)
        other.actions, other.observations = list(self.actions), list(self.observations)
        other._log_lik = self._log_lik.copy()
        return other

    @property
    def mode(self) -> str:
        """``"policy"`` or ``"joint"``: the class's mode."""
        return self.mc.config.mode

    @property
    def t(self) -> int:
        """The step the next :meth:`predict` is about (1-based)."""
        return len(self.actions) + 1 if self.role == "action" else len(self.actions)

    @property
    def position(self) -> int:
        """The position the next :meth:`predict` is about (1-based): ``t`` in policy mode, the index of the next
        symbol of ``a_1 o_1 a_2 ...`` in joint mode."""
        if self.mc.config.mode == "policy":
            return len(self.actions) + 1
        return len(self.actions) + len(self.observations) + 1

    @property
    def role(self) -> str:
        """What the next :meth:`predict` is about: ``"action"`` or (joint mode) ``"observation"``."""
        if self.mc.config.mode == "policy":
            return "action"
        return emission_role(len(self.actions) + len(self.observations) + 1, "joint")

    @property
    def history(self) -> tuple[int, ...]:
        """The interleaved history ``a_1 o_1 a_2 ...`` conditioned on so far. ValueError in policy mode when
        ``update`` was called without observations, so that the history has gaps."""
        return interleave(self.actions, self.observations)

    def _codes(self) -> np.ndarray:
        n = self.position
        if n > self.mc.positions:
            where = f"step {self.t}" if self.mode == "policy" else f"position {n} ({self.role} of step {self.t})"
            raise ValueError(f"{where} is beyond the class's horizon {self.mc.config.horizon}; "
                             "build the class with a larger horizon")
        return self.mc.codes[:, self._g, n - 1]

    def _plain(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """xi_plain(. | h), its losses by status, and its not-enumerated share at this step."""
        if self._log_z_plain == -math.inf:  # xi_plain(h) = 0: it predicts nothing (MIX is dead too)
            return np.zeros(self.k), np.zeros(len(LOSS_STATUSES)), 0.0
        post = np.exp(self._log_w_plain + self._log_lik - self._log_z_plain)
        probs = post @ emission_probs(codes, self.k)
        losses = _loss_mass(codes, post)
        not_enum = self._u_plain / 0.5 if self.position == 1 else 0.0
        return probs, losses, not_enum

    def _posterior(self) -> np.ndarray:
        return np.exp(self._log_w + self._log_lik - self._log_z)

    def row_predictions(self) -> np.ndarray:
        """``(R, K)``: every row's prediction ``nu_i(x | h)`` of the next symbol (MIX rows: ``xi_plain``)."""
        codes = self._codes()
        out = emission_probs(codes, self.k)
        out[codes == CODE_MIX] = self._plain(codes)[0]
        return out

    def plain_prediction(self) -> np.ndarray:
        """``(K,)``: the plain programs' mixture ``xi_plain(x | h)`` of the next symbol, raw (what MIX predicts)."""
        return self._plain(self._codes())[0]

    def next_symbol(self) -> np.ndarray:
        """``(K,)``: ``xi(x | h)`` of the next symbol, raw; :meth:`predict`'s ``raw`` without its diagnostics."""
        return self._posterior() @ self.row_predictions()

    @property
    def log_evidence(self) -> float:
        """``ln xi(h)`` of the history so far (0 at the empty history)."""
        return self._log_z

    @property
    def log_plain_evidence(self) -> float:
        """``ln xi_plain(h)`` (``ln 1/2`` at the empty history); ``ln 2 + this`` is ``ln nu_MIX(h)``."""
        return self._log_z_plain

    def posterior(self) -> np.ndarray:
        """``(R,)``: the posterior ``w(i | h)`` of every row (the not-enumerated mass is the rest at t = 1)."""
        return self._posterior()

    def log_likelihood_ratio(self) -> np.ndarray:
        """``(R,)``: ``ln(nu_i(h) / xi(h))``, so that ``w(nu | h) = w(nu) * exp(this)`` for every program nu of row
        i (``-inf`` for rows that cannot explain h). Only the steps that were learned from count."""
        return self._log_lik - self._log_z

    def predict(self, top: int = 0) -> Step:
        """The prediction of the next symbol (the next action in policy mode); ``top`` > 0 also lists that many
        rows by posterior."""
        codes = self._codes()
        first = self.position == 1
        xi_plain, plain_losses, plain_not_enum = self._plain(codes)
        post = self._posterior()
        is_mix = codes == CODE_MIX
        mix_mass = float(post[is_mix].sum())
        raw = post @ emission_probs(codes, self.k) + mix_mass * xi_plain
        losses = _loss_mass(codes, post) + mix_mass * plain_losses
        not_enum = (self._u if first else 0.0) + mix_mass * plain_not_enum
        missing = dict(zip(BUCKETS, [*map(float, losses), float(not_enum)], strict=True))
        total = raw.sum()
        by_kind = self.mc.prior_by_kind()
        kind_share = by_kind / np.maximum(by_kind.sum(axis=1, keepdims=True), np.finfo(float).tiny)
        kind_mass = dict(zip(KINDS, map(float, post @ kind_share), strict=True))
        kind_mass["not_enumerated"] = self._u if first else 0.0
        entropy_terms = np.append(post, kind_mass["not_enumerated"])
        z = math.exp(self._log_z)
        with np.errstate(invalid="ignore", divide="ignore"):
            normalised = raw / total if total > 0 else np.full(self.k, np.nan)
        return Step(
            t=self.t, raw=raw, normalised=normalised, with_missing=np.append(raw, 1.0 - total),
            missing=missing, log_evidence=self._log_z, posterior_entropy=_entropy(entropy_terms),
            kind_mass=kind_mass, unenumerated_bound=self._u / (self._u + z) if self._u > 0 else 0.0,
            top=self._top(post, top), position=self.position, role=self.role,
        )

    def _top(self, post: np.ndarray, n: int) -> tuple[TopProgram, ...]:
        if n <= 0:
            return ()
        order = np.argsort(-post, kind="stable")[:n]
        kinds = self.mc.prior_by_kind()[order].argmax(axis=1)
        return tuple(
            TopProgram(self.mc.rep_text[i], int(self.mc.rep_bits[i]), KINDS[int(kk)], float(post[i]))
            for i, kk in zip(order, kinds, strict=True)
        )

    def update(self, action: int, observation: int | None = None, learn: bool = True) -> float:
        """Condition on action ``a_t`` (and the observation ``o_t`` after it); return ``ln xi(a_t | h_{<t})``.

        ``learn=False`` records the action (the history moves on) without updating the posterior: for imitators
        that learn only from the demonstrator's actions, not from the agent's. Raises ``ValueError`` if the
        action is out of range or (when learning) the mixture gives it probability 0 (the class cannot explain
        the history; nothing is changed then). In joint mode the observation is predicted too and conditioned on
        as by :meth:`observe` (``learn`` applies to both; ``ln xi(o_t | h a_t)`` is what :meth:`observe` returns).
        """
        if not 0 <= action < self.k:
            raise ValueError(f"argument action: {action} is outside 0..{self.k - 1} (step {self.t})")
        if observation is not None and not 0 <= observation < self.k:
            raise ValueError(f"argument observation: {observation} is outside 0..{self.k - 1} (step {self.t})")
        if self.mode == "joint":
            return self._update_joint(action, observation, learn)
        g = self._g if observation is None else self.mc.history_index([*self.observations, observation])
        log_p = self._condition(action, learn, "action")
        self.actions.append(action)
        if observation is not None:
            self.observations.append(observation)
            self._g = g
        return log_p

    def observe(self, observation: int, learn: bool = True) -> float:
        """Joint mode: condition on the observation ``o_t`` after ``a_t``; return ``ln xi(o_t | h_{<t} a_t)``.

        Raises ``ValueError`` in policy mode (observations are not predicted there: give them to
        :meth:`update`), when the next symbol is an action, or as :meth:`update` does."""
        if self.mode != "joint":
            raise ValueError("argument observation: policy mode does not predict observations; pass it to update()")
        if self.role != "observation":
            raise ValueError(f"argument observation: step {self.t} has no action yet; call update(action) first")
        if not 0 <= observation < self.k:
            raise ValueError(f"argument observation: {observation} is outside 0..{self.k - 1} (step {self.t})")
        g = self.mc.history_index([*self.history, observation])
        log_p = self._condition(observation, learn, "observation")
        self.observations.append(observation)
        self._g = g
        return log_p

    def _update_joint(self, action: int, observation: int | None, learn: bool) -> float:
        """Joint mode: the action, then the observation (if any), atomically (nothing changes on an error)."""
        if self.role != "action":
            raise ValueError(f"argument action: step {self.t} is waiting for its observation; call observe() first")
        state = self.copy()
        g = self.mc.history_index([*self.history, action])
        log_p = state._condition(action, learn, "action")
        state.actions.append(action)
        state._g = g
        if observation is not None:
            state.observe(observation, learn)
        self.__dict__.update(state.__dict__)
        return log_p

    def _condition(self, symbol: int, learn: bool, what: str) -> float:
        """Bayes' rule at the current position for the symbol that came: ``nu_i(h x) = nu_i(h) nu_i(x | h)``
        for every row, ``xi(h x) = xi(h) xi(x | h)``. Returns ``ln xi(x | h)``; moves neither history nor g."""
        codes = self._codes()
        xi_plain, _, _ = self._plain(codes)
        factor = emission_probs(codes, self.k)[:, symbol]
        factor[codes == CODE_MIX] = xi_plain[symbol]
        p = float(self._posterior() @ factor)
        if learn and p <= 0:
            raise ValueError(f"argument {what}: the mixture gives {what} {symbol} probability 0 at step {self.t}; "
                             "no program in the class explains this history")
        if learn:
            self._log_lik = self._log_lik + _log(factor)
            self._log_z += math.log(p)
            self._log_z_plain += math.log(xi_plain[symbol]) if xi_plain[symbol] > 0 else -math.inf
        return math.log(p) if p > 0 else -math.inf

    def mix_posterior_ratio(self) -> float:
        """``w(MIX | h) / w(MIX) = 2 xi_plain(h) / xi(h)`` (module docstring): the posterior ratio of MIX and of
        every ``SWITCH(E, P, MIX)`` before E holds; 1 at the empty history, 4/3 after it without SWITCH rows."""
        return math.exp(math.log(2.0) + self._log_z_plain - self._log_z) if self._log_z_plain > -math.inf else 0.0


def predict_batch(model_class: ModelClass, actions: Sequence[int], observations: Sequence[int] | None = None
                  ) -> MixtureTrace:
    """Predictions at every position, vectorised over rows and positions.

    Policy mode: at every step ``t = 1 .. len(actions) + 1``; ``observations``: ``o_1 ..`` (at most
    ``len(actions)``); missing ones must be covered by the class's histories (a class built on one history fixes
    them). Joint mode: at every position ``1 .. len(x) + 1`` of the interleaved history ``x = a_1 o_1 a_2 ..``
    (:func:`aitheory.dsl.interleave`: as many observations as actions, or one fewer; the last position predicts
    the next observation or the next action).
    """
    mc, k = model_class, model_class.config.k
    if mc.config.mode == "joint":
        try:
            symbols = interleave(list(actions), list(observations or []))
        except ValueError as exc:
            raise ValueError(f"{exc} (joint mode predicts the observations, so none can be left out)") from None
        if any(not 0 <= x < k for x in symbols):
            raise ValueError(f"argument actions/observations: every symbol must be in 0..{k - 1}")
        if len(symbols) + 1 > mc.positions:
            raise ValueError(f"argument actions: a history of {len(symbols)} symbols needs horizon >= "
                             f"{len(symbols) // 2 + 1}, the class has {mc.config.horizon}")
        return _trace(mc, np.asarray(symbols, dtype=np.int64), mc.history_index(list(symbols)))
    acts = np.asarray(list(actions), dtype=np.int64)
    if acts.size and (acts.min() < 0 or acts.max() >= k):
        raise ValueError(f"argument actions: every action must be in 0..{k - 1}")
    steps = len(acts) + 1
    if steps > mc.config.horizon:
        raise ValueError(f"argument actions: {len(acts)} actions need horizon >= {steps}, the class has "
                         f"{mc.config.horizon}")
    return _trace(mc, acts, mc.history_index(list(observations or [])))


def _trace(mc: ModelClass, acts: np.ndarray, g: int) -> MixtureTrace:
    """The batch computation on history g, conditioning on the predicted symbols ``acts`` (actions in policy
    mode, every symbol in joint mode): predictions at positions ``1 .. len(acts) + 1``."""
    k = mc.config.k
    steps = len(acts) + 1
    codes = mc.codes[:, g, :steps]  # (R, T)
    prior = mc.prior_by_kind()
    probs = emission_probs(codes, k)  # (R, T, K); MIX rows all 0 here
    taken = probs[:, :-1, :][np.arange(len(codes))[:, None], np.arange(steps - 1)[None, :], acts[None, :]]
    # Plain mixture: rows without MIX codes (plain programs never have them), all steps at once.
    log_lik_plain = np.concatenate([np.zeros((len(codes), 1)), np.cumsum(_log(taken), axis=1)], axis=1)  # (R, T)
    log_w_plain = _log(prior[:, 0])
    plain_joint = log_w_plain[:, None] + log_lik_plain
    log_z_plain = np.concatenate([[math.log(0.5)], logsumexp(plain_joint[:, 1:], axis=0)])
    with np.errstate(invalid="ignore"):
        post_plain = np.exp(plain_joint - log_z_plain[None, :])  # (R, T)
    post_plain[:, log_z_plain == -np.inf] = 0.0  # xi_plain(h) = 0: it predicts nothing from then on
    xi_plain = np.einsum("rt,rtk->tk", post_plain, probs)
    plain_losses = np.stack([_loss_mass(codes[:, t], post_plain[:, t]) for t in range(steps)])
    plain_not_enum = np.zeros(steps)
    plain_not_enum[0] = float(mc.plain_not_enumerated_mass()) / 0.5
    # Full class: MIX codes take xi_plain's probability of the action actually taken.
    is_mix = codes == CODE_MIX
    mix_taken = xi_plain[np.arange(steps - 1), acts] if steps > 1 else np.zeros(0)
    taken_full = np.where(is_mix[:, :-1], mix_taken[None, :], taken)
    log_lik = np.concatenate([np.zeros((len(codes), 1)), np.cumsum(_log(taken_full), axis=1)], axis=1)
    joint = _log(prior.sum(axis=1))[:, None] + log_lik
    log_z = np.concatenate([[0.0], logsumexp(joint[:, 1:], axis=0)])
    post = np.exp(joint - log_z[None, :])  # (R, T)
    mix_mass = (post * is_mix).sum(axis=0)  # (T,)
    raw = np.einsum("rt,rtk->tk", post, probs) + mix_mass[:, None] * xi_plain
    losses = np.stack([_loss_mass(codes[:, t], post[:, t]) for t in range(steps)]) + mix_mass[:, None] * plain_losses
    not_enum = mix_mass * plain_not_enum
    not_enum[0] += float(mc.not_enumerated_mass())
    return MixtureTrace(raw=raw, missing=np.column_stack([losses, not_enum]), log_evidence=log_z,
                        posterior=post.T, xi_plain=xi_plain, mode=mc.config.mode)


def mix_posterior_ratio(trace: MixtureTrace, model_class: ModelClass) -> np.ndarray:
    """``(T,)``: ``w(MIX | h) / w(MIX) = 2 xi_plain(h) / xi(h)`` before each position of a trace (module
    docstring), from the posterior of the MIX row (NaN if the class has no MIX)."""
    is_mix = model_class.weight_by_kind[:, KINDS.index("mix")] > 0
    if not is_mix.any():
        return np.full(trace.raw.shape[0], np.nan)
    row = int(np.flatnonzero(is_mix)[0])
    return trace.posterior[:, row] / model_class.prior()[row]
