r"""Imitators of a trusted demonstrator built on the BF-8 mixture, and a demonstrator/environment harness.

**Bayesian imitator** (the paper's base policy): ``beta(a | h) = xi(a | h)``, the mixture's prediction of the
next action given the whole history, the agent's own actions included. :class:`BayesianImitator` is a policy
(a function from an interleaved history ``(a_1, o_1, ..., a_{t-1}, o_{t-1})`` to a vector over actions) and can
be passed to :mod:`aitheory.measures.tree` as a base policy. By default it returns the raw semimeasure (rows sum
to at most 1; the deficit is mass the finite class cannot place), as the theory has it; ``predictor="normalised"``
gives Solomonoff's normalisation instead.

**Pessimistic imitator** (Definition 4, from Cohen, Hutter and Nanda's FGOIL): with a top set ``M^alpha_h`` of
models that are still credible,

``nu_alpha(a | h) = min_{nu in M^alpha_h} nu(a | h)``,

a semimeasure whose deficit ``1 - sum_a nu_alpha(a | h)`` is the probability of **asking for help** (deferring to
the demonstrator). It never gives an action more probability than any credible model does, and gives 0 to any
action that some credible model rules out: "don't do anything I mightn't do". Two readings of the top set
(paper notes, section 2; the paper's exact wording is unconfirmed, so both are implemented and named):

* ``"absolute"``: ``M = {nu : w(nu | h) >= alpha}`` (at most ``1/alpha`` programs);
* ``"prior_relative"``: ``M = {nu : w(nu | h) >= alpha * w(nu)}``, i.e. ``nu(h) / xi(h) >= alpha``.

Membership is decided per program; a behaviour row is in the top set if any of its programs is (for the absolute
reading, its shortest program, which has the largest prior). An empty top set (possible in the absolute reading)
means the imitator knows nothing credible and asks for help with probability 1. By default the posterior learns
only from the demonstrator's actions (the first ``demo_steps`` actions), not from the agent's
(``learn_from_agent=False``); the predictions ``nu(a | h)`` always condition on the whole history.
``renormalise=True`` divides the prior by the enumerated mass ``Z = sum_r w_r`` (for a class of programs that
lose no mass, where ``xi`` is then a measure and ``xi/mu`` a martingale).

**Act and query** (FGOIL's protocol, :func:`act_and_query`): at every step the imitator asks for help with
probability ``theta_q(h) = 1 - sum_a nu_alpha(a | h)``; then the demonstrator acts and the posterior learns
from that action. Otherwise the imitator acts, taking action ``a`` with probability ``nu_alpha(a | h)`` (so the
action is ``a`` with total probability ``nu_alpha(a|h) + theta_q(h) mu(a|h)``), and the posterior does not learn
from it: the imitator learns only from the demonstrator's answers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np

from aitheory.ctw import CTW
from aitheory.dsl import interleave, parse, run_reference, split_history
from aitheory.dsl.status import CODE_MIX, CODE_TILDE, NO_ACTION, emission_probs
from aitheory.mixture import ModelClass, OnlineMixture
from aitheory.types import Environment, History, Policy

__all__ = [
    "TOP_SET_READINGS",
    "BayesianImitator",
    "CTWImitator",
    "Episode",
    "ImitatorPrediction",
    "PessimisticImitator",
    "QueryRun",
    "act_and_query",
    "bernoulli_environment",
    "log_enumerated_mass",
    "markov_environment",
    "pessimistic_min",
    "pessimistic_min_of_codes",
    "program_policy",
    "run_episode",
    "top_set_mask",
]

TopSetReading = Literal["absolute", "prior_relative"]
TOP_SET_READINGS: tuple[str, ...] = ("absolute", "prior_relative")


def _split(history: Sequence[int]) -> tuple[list[int], list[int]]:
    """Interleaved ``(a_1, o_1, ..., a_n, o_n)`` -> (actions, observations) (:func:`aitheory.dsl.split_history`),
    refusing a history that ends with an action (a policy is asked after an observation)."""
    if len(history) % 2:
        raise ValueError(f"argument history: a policy is asked after an observation, so the history has even "
                         f"length (a_1, o_1, ..., a_n, o_n); got length {len(history)}")
    actions, observations = split_history(history)
    return list(actions), list(observations)


class _Replay:
    """Replays histories into an :class:`OnlineMixture`, caching the state after every prefix."""

    def __init__(self, model_class: ModelClass, learn: Callable[[int], bool]) -> None:
        self.mc = model_class
        self.learn = learn
        self._cache: dict[History, OnlineMixture] = {(): OnlineMixture(model_class)}

    def state(self, history: Sequence[int]) -> OnlineMixture:
        actions, observations = _split(history)
        key: History = tuple(int(x) for x in history)
        n = len(actions)
        while key[: 2 * n] not in self._cache:
            n -= 1
        state = self._cache[key[: 2 * n]]
        for s in range(n, len(actions)):
            state = state.copy()
            state.update(actions[s], observations[s], learn=self.learn(s))
            self._cache[key[: 2 * (s + 1)]] = state
        return state


class BayesianImitator:
    """``beta(a | h) = xi(a | h)`` as a policy over interleaved histories (cached by prefix)."""

    def __init__(self, model_class: ModelClass, predictor: Literal["raw", "normalised"] = "raw") -> None:
        if predictor not in ("raw", "normalised"):
            raise ValueError(f"argument predictor: must be 'raw' or 'normalised', got {predictor!r}")
        self.predictor = predictor
        self._replay = _Replay(model_class, learn=lambda s: True)

    def __call__(self, history: Sequence[int]) -> np.ndarray:
        step = self._replay.state(history).predict()
        return step.raw if self.predictor == "raw" else step.normalised


class CTWImitator:
    """A tractable baseline imitator: context tree weighting over the interleaved history (one tree for actions,
    one for observations, ``roles=2``), as a policy with the same interface as :class:`BayesianImitator`.

    It is the exact Bayes mixture over prediction suffix trees of depth at most ``depth`` (variable-order Markov
    models) instead of over programs, so its predictions always sum to 1: a baseline with no missing mass.
    """

    def __init__(self, depth: int, k: int = 2) -> None:
        self._root = CTW(depth, alphabet_size=k, roles=2)
        self._cache: dict[History, CTW] = {(): self._root}

    def __call__(self, history: Sequence[int]) -> np.ndarray:
        _split(history)  # validates: a policy is asked after an observation
        key: History = tuple(int(x) for x in history)
        n = len(key)
        while key[:n] not in self._cache:
            n -= 1
        model = self._cache[key[:n]]
        for i in range(n, len(key)):
            model = model.copy()
            model.update(key[i])
            self._cache[key[: i + 1]] = model
        return model.predict()


def top_set_mask(log_ratio: np.ndarray, rep_bits: np.ndarray, alpha: float, reading: str, log_mass: float = 0.0,
                 learned: bool | np.ndarray = True) -> np.ndarray:
    """Rows in the top set, from ``ln(nu(h)/xi(h))`` per row (last axis; any leading axes, e.g. histories and
    steps) and the bits of each row's shortest program.

    ``prior_relative``: ``w(nu|h) / w(nu) = nu(h)/xi(h) >= alpha``. ``absolute``: ``w(nu|h) =
    2^-bits * nu(h)/xi(h) >= alpha`` for the row's shortest program.

    ``log_mass = ln Z`` renormalises the prior to ``w_r / Z`` (``Z`` the enumerated mass): then
    ``xi_Z(h) = xi(h) / Z`` once a step was learned (``learned``, broadcast against ``log_ratio``; ``xi_Z(empty) =
    xi(empty) = 1``), so ``ln(nu(h)/xi_Z(h)) = ln(nu(h)/xi(h)) + ln Z`` there, and the shortest program's prior is
    ``2^-(bits + log2 Z)``.
    """
    if not 0 < alpha <= 1:
        raise ValueError(f"argument alpha: must be in (0, 1], got {alpha}")
    if log_mass:
        log_ratio = log_ratio + np.where(learned, log_mass, 0.0)
        rep_bits = rep_bits + log_mass / math.log(2.0)
    if reading == "prior_relative":
        return log_ratio >= np.log(alpha)
    if reading == "absolute":
        return log_ratio - rep_bits * np.log(2.0) >= np.log(alpha)
    raise ValueError(f"argument reading: must be one of {TOP_SET_READINGS}, got {reading!r}")


def top_set_of_state(state: OnlineMixture, learned: int, alpha: float, reading: str, renormalise: bool = False
                     ) -> np.ndarray:
    """The top set (a row mask) of an :class:`OnlineMixture` that has learned from ``learned`` steps;
    ``renormalise``: the prior divided by the enumerated mass ``Z`` (:func:`top_set_mask` with ``ln Z``)."""
    log_mass = log_enumerated_mass(state.mc) if renormalise else 0.0
    return top_set_mask(state.log_likelihood_ratio(), state.mc.rep_bits, alpha, reading, log_mass, learned > 0)


def log_enumerated_mass(model_class: ModelClass) -> float:
    """``ln Z``, ``Z`` the exact prior mass the class enumerates (all kinds), computed from the exact fraction."""
    mass = sum(model_class.enumerated_mass().values(), Fraction(0))
    return math.log(mass.numerator) - math.log(mass.denominator)


def pessimistic_min(row_predictions: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``nu_alpha(a | h) = min`` over the rows in ``mask`` of their predictions ``(..., R, K)``, per action
    ``(..., K)`` (any leading axes, e.g. histories); all 0 for an empty top set."""
    low = np.where(mask[..., None], row_predictions, np.inf).min(axis=-2)
    return np.where(np.isinf(low), 0.0, low)


