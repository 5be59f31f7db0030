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
from functools import cached_property

import numpy as np

from aitheory.dsl import emission_role, interleave
from aitheory.dsl.status import CODE_MIX, CODE_TILDE, LOSS_STATUSES, Status, emission_probs, lost_code
from aitheory.mixture.classes import KINDS, ModelClass

__all__ = ["BUCKETS", "HistoriesTrace", "MixtureTrace", "OnlineMixture", "Step", "TopProgram",
           "mix_posterior_ratio", "predict_batch", "predict_histories"]

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
    mode, every symbol in joint mode): predictions at positions ``1 .. len(acts) + 1``; the one-history case of
    :func:`predict_histories`."""
    trace = _histories_trace(mc, acts[None, :], np.array([g], dtype=np.int64))
    return MixtureTrace(raw=trace.raw()[0], missing=trace.missing()[0], log_evidence=trace.log_evidence[0],
                        posterior=trace.posterior[0], xi_plain=trace.xi_plain[0], mode=mc.config.mode)


def _logsumexp_rows(x: np.ndarray) -> np.ndarray:
    """``ln sum_r exp(x[..., r])`` over the last axis (``-inf`` where every entry is ``-inf``); overwrites x."""
    top = x.max(axis=-1)
    top[~np.isfinite(top)] = 0.0
    np.subtract(x, top[..., None], out=x)
    np.exp(x, out=x)
    with np.errstate(divide="ignore"):
        return np.log(x.sum(axis=-1)) + top


def _code_sum(codes: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """``(..., K)``: ``sum_r weights[..., r] * p_r(x)`` over the rows (last axis) with the plain codes' ``p_r``:
    1 for a ``.`` of ``x``, ``1/K`` for a ``~``, 0 otherwise (MIX codes are added apart)."""
    tilde = ((codes == CODE_TILDE) * weights).sum(axis=-1) / k
    return np.stack([((codes == x) * weights).sum(axis=-1) + tilde for x in range(k)], axis=-1)


def _exp_posterior(log_joint: np.ndarray, log_evidence: np.ndarray) -> np.ndarray:
    """``exp(log_joint - log_evidence)`` with the evidence broadcast over the rows (last axis); 0 where the
    evidence is 0 (nothing is predicted from a history the mixture gives probability 0)."""
    with np.errstate(invalid="ignore"):
        out = np.exp(log_joint - log_evidence[..., None])
    out[~np.isfinite(log_evidence)] = 0.0
    return out


@dataclass(frozen=True, eq=False)
class HistoriesTrace:
    r"""The mixture along B histories of one class at once (:func:`predict_histories`), each conditioned on n
    predicted symbols ``x_1 .. x_n`` (actions in policy mode; the interleaved ``a_1 o_1 ..`` in joint mode).

    Index ``j = 0 .. n`` is the history ``x_{<=j}`` of the first j symbols, the one before position ``j + 1``;
    predictions are given at positions ``1 .. m``, ``m = min(n + 1, P)`` (the class has P positions: the last
    history's evidence and posterior are known even where the class cannot predict further). Every quantity is
    the one of :class:`OnlineMixture` and :func:`predict_batch` (module docstring), row by row and history by
    history: ``nu_r(x_{<=j}) = prod_{i<=j} nu_r(x_i | x_{<i})``, ``xi(x_{<=j}) = sum_r w_r nu_r(x_{<=j})`` with
    ``xi(empty) = 1``, and ``xi_plain`` over the plain weights with ``xi_plain(empty) = 1/2``.
    """

    codes: np.ndarray
    """``(B, m, R) int8``: every row's code at positions ``1 .. m`` of each history."""
    log_lik: np.ndarray
    """``(B, n + 1, R)``: ``ln nu_r(x_{<=j})`` (0 at ``j = 0``)."""
    log_evidence: np.ndarray
    """``(B, n + 1)``: ``ln xi(x_{<=j})``."""
    log_evidence_plain: np.ndarray
    """``(B, n + 1)``: ``ln xi_plain(x_{<=j})`` (``ln 1/2`` at ``j = 0``)."""
    log_prior: np.ndarray
    """``(R,)``: ``ln w_r`` (all kinds)."""
    log_prior_plain: np.ndarray
    """``(R,)``: ``ln`` of the prior of each row's plain programs (``-inf`` for rows without any)."""
    not_enumerated: float
    """Prior mass beyond the length bound (lost at position 1)."""
    plain_not_enumerated: float
    """Plain prior mass beyond the length bound (``xi_plain`` loses ``plain_not_enumerated / (1/2)`` at position
    1)."""
    k: int
    mode: str = "policy"

    @property
    def positions(self) -> int:
        """m: the number of positions predicted."""
        return int(self.codes.shape[1])

    def log_likelihood_ratio(self) -> np.ndarray:
        """``(B, n + 1, R)``: ``ln(nu_r(x_{<=j}) / xi(x_{<=j}))``, so ``w(nu | h) = w(nu) exp(this)`` for every
        program nu of row r (``-inf`` for rows that cannot explain h)."""
        with np.errstate(invalid="ignore"):
            out = self.log_lik - self.log_evidence[..., None]
        out[~np.isfinite(self.log_evidence)] = -np.inf
        return out

    @cached_property
    def posterior(self) -> np.ndarray:
        """``(B, n + 1, R)``: ``w(r | x_{<=j}) = w_r nu_r(x_{<=j}) / xi(x_{<=j})`` (at ``j = 0`` the prior: the
        not-enumerated mass is the rest)."""
        return _exp_posterior(self.log_prior + self.log_lik, self.log_evidence)

    @cached_property
    def xi_plain(self) -> np.ndarray:
        """``(B, m, K)``: ``xi_plain(x | x_{<j})`` at positions ``1 .. m``, what MIX predicts with (0 once
        ``xi_plain(h) = 0``)."""
        m = self.positions
        post = _exp_posterior(self.log_prior_plain + self.log_lik[:, :m], self.log_evidence_plain[:, :m])
        return _code_sum(self.codes, post, self.k)

    def _mix_mass(self) -> np.ndarray:
        """``(B, m)``: posterior mass of the rows whose code is MIX at each position."""
        return ((self.codes == CODE_MIX) * self.posterior[:, : self.positions]).sum(axis=-1)

    def raw(self) -> np.ndarray:
        """``(B, m, K)``: ``xi(x | x_{<j})``, the semimeasure (MIX rows predict with ``xi_plain``)."""
        post = self.posterior[:, : self.positions]
        return _code_sum(self.codes, post, self.k) + self._mix_mass()[..., None] * self.xi_plain

    def normalised(self) -> np.ndarray:
        """``(B, m, K)``: ``raw / sum(raw)`` (Solomonoff normalisation; NaN where nothing is predicted)."""
        raw = self.raw()
        total = raw.sum(axis=-1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, raw / total, np.nan)

    def missing(self) -> np.ndarray:
        """``(B, m, len(BUCKETS))``: the missing mass by cause (:data:`BUCKETS`); ``raw + missing = 1``."""
        m = self.positions
        post = self.posterior[:, :m]
        post_plain = _exp_posterior(self.log_prior_plain + self.log_lik[:, :m], self.log_evidence_plain[:, :m])
        mix_mass = self._mix_mass()

        def lost(weights: np.ndarray) -> np.ndarray:
            return np.stack([((self.codes == code) * weights).sum(axis=-1) for code in _LOSS_CODES], axis=-1)

        losses = lost(post) + mix_mass[..., None] * lost(post_plain)
        not_enum = np.zeros(mix_mass.shape)
        not_enum[:, 0] = self.not_enumerated + mix_mass[:, 0] * self.plain_not_enumerated / 0.5
        return np.concatenate([losses, not_enum[..., None]], axis=-1)

    def row_predictions(self, position: int) -> np.ndarray:
        """``(B, R, K)``: every row's prediction ``nu_r(x | x_{<j})`` at 1-based ``position`` j of each history
        (MIX rows: ``xi_plain``), as :meth:`OnlineMixture.row_predictions`."""
        if not 1 <= position <= self.positions:
            raise ValueError(f"argument position: must be in 1..{self.positions}, got {position}")
        codes = self.codes[:, position - 1]
        out = emission_probs(codes, self.k)
        is_mix = codes == CODE_MIX
        out[is_mix] = np.broadcast_to(self.xi_plain[:, position - 1, None, :], out.shape)[is_mix]
        return out


def predict_histories(model_class: ModelClass, symbols: np.ndarray | Sequence[Sequence[int]],
                      g: np.ndarray | Sequence[int] | None = None) -> HistoriesTrace:
    """The mixture along B histories at once, vectorised over histories, rows and positions (the batch path of
    :func:`predict_batch`, which is its one-history case).

    ``symbols (B, n)``: the predicted symbols each history conditions on (policy mode: the actions ``a_1 .. a_n``;
    joint mode: ``x_1 .. x_n`` of ``a_1 o_1 a_2 ..``), ``n <= P``. ``g (B,)``: the class's history of each
    (:meth:`ModelClass.history_index`): in policy mode the observations the programs read (default: the class's
    first history, right for a class built on one observation sequence); in joint mode the history whose first
    symbols are ``symbols`` (default: looked up).
    """
    mc, k = model_class, model_class.config.k
    sym = np.asarray(symbols, dtype=np.int64)
    if sym.ndim != 2:
        raise ValueError(f"argument symbols: expected a (histories, symbols) array, got shape {sym.shape}")
    if sym.size and (sym.min() < 0 or sym.max() >= k):
        raise ValueError(f"argument symbols: every symbol must be in 0..{k - 1}")
    n = sym.shape[1]
    if n > mc.positions:
        raise ValueError(f"argument symbols: {n} symbols, but the class predicts {mc.positions} positions "
                         f"(horizon {mc.config.horizon}); build it with a larger horizon")
    if g is None:
        index = [mc.history_index(list(row) if mc.config.mode == "joint" else []) for row in sym]
        g = np.asarray(index, dtype=np.int64).reshape(len(sym))
    hist = np.asarray(g, dtype=np.int64)
    if hist.shape != (len(sym),) or (hist.size and (hist.min() < 0 or hist.max() >= mc.histories.shape[0])):
        raise ValueError(f"argument g: expected {len(sym)} history indices in 0..{mc.histories.shape[0] - 1}")
    if mc.config.mode == "joint":
        seen = min(n, mc.histories.shape[1])
        if not (mc.histories[hist, :seen] == sym[:, :seen]).all():
            raise ValueError("argument g: in joint mode each history must start with its symbols")
    return _histories_trace(mc, sym, hist)


def _histories_trace(mc: ModelClass, sym: np.ndarray, g: np.ndarray) -> HistoriesTrace:
    """Bayes' rule along every history at once: ``ln nu_r`` as a cumulative sum over positions, the evidences
    by a log-sum-exp over the rows. Rows with plain programs never carry a MIX code (plain programs do not
    predict with the mixture), so the plain mixture comes first from the plain codes alone, and MIX codes then
    take its conditional ``xi_plain(x_j | x_{<j}) = xi_plain(x_{<=j}) / xi_plain(x_{<j})`` of the symbol that
    came."""
    k = mc.config.k
    n = sym.shape[1]
    m = min(n + 1, mc.positions)
    codes = np.ascontiguousarray(mc.codes[:, g, :m].transpose(1, 2, 0))  # (B, m, R)
    prior = mc.prior_by_kind()
    log_w, log_w_plain = _log(prior.sum(axis=1)), _log(prior[:, 0])
    past = codes[:, :n]
    factor = (past == sym[:, :, None]) + (past == CODE_TILDE) * (1.0 / k)  # nu_r(x_j | x_<j), plain codes
    log_f = _log(factor)
    log_lik = np.zeros((len(g), n + 1, mc.rows))
    for j in range(n):  # ln nu_r(x_<=j+1) = ln nu_r(x_<=j) + ln nu_r(x_j+1 | x_<=j)
        np.add(log_lik[:, j], log_f[:, j], out=log_lik[:, j + 1])
    log_z_plain = np.full((len(g), n + 1), math.log(0.5))
    log_z_plain[:, 1:] = _logsumexp_rows(log_w_plain + log_lik[:, 1:])
    is_mix = past == CODE_MIX
    mix_rows = np.flatnonzero(is_mix.any(axis=(0, 1)))
    if mix_rows.size:
        with np.errstate(invalid="ignore"):
            step = np.exp(np.diff(log_z_plain, axis=1))  # xi_plain(x_j | x_<j)
        step[~np.isfinite(log_z_plain[:, :-1])] = 0.0
        f_mix = np.where(is_mix[:, :, mix_rows], step[:, :, None], factor[:, :, mix_rows])
        log_lik[:, 1:, mix_rows] = np.cumsum(_log(f_mix), axis=1)
    log_z = np.zeros((len(g), n + 1))
    log_z[:, 1:] = _logsumexp_rows(log_w + log_lik[:, 1:])
    return HistoriesTrace(codes=codes, log_lik=log_lik, log_evidence=log_z, log_evidence_plain=log_z_plain,
                          log_prior=log_w, log_prior_plain=log_w_plain,
                          not_enumerated=float(mc.not_enumerated_mass()),
                          plain_not_enumerated=float(mc.plain_not_enumerated_mass()), k=k, mode=mc.config.mode)


def mix_posterior_ratio(trace: MixtureTrace, model_class: ModelClass) -> np.ndarray:
    """``(T,)``: ``w(MIX | h) / w(MIX) = 2 xi_plain(h) / xi(h)`` before each position of a trace (module
    docstring), from the posterior of the MIX row (NaN if the class has no MIX)."""
    is_mix = model_class.weight_by_kind[:, KINDS.index("mix")] > 0
    if not is_mix.any():
        return np.full(trace.raw.shape[0], np.nan)
    row = int(np.flatnonzero(is_mix)[0])
    return trace.posterior[:, row] / model_class.prior()[row]
