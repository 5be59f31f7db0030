r"""The pessimistic imitator (Definitions 3-4; FGOIL's Theorems 2-3, the paper's "pessimistic imitator results").

**Statement.** Let ``mu`` be the demonstrator, a model of the class with prior ``w(mu)``. With the top set
``M^alpha_h`` and ``nu_alpha(a | h) = min_{nu in M^alpha_h} nu(a | h)``:

1. (Ville) ``P_mu(mu in M^alpha_h for every h on the run) >= 1 - alpha / w(mu)`` for the *absolute* reading
   ``M = {nu : w(nu | h) >= alpha}``, and ``>= 1 - alpha`` for the *prior-relative* reading
   ``M = {nu : w(nu | h) >= alpha w(nu)}``. Both come from Ville's inequality for the non-negative
   supermartingale ``xi(h) / mu(h)`` (it starts at ``xi(empty)/mu(empty) = 1``): ``P(sup_h xi(h)/mu(h) >= c)
   <= 1/c``, and ``w(mu | h) = w(mu) mu(h) / xi(h)``, so ``mu`` leaves the absolute top set only if
   ``xi/mu > w(mu)/alpha`` and the prior-relative one only if ``xi/mu > 1/alpha``.
2. On that event, ``nu_alpha(a | h) <= mu(a | h)`` for every action and every history on the run, hence
   ``KL(pi || nu_alpha) >= KL(pi || mu)`` for every policy ``pi`` (nats, per step); anything ``mu`` never does
   gets probability 0 from ``nu_alpha``.
3. So the exploit of Theorem 1 (after an unprecedented event, switch to an action ``mu`` never takes) costs finite
   KL against the Bayesian imitator ``xi`` and **infinite** KL against ``nu_alpha``.
4. (FGOIL) the help probability ``1 - sum_a nu_alpha(a | h)`` shrinks over time (no constant is claimed here: it
   is measured).

**How it is checked.** The class is every BF-8 program up to ``L`` bits (with SWITCH and MIX), built once on all
``2^(H-1)`` observation sequences (:func:`aitheory.mixture.build_class` with ``all_histories=True``). The
demonstrator ``mu`` is a plain program of the class (default ``+[~.]]``: a random action, then action 1,
repeated; ``w(mu) = 2^-19``: 6 tokens, ``1 + 3*6`` bits in the full grammar), run ``runs`` times against a
stochastic environment (observations i.i.d., 1 with probability ``p_one``). The mixture engine over many
histories at once (:func:`aitheory.mixture.predict_histories`, in :func:`imitators_batch`, checked against the
step-by-step :class:`~aitheory.imitators.PessimisticImitator` on the first runs of every check) gives ``xi(h)``,
every row's posterior and ``nu_alpha`` at every visited history. Membership of
``mu`` is decided for the program ``mu`` itself from ``ln w(mu) + ln mu(h) - ln xi(h)`` (``mu(h)`` from its own
behaviour, not from its row), at every history ``h_{<t}``, ``t = 1 .. H + 1``. The stay frequency gets a
Clopper-Pearson interval; the dominance and KL inequalities are counted on the runs where ``mu`` stayed.

That class loses mass (programs halt; programs beyond L bits), so ``xi/mu`` falls at once and Ville cannot bind.
:func:`lossless_class` keeps the rows that never stop, with the prior renormalised: there ``xi/mu`` is a
martingale, and the check measures ``P(sup_{t>=1} xi/mu >= c)`` against ``1/c`` (power: some ``c >= 2`` reaches
``ville_power`` of the bound), the stay frequencies at threshold ``c = lossless_threshold``, and the exploit
(Definition 2's KL, :func:`aitheory.measures.tree_kl`, from ``demo_steps`` demonstrator steps), kept where the
demonstrator's own KL against ``nu_alpha`` is finite. FGOIL's act-and-query protocol
(:func:`aitheory.imitators.act_and_query`) runs on the all-0 observation stream for ``protocol_steps`` steps.

**Controls** (``summary.json`` ``controls``; each must fail): a demonstrator outside the class (action 1 with
probability ``outside_p``) for ``outside_horizon`` steps, where ``nu_alpha <= mu`` breaks; and ``alpha`` too large
(``control_alpha_factor * w(mu)``, absolute reading), where the Ville bound is vacuous and ``mu`` leaves the top set.
``held`` = every claim held and every control failed.

All KL in nats; program lengths in bits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy.stats import beta as beta_dist

from aitheory.dsl import TILDE_ACTION, interleave, parse, run_reference
from aitheory.dsl.enumerate import check_enumeration_size
from aitheory.dsl.status import CODE_LOST_BASE, CODE_TILDE, emission_probs
from aitheory.imitators import (
    TOP_SET_READINGS,
    BayesianImitator,
    PessimisticImitator,
    act_and_query,
    bernoulli_environment,
    log_enumerated_mass,
    pessimistic_min_of_codes,
    program_policy,
    top_set_mask,
)
from aitheory.measures import kl, tree_kl
from aitheory.mixture import ClassConfig, ModelClass, build_class, predict_histories
from aitheory.progress import progress
from aitheory.results import RunFolder
from aitheory.theory.common import CheckResult, Control, Summary, controls_verdict, held_with_controls

__all__ = [
    "FIGURES",
    "NAME",
    "STATEMENT",
    "SUMMARY",
    "Accumulated",
    "BatchTrace",
    "Config",
    "Demonstrator",
    "DominanceCount",
    "ExaminedHistory",
    "ExploitRecord",
    "ExploitResult",
    "LosslessPart",
    "LosslessSummary",
    "PessimisticSummary",
    "ProtocolReading",
    "ProtocolSummary",
    "Runs",
    "StayEstimate",
    "collect",
    "comparison_policies",
    "cross_check",
    "demonstrator_in_class",
    "dominance_violations",
    "draw_figures",
    "exceedance_rows",
    "exploit",
    "exploit_policy",
    "help_rows",
    "history_index",
    "imitators_batch",
    "lossless_class",
    "lossless_part",
    "mu_in_top_set",
    "mu_log_likelihood",
    "outside_control",
    "plot_help",
    "plot_protocol",
    "plot_ville",
    "plot_ville_power",
    "protocol_part",
    "run",
    "simulate",
    "stay_estimate",
    "ville_bound",
]

NAME = "pessimistic"
STATEMENT = ("Pessimistic imitator: mu stays in the top set w.p. >= 1 - alpha/w(mu) (absolute) or 1 - alpha "
             "(prior-relative); there nu_alpha <= mu, and the Theorem 1 exploit costs infinite KL")

Combine = Literal["min", "max"]


#: Largest horizon H: the class is built on all 2^(H-1) observation sequences (``EnumConfig.all_histories``).
MAX_HORIZON: int = 17


@dataclass(frozen=True)
class Config:
    """The pessimistic imitator's check: demonstrator runs, the top-set bookkeeping, and the exploit."""

    demonstrator: str = "+[~.]]"
    """The demonstrator mu: a plain BF-8 program of at most max_bits plain bits that never loses mass."""
    max_bits: int = 24
    """L: the class holds every plain program of at most L bits (plain code), SWITCH programs and MIX."""
    horizon: int = 10
    """H: action steps per demonstrator run (the class is built on all 2^(H-1) observation sequences)."""
    runs: int = 10_000
    """Number of seeded demonstrator runs."""
    alpha: float = 0.1
    """Top-set threshold of the prior-relative reading: w(nu|h) >= alpha * w(nu); Ville bound 1 - alpha."""
    alpha_absolute: float = 2.0**-20
    """Top-set threshold of the absolute reading: w(nu|h) >= alpha_absolute; Ville bound 1 - alpha_absolute/w(mu)."""
    p_one: float = 0.5
    """The environment: observations i.i.d., 1 with this probability (0 otherwise)."""
    demo_steps: int = 8
    """Exploit (on the lossless class): the demonstrator acts for this many steps, then the exploit policy to the
    horizon. The demonstrator's own KL against nu_alpha is finite only from histories whose top set holds no
    program that copied mu's random draws so far and is deterministic where mu randomises later: the more
    demonstrator steps, the fewer such programs (6 steps: 0 of 50 histories; 8: about a quarter)."""
    exploit_runs: int = 5
    """Exploit: number of demonstrator histories of the lossless class (runs on which mu stayed in both top sets)
    to start from; 0 checks none, and an empty check is not held."""
    lossless_demonstrator: str = "+[~.]]"
    """The demonstrator of the lossless class (the rows that never stop, prior renormalised), where ``xi/mu`` is
    a martingale and Ville's inequality can bind; also the exploit's demonstrator."""
    lossless_threshold: float = 2.0
    """c of the lossless class's top sets: ``alpha = 1/c`` (prior-relative) and ``alpha = w(mu)/c`` (absolute),
    so that ``mu`` leaves either exactly when ``xi/mu`` exceeds c; both Ville bounds are ``1 - 1/c``."""
    ville_power: float = 0.25
    """The check has power when the measured ``P(sup_{t>=1} xi/mu >= c)`` reaches this fraction of ``1/c`` for
    some ``c >= 2``."""
    control_alpha_factor: float = 4.0
    """Control "alpha too large": the absolute reading with ``alpha = factor * w(mu)`` (> w(mu): the Ville
    bound ``1 - alpha/w(mu)`` is vacuous) on the lossless class."""
    outside_p: float = 0.8
    """Control "outside the class": a demonstrator taking action 1 with this probability at every step (no program
    of the class behaves so), on the all-0 observation stream."""
    outside_horizon: int = 40
    """Control "outside the class": steps per run (dominance holds for the first 8 or so, then breaks)."""
    outside_runs: int = 30
    """Control "outside the class": number of runs."""
    protocol_steps: int = 300
    """FGOIL's act-and-query protocol: steps per run, on the all-0 observation stream (class built to this
    horizon, max_bits as above)."""
    protocol_runs: int = 20
    """FGOIL's act-and-query protocol: runs per top-set reading."""
    confidence: float = 0.99
    """Two-sided confidence level of the Clopper-Pearson interval on the stay frequency."""
    cross_check_runs: int = 5
    """Runs re-computed with PessimisticImitator (the step-by-step implementation) to check the engine."""
    batch: int = 200
    """Runs per call of the compiled engine (and per progress-bar tick)."""
    seed: int = 0
    """Seed of the runs (numpy Generator)."""
    plot: bool = True
    """Draw the figures (needs matplotlib)."""

    def __post_init__(self) -> None:
        for name in ("horizon", "runs", "batch", "outside_horizon", "outside_runs", "protocol_steps",
                     "protocol_runs"):
            if getattr(self, name) < 1:
                raise ValueError(f"argument {name}: must be >= 1, got {getattr(self, name)}")
        for name in ("alpha", "alpha_absolute"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0 < value <= 1):
                raise ValueError(f"argument {name}: must be in (0, 1], got {value!r}")
        if not (math.isfinite(self.lossless_threshold) and self.lossless_threshold > 1):
            raise ValueError(f"argument lossless_threshold: must be > 1, got {self.lossless_threshold!r}")
        if not (math.isfinite(self.control_alpha_factor) and self.control_alpha_factor > 1):
            raise ValueError(f"argument control_alpha_factor: must be > 1, got {self.control_alpha_factor!r}")
        if not 0 < self.ville_power <= 1:
            raise ValueError(f"argument ville_power: must be in (0, 1], got {self.ville_power!r}")
        if not 0 < self.outside_p < 1 or self.outside_p == 0.5:
            raise ValueError(f"argument outside_p: must be in (0, 1) and not 1/2 (a program's ~), "
                             f"got {self.outside_p!r}")
        if not 0 <= self.p_one <= 1:
            raise ValueError(f"argument p_one: must be a probability, got {self.p_one!r}")
        if not 1 <= self.demo_steps < self.horizon:
            raise ValueError(f"argument demo_steps: must be in 1..horizon-1 = 1..{self.horizon - 1}, "
                             f"got {self.demo_steps}")
        if not 0 < self.confidence < 1:
            raise ValueError(f"argument confidence: must be in (0, 1), got {self.confidence!r}")
        for name in ("exploit_runs", "cross_check_runs"):
            if getattr(self, name) < 0:
                raise ValueError(f"argument {name}: must be >= 0, got {getattr(self, name)}")
        if self.runs > 10**7 or self.batch > 10**6:
            raise ValueError(f"arguments runs and batch: at most 1e7 runs (per-run rows are kept) and batches of "
                             f"1e6, got runs={self.runs}, batch={self.batch}")
        self.refuse_class_size()
        if self.seed < 0:
            raise ValueError(f"argument seed: must be >= 0 (a numpy seed), got {self.seed}")
        for name in ("demonstrator", "lossless_demonstrator"):
            text = getattr(self, name)
            tokens = len(parse(text).codes)  # ParseError (a ValueError) with the position if malformed
            if 3 * tokens > self.max_bits:
                raise ValueError(f"argument {name}: {text!r} has {3 * tokens} plain bits, more than "
                                 f"max_bits = {self.max_bits}: it would not be in the class")

    def refuse_class_size(self) -> None:
        """Refuse a class too large to build: every plain program of ``max_bits`` bits, on all ``2^(H-1)``
        observation sequences (``H <= MAX_HORIZON``)."""
        if self.horizon > MAX_HORIZON:
            raise ValueError(f"argument horizon: the class is built on all 2^(H-1) = {2 ** (self.horizon - 1):.3g} "
                             f"observation sequences; at most 2^{MAX_HORIZON - 1} (lower horizon to <= {MAX_HORIZON})")
        check_enumeration_size(self.max_bits, "max_bits")

    @classmethod
    def quick(cls) -> Config:
        return cls(max_bits=18, horizon=6, runs=400, demo_steps=4, exploit_runs=2, cross_check_runs=3,
                   outside_horizon=30, outside_runs=10, protocol_steps=60, protocol_runs=6, plot=True)

    def class_config(self) -> ClassConfig:
        return ClassConfig(max_bits=self.max_bits, horizon=self.horizon)