_ONE, _TILDE, _MIX, _ELSE = 1, 2, 4, 8  # what a row predicts for one action a: 1, 1/K, xi_plain(a), 0


def pessimistic_min_of_codes(codes: np.ndarray, mask: np.ndarray, xi_plain: np.ndarray, k: int) -> np.ndarray:
    """:func:`pessimistic_min` computed from the rows' codes (:mod:`aitheory.mixture.classes`) instead of their
    predictions, without materialising them: ``codes (..., R) int8``, ``mask (..., R)``, ``xi_plain (..., K)`` (what
    MIX codes predict) -> ``(..., K)``.

    For action a a row predicts 1 (a ``.`` of a), ``1/K`` (``~``), ``xi_plain(a)`` (MIX) or 0 (anything else), so
    the minimum over the top set is 0 if it holds a row of the last kind (or no row), else the least of the kinds
    it holds. Equal to ``pessimistic_min(row_predictions, mask)`` (tests)."""
    lookup = codes.view(np.uint8)  # int8 codes as indices 0..255 (negative codes wrap to 256 + c)
    out = np.empty((*codes.shape[:-1], k))
    for a in range(k):
        kind = np.full(256, _ELSE, dtype=np.uint8)
        kind[a], kind[CODE_TILDE % 256], kind[CODE_MIX % 256] = _ONE, _TILDE, _MIX
        held = np.bitwise_or.reduce(kind[lookup] * mask, axis=-1)  # the kinds present in the top set
        low = np.where(held & _ONE, 1.0, np.inf)
        low = np.where(held & _TILDE, np.minimum(low, 1.0 / k), low)
        low = np.where(held & _MIX, np.minimum(low, xi_plain[..., a]), low)
        out[..., a] = np.where((held & _ELSE) | (held == 0), 0.0, low)
    return out