# ----------------------------------------------------------------------------------------------------------------
# The demonstrator


@dataclass(frozen=True)
class Demonstrator:
    """The demonstrator ``mu``: a plain program of the class, with its own behaviour on every history."""

    text: str
    bits: int
    """Full-grammar length ``1 + 3n``; the prior is ``w(mu) = 2^-bits``."""
    row: int
    """The behaviour row of the class holding ``mu`` (its shortest program may be shorter than ``mu``)."""
    codes: np.ndarray
    """``(G, H)``: ``mu``'s behaviour code on every history (an action, or ``CODE_TILDE``), from the reference
    interpreter."""
    log_norm: float = 0.0
    """``ln Z`` when the class's prior is renormalised by its enumerated mass ``Z`` (:func:`lossless_class`)."""

    @property
    def log_prior(self) -> float:
        """``ln w(mu) = -bits ln 2 - ln Z``."""
        return -self.bits * math.log(2.0) - self.log_norm

    def probs(self, g: np.ndarray, t: np.ndarray | int, k: int) -> np.ndarray:
        """``mu(. | h)`` at step ``t`` (0-based) of histories ``g``: ``(..., K)``."""
        return emission_probs(self.codes[g, t], k)


def lossless_class(mc: ModelClass) -> tuple[ModelClass, float]:
    """The rows of ``mc`` that lose no mass: on every history and step their code is an action or ``~`` (no
    halting, no timeout, no MIX, which predicts with the lossy plain mixture). Returns the sub-class and ``ln Z``,
    ``Z`` its exact enumerated prior mass; with the prior renormalised to ``w_r / Z``, ``xi`` is a measure and
    ``xi(h)/mu(h)`` a martingale under ``mu`` starting at 1 (Ville's inequality can bind)."""
    keep = ((mc.codes == CODE_TILDE) | (mc.codes >= 0)).all(axis=(1, 2))
    if not keep.any():
        raise ValueError("argument max_bits: the class has no program that loses no mass")
    sub = ModelClass(config=mc.config, codes=mc.codes[keep], weight_by_kind=mc.weight_by_kind[keep],
                     rep_bits=mc.rep_bits[keep], rep_text=tuple(t for t, k in zip(mc.rep_text, keep, strict=True) if k),
                     histories=mc.histories)
    return sub, log_enumerated_mass(sub)


def demonstrator_in_class(mc: ModelClass, text: str) -> Demonstrator:
    """Run ``text`` with the reference interpreter on every history of ``mc`` and find its behaviour row.

    ``ValueError`` naming the argument if it is not a plain program of the class, or if it loses mass (halts,
    times out) on some history before the horizon: a demonstrator that stops has no runs to the horizon.
    """
    program = parse(text)
    n = len(program.codes)
    if 3 * n > mc.config.max_bits:
        raise ValueError(f"argument demonstrator: {text!r} has {3 * n} plain bits, more than the class's "
                         f"max_bits = {mc.config.max_bits}")
    horizon, k = mc.config.horizon, mc.config.k
    codes = np.empty((mc.histories.shape[0], horizon), dtype=np.int8)
    for g, obs in enumerate(mc.histories):
        res = run_reference(program, k, horizon, [int(o) for o in obs], mc.config.steps, mc.config.tape_bound,
                            mc.config.detect_cycles)
        if len(res.actions) < horizon:
            raise ValueError(f"argument demonstrator: {text!r} stops ({res.status}) after {len(res.actions)} "
                             f"actions on observations {list(map(int, obs))}; it must act for {horizon} steps")
        codes[g] = [CODE_TILDE if a == TILDE_ACTION else a for a in res.actions[:horizon]]
    match = np.flatnonzero((mc.codes == codes[None]).all(axis=(1, 2)))
    if match.size != 1:
        raise ValueError(f"argument demonstrator: {text!r} matches {match.size} rows of the class, expected 1")
    return Demonstrator(text=text, bits=1 + 3 * n, row=int(match[0]), codes=codes)


# ----------------------------------------------------------------------------------------------------------------
# Runs


def history_index(observations: np.ndarray, k: int) -> np.ndarray:
    """``(N,)`` index g of each observation sequence ``(N, H-1)`` in :func:`aitheory.dsl.all_sequences` order
    (``o_1`` most significant: ``g = sum_j o_j K^(H-2-j)``)."""
    obs = np.asarray(observations, dtype=np.int64)
    weights = k ** np.arange(obs.shape[1] - 1, -1, -1, dtype=np.int64)
    return obs @ weights


@dataclass(frozen=True)
class Runs:
    """Demonstrator runs: history index ``g (N,)`` and actions ``(N, H)`` (observations are ``mc.histories[g]``)."""

    g: np.ndarray
    actions: np.ndarray


def simulate(mu: Demonstrator, mc: ModelClass, runs: int, p_one: float, rng: np.random.Generator) -> Runs:
    """``runs`` demonstrator runs to the class's horizon: ``o_t ~ Bern(p_one)`` i.i.d., ``a_t ~ mu(. | h_{<t})``.

    The environment ignores the actions, so the whole observation sequence is drawn first; ``mu``'s action at
    step t depends only on ``o_1 .. o_{t-1}`` (programs are causal), so its code on history g at step t is its
    action there.
    """
    k, horizon = mc.config.k, mc.config.horizon
    obs = (rng.random((runs, horizon - 1)) < p_one).astype(np.int64)
    g = history_index(obs, k)
    codes = mu.codes[g]  # (N, H)
    random_actions = rng.integers(k, size=(runs, horizon))
    actions = np.where(codes == CODE_TILDE, random_actions, codes).astype(np.int64)
    return Runs(g=g, actions=actions)


# ----------------------------------------------------------------------------------------------------------------
# The mixture and the imitators along many runs


@dataclass(frozen=True, eq=False)
class BatchTrace:
    """The mixture and the pessimistic imitator along B runs (H steps, K actions); ``h_t`` is the history before
    action ``t + 1`` (``t = 0 .. H``)."""

    log_z: np.ndarray
    """``(B, H + 1)``: ``ln xi(h_t)`` (``xi(empty) = 1``)."""
    xi: np.ndarray | None
    """``(B, H, K)``: ``xi(a | h_t)``, the Bayesian imitator (None when left out: ``with_xi=False``)."""
    nu: np.ndarray
    """``(B, 2, H, K)``: ``nu_alpha(a | h_t)`` for the readings of :data:`READINGS` (absolute, prior-relative)."""
    sizes: np.ndarray
    """``(B, 2, H)``: number of behaviour rows in each top set."""
    stopping: np.ndarray
    """``(B, 2, H)``: whether some row of the top set stops at this step (halts, times out...): it predicts
    nothing, so ``nu_alpha = 0`` for every action and the imitator asks for help with probability 1."""
    row_log_lik: np.ndarray
    """``(B, H + 1)``: ``ln nu_r(h_t)`` of the demonstrator's row."""
    row_in_top: np.ndarray
    """``(B, 2, H + 1)``: whether the demonstrator's row is in each top set."""


#: Readings in the order of :class:`BatchTrace`'s reading axis.
READINGS: tuple[str, str] = ("absolute", "prior_relative")