@dataclass(frozen=True)
class ImitatorPrediction:
    """The pessimistic imitator's prediction of the next action."""

    probs: np.ndarray
    """``nu_alpha(a | h)`` per action (a semimeasure)."""
    help: float
    """Probability of asking for help: ``1 - sum_a nu_alpha(a | h)``."""
    top_set_rows: int
    """Number of behaviour rows in the top set."""
    top_set_posterior: float
    """Posterior mass of the top set's rows."""


class PessimisticImitator:
    """``nu_alpha`` of Definition 4 over a :class:`~aitheory.mixture.ModelClass`, as a policy and step by step.

    ``demo_steps``: the first this many actions are the demonstrator's; with ``learn_from_agent=False`` (the
    default) the posterior ignores later actions (the agent's). ``renormalise``: the prior divided by the
    enumerated mass (:func:`top_set_of_state`).
    """

    def __init__(self, model_class: ModelClass, alpha: float, reading: TopSetReading = "absolute",
                 demo_steps: int | None = None, learn_from_agent: bool = False, renormalise: bool = False) -> None:
        top_set_mask(np.zeros(1), np.zeros(1), alpha, reading)  # validates alpha and reading
        self.mc, self.alpha, self.reading = model_class, float(alpha), reading
        self.demo_steps = demo_steps
        self.learn_from_agent = learn_from_agent
        self.renormalise = renormalise
        self._replay = _Replay(model_class, learn=self._learns)

    def _learns(self, step: int) -> bool:
        return self.learn_from_agent or self.demo_steps is None or step < self.demo_steps

    def predict(self, history: Sequence[int]) -> ImitatorPrediction:
        state = self._replay.state(history)
        learned = sum(self._learns(s) for s in range(len(history) // 2))
        mask = top_set_of_state(state, learned, self.alpha, self.reading, self.renormalise)
        probs = pessimistic_min(state.row_predictions(), mask)
        return ImitatorPrediction(probs=probs, help=float(1.0 - probs.sum()), top_set_rows=int(mask.sum()),
                                  top_set_posterior=float(state.posterior()[mask].sum()))

    def __call__(self, history: Sequence[int]) -> np.ndarray:
        return self.predict(history).probs


# ----------------------------------------------------------------------------------------------------------------
# Demonstrators, environments and episodes


def program_policy(program: str, k: int = 2, steps: int = 1000) -> Policy:
    """A plain BF-8 program as a policy: 1 on its next ``.``, ``1/K`` each for a ``~``, all 0 once it stopped.

    BF-8 programs read only observations, so the history's actions do not change its predictions.
    """
    plain = parse(program)

    def policy(history: Sequence[int]) -> np.ndarray:
        _, obs = _split(history)
        t = len(obs)
        run = run_reference(plain, k, t + 1, obs, steps)
        return emission_probs(run.actions[t] if len(run.actions) > t else NO_ACTION, k)

    return policy


def bernoulli_environment(p: float, k: int = 2) -> Environment:
    """Observations i.i.d.: symbol 1 with probability ``p``, symbol 0 otherwise (other symbols 0)."""
    if not 0 <= p <= 1:
        raise ValueError(f"argument p: must be a probability, got {p}")
    dist = np.zeros(k)
    dist[0], dist[1] = 1 - p, p
    return lambda history: dist


def markov_environment(transition: np.ndarray, initial: int = 0) -> Environment:
    """Observations from a Markov chain: ``P(o_t = j | o_{t-1} = i) = transition[i, j]`` (``o_0 = initial``)."""
    matrix = np.asarray(transition, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or (matrix < 0).any():
        raise ValueError("argument transition: must be a square non-negative matrix")
    if not np.allclose(matrix.sum(axis=1), 1.0):
        raise ValueError("argument transition: rows must sum to 1")

    def env(history: Sequence[int]) -> np.ndarray:
        previous = history[-2] if len(history) >= 2 else initial
        return matrix[previous]

    return env


@dataclass(frozen=True)
class Episode:
    """A run of demonstrator then agent: ``actors[t]`` is "demonstrator", "agent" or "help" (the agent asked
    for help and the demonstrator acted); ``stopped`` says why the episode ended early, if it did."""

    actions: tuple[int, ...]
    observations: tuple[int, ...]
    actors: tuple[str, ...]
    stopped: str | None = None

    @property
    def history(self) -> History:
        return interleave(self.actions, self.observations)


def _sample(dist: np.ndarray, rng: np.random.Generator) -> int | None:
    """A symbol drawn from a (semi)measure, or None with the missing probability."""
    u = rng.random()
    cdf = np.cumsum(dist)
    idx = int(np.searchsorted(cdf, u, side="right"))
    return idx if idx < len(dist) else None


def run_episode(demonstrator: Policy, environment: Environment, demo_steps: int, total_steps: int,
                rng: np.random.Generator, agent: Policy | None = None) -> Episode:
    """``demo_steps`` steps of the demonstrator, then the agent (if any) until ``total_steps``.

    When the agent's distribution sums to less than 1 (a pessimistic imitator), the missing probability is the
    chance that it asks for help: the demonstrator then acts (recorded as "help"). When the acting policy is the
    demonstrator and its distribution sums to less than 1, the episode may stop ("demonstrator stopped").
    """
    actions: list[int] = []
    observations: list[int] = []
    actors: list[str] = []
    for t in range(total_steps):
        history = interleave(actions, observations)
        acting = demonstrator if agent is None or t < demo_steps else agent
        actor = "demonstrator" if acting is demonstrator else "agent"
        a = _sample(np.asarray(acting(history)), rng)
        if a is None and actor == "agent":
            actor = "help"
            a = _sample(np.asarray(demonstrator(history)), rng)
        if a is None:
            return Episode(tuple(actions), tuple(observations), tuple(actors), stopped="demonstrator stopped")
        o = _sample(np.asarray(environment((*history, a))), rng)
        if o is None:
            return Episode(tuple(actions), tuple(observations), tuple(actors), stopped="environment stopped")
        actions.append(a)
        observations.append(o)
        actors.append(actor)
    return Episode(tuple(actions), tuple(observations), tuple(actors))


# ----------------------------------------------------------------------------------------------------------------
# FGOIL's act-and-query protocol


@dataclass(frozen=True)
class QueryRun:
    """One run of :func:`act_and_query` over T steps (K actions)."""

    query: np.ndarray
    """``(T,)``: ``theta_q(h_t) = 1 - sum_a nu_alpha(a | h_t)``, the probability of asking for help."""
    nu: np.ndarray
    """``(T, K)``: ``nu_alpha(a | h_t)``, the probability that the imitator acts and takes ``a``."""
    mu: np.ndarray
    """``(T, K)``: the demonstrator's ``mu(a | h_t)``."""
    queried: np.ndarray
    """``(T,)``: whether the imitator asked (the demonstrator acted and the posterior learned)."""
    actions: np.ndarray
    observations: np.ndarray
    row_in_top: np.ndarray
    """``(T,)``: whether row ``track_row`` (the demonstrator's behaviour row) is in the top set at ``h_t``
    (all False without ``track_row``)."""

    @property
    def action_probs(self) -> np.ndarray:
        """``(T, K)``: the protocol's probability of each action, ``nu_alpha(a|h) + theta_q(h) mu(a|h)``."""
        return self.nu + self.query[:, None] * self.mu


def act_and_query(model_class: ModelClass, demonstrator: Policy, environment: Environment, steps: int,
                  alpha: float, reading: TopSetReading, rng: np.random.Generator, renormalise: bool = False,
                  track_row: int | None = None) -> QueryRun:
    """FGOIL's protocol over ``steps`` steps: at ``h_t`` ask with probability ``theta_q = 1 - sum nu_alpha``
    (the demonstrator acts, ``a ~ mu(.|h_t)``, and the posterior learns ``a``), otherwise act, ``a`` with
    probability ``nu_alpha(a|h_t)`` (the posterior records ``a`` without learning from it); then
    ``o ~ environment``. ``ValueError`` naming ``steps`` beyond the class's horizon."""
    if not 1 <= steps <= model_class.config.horizon:
        raise ValueError(f"argument steps: must be in 1..{model_class.config.horizon} (the class's horizon), "
                         f"got {steps}")
    top_set_mask(np.zeros(1), np.zeros(1), alpha, reading)  # validates alpha and reading
    k = model_class.config.k
    state = OnlineMixture(model_class)
    out = {"query": np.empty(steps), "nu": np.empty((steps, k)), "mu": np.empty((steps, k)),
           "queried": np.zeros(steps, dtype=bool), "actions": np.empty(steps, dtype=np.int64),
           "observations": np.empty(steps, dtype=np.int64), "row_in_top": np.zeros(steps, dtype=bool)}
    history: list[int] = []
    learned = 0
    for t in range(steps):
        mask = top_set_of_state(state, learned, alpha, reading, renormalise)
        nu = pessimistic_min(state.row_predictions(), mask)
        theta = max(0.0, 1.0 - float(nu.sum()))
        mu = np.asarray(demonstrator(tuple(history)), dtype=np.float64)
        asks = bool(rng.random() < theta)
        a = _sample(mu, rng) if asks else _sample(nu / nu.sum(), rng)
        if a is None:
            raise ValueError(f"argument demonstrator: it stops at step {t + 1}; it must act for {steps} steps")
        o = _sample(np.asarray(environment((*history, a))), rng)
        if o is None:
            raise ValueError(f"argument environment: it stops at step {t + 1}")
        out["query"][t], out["nu"][t], out["mu"][t], out["queried"][t] = theta, nu, mu, asks
        out["actions"][t], out["observations"][t] = a, o
        if track_row is not None:
            out["row_in_top"][t] = mask[track_row]
        state.update(a, o, learn=asks)
        learned += int(asks)
        history += [a, o]
    return QueryRun(**out)