def _optimistic_max(row_predictions: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The deliberately wrong imitator: ``max`` instead of :func:`~aitheory.imitators.pessimistic_min`."""
    high = np.where(mask[..., None], row_predictions, -np.inf).max(axis=-2)
    return np.where(np.isinf(high), 0.0, high)


def imitators_batch(mc: ModelClass, g: np.ndarray, actions: np.ndarray, alphas: tuple[float, float],
                    mu_row: int, combine: Combine = "min", log_norm: float = 0.0, with_xi: bool = True) -> BatchTrace:
    """The Bayesian imitator ``xi`` and the pessimistic imitator ``nu_alpha`` of both readings along B runs
    (histories ``g``, actions ``(B, H)``), computed by the mixture engine over many runs at once
    (:func:`aitheory.mixture.predict_histories`: ``xi(h_t)``, every row's ``ln(nu_r(h_t)/xi(h_t))``, ``xi_plain``)
    with the top sets of :func:`aitheory.imitators.top_set_mask` and the minimum of
    :func:`aitheory.imitators.pessimistic_min_of_codes`, as :class:`~aitheory.imitators.PessimisticImitator`
    does one history at a time (``alphas`` for :data:`READINGS`; a row is in a top set when its shortest program
    is). The runs go to the engine :data:`CHUNK` at a time (bounded memory).

    ``combine="max"`` is a deliberately wrong imitator (the most optimistic model), used to show that the check can
    fail. ``log_norm = ln Z`` renormalises the prior to ``w_r / Z`` (:func:`lossless_class`): ``ln xi(h_t)`` drops
    by ``ln Z`` for ``t >= 1``, the top sets are those of the renormalised prior, and ``xi`` is normalised (at the
    empty history the class's raw predictions sum to ``Z``). ``with_xi=False`` leaves ``xi`` out (None).
    """
    if combine not in ("min", "max"):
        raise ValueError(f"argument combine: must be 'min' or 'max', got {combine!r}")
    for alpha in alphas:
        top_set_mask(np.zeros(1), np.zeros(1), alpha, "absolute")  # validates alpha
    horizon = mc.config.horizon
    acts = np.asarray(actions, dtype=np.int64)
    if acts.shape != (len(g), horizon):
        raise ValueError(f"argument actions: shape {acts.shape}, expected {(len(g), horizon)}")
    if len(acts) == 0:
        raise ValueError("argument g: at least one run is needed")
    parts = [_imitators_chunk(mc, np.asarray(g[s:s + CHUNK]), acts[s:s + CHUNK], alphas, mu_row, combine, log_norm,
                              with_xi) for s in range(0, len(acts), CHUNK)]
    fields = {name: np.concatenate([getattr(p, name) for p in parts])
              for name in ("log_z", "nu", "sizes", "stopping", "row_log_lik", "row_in_top")}
    xi = np.concatenate([p.xi for p in parts if p.xi is not None]) if with_xi else None
    return BatchTrace(xi=xi, **fields)


#: Runs per call of the mixture engine in :func:`imitators_batch`.
CHUNK: int = 16


def _imitators_chunk(mc: ModelClass, g: np.ndarray, acts: np.ndarray, alphas: tuple[float, float], mu_row: int,
                     combine: Combine, log_norm: float, with_xi: bool) -> BatchTrace:
    horizon, k = mc.config.horizon, mc.config.k
    trace = predict_histories(mc, acts, g)  # policy mode: positions are the H steps; evidence to h_H
    ratio = trace.log_likelihood_ratio()  # (B, H + 1, R)
    learned = (np.arange(horizon + 1) > 0)[:, None]  # h_0 is the empty history
    masks = [top_set_mask(ratio, mc.rep_bits, alpha, reading, log_norm, learned)
             for alpha, reading in zip(alphas, READINGS, strict=True)]
    codes = trace.codes  # (B, H, R)
    if combine == "min":
        nu = np.stack([pessimistic_min_of_codes(codes, mask[:, :horizon], trace.xi_plain, k) for mask in masks],
                      axis=1)
    else:
        nu = np.stack([np.stack([_optimistic_max(trace.row_predictions(t + 1), mask[:, t]) for t in range(horizon)],
                                axis=1) for mask in masks], axis=1)
    stops = codes <= CODE_LOST_BASE
    log_z = trace.log_evidence.copy()
    log_z[:, 1:] -= log_norm
    xi = (trace.normalised() if log_norm else trace.raw()) if with_xi else None
    return BatchTrace(log_z=log_z, xi=xi, nu=nu,
                      sizes=np.stack([np.count_nonzero(mask[:, :horizon], axis=-1) for mask in masks], axis=1),
                      stopping=np.stack([(mask[:, :horizon] & stops).any(axis=-1) for mask in masks], axis=1),
                      row_log_lik=trace.log_lik[:, :, mu_row],
                      row_in_top=np.stack([mask[:, :, mu_row] for mask in masks], axis=1))


# ----------------------------------------------------------------------------------------------------------------
# Bookkeeping: membership, Ville, dominance, KL


def _log(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(x)


def mu_log_likelihood(mu: Demonstrator, g: np.ndarray, actions: np.ndarray, k: int) -> np.ndarray:
    """``(B, H + 1)``: ``ln mu(h_t)`` from ``mu``'s own behaviour (independent of the class's rows)."""
    horizon = actions.shape[1]
    probs = mu.probs(g[:, None], np.arange(horizon)[None, :], k)  # (B, H, K)
    taken = np.take_along_axis(probs, actions[:, :, None], axis=2)[:, :, 0]
    return np.concatenate([np.zeros((len(g), 1)), np.cumsum(_log(taken), axis=1)], axis=1)


def mu_in_top_set(log_mu_over_xi: np.ndarray, mu_log_prior: float, alpha: float, reading: str) -> np.ndarray:
    """Whether the program ``mu`` is in the top set: ``w(mu|h) = w(mu) mu(h)/xi(h)``.

    ``absolute``: ``ln w(mu) + ln(mu(h)/xi(h)) >= ln alpha``; ``prior_relative``: ``ln(mu(h)/xi(h)) >= ln alpha``.
    """
    if reading == "absolute":
        return np.asarray(mu_log_prior + log_mu_over_xi >= math.log(alpha))
    if reading == "prior_relative":
        return np.asarray(log_mu_over_xi >= math.log(alpha))
    raise ValueError(f"argument reading: must be one of {TOP_SET_READINGS}, got {reading!r}")


def ville_bound(alpha: float, mu_log_prior: float, reading: str) -> float:
    """``1 - alpha / w(mu)`` (absolute) or ``1 - alpha`` (prior-relative); may be negative (vacuous)."""
    if reading == "absolute":
        return 1.0 - alpha / math.exp(mu_log_prior)
    if reading == "prior_relative":
        return 1.0 - alpha
    raise ValueError(f"argument reading: must be one of {TOP_SET_READINGS}, got {reading!r}")


@dataclass(frozen=True)
class StayEstimate:
    """How often ``mu`` stayed in the top set at every step, against the Ville bound."""

    reading: str
    alpha: float
    stays: int
    runs: int
    frequency: float
    lower: float
    """Clopper-Pearson lower limit (two-sided, at ``confidence``)."""
    upper: float
    bound: float
    confidence: float
    consistent: bool
    """``upper >= bound``: the data do not contradict the bound at this confidence."""
    established: bool
    """``lower >= bound``: the data show the bound holds at this confidence."""


def stay_estimate(stays: int, runs: int, bound: float, confidence: float, reading: str = "",
                  alpha: float = math.nan) -> StayEstimate:
    """The stay frequency with its exact (Clopper-Pearson) interval, compared with ``bound``."""
    if not 0 <= stays <= runs or runs < 1:
        raise ValueError(f"argument stays: must be in 0..runs with runs >= 1, got {stays} of {runs}")
    tail = (1.0 - confidence) / 2
    lower = 0.0 if stays == 0 else float(beta_dist.ppf(tail, stays, runs - stays + 1))
    upper = 1.0 if stays == runs else float(beta_dist.ppf(1 - tail, stays + 1, runs - stays))
    return StayEstimate(reading=reading, alpha=alpha, stays=stays, runs=runs, frequency=stays / runs,
                        lower=lower, upper=upper, bound=bound, confidence=confidence,
                        consistent=upper >= bound, established=lower >= bound)


@dataclass
class DominanceCount:
    """Violations of ``nu_alpha <= mu`` and of ``KL(pi||nu_alpha) >= KL(pi||mu)`` on the runs where mu stayed."""

    histories: int = 0
    """Visited histories checked (run x step)."""
    dominance: int = 0
    """Histories where ``nu_alpha(a|h) > mu(a|h)`` for some action."""
    kl_checks: int = 0
    kl: dict[str, int] = field(default_factory=dict)
    """Per policy pi: histories where ``KL(pi||nu_alpha) < KL(pi||mu)`` (beyond rounding)."""
    kl_infinite: dict[str, int] = field(default_factory=dict)
    """Per policy pi: histories where ``KL(pi||nu_alpha) = inf``."""

    def add(self, other: DominanceCount) -> None:
        self.histories += other.histories
        self.dominance += other.dominance
        self.kl_checks += other.kl_checks
        for name, v in other.kl.items():
            self.kl[name] = self.kl.get(name, 0) + v
        for name, v in other.kl_infinite.items():
            self.kl_infinite[name] = self.kl_infinite.get(name, 0) + v

    @property
    def kl_violations(self) -> int:
        return sum(self.kl.values())


def comparison_policies(mu: np.ndarray) -> dict[str, np.ndarray]:
    """Policies ``pi`` for the KL comparison at one history, from ``mu(. | h)``: ``mu`` itself, ``mu`` mixed with
    10% uniform (puts mass where ``mu`` has none), ``mu`` tilted towards higher actions within its support
    (``pi(a) ~ mu(a) e^{a/2}``), and uniform."""
    k = len(mu)
    uniform = np.full(k, 1.0 / k)
    tilted = mu * np.exp(0.5 * np.arange(k))
    total = tilted.sum()
    return {"mu": mu, "mu_plus_uniform": 0.9 * mu + 0.1 * uniform,
            "mu_tilted": tilted / total if total > 0 else tilted, "uniform": uniform}


def _kl_or_nan(p: np.ndarray, q: np.ndarray) -> float:
    """``KL(p || q)`` in nats, or NaN when ``q`` is not a semimeasure (sums above 1: a broken imitator)."""
    try:
        return kl(p, q)
    except ValueError:
        return math.nan


def dominance_violations(nu: np.ndarray, mu_probs: np.ndarray, selected: np.ndarray,
                         cache: dict[tuple[bytes, bytes], dict[str, tuple[float, float]]] | None = None,
                         ) -> DominanceCount:
    """Count, over runs ``selected`` (B,) and every step, the histories with ``nu_alpha(a|h) > mu(a|h)`` for some
    a (an exact comparison: the minimum is exact), and, per policy of :func:`comparison_policies`, those with
    ``KL(pi||nu_alpha) < KL(pi||mu)`` beyond ``1e-12`` relative rounding (KL by :func:`aitheory.measures.kl`;
    ``inf >= inf`` holds). Distinct ``(nu_alpha, mu)`` pairs are computed once (``cache``)."""
    cache = {} if cache is None else cache
    count = DominanceCount()
    sel_nu, sel_mu = nu[selected], mu_probs[selected]  # (S, H, K)
    count.histories = int(sel_nu.shape[0] * sel_nu.shape[1])
    count.dominance = int((sel_nu > sel_mu).any(axis=2).sum())
    flat_nu = sel_nu.reshape(-1, sel_nu.shape[2])
    flat_mu = sel_mu.reshape(-1, sel_mu.shape[2])
    pairs = np.concatenate([flat_nu, flat_mu], axis=1)
    uniq, counts = (np.unique(pairs, axis=0, return_counts=True) if len(pairs)
                    else (pairs, np.zeros(0, dtype=np.int64)))
    k = nu.shape[2]
    for row, n in zip(uniq, counts, strict=True):
        nu_h, mu_h = row[:k], row[k:]
        key = (nu_h.tobytes(), mu_h.tobytes())
        if key not in cache:
            cache[key] = {name: (_kl_or_nan(pi, nu_h), kl(pi, mu_h)) for name, pi in comparison_policies(mu_h).items()}
        for name, (kl_nu, kl_mu) in cache[key].items():
            count.kl_checks += int(n)
            # NaN (nu_alpha is not a semimeasure) counts as a violation
            bad = not (kl_nu >= kl_mu or (math.isfinite(kl_mu) and kl_nu >= kl_mu - 1e-12 * max(1.0, abs(kl_mu))))
            count.kl[name] = count.kl.get(name, 0) + (int(n) if bad else 0)
            count.kl_infinite[name] = count.kl_infinite.get(name, 0) + (int(n) if math.isinf(kl_nu) else 0)
    return count


# ----------------------------------------------------------------------------------------------------------------
# The exploit of Theorem 1


@dataclass(frozen=True)
class ExploitResult:
    """KL (Definition 2, nats) of the exploit policy from one demonstrator history, against each base policy."""

    history: tuple[int, ...]
    """The demonstrator history ``x_{<2k}`` (interleaved actions and observations)."""
    kl_xi: float
    """``KL_{x<2k,H}(pi || xi)``: finite (every action keeps positive mass under ``xi``)."""
    kl_nu: dict[str, float]
    """``KL_{x<2k,H}(pi || nu_alpha)`` per top-set reading: ``inf`` when ``mu`` is in the top set."""
    kl_xi_maximiser: tuple[int, ...] | None
    switch_steps: int
    """Agent steps (on the maximising observation sequence) at which ``pi`` takes an action ``mu`` never takes."""
    switch_blocked: bool = False
    """At every switch step (there is at least one), ``nu_alpha`` gives the switched-to action probability 0 in
    both readings while ``xi`` gives it more than 0: the mechanism of the infinite KL."""
    control: dict[str, float] = field(default_factory=dict)
    """The same KLs for ``pi = mu`` (no switch): against ``"xi"`` and each reading. Where the imitator still asks
    for help with probability 1 at some reachable history, this is ``inf`` too."""
    per_step: tuple[dict[str, object], ...] = ()
    """Along the maximising observation sequence and ``pi``'s most likely actions: per agent step t, ``pi``,
    ``mu``, whether ``pi`` switched, and the per-step KL (nats) against ``xi`` and ``nu_alpha``."""


def exploit_policy(demonstrator: str, k: int, demo_steps: int) -> Callable[[Sequence[int]], np.ndarray]:
    """The exploit: act like ``mu`` while ``t <= demo_steps``; from then on (the event "it is at least time
    ``demo_steps + 1``", unprecedented at that time) take the first action to which ``mu`` gives probability 0
    wherever there is one, and act like ``mu`` elsewhere."""
    mu = program_policy(demonstrator, k)

    def pi(history: Sequence[int]) -> np.ndarray:
        probs = np.asarray(mu(tuple(int(x) for x in history)), dtype=np.float64)
        if len(history) // 2 < demo_steps:
            return probs
        zero = np.flatnonzero(probs == 0)
        if zero.size == 0:
            return probs
        out = np.zeros(k)
        out[zero[0]] = 1.0
        return out

    return pi


def exploit(mc: ModelClass, config: Config, history: tuple[int, ...], n_observations: int | None = None,
            renormalise: bool = False) -> ExploitResult:
    """Definition 2's KL of :func:`exploit_policy`, and of ``mu`` itself (the control), from ``history`` over the
    remaining ``H - demo_steps`` steps, against the Bayesian imitator and the pessimistic imitator (both readings;
    learning from the demonstrator's steps only). ``n_observations``: the observation alphabet the worst case
    ranges over (default K; 1 for a class built on the all-0 stream only). ``renormalise``: a lossless class
    with its prior renormalised (:func:`lossless_class`)."""
    k = mc.config.k
    n_obs = k if n_observations is None else n_observations
    steps = config.horizon - config.demo_steps
    pi = exploit_policy(config.demonstrator, k, config.demo_steps)
    mu = program_policy(config.demonstrator, k)
    bayes = BayesianImitator(mc, "normalised" if renormalise else "raw")
    pessimists = {reading: PessimisticImitator(mc, alpha=alpha, reading=reading,  # type: ignore[arg-type]
                                               demo_steps=config.demo_steps, renormalise=renormalise)
                  for reading, alpha in (("absolute", config.alpha_absolute), ("prior_relative", config.alpha))}

    def tkl(policy: Callable[..., np.ndarray], base: Callable[..., np.ndarray]
            ) -> tuple[float, tuple[int, ...] | None]:
        out = tree_kl(policy, base, n_actions=k, n_observations=n_obs, horizon=steps, history=history)
        return float(out.value), out.maximiser

    kl_xi, maximiser = tkl(pi, bayes)
    kl_nu = {r: tkl(pi, imitator)[0] for r, imitator in pessimists.items()}
    control = {"xi": tkl(mu, bayes)[0], **{r: tkl(mu, imitator)[0] for r, imitator in pessimists.items()}}
    switches = 0
    blocked = True
    per_step: list[dict[str, object]] = []
    obs = list(maximiser or ())
    h = list(history)
    for s in range(steps):
        here = tuple(h)
        probs, mu_here = pi(here), np.asarray(mu(here))
        a = int(np.argmax(probs))
        switched = bool(mu_here[a] == 0)
        switches += int(switched)
        nu_of_action = {r: float(imitator(here)[a]) for r, imitator in pessimists.items()}
        xi_of_action = float(bayes(here)[a])
        if switched:
            blocked = blocked and xi_of_action > 0 and all(v == 0 for v in nu_of_action.values())
        per_step.append({"t": len(h) // 2 + 1, "pi": probs.tolist(), "mu": mu_here.tolist(), "switch": switched,
                         "action": a, "xi_of_action": xi_of_action, "nu_of_action": nu_of_action,
                         "help": {r: float(1 - imitator(here).sum()) for r, imitator in pessimists.items()},
                         "kl_xi": kl(probs, bayes(here)),
                         **{f"kl_nu_{r}": kl(probs, imitator(here)) for r, imitator in pessimists.items()},
                         **{f"kl_mu_nu_{r}": kl(mu_here, imitator(here)) for r, imitator in pessimists.items()}})
        h += [a, obs[s] if s < len(obs) else 0]
    return ExploitResult(history=history, kl_xi=kl_xi, kl_nu=kl_nu, kl_xi_maximiser=maximiser,
                         switch_steps=switches, switch_blocked=blocked and switches > 0, control=control,
                         per_step=tuple(per_step))


# ----------------------------------------------------------------------------------------------------------------
# The check


READING_ALPHA = (("absolute", "alpha_absolute"), ("prior_relative", "alpha"))
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


@dataclass
class Accumulated:
    """Per-run results of every batch, per reading."""

    max_log_xi_over_mu: list[np.ndarray] = field(default_factory=list)
    """Per run: ``max_{t >= 1} ln(xi(h_t)/mu(h_t))`` (``t = 0`` has ratio 1)."""
    first_ratio: list[np.ndarray] = field(default_factory=list)
    """Per run: ``xi(h_1)/mu(h_1) = xi(a_1)/mu(a_1)``."""
    stays: dict[str, list[np.ndarray]] = field(default_factory=dict)
    in_top: dict[str, list[np.ndarray]] = field(default_factory=dict)
    help: dict[str, list[np.ndarray]] = field(default_factory=dict)
    sizes: dict[str, list[np.ndarray]] = field(default_factory=dict)
    stopping: dict[str, list[np.ndarray]] = field(default_factory=dict)
    dominance: dict[str, DominanceCount] = field(default_factory=dict)
    bookkeeping: int = 0
    """Histories where mu is in the top set but its behaviour row is not (must be 0: rep_bits <= bits(mu))."""
    row_mismatch: float = 0.0
    """Largest |ln nu_row(h) - ln mu(h)| over the runs (mu's row and mu must agree)."""
    dominance_all: dict[str, int] = field(default_factory=dict)
    """Per reading: visited histories of *every* run (mu stayed or not) with ``nu_alpha(a|h) > mu(a|h)``."""

    def cat(self, name: str, reading: str) -> np.ndarray:
        return np.concatenate(getattr(self, name)[reading])


def _alphas(config: Config) -> dict[str, float]:
    return {reading: float(getattr(config, attr)) for reading, attr in READING_ALPHA}


def _process_batch(mc: ModelClass, mu: Demonstrator, config: Config, g: np.ndarray, actions: np.ndarray,
                   acc: Accumulated, cache: dict, combine: Combine = "min") -> BatchTrace:
    k = mc.config.k
    alphas = _alphas(config)
    trace = imitators_batch(mc, g, actions, (alphas["absolute"], alphas["prior_relative"]), mu.row, combine,
                            mu.log_norm, with_xi=False)
    log_mu = mu_log_likelihood(mu, g, actions, k)
    log_mu_over_xi = log_mu - trace.log_z
    acc.max_log_xi_over_mu.append((-log_mu_over_xi[:, 1:]).max(axis=1))
    acc.first_ratio.append(np.exp(-log_mu_over_xi[:, 1]))
    gap = np.abs(np.where(np.isfinite(log_mu), trace.row_log_lik - log_mu, np.inf))
    acc.row_mismatch = max(acc.row_mismatch, float(gap.max()))
    mu_probs = mu.probs(g[:, None], np.arange(actions.shape[1])[None, :], k)
    for i, reading in enumerate(READINGS):
        in_top = mu_in_top_set(log_mu_over_xi, mu.log_prior, alphas[reading], reading)
        acc.bookkeeping += int((in_top & ~trace.row_in_top[:, i]).sum())
        stays = np.asarray(in_top.all(axis=1))
        nu = trace.nu[:, i]
        acc.stays.setdefault(reading, []).append(stays)
        acc.in_top.setdefault(reading, []).append(in_top)
        acc.help.setdefault(reading, []).append(1.0 - nu.sum(axis=2))
        acc.sizes.setdefault(reading, []).append(trace.sizes[:, i])
        acc.stopping.setdefault(reading, []).append(trace.stopping[:, i])
        acc.dominance_all[reading] = acc.dominance_all.get(reading, 0) + int((nu > mu_probs).any(axis=2).sum())
        acc.dominance.setdefault(reading, DominanceCount()).add(
            dominance_violations(nu, mu_probs, stays, cache.setdefault(reading, {})))
    return trace


def collect(mc: ModelClass, mu: Demonstrator, config: Config, runs: Runs, show_progress: bool = False,
            combine: Combine = "min") -> Accumulated:
    """Run the engine over all runs in batches of ``config.batch`` and accumulate the bookkeeping."""
    acc = Accumulated()
    cache: dict = {}
    starts = range(0, len(runs.g), config.batch)
    for start in progress(starts, desc="demonstrator runs", unit="batch", disable=not show_progress):
        sl = slice(start, start + config.batch)
        _process_batch(mc, mu, config, runs.g[sl], runs.actions[sl], acc, cache, combine)
    return acc


def cross_check(mc: ModelClass, config: Config, runs: Runs, n: int, combine: Combine = "min",
                log_norm: float = 0.0) -> int:
    """Re-compute ``xi`` and ``nu_alpha`` along the first ``n`` runs with the step-by-step implementations
    (:class:`~aitheory.imitators.BayesianImitator`, :class:`~aitheory.imitators.PessimisticImitator`) and return
    the number of (run, step, predictor) disagreements beyond ``1e-9``. With ``log_norm`` (a renormalised lossless
    class) the step-by-step ones renormalise too (``renormalise=True``, ``xi`` normalised)."""
    n = min(n, len(runs.g))
    if n == 0:
        return 0
    alphas = _alphas(config)
    trace = imitators_batch(mc, runs.g[:n], runs.actions[:n], (alphas["absolute"], alphas["prior_relative"]), 0,
                            combine, log_norm)
    assert trace.xi is not None
    mismatches = 0
    renormalise = log_norm != 0.0
    bayes = BayesianImitator(mc, "normalised" if renormalise else "raw")
    for i, (reading, alpha) in enumerate(alphas.items()):
        nu = trace.nu[:, i]
        imitator = PessimisticImitator(mc, alpha=alpha, reading=reading,  # type: ignore[arg-type]
                                       renormalise=renormalise)
        for b in range(n):
            obs = mc.histories[runs.g[b]]
            for t in range(config.horizon):
                h = interleave(runs.actions[b, :t].tolist(), obs[:t].tolist())
                mismatches += int(not np.allclose(imitator(h), nu[b, t], rtol=1e-9, atol=1e-12))
                if reading == "absolute":
                    mismatches += int(not np.allclose(bayes(h), trace.xi[b, t], rtol=1e-9, atol=1e-12))
    return mismatches


def help_rows(acc: Accumulated, config: Config) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for reading, alpha in _alphas(config).items():
        help_ = acc.cat("help", reading)
        sizes = acc.cat("sizes", reading)
        in_top = acc.cat("in_top", reading)
        stopping = acc.cat("stopping", reading)
        for t in range(config.horizon):
            q = np.quantile(help_[:, t], QUANTILES)
            rows.append({"reading": reading, "alpha": alpha, "step": t + 1, "help_mean": float(help_[:, t].mean()),
                         **{f"help_q{int(100 * p)}": float(v) for p, v in zip(QUANTILES, q, strict=True)},
                         "top_set_rows_mean": float(sizes[:, t].mean()),
                         "stopping_row_in_top_set": float(stopping[:, t].mean()),
                         "mu_in_top_set": float(in_top[:, t].mean())})
    return rows


def _ville_rows(max_log: np.ndarray, xi_first: np.ndarray, mu_first: np.ndarray, points: int = 81
                ) -> list[dict[str, float]]:
    """Over a log grid of c: the measured ``P(max_{t>=1} xi(h_t)/mu(h_t) >= c)``, Ville's bound from the start
    ``min(1, 1/c)`` (the ratio is 1 at ``t = 0``), and Ville's bound from step 1,
    ``E[min(1, X_1/c)] = sum_a mu(a) min(1, xi(a)/(mu(a) c))`` with ``X_1 = xi(a_1)/mu(a_1)``, computed exactly
    from the first predictions ``xi(.|empty)`` and ``mu(.|empty)``."""
    grid = np.logspace(-4, 1, points)
    rows = []
    support = mu_first > 0
    for c in grid:
        from_step1 = float((mu_first[support] * np.minimum(1.0, xi_first[support] / (mu_first[support] * c))).sum())
        rows.append({"c": float(c), "exceedance": float((max_log >= math.log(c)).mean()),
                     "ville": float(min(1.0, 1 / c)), "ville_from_step1": from_step1})
    return rows


def _stay_estimates(acc: Accumulated, config: Config, mu: Demonstrator) -> dict[str, StayEstimate]:
    return {reading: stay_estimate(int(acc.cat("stays", reading).sum()), config.runs,
                                   ville_bound(alpha, mu.log_prior, reading), config.confidence, reading, alpha)
            for reading, alpha in _alphas(config).items()}


def exceedance_rows(max_log: np.ndarray, confidence: float, points: int = 37) -> list[dict[str, float]]:
    """Over ``c = 2^(j/4)``, ``j = 4 .. 3 + points`` (c from 2): the number of runs with
    ``max_{t>=1} xi(h_t)/mu(h_t) >= c``, its frequency with a Clopper-Pearson interval, Ville's ``1/c``, whether
    the interval reaches below ``1/c`` (``consistent``: the data do not contradict Ville), and ``c P``, the
    fraction of Ville's bound that is attained."""
    runs = len(max_log)
    rows = []
    for j in range(4, 4 + points):
        c = 2.0 ** (j / 4)
        n = int((max_log >= math.log(c) - 1e-12).sum())
        est = stay_estimate(n, runs, 1.0 / c, confidence)
        rows.append({"c": c, "runs_exceeding": n, "exceedance": est.frequency, "lower": est.lower,
                     "upper": est.upper, "ville": 1.0 / c, "consistent": est.lower <= 1.0 / c,
                     "fraction_of_ville": est.frequency * c})
    return rows


@dataclass(frozen=True)
class LosslessPart:
    """The check on the lossless class: Ville's power, the stay frequencies, the exploit, "alpha too large"."""

    mu: Demonstrator
    config: Config
    """The check's config with the lossless demonstrator and the lossless class's alphas."""
    rows: int
    estimates: dict[str, StayEstimate]
    acc: Accumulated
    mismatches: int
    ville: list[dict[str, float]]
    exploits: list[ExploitResult]
    """The exploit from histories where ``nu_alpha`` keeps the demonstrator's actions (its own KL is finite)."""
    exploit_examined: list[dict[str, object]]
    """Every history examined for the exploit, in run order: its KLs, and whether it was kept."""
    alpha_control: Control


def lossless_part(mc: ModelClass, config: Config, show_progress: bool = False, combine: Combine = "min"
                  ) -> LosslessPart:
    """Runs of ``config.lossless_demonstrator`` on :func:`lossless_class` of ``mc``: the stay frequencies at
    threshold ``c = config.lossless_threshold``, Ville's exceedance curve, the exploit from ``demo_steps``
    demonstrator steps, and the control with ``alpha = control_alpha_factor * w(mu)`` (absolute reading)."""
    sub, log_norm = lossless_class(mc)
    mu = replace(demonstrator_in_class(sub, config.lossless_demonstrator), log_norm=log_norm)
    w_mu = math.exp(mu.log_prior)
    c = config.lossless_threshold
    lcfg = replace(config, demonstrator=mu.text, alpha=1.0 / c, alpha_absolute=w_mu / c)
    runs = simulate(mu, sub, config.runs, config.p_one, np.random.default_rng(config.seed + 1))
    acc = collect(sub, mu, lcfg, runs, show_progress, combine)
    mismatches = cross_check(sub, lcfg, runs, config.cross_check_runs, combine, log_norm)
    estimates = _stay_estimates(acc, lcfg, mu)
    ville = exceedance_rows(np.concatenate(acc.max_log_xi_over_mu), config.confidence)
    both = acc.cat("stays", "absolute") & acc.cat("stays", "prior_relative")
    exploits, examined = _exploits(sub, lcfg, runs, np.flatnonzero(both))
    alpha_big = min(1.0, config.control_alpha_factor * w_mu)
    big = collect(sub, mu, replace(lcfg, alpha_absolute=alpha_big), runs, False, combine)
    est = stay_estimate(int(big.cat("stays", "absolute").sum()), config.runs,
                        ville_bound(alpha_big, mu.log_prior, "absolute"), config.confidence, "absolute", alpha_big)
    violations = big.dominance_all["absolute"]
    alpha_control = Control(
        name="alpha_too_large",
        description=f"alpha = {config.control_alpha_factor:g} w(mu) (absolute reading, lossless class): the Ville "
                    "bound 1 - alpha/w(mu) is vacuous and mu leaves the top set, so the claim 'mu stays in the top set "
                    "with probability >= 1 - alpha/w(mu) > 0, and nu_alpha <= mu at every visited history' must fail",
        measured=est.frequency, bound=est.bound, relation=">=",
        held=est.bound > 0 and est.consistent and violations == 0, units="probability",
        details={"reading": "absolute", "alpha": alpha_big, "w_mu": w_mu, "stays": est.stays, "runs": est.runs,
                 "stay_frequency": est.frequency, "bound_vacuous": est.bound <= 0,
                 "nu_alpha_above_mu_histories": violations, "histories": int(config.runs * config.horizon)})
    return LosslessPart(mu=mu, config=lcfg, rows=sub.rows, estimates=estimates, acc=acc, mismatches=mismatches,
                        ville=ville, exploits=exploits, exploit_examined=examined,
                        alpha_control=alpha_control)


def _exploits(mc: ModelClass, config: Config, runs: Runs, candidates: np.ndarray
              ) -> tuple[list[ExploitResult], list[dict[str, object]]]:
    """The exploit from the demonstrator histories of ``demo_steps`` steps of the runs ``candidates`` (in order),
    keeping the first ``exploit_runs`` where the demonstrator's own Definition-2 KL against ``nu_alpha`` is finite
    in both readings (``nu_alpha`` keeps every action ``mu`` may take: the contrast is finite against infinite);
    at most ``10 * exploit_runs`` are examined, and every one is reported."""
    kept: list[ExploitResult] = []
    examined: list[dict[str, object]] = []
    for b in candidates[:10 * config.exploit_runs]:
        if len(kept) == config.exploit_runs:
            break
        history = interleave(runs.actions[b, :config.demo_steps].tolist(),
                             mc.histories[runs.g[b]][:config.demo_steps].tolist())
        e = exploit(mc, config, history, renormalise=True)
        keep = all(math.isfinite(e.control[r]) for r in READINGS)
        examined.append({"run": int(b), "history": list(history), "kl_xi": e.kl_xi, "kl_nu": e.kl_nu,
                         "demonstrator_kl": e.control, "kept": keep})
        if keep:
            kept.append(e)
    return kept, examined


def outside_control(config: Config) -> Control:
    """Control "demonstrator outside the class": action 1 with probability ``outside_p`` at every step (no
    program behaves so), on the all-0 observation stream for ``outside_horizon`` steps; the claim
    ``nu_alpha(a|h) <= mu(a|h)`` at every visited history (both readings, the check's alphas) must fail."""
    mc = build_class(ClassConfig(max_bits=config.max_bits, horizon=config.outside_horizon))
    rng = np.random.default_rng(config.seed + 2)
    shape = (config.outside_runs, config.outside_horizon)
    actions = (rng.random(shape) < config.outside_p).astype(np.int64)
    alphas = _alphas(config)
    trace = imitators_batch(mc, np.zeros(shape[0], dtype=np.int64), actions,
                            (alphas["absolute"], alphas["prior_relative"]), 0, with_xi=False)
    mu = np.array([1.0 - config.outside_p, config.outside_p])
    above = {r: (trace.nu[:, i] > mu).any(axis=2) for i, r in enumerate(READINGS)}  # (runs, H)
    count = {r: int(v.sum()) for r, v in above.items()}
    first = {r: (int(np.flatnonzero(v.any(axis=0))[0]) + 1 if v.any() else None) for r, v in above.items()}
    return Control.compare(
        "outside_class", f"the demonstrator is outside the class (action 1 with probability {config.outside_p:g} "
        "at every step, all-0 stream): the claim 'nu_alpha(a|h) <= mu(a|h) at every visited history' (no history "
        "above, both readings) must fail", measured=sum(count.values()), relation="==", bound=0, units="histories",
        details={"nu_alpha_above_mu_histories": count, "first_step_above": first,
                 "histories": int(shape[0] * shape[1]), "p_action_one": config.outside_p,
                 "horizon": config.outside_horizon, "class_rows": mc.rows})


def protocol_part(config: Config, show_progress: bool = False) -> tuple[list[dict[str, object]], ProtocolSummary]:
    """FGOIL's act-and-query protocol (:func:`aitheory.imitators.act_and_query`), ``protocol_runs`` runs of
    ``protocol_steps`` steps per reading, demonstrator ``config.demonstrator`` on the all-0 observation stream.

    Per step: the query probability (mean, 10/50/90% quantiles), ``nu_alpha(1|h)``, the protocol's probability
    of action 1 (``nu_alpha + theta_q mu``) against ``mu(1|h)``, the empirical frequency of action 1, and how
    often ``mu``'s row is in the top set. Per reading: on the runs where ``mu``'s row stayed in the top set,
    histories with ``nu_alpha > mu`` and steps where the imitator itself took an action ``mu`` gives 0 (both
    must be 0), and the mean query probability over the first and the last tenth of the steps."""
    mc = build_class(ClassConfig(max_bits=config.max_bits, horizon=config.protocol_steps))
    mu = demonstrator_in_class(mc, config.demonstrator)
    k = mc.config.k

    def demonstrator(history: Sequence[int]) -> np.ndarray:
        return emission_probs(mu.codes[0, len(history) // 2], k)

    rng = np.random.default_rng(config.seed + 3)
    env = bernoulli_environment(0.0, k)
    rows: list[dict[str, object]] = []
    summary: dict[str, ProtocolReading] = {}
    tenth = max(1, config.protocol_steps // 10)
    for reading, alpha in progress(list(_alphas(config).items()), desc="act and query", unit="reading",
                                   disable=not show_progress):
        runs = [act_and_query(mc, demonstrator, env, config.protocol_steps, alpha, reading,  # type: ignore[arg-type]
                              rng, track_row=mu.row) for _ in range(config.protocol_runs)]
        query = np.array([r.query for r in runs])
        nu = np.array([r.nu for r in runs])
        mus = np.array([r.mu for r in runs])
        probs = np.array([r.action_probs for r in runs])
        acted = ~np.array([r.queried for r in runs])
        actions = np.array([r.actions for r in runs])
        in_top = np.array([r.row_in_top for r in runs])
        stayed = in_top.all(axis=1)
        above: np.ndarray = np.asarray((nu > mus).any(axis=2))
        mu_taken = np.take_along_axis(mus, actions[:, :, None], axis=2)[:, :, 0]
        outside = acted & (mu_taken == 0)
        q = np.quantile(query, (0.1, 0.5, 0.9), axis=0)
        for t in range(config.protocol_steps):
            rows.append({"reading": reading, "alpha": alpha, "step": t + 1, "query_mean": float(query[:, t].mean()),
                         "query_q10": float(q[0, t]), "query_q50": float(q[1, t]), "query_q90": float(q[2, t]),
                         "nu_one_mean": float(nu[:, t, 1].mean()), "protocol_one_mean": float(probs[:, t, 1].mean()),
                         "mu_one_mean": float(mus[:, t, 1].mean()),
                         "action_one_freq": float((actions[:, t] == 1).mean()),
                         "imitator_acted_freq": float(acted[:, t].mean()),
                         "mu_row_in_top_set": float(in_top[:, t].mean())})
        first, last = float(query[:, :tenth].mean()), float(query[:, -tenth:].mean())
        summary[reading] = ProtocolReading(
            alpha=alpha, runs=config.protocol_runs, steps=config.protocol_steps,
            mu_row_stayed_runs=int(stayed.sum()),
            nu_alpha_above_mu_histories=int(above[stayed].sum()),
            imitator_took_action_mu_never_takes=int(outside[stayed].sum()),
            imitator_took_action_mu_never_takes_all_runs=int(outside.sum()),
            queries_per_run_mean=float((~acted).sum(axis=1).mean()),
            query_mean_first_tenth=first, query_mean_last_tenth=last,
            protocol_vs_mu_max_abs_gap_last_tenth=float(np.abs(probs[:, -tenth:] - mus[:, -tenth:]).max()),
            held=bool(stayed.any() and not above[stayed].any() and not outside[stayed].any() and last < first),
        )
    return rows, ProtocolSummary(absolute=summary["absolute"], prior_relative=summary["prior_relative"],
                                 class_rows=mc.rows)


def run(config: Config, folder: RunFolder, show_progress: bool = False, combine: Combine = "min") -> CheckResult:
    """Build the class, run the demonstrator ``config.runs`` times, do the bookkeeping; the lossless class
    (Ville's power, the exploit, the "alpha too large" control); the "outside the class" control; the
    act-and-query protocol; the figures.

    ``combine="max"`` swaps the imitator's minimum for a maximum (a deliberately wrong imitator: the check then
    fails); it is for tests, not a reading of the paper.
    """
    mc = build_class(config.class_config(), all_histories=True, show_progress=show_progress)
    mu = demonstrator_in_class(mc, config.demonstrator)
    rng = np.random.default_rng(config.seed)
    runs = simulate(mu, mc, config.runs, config.p_one, rng)
    acc = collect(mc, mu, config, runs, show_progress, combine)
    mismatches = cross_check(mc, config, runs, config.cross_check_runs, combine)
    estimates = _stay_estimates(acc, config, mu)
    lossless = lossless_part(mc, config, show_progress, combine)
    controls = (outside_control(config), lossless.alpha_control)
    protocol_rows, protocol = protocol_part(config, show_progress)
    per_step = help_rows(acc, config)
    folder.write_metrics(per_step)
    max_log = np.concatenate(acc.max_log_xi_over_mu)
    xi_first = predict_histories(mc, runs.actions[:1, :0], runs.g[:1]).raw()[0, 0]  # xi(. | empty)
    ville_rows = _ville_rows(max_log, xi_first, mu.probs(runs.g[:1], 0, mc.config.k)[0])
    from aitheory.results import write_csv

    write_csv(folder.file("ville.csv"), ville_rows)
    write_csv(folder.file("ville_lossless.csv"), lossless.ville)
    write_csv(folder.file("protocol.csv"), protocol_rows)
    return _result(config, folder, mu, mc, estimates, acc, mismatches, ville_rows, lossless, controls, protocol)


def _exploit_held(exploits: list[ExploitResult]) -> bool:
    """Some exploit history was checked, and on each: ``KL(pi||xi)`` finite, ``KL(pi||nu_alpha) = inf`` and the
    demonstrator's own ``KL(mu||nu_alpha)`` finite in both readings, every switch blocked."""
    return bool(exploits) and all(
        math.isfinite(e.kl_xi) and e.switch_blocked
        and all(math.isinf(e.kl_nu[r]) and math.isfinite(e.control[r]) for r in READINGS)
        for e in exploits)


# ----------------------------------------------------------------------------------------------------------------
# The summary (summary.json after "controls"; typed, one documented field per key)


@dataclass(frozen=True)
class ProtocolReading(Summary):
    """FGOIL's act-and-query protocol in one top-set reading (``summary.json["protocol"][reading]``)."""

    alpha: float
    """[probability] The top-set threshold alpha of this reading."""
    runs: int
    """[count] Runs of the protocol."""
    steps: int
    """[steps] Steps per run."""
    mu_row_stayed_runs: int
    """[count] Runs where mu's row stayed in the top set at every step."""
    nu_alpha_above_mu_histories: int
    """[count] Histories of those runs with nu_alpha(a|h) > mu(a|h) for some a (must be 0)."""
    imitator_took_action_mu_never_takes: int
    """[count] Steps of those runs where the imitator itself took an action mu gives 0 (must be 0)."""
    imitator_took_action_mu_never_takes_all_runs: int
    """[count] The same over every run."""
    queries_per_run_mean: float
    """[count] Queries to the demonstrator per run, mean."""
    query_mean_first_tenth: float
    """[probability] Mean query probability over the first tenth of the steps."""
    query_mean_last_tenth: float
    """[probability] ... over the last tenth (must be below the first)."""
    protocol_vs_mu_max_abs_gap_last_tenth: float
    """[probability] Largest |P_protocol(a|h) - mu(a|h)| over the last tenth."""
    held: bool
    """[flag] The protocol's claim held in this reading."""


@dataclass(frozen=True)
class ProtocolSummary(Summary):
    """FGOIL's act-and-query protocol (``summary.json["protocol"]``), per reading."""

    absolute: ProtocolReading
    """[record] The absolute reading M = {nu : w(nu|h) >= alpha}."""
    prior_relative: ProtocolReading
    """[record] The prior-relative reading M = {nu : w(nu|h) >= alpha w(nu)}."""
    class_rows: int
    """[count] Rows of the class the protocol runs on."""

    def reading(self, name: str) -> ProtocolReading:
        """The record of reading ``name`` (one of :data:`READINGS`)."""
        return self.absolute if name == "absolute" else self.prior_relative


@dataclass(frozen=True)
class LosslessSummary(Summary):
    """The check on the lossless class (``summary.json["lossless"]``): rows that never stop, prior renormalised."""

    demonstrator: str
    """[program] The lossless demonstrator (BF-8 text)."""
    rows: int
    """[count] Rows of the lossless class."""
    prior_mass_renormalised: float
    """[probability] Prior mass of the kept rows (the renormalising constant)."""
    w_mu: float
    """[probability] The demonstrator's renormalised prior w(mu)."""
    threshold_c: float
    """[ratio] The top-set threshold c on xi/mu (alpha = 1/c prior-relative, w(mu)/c absolute)."""
    alpha: Mapping[str, float]
    """[probability] alpha per reading."""
    stay: Mapping[str, StayEstimate]
    """[probability] Per reading: the stay frequency with its Clopper-Pearson interval against the bound (stays
    and runs counts)."""
    ville_consistent_at_every_c: bool
    """[flag] At every c of ville_lossless.csv the interval reaches below Ville's 1/c."""
    ville_power: Mapping[str, float]
    """[probability] The row of ville_lossless.csv attaining the largest c P: c (ratio), runs_exceeding (count),
    exceedance, lower, upper, ville, fraction_of_ville (c P, a fraction of the bound)."""
    ville_power_required: float
    """[fraction] The c P some c >= 2 must reach (power of the Ville test)."""
    max_xi_over_mu: float
    """[ratio] Largest xi(h)/mu(h) over the runs after step 1."""
    mean_xi_over_mu_at_step1: float
    """[ratio] Mean xi/mu at step 1 (1 on a lossless class: a martingale)."""
    dominance_violations: Mapping[str, int]
    """[count] Histories with nu_alpha > mu where mu stayed, per reading (must be 0)."""
    dominance_histories: Mapping[str, int]
    """[count] Histories checked, per reading."""
    kl_violations: Mapping[str, Mapping[str, int]]
    """[count] Per reading and comparison policy: KL(pi||nu_alpha) < KL(pi||mu) (must be 0)."""
    engine_mismatches: int
    """[count] Batch engine against the step-by-step imitators (must be 0)."""
    bookkeeping_inconsistencies: int
    """[count] Inconsistent stay/top-set bookkeeping (must be 0)."""


@dataclass(frozen=True)
class ExploitRecord(Summary):
    """The exploit from one kept demonstrator history (``summary.json["exploit"][i]``; Definition 2's KL)."""

    history: tuple[int, ...]
    """[symbols] The demonstrator history x_{<2k} (interleaved actions and observations)."""
    kl_xi: float
    """[nats] KL(pi||xi) of the exploit: finite."""
    kl_nu: Mapping[str, float]
    """[nats] KL(pi||nu_alpha) per reading: inf ("inf" in the file)."""
    demonstrator_kl: Mapping[str, float]
    """[nats] The same KLs for pi = mu (no switch): against "xi" and each reading, finite."""
    maximiser: tuple[int, ...]
    """[symbols] The observation sequence attaining KL(pi||xi)."""
    switch_steps: int
    """[steps] Agent steps at which pi takes an action mu never takes."""
    switch_blocked: bool
    """[flag] At every switch step nu_alpha gives the action 0 and xi more than 0."""
    per_step: tuple[Mapping[str, Any], ...]
    """[nats] Per agent step along the maximiser: t (step), pi and mu (probabilities), switched (flag), and the
    per-step KL against xi and nu_alpha."""


@dataclass(frozen=True)
class ExaminedHistory(Summary):
    """A history examined for the exploit (``summary.json["exploit_examined"][i]``), kept or not."""

    run: int
    """[index] The run it comes from."""
    history: tuple[int, ...]
    """[symbols] The demonstrator history (interleaved actions and observations)."""
    kl_xi: float
    """[nats] KL(pi||xi) of the exploit from it."""
    kl_nu: Mapping[str, float]
    """[nats] KL(pi||nu_alpha) per reading."""
    demonstrator_kl: Mapping[str, float]
    """[nats] The demonstrator's own KLs (kept only where finite in both readings)."""
    kept: bool
    """[flag] Kept for the exploit claim."""


@dataclass(frozen=True)
class PessimisticSummary(Summary):
    """The pessimistic imitator's keys of ``summary.json`` (after ``controls``), in the file's order. "Main
    class": every program up to max_bits (it loses mass); readings: ``absolute``, ``prior_relative``."""

    demonstrator: str
    """[program] The demonstrator mu (BF-8 text)."""
    demonstrator_bits: int
    """[bits] Its length in the full grammar."""
    w_mu: float
    """[probability] Its prior w(mu) = 2^-bits."""
    demonstrator_row: str
    """[program] The class row that represents it."""
    class_rows: int
    """[count] Rows of the main class."""
    class_programs: Mapping[str, int]
    """[count] Programs of the main class by kind."""
    runs: int
    """[count] Runs of the demonstrator."""
    horizon: int
    """[steps] Steps per run H."""
    claims: Mapping[str, bool]
    """[flag] Each claim: main_class, lossless_class, exploit, protocol."""
    worst_reading: str
    """[text] The reading whose stay frequency is closest to (or furthest below) its bound: the headline."""
    stay: Mapping[str, StayEstimate]
    """[probability] Per reading: the stay frequency with its Clopper-Pearson interval against the Ville bound
    (stays and runs counts, confidence a probability)."""
    dominance_violations: Mapping[str, int]
    """[count] Histories with nu_alpha > mu on the runs where mu stayed, per reading (must be 0)."""
    dominance_histories: Mapping[str, int]
    """[count] Histories checked, per reading."""
    kl_violations: Mapping[str, Mapping[str, int]]
    """[count] Per reading and comparison policy: KL(pi||nu_alpha) < KL(pi||mu) (must be 0)."""
    kl_checks: Mapping[str, int]
    """[count] KL comparisons made, per reading."""
    kl_nu_infinite: Mapping[str, Mapping[str, int]]
    """[count] Per reading and comparison policy: comparisons where KL(pi||nu_alpha) = inf."""
    help_mean_first_last_step: Mapping[str, tuple[float, float]]
    """[probability] Mean help probability 1 - sum_a nu_alpha(a|h) at the first and the last step, per reading."""
    engine_mismatches: int
    """[count] Batch engine against the step-by-step imitators (must be 0)."""
    bookkeeping_inconsistencies: int
    """[count] Inconsistent stay/top-set bookkeeping (must be 0)."""
    mu_row_likelihood_gap: float
    """[nats] Largest |ln mu(h) - ln row(h)| between the program mu and its row (must be <= 1e-9)."""
    max_xi_over_mu_after_step1: float
    """[ratio] Largest xi(h)/mu(h) over the runs after step 1."""
    mean_xi_over_mu_at_step1: float
    """[ratio] Mean xi/mu at step 1 (below 1: the class loses mass)."""
    ville_from_step1_worst_excess: float
    """[probability] Largest measured P(sup xi/mu >= c) minus Ville's bound from step 1 (ville.csv)."""
    lossless: LosslessSummary
    """[record] The check on the lossless class."""
    exploit: tuple[ExploitRecord, ...]
    """[record] The exploit from each kept history."""
    exploit_histories: int
    """[count] Kept exploit histories."""
    exploit_examined: tuple[ExaminedHistory, ...]
    """[record] Every history examined for the exploit, in run order."""
    exploit_kl_xi_max: float
    """[nats] Largest KL(pi||xi) of the exploit (nan without kept histories)."""
    exploit_demonstrator_kl_nu_max: float
    """[nats] Largest KL(mu||nu_alpha) of the demonstrator itself there."""
    exploit_held: bool
    """[flag] The exploit claim held (finite against xi, inf against nu_alpha, every switch blocked)."""
    protocol: ProtocolSummary
    """[record] FGOIL's act-and-query protocol, per reading."""


SUMMARY = PessimisticSummary
#: Figure stems written into the run folder (PNG and SVG), drawn by :func:`draw_figures`.
FIGURES = ("pessimistic_ville", "pessimistic_ville_lossless", "pessimistic_help", "pessimistic_protocol")


def _result(config: Config, folder: RunFolder, mu: Demonstrator, mc: ModelClass, estimates: dict[str, StayEstimate],
            acc: Accumulated, mismatches: int, ville_rows: list[dict[str, float]], lossless: LosslessPart,
            controls: tuple[Control, ...], protocol: ProtocolSummary) -> CheckResult:
    worst = min(estimates.values(), key=lambda e: e.frequency - e.bound)
    dominance = sum(acc.dominance[r].dominance for r in estimates)
    kl_violations = sum(acc.dominance[r].kl_violations for r in estimates)
    checked = min(acc.dominance[r].histories for r in estimates)
    main_ok = (all(e.consistent and e.bound > 0 for e in estimates.values()) and checked > 0 and dominance == 0
               and kl_violations == 0 and mismatches == 0 and acc.bookkeeping == 0 and acc.row_mismatch <= 1e-9)
    lacc = lossless.acc
    l_dominance = sum(lacc.dominance[r].dominance for r in READINGS)
    l_checked = min(lacc.dominance[r].histories for r in READINGS)
    power = max(lossless.ville, key=lambda r: r["fraction_of_ville"])
    ville_ok = all(r["consistent"] for r in lossless.ville)
    lossless_ok = (ville_ok and power["fraction_of_ville"] >= config.ville_power
                   and all(e.consistent and e.bound > 0 for e in lossless.estimates.values())
                   and l_checked > 0 and l_dominance == 0 and lossless.mismatches == 0 and lacc.bookkeeping == 0
                   and lacc.row_mismatch <= 1e-9)
    exploit_ok = _exploit_held(lossless.exploits)
    protocol_ok = all(protocol.reading(r).held for r in READINGS)
    claims = {"main_class": main_ok, "lossless_class": lossless_ok, "exploit": exploit_ok,
              "protocol": protocol_ok}
    claim_held = all(claims.values())
    exploits = lossless.exploits
    kl_xi = [e.kl_xi for e in exploits]
    mu_kl = [e.control[r] for e in exploits for r in READINGS]
    summary = PessimisticSummary(
        demonstrator=mu.text, demonstrator_bits=mu.bits, w_mu=math.exp(mu.log_prior),
        demonstrator_row=mc.rep_text[mu.row], class_rows=mc.rows, class_programs=mc.programs_by_kind,
        runs=config.runs, horizon=config.horizon,
        claims=claims,
        worst_reading=worst.reading,
        stay=dict(estimates),
        dominance_violations={r: acc.dominance[r].dominance for r in estimates},
        dominance_histories={r: acc.dominance[r].histories for r in estimates},
        kl_violations={r: dict(acc.dominance[r].kl) for r in estimates},
        kl_checks={r: acc.dominance[r].kl_checks for r in estimates},
        kl_nu_infinite={r: dict(acc.dominance[r].kl_infinite) for r in estimates},
        help_mean_first_last_step={
            r: (float(acc.cat("help", r)[:, 0].mean()), float(acc.cat("help", r)[:, -1].mean())) for r in estimates},
        engine_mismatches=mismatches, bookkeeping_inconsistencies=acc.bookkeeping,
        mu_row_likelihood_gap=acc.row_mismatch,
        max_xi_over_mu_after_step1=float(np.exp(np.concatenate(acc.max_log_xi_over_mu).max())),
        mean_xi_over_mu_at_step1=float(np.concatenate(acc.first_ratio).mean()),
        ville_from_step1_worst_excess=max(r["exceedance"] - r["ville_from_step1"] for r in ville_rows),
        lossless=LosslessSummary(
            demonstrator=lossless.mu.text, rows=lossless.rows,
            prior_mass_renormalised=math.exp(lossless.mu.log_norm),
            w_mu=math.exp(lossless.mu.log_prior), threshold_c=config.lossless_threshold,
            alpha=_alphas(lossless.config),
            stay=dict(lossless.estimates),
            ville_consistent_at_every_c=ville_ok,
            ville_power={k: power[k] for k in ("c", "runs_exceeding", "exceedance", "lower", "upper", "ville",
                                               "fraction_of_ville")},
            ville_power_required=config.ville_power,
            max_xi_over_mu=float(np.exp(np.concatenate(lacc.max_log_xi_over_mu).max())),
            mean_xi_over_mu_at_step1=float(np.concatenate(lacc.first_ratio).mean()),
            dominance_violations={r: lacc.dominance[r].dominance for r in READINGS},
            dominance_histories={r: lacc.dominance[r].histories for r in READINGS},
            kl_violations={r: dict(lacc.dominance[r].kl) for r in READINGS},
            engine_mismatches=lossless.mismatches, bookkeeping_inconsistencies=lacc.bookkeeping,
        ),
        exploit=tuple(ExploitRecord(history=tuple(e.history), kl_xi=e.kl_xi, kl_nu=e.kl_nu,
                                    demonstrator_kl=e.control, maximiser=tuple(e.kl_xi_maximiser or ()),
                                    switch_steps=e.switch_steps, switch_blocked=e.switch_blocked,
                                    per_step=tuple(e.per_step)) for e in exploits),
        exploit_histories=len(exploits),
        exploit_examined=tuple(ExaminedHistory(**e) for e in lossless.exploit_examined),  # type: ignore[arg-type]
        exploit_kl_xi_max=max(kl_xi) if kl_xi else math.nan,
        exploit_demonstrator_kl_nu_max=max(mu_kl) if mu_kl else math.nan,
        exploit_held=exploit_ok,
        protocol=protocol,
    )
    parts = [f"{r}: stayed {e.stays}/{e.runs} = {e.frequency:.4f} (CI {e.lower:.4f}-{e.upper:.4f}) vs bound "
             f"{e.bound:.4f}" for r, e in estimates.items()]
    lparts = [f"{r} {e.frequency:.4f} vs {e.bound:.4f}" for r, e in lossless.estimates.items()]
    q = {r: (protocol.reading(r).query_mean_first_tenth, protocol.reading(r).query_mean_last_tenth) for r in READINGS}
    verdict = (
        "; ".join(parts) + f"; nu_alpha > mu at {dominance} of {checked} histories, KL order broken at "
        f"{kl_violations}. Lossless class ({lossless.rows} rows): stays {', '.join(lparts)}; "
        f"P(sup xi/mu >= {power['c']:.3g}) = {power['exceedance']:.4f} = {power['fraction_of_ville']:.2f} of Ville's "
        f"1/c (need {config.ville_power:g}); exploit ({len(exploits)} histories): KL vs xi max "
        f"{max(kl_xi) if kl_xi else math.nan:.4g}, vs nu_alpha "
        f"{_fmt_all(e.kl_nu[r] for e in exploits for r in READINGS)}"
        f", demonstrator's own vs nu_alpha max {max(mu_kl) if mu_kl else math.nan:.4g} nats. Act and query "
        f"({config.protocol_steps} steps): query probability "
        + ", ".join(f"{r} {a:.3g} (first tenth) -> {b:.3g} (last tenth)" for r, (a, b) in q.items())
        + f". {controls_verdict(controls)}; failed claims: "
        + (", ".join(n for n, ok in claims.items() if not ok) or "none"))
    return CheckResult(name=NAME, statement=STATEMENT, measured=worst.frequency, bound=worst.bound, relation=">=",
                       held=held_with_controls(claim_held, controls), claim_held=claim_held, controls=controls,
                       units="probability", details=summary,
                       figures=draw_figures(folder, config, summary) if config.plot else (), verdict=verdict)


def _fmt_all(values: object) -> str:
    """``inf`` if every value is ``+inf``, else the finite ones' maximum (or ``none`` when there are none)."""
    vals = list(values)  # type: ignore[call-overload]
    if not vals:
        return "none"
    if all(math.isinf(v) and v > 0 for v in vals):
        return "inf"
    return f"NOT all inf (max finite {max(v for v in vals if math.isfinite(v)):.4g})"


# ----------------------------------------------------------------------------------------------------------------
# Figures


def draw_figures(folder: RunFolder, config: Config, summary: PessimisticSummary) -> tuple[str, ...]:
    """:data:`FIGURES` from the rows saved in ``folder`` (``ville.csv``, ``ville_lossless.csv``, ``metrics.csv``,
    ``protocol.csv``), with the stay estimates, priors and class sizes from ``summary``."""
    ville = folder.read_rows("ville.csv", ("c", "exceedance", "ville", "ville_from_step1"))
    lossless = folder.read_rows("ville_lossless.csv", ("c", "runs_exceeding", "exceedance", "lower", "upper",
                                                       "fraction_of_ville"))
    help_ = folder.read_rows("metrics.csv", ("reading", "step", "help_mean", "help_q10", "help_q25", "help_q50",
                                             "help_q75", "help_q90", "stopping_row_in_top_set"))
    protocol = folder.read_rows("protocol.csv", ("reading", "step", "query_mean", "query_q10", "query_q90",
                                                 "nu_one_mean", "protocol_one_mean", "mu_one_mean"))
    plot_ville(ville, summary.stay, summary.w_mu, summary.demonstrator, folder.file(FIGURES[0]))
    plot_ville_power(lossless, config, summary.lossless.rows, summary.lossless.demonstrator, folder.file(FIGURES[1]))
    plot_help(help_, config, folder.file(FIGURES[2]))
    plot_protocol(protocol, config, folder.file(FIGURES[3]))
    return FIGURES


def plot_ville(rows: Sequence[Mapping[str, object]], estimates: Mapping[str, StayEstimate], w_mu: float,
               demonstrator: str, stem: str | Path) -> tuple[Path, Path]:
    """``P(max_{t>=1} xi(h_t)/mu(h_t) >= c)`` against ``c`` (log axes; rows of ``ville.csv``) with Ville's ``1/c``
    (from the start) and Ville's bound from step 1, and each reading's threshold (``c = w(mu)/alpha`` absolute,
    ``1/alpha`` prior-relative): ``mu`` leaves a top set exactly when the ratio exceeds the threshold."""
    from aitheory.plotting import column, pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.6, 4.4))
    c = column(rows, "c")
    ex = column(rows, "exceedance")
    runs = next(iter(estimates.values())).runs
    ax.plot(c, column(rows, "ville"), "k--", lw=1, label="Ville from the start: min(1, 1/c)")
    ax.plot(c, column(rows, "ville_from_step1"), "k:", lw=1.2, label=r"Ville from step 1: E[min(1, $X_1$/c)]")
    ax.step(c, np.where(ex > 0, ex, np.nan), "C0-", where="post",
            label=r"measured $P(\max_{t\geq1}\ \xi(h_t)/\mu(h_t) \geq c)$")
    ax.axhline(1.0 / runs, color="0.6", lw=0.6)
    ax.text(c[-1], 1.15 / runs, "1 run", fontsize=7, color="0.4", ha="right")
    for i, (reading, e) in enumerate(estimates.items()):
        threshold = w_mu / e.alpha if reading == "absolute" else 1.0 / e.alpha
        ax.axvline(threshold, color=f"C{i + 1}", lw=1.2, ls="-.",
                   label=f"{reading} threshold c = {threshold:.3g}: left in {e.runs - e.stays} runs "
                         f"(bound {1 - e.bound:.3g})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(0.3 / runs, 1.5)
    ax.set_xlabel(r"threshold $c$ on $\xi(h)/\mu(h) = w(\mu)/w(\mu\mid h)$")
    ax.set_ylabel("fraction of runs")
    ax.set_title(f"Ville's inequality: demonstrator {demonstrator}, {runs} runs", fontsize=10)
    ax.legend(fontsize=7, loc="lower left")
    return save_figure(fig, stem)


def plot_help(rows: Sequence[Mapping[str, object]], config: Config, stem: str | Path) -> tuple[Path, Path]:
    """The help probability ``1 - sum_a nu_alpha(a|h_t)`` by step (rows of ``metrics.csv``, or of
    :func:`help_rows`): mean, median, 10-90% and 25-75% ranges, and how often a program that stops at that step
    is in the top set (then the help probability is 1)."""
    from aitheory.plotting import column, pyplot, save_figure

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.8), sharey=True)
    for ax, (reading, alpha) in zip(axes, _alphas(config).items(), strict=True):
        sel = [r for r in rows if r["reading"] == reading]
        t = column(sel, "step")

        def col(name: str, sel: list[Mapping[str, object]] = sel) -> np.ndarray:
            return column(sel, name)

        ax.vlines(t, col("help_q10"), col("help_q90"), color="C0", alpha=0.3, lw=5, label="10-90% of runs")
        ax.vlines(t, col("help_q25"), col("help_q75"), color="C0", alpha=0.6, lw=5, label="25-75%")
        ax.plot(t, col("help_q50"), "_", color="C0", ms=9, mew=2, label="median")
        ax.plot(t, col("help_mean"), "ko", ms=3, label="mean")
        ax.plot(t, col("stopping_row_in_top_set"), "C3x", ms=4,
                label="fraction of runs with a program\nthat stops now in the top set")
        ax.set_title(f"{reading} (alpha = {alpha:.3g})", fontsize=9)
        ax.set_xlabel("step t")
        ax.set_ylim(-0.02, 1.02)
    axes[0].set_ylabel(r"help probability $1 - \sum_a \nu_\alpha(a\mid h_{<t})$")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Pessimistic imitator asking for help, demonstrator {config.demonstrator}, {config.runs} runs",
                 fontsize=10)
    return save_figure(fig, stem)


def plot_ville_power(rows: Sequence[Mapping[str, object]], config: Config, class_rows: int, demonstrator: str,
                     stem: str | Path) -> tuple[Path, Path]:
    """The lossless class (rows of ``ville_lossless.csv``; ``class_rows`` rows, its demonstrator): measured
    ``P(max_{t>=1} xi(h_t)/mu(h_t) >= c)`` with its Clopper-Pearson interval against Ville's ``1/c`` (log axes),
    and the fraction ``c P`` of the bound that is attained (right axis)."""
    from aitheory.plotting import column, pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.6, 4.4))
    seen = np.flatnonzero(column(rows, "runs_exceeding") > 0)
    rows = rows[: (int(seen[-1]) if seen.size else 0) + 3]  # up to just past the largest ratio seen
    c = column(rows, "c")
    ex = column(rows, "exceedance")
    ax.plot(c, 1.0 / c, "k--", lw=1, label="Ville: 1/c")
    ax.fill_between(c, np.maximum(column(rows, "lower"), 1e-9), column(rows, "upper"), step="post", color="C0",
                    alpha=0.25, label=f"{100 * config.confidence:g}% interval")
    ax.step(c, np.where(ex > 0, ex, np.nan), "C0-", where="post",
            label=r"measured $P(\max_{t\geq1}\ \xi(h_t)/\mu(h_t) \geq c)$")
    threshold = config.lossless_threshold
    ax.axvline(threshold, color="C1", lw=1.2, ls="-.", label=f"top-set threshold c = {threshold:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(0.3 / config.runs, 1.0)
    ax.set_xlabel(r"threshold $c$")
    ax.set_ylabel("fraction of runs")
    right = ax.twinx()
    right.plot(c, column(rows, "fraction_of_ville"), "C2.", ms=4, label="c P (fraction of Ville attained)")
    right.axhline(config.ville_power, color="C2", lw=0.6, ls=":")
    right.set_ylim(0, 1.05)
    right.set_ylabel("c P", color="C2")
    handles = ax.get_legend_handles_labels()
    extra = right.get_legend_handles_labels()
    ax.legend(handles[0] + extra[0], handles[1] + extra[1], fontsize=7, loc="lower left")
    ax.set_title(f"Ville on the lossless class ({class_rows} rows): {demonstrator}, {config.runs} runs",
                 fontsize=10)
    return save_figure(fig, stem)


def plot_protocol(rows: Sequence[Mapping[str, object]], config: Config, stem: str | Path) -> tuple[Path, Path]:
    """FGOIL's act-and-query protocol: per reading, the query probability by step (mean and 10-90% range), and the
    probability of action 1 under the protocol (``nu_alpha + theta_q mu``), under the imitator acting alone
    (``nu_alpha``) and under the demonstrator (``mu``); from the rows of ``protocol.csv``."""
    from aitheory.plotting import column, pyplot, save_figure

    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(10.0, 6.4), sharex=True)
    for j, (reading, alpha) in enumerate(_alphas(config).items()):
        sel = [r for r in rows if r["reading"] == reading]
        t = column(sel, "step")

        def col(name: str, sel: list[Mapping[str, object]] = sel) -> np.ndarray:
            return column(sel, name)

        top, bottom = axes[0, j], axes[1, j]
        random = (col("mu_one_mean") > 0) & (col("mu_one_mean") < 1)  # steps where the demonstrator randomises
        for mask, marker, name in ((random, "o", "mu random"), (~random, "s", "mu deterministic")):
            top.vlines(t[mask], col("query_q10")[mask], col("query_q90")[mask], color="C0", alpha=0.25, lw=2)
            top.plot(t[mask], col("query_mean")[mask], marker, color="C0" if marker == "o" else "C3", ms=2.5,
                     ls="none", label=f"mean, steps where {name}")
        top.set_ylim(-0.02, 1.02)
        top.set_title(f"{reading} (alpha = {alpha:.3g})", fontsize=9)
        top.set_ylabel(r"query probability $\theta_q = 1 - \sum_a \nu_\alpha(a\mid h)$", fontsize=8)
        top.legend(fontsize=7, title="bars: 10-90% of runs", title_fontsize=7)
        bottom.plot(t, col("mu_one_mean"), "o", color="0.6", ms=6, ls="none", label=r"demonstrator $\mu(1\mid h)$")
        bottom.plot(t, col("protocol_one_mean"), "C1.", ms=3, ls="none",
                    label=r"protocol $\nu_\alpha(1\mid h) + \theta_q \mu(1\mid h)$")
        bottom.plot(t, col("nu_one_mean"), "C0x", ms=3, ls="none", label=r"imitator acting $\nu_\alpha(1\mid h)$")
        bottom.set_xlabel("step t")
        bottom.set_ylabel("probability of action 1 (mean over runs)", fontsize=8)
        bottom.legend(fontsize=7)
    fig.suptitle(f"Act and query: demonstrator {config.demonstrator}, {config.protocol_runs} runs per reading, "
                 "learning only from the answers", fontsize=10)
    return save_figure(fig, stem)
