r"""Theorem 1 (little constraint in novel situations), checked on the enumerated BF-8 class.

**Modes** (``Config.mode``). ``"joint"`` (the default) checks the theorem in the joint setting, xi predicting
actions and observations and the construction ``SWITCH(E, OPT(U, u), MIX)``
(:mod:`aitheory.theory.theorem1_joint`: its keys are the summary's top level, its controls ``precedented`` and
``no_mix``), and measures the policy-mode worlds below beside it (their summary under ``policy_mode``, their
controls prefixed ``policy_``); ``held`` needs both claims and every control to fail. ``"policy"`` measures the
policy-mode worlds alone, with the summary they always had. The rest of this docstring is the policy mode.

**Statement (sharp form).** For an event E unprecedented at t and a policy pi*, the model
``nu* = SWITCH(E, pi*, MIX)`` ("predict like the mixture until E, then act like pi*") has, before E,
``w(nu* | x_{<2t}) >= w(nu*) = 2^-len(nu*)``, and along pi*'s actions, for **every** observation sequence,
``prod_{s=t}^{m} xi(a*_s | x_{<2s}) = w(nu* | x_{<2t}) / w(nu* | x_{<2m+2}) >= w(nu*)``. So, in nats,

``KL_{x_{<2t},m}(pi* || xi) <= -ln w(nu* | x_{<2t}) <= len(nu*) ln 2 = [K(E) + K(pi*) + d] ln 2``,

with no dependence on k, the amount of demonstrator data. (Some transcriptions print ``/ log 2`` instead of
``* ln 2``; both are reported.) d is measured from the construction actually in the class:
``d = len(SWITCH(E, P, MIX)) - K(E) - K(P)`` with :func:`aitheory.dsl.expr_bits` (6 bits in BF-8's full grammar),
and is undefined (``None``, bound ``inf``) when the class has no such construction.

**The class, streamed.** Every plain program up to ``max_bits``, MIX, and every ``SWITCH E P MIX`` with
``3 n_E <= event bits`` and ``3 n_P <= policy_max_bits``. An event enters a SWITCH only through its first-hold
vector ``tau = (tau_1 .. tau_G)`` on the G histories of a point (step ``s`` of history g uses P's code iff
``s >= tau_g``), so the detectors are run block by block (:func:`event_times`, with
:func:`aitheory.dsl.events.first_hold_times`; as Proposition 2 streams them) and only the histogram
``tau -> number of detectors of each length`` is kept. The SWITCH rows are then ``tau x (P's behaviour)`` with
prior ``2^-4 * W_E(tau) * W_P``, where ``W_E(tau) = sum_n c_n(tau) 2^-(1+3n)`` and ``W_P`` is the plain prior of P's
behaviour row, exactly as :func:`aitheory.mixture.build_class` would give them (a test compares both, integer by
integer). One histogram at the largest cap gives the class at every smaller cap (its columns), which is how the
class-size study (``class_sizes``) costs one enumeration per point.

**How it is checked.** A demonstrator that never takes the action 1 (it always plays 0); pi* = "play 1 from t on"
for ``switch_steps`` steps. For each world the class is built on the demonstrator history plus every observation
continuation, and ``KL_{x_{<2t},m}(pi* || xi)`` is computed exactly per Definition 2 (the maximum over open-loop
observation sequences o_t .. o_{m-1}) with :func:`aitheory.measures.tree_kl` and the Bayesian imitator. K(E) at a
point is the length of the shortest detector unprecedented at t (first holding at t) under the class's cap,
``inf`` if none.

Worlds:

* **pattern** (KL against K(E)): observations 0, then a novel pattern ending at step k, then the switch at
  t = k + 1; measured at every class size of ``class_sizes`` (the KL against K(E) is fitted only on the points
  whose KL changed by at most ``converged_nats`` between the two largest class sizes that contain their event).
* **novel** (KL against k, unprecedented): observations 0 for k - 1 steps, then a novel 1.
* **precedented** (KL against k): the observation 1 recurs every ``period`` steps and the demonstrator was seen
  not switching after it.

``claim held``: at every point an event is unprecedented under the cap (finite K(E)) and the construction is in
the class (finite d), and the measured KL is at most ``[K(E) + K(pi*) + d] ln 2`` for the shortest such event, at
most the class-internal telescoping bound ``-ln w(S | x_{<2t})`` (S: the rows predicting pi*'s actions with
probability 1), and at most ``len(nu) ln 2`` for the shortest such row with ``w(nu | x_{<2t}) >= w(nu)``; in the
*novel* world every KL is at most one k-independent bound; and wherever the demonstrator is in the top set, the KL
against the pessimistic imitator (Definition 4, both readings) is infinite and the budgeted agent's value against
it is 0.

**Negative controls** (:class:`aitheory.theory.common.Control`; each must fail, ``held = False``):

* ``precedented``: the novel world's event in the precedented world, where it held every ``period`` steps (the
  hypothesis "unprecedented" is false): the largest KL there is asserted to be at most that event's bound.
* ``no_event``: the novel world at the largest k with events capped below the novel event, so that no event is
  unprecedented under the cap: the bound is ``inf``, which is *not held* (an infinite bound certifies nothing).
* ``no_mix``: the novel world at the largest k in a class with neither MIX nor SWITCH (no copy-the-mixture model):
  its KL against the claim's bound, and its growth with k.

``held = claim held and every control failed`` (:func:`aitheory.theory.common.held_with_controls`).

**Run folder.** ``metrics.csv`` has one row per measured point, its ``series`` column (:data:`SERIES`) naming the
list it belongs to: ``point`` (the worlds), ``class_size`` (the class-size study), ``no_mix`` and ``no_event`` (the
controls); the joint mode adds ``theorem1_joint_*.csv``. :func:`draw_figures` draws every figure from those rows and
the typed summary (:class:`Theorem1Summary`, or :class:`PolicySummary` in ``mode="policy"``), so ``aitheory plot
RUN_DIR`` redraws them without recomputing.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aitheory.dsl import (
    Mix,
    Plain,
    Switch,
    blocks,
    enumerate_block,
    expr_bits,
    index_bits,
    parse,
    program_at,
    run_batch,
)
from aitheory.dsl.enumerate import check_enumeration_size
from aitheory.dsl.events import first_hold_times
from aitheory.dsl.reference import MAX_STEPS
from aitheory.imitators import BayesianImitator, PessimisticImitator, top_set_mask
from aitheory.measures import tree_kl
from aitheory.mixture import ClassConfig, ModelClass, OnlineMixture, build_class
from aitheory.mixture.classes import CODE_MIX, KINDS, in_class, merge_rows
from aitheory.progress import progress
from aitheory.results import RunFolder, RunFolderError
from aitheory.theory import theorem1_joint as joint
from aitheory.theory.common import CheckResult, Control, Summary, controls_verdict, held_with_controls
from aitheory.theory.theorem1_joint import JointSummary

__all__ = ["FIGURES", "NAME", "SERIES", "STATEMENT", "SUMMARY", "CheckHeader", "ClassSizeRow", "Config", "EventTimes",
           "PatternPoint", "PointClass", "PolicyModeSummary", "PolicySummary", "SkippedPoint", "SlopeAtSize",
           "SwitchCost", "Theorem1Summary", "detector_first_holds", "draw_figures", "event_times", "run",
           "summary_class", "switch_cost"]

NAME = "theorem1"
STATEMENT = ("Theorem 1: after an event unprecedented at t, switching to a new policy costs KL <= "
             "[K(E) + K(pi*) + d] ln 2 nats against the Bayesian imitator, whatever the amount of data k")
STATEMENT_JOINT = ("Theorem 1 (joint setting, xi predicts actions and observations): after an event E "
                   "unprecedented at t, OPT(U, u) reaches a value above v with KL(pi* || xi) < "
                   "[d + K(U) + K(E) + K(v xi(h))] ln 2 nats, d measured on SWITCH(E, OPT(U, u), MIX)")
LN2 = math.log(2)
_TOL = 1e-9
#: ``Config.mode``: the joint check (with the policy-mode worlds beside it), or the policy-mode worlds alone.
MODES = ("joint", "policy")


@dataclass(frozen=True)
class Config:
    """Theorem 1's check (see the module docstring for the worlds and the controls)."""

    max_bits: int = 24
    """Plain programs of at most this many bits (3 per token) are in the class."""
    event_max_bits: int = 27
    """SWITCH events E of at most this many plain-code bits are in the class of the novel and precedented worlds
    (and K(E) is searched up to it)."""
    class_sizes: tuple[int, ...] = (24, 27, 30)
    """Event caps (bits) of the class-size study: every pattern point, and the novel and precedented worlds at the
    largest k, are measured at each; the KL against K(E) is reported at the largest."""
    policy_max_bits: int = 15
    """SWITCH policies P of at most this many plain-code bits are in the class."""
    switch_steps: int = 3
    """m - t + 1: the switch policy plays 1 for this many steps; Definition 2 maximises over the observations."""
    patterns: tuple[str, ...] = ("1", "11", "10", "100100")
    """Novel observation patterns of the pattern worlds (KL against K(E)): zeros, then the pattern, then the switch."""
    pattern_k: int = 56
    """Demonstrator steps k in the pattern worlds (large, so that random-action programs are priced out)."""
    k_grid: tuple[int, ...] = (1, 4, 8, 16, 32, 48, 56, 64)
    """Numbers of demonstrator steps k of the novel and precedented worlds."""
    period: int = 3
    """In the precedented world the observation 1 recurs every this many steps."""
    converged_nats: float = 0.05
    """A point's KL has converged in the class size if it moved by at most this between the two largest sizes."""
    converged_slope: float = 0.05
    """The KL-against-K(E) slope has converged if, on the same event lengths, it moved by at most this (nats/bit)
    between the two largest class sizes."""
    alpha: float = 0.01
    """Top-set threshold of the pessimistic imitator."""
    budgets: tuple[float, ...] = (10.0, 20.0, 30.0)
    """KL budgets (nats) of the budgeted agent whose value is reported against k (novel and precedented worlds)."""
    steps: int = 1000
    """Step budget T per emission of the interpreter."""
    plot: bool = True
    """Draw the figures (needs matplotlib)."""
    mode: str = "joint"
    """"joint": Theorem 1 in the joint setting (:mod:`aitheory.theory.theorem1_joint`, the top-level keys of the
    summary) and the policy-mode worlds below (under ``policy_mode``); "policy": the policy-mode worlds alone."""
    joint_max_bits: int = 24
    """Joint mode: plain programs of at most this many bits (3 per token), plus MIX and the construction."""
    joint_utility: str = ".+[>,..<]]"
    """Joint mode: the utility U, a plain program read as a reward detector (this one: the mean of the actions)."""
    joint_event: str = "+[>,.<]]"
    """Joint mode: the event E, a detector on the observations (this one: the last observation was 1)."""
    joint_steps: int = 2
    """Joint mode: decisions from t to the horizon m (m - t + 1)."""
    joint_k_grid: tuple[int, ...] = (1, 8, 16, 32, 64, 96, 128, 160)
    """Joint mode: demonstrator steps k of the novel world (E unprecedented at t = k + 1)."""
    joint_precedented_k: int = 96
    """Joint mode: demonstrator steps of the precedented control (E also held at t - 1)."""
    joint_value_fraction: float = 0.9
    """Joint mode: the value asked for, v = this fraction of V* (MIX's)."""
    joint_tradeoff_k: int = 1
    """Joint mode: demonstrator steps of the trade-off study."""
    joint_tradeoff_levels: int = 12
    """Joint mode: thresholds v_j = (1 - 2^-j) V* for j = 0 .. this (coarse to fine)."""
    joint_horizons: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    """Joint mode, no_mix control: horizons of the hand-made class."""
    joint_exact_horizon: int = 10
    """Joint mode, no_mix control: Definition 2's max enumerated over every observation sequence up to this
    horizon (beyond: the adversarial sequence, a lower bound)."""
    joint_copy_bits: int = 12
    """Joint mode, no_mix control: length of the copy-the-mixture model C of the hand-made class."""
    joint_patterns: tuple[str, ...] = ("1", "11", "10", "100100", "1000")
    """Joint mode, patterns world: novel observation patterns (zeros, then the pattern, then t), one per event."""
    joint_pattern_events: tuple[str, ...] = ("+[,.+]]", "+[,.+~]]", "+~[,~.+]]", "+[,+~~]+.]", "+~[,~~~.+]]")
    """Joint mode, patterns world: the event E of each pattern, a detector that must first hold at t (these: the
    shortest detectors of the policy-mode patterns, docs/theory/theorem1.md, 22 to 34 full-grammar bits)."""
    joint_pattern_k: int = 128
    """Joint mode, patterns world: demonstrator steps before t (the same for every event; large, so that the KL
    sits at nu*_E's telescoping bound)."""

    def __post_init__(self) -> None:
        if self.switch_steps < 1:
            raise ValueError(f"argument switch_steps: must be >= 1, got {self.switch_steps}")
        if not self.patterns or any(set(p) - {"0", "1"} or len(p) > self.pattern_k for p in self.patterns):
            raise ValueError(f"argument patterns: need strings of 0/1 no longer than pattern_k, got {self.patterns}")
        if not self.k_grid or min(self.k_grid) < 1:
            raise ValueError(f"argument k_grid: needs k >= 1, got {self.k_grid}")
        if self.period < 1:
            raise ValueError(f"argument period: must be >= 1, got {self.period}")
        caps = (self.event_max_bits, self.policy_max_bits, *self.class_sizes)
        if any(c % 3 or c < 3 for c in caps):
            raise ValueError("arguments event_max_bits, policy_max_bits and class_sizes: must be positive multiples "
                             f"of 3 (bits per token), got {caps}")
        if not self.class_sizes or max(self.class_sizes) > 36:
            raise ValueError(f"argument class_sizes: needs caps of at most 36 bits, got {self.class_sizes}")
        if self.converged_nats < 0:
            raise ValueError(f"argument converged_nats: must be >= 0, got {self.converged_nats}")
        for name in ("max_bits", "event_max_bits", "policy_max_bits"):
            check_enumeration_size(getattr(self, name), name)  # range and size, before anything is allocated
        if not (math.isfinite(self.alpha) and 0 < self.alpha <= 1):
            raise ValueError(f"argument alpha: must be in (0, 1], got {self.alpha!r}")
        if not all(math.isfinite(b) and b >= 0 for b in self.budgets):  # () is fine: no budgeted values
            raise ValueError(f"argument budgets: need KL budgets that are finite numbers >= 0 (nats), got "
                             f"{self.budgets}")
        horizon = max(self.pattern_k, *self.k_grid) + 1 + self.switch_steps
        if horizon > 1024:
            raise ValueError(f"arguments k_grid, pattern_k and switch_steps: the class is built to horizon "
                             f"max(pattern_k, k_grid) + 1 + switch_steps = {horizon}; at most 1024 (lower them)")
        if not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"argument steps: must be in 1..{MAX_STEPS:.0e}, got {self.steps}")
        self._check_joint()

    def _check_joint(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"argument mode: expected one of {', '.join(MODES)}, got {self.mode!r}")
        if self.joint_max_bits % 3 or not 3 <= self.joint_max_bits <= 24:
            raise ValueError(f"argument joint_max_bits: must be a multiple of 3 in 3..24, got {self.joint_max_bits}")
        for name in ("joint_utility", "joint_event"):
            try:
                expr = parse(getattr(self, name))
            except ValueError as exc:
                raise ValueError(f"argument {name}: {exc}") from None
            if not isinstance(expr, Plain):
                raise ValueError(f"argument {name}: must be a plain program, got {getattr(self, name)!r}")
        if not 1 <= self.joint_steps <= 4:
            raise ValueError(f"argument joint_steps: must be in 1..4 (the tree has 4^steps histories), got "
                             f"{self.joint_steps}")
        if not self.joint_k_grid or min(self.joint_k_grid) < 1 or max(self.joint_k_grid) > 256:
            raise ValueError(f"argument joint_k_grid: needs k in 1..256, got {self.joint_k_grid}")
        if not 2 <= self.joint_precedented_k <= 256:
            raise ValueError(f"argument joint_precedented_k: must be in 2..256, got {self.joint_precedented_k}")
        if not 1 <= self.joint_tradeoff_k <= 256:
            raise ValueError(f"argument joint_tradeoff_k: must be in 1..256, got {self.joint_tradeoff_k}")
        if not (math.isfinite(self.joint_value_fraction) and 0 <= self.joint_value_fraction < 1):
            raise ValueError(f"argument joint_value_fraction: must be in [0, 1), got {self.joint_value_fraction!r}")
        if not 0 <= self.joint_tradeoff_levels <= 30:
            raise ValueError(f"argument joint_tradeoff_levels: must be in 0..30, got {self.joint_tradeoff_levels}")
        if not self.joint_horizons or min(self.joint_horizons) < 1 or max(self.joint_horizons) > 256:
            raise ValueError(f"argument joint_horizons: needs horizons in 1..256, got {self.joint_horizons}")
        if not 0 <= self.joint_exact_horizon <= 14:
            raise ValueError(f"argument joint_exact_horizon: must be in 0..14 (2^(n-1) sequences), got "
                             f"{self.joint_exact_horizon}")
        if not 1 <= self.joint_copy_bits <= 60:
            raise ValueError(f"argument joint_copy_bits: must be in 1..60, got {self.joint_copy_bits}")
        self._check_joint_patterns()

    def _check_joint_patterns(self) -> None:
        if not 1 <= self.joint_pattern_k <= 256:
            raise ValueError(f"argument joint_pattern_k: must be in 1..256, got {self.joint_pattern_k}")
        if not self.joint_patterns or any(not p or set(p) - {"0", "1"} or len(p) > self.joint_pattern_k
                                          for p in self.joint_patterns):
            raise ValueError("argument joint_patterns: need non-empty strings of 0/1 no longer than joint_pattern_k, "
                             f"got {self.joint_patterns}")
        if len(self.joint_pattern_events) != len(self.joint_patterns):
            raise ValueError(f"argument joint_pattern_events: need one event per pattern ({len(self.joint_patterns)}),"
                             f" got {len(self.joint_pattern_events)}")
        for text in self.joint_pattern_events:
            try:
                expr = parse(text)
            except ValueError as exc:
                raise ValueError(f"argument joint_pattern_events: {exc}") from None
            if not isinstance(expr, Plain):
                raise ValueError(f"argument joint_pattern_events: must be plain programs, got {text!r}")

    @classmethod
    def quick(cls) -> Config:
        return cls(max_bits=21, event_max_bits=21, class_sizes=(21, 24), policy_max_bits=15, switch_steps=3,
                   patterns=("1", "11"), pattern_k=56, k_grid=(8, 64), period=3, budgets=(10.0,),
                   joint_max_bits=18, joint_k_grid=(1, 8), joint_precedented_k=4, joint_tradeoff_levels=6,
                   joint_horizons=(1, 2, 4, 8, 16, 32), joint_exact_horizon=8, joint_pattern_k=32)

    @property
    def largest_cap(self) -> int:
        """The largest event cap any point is measured at."""
        return max(self.event_max_bits, *self.class_sizes)

    def class_config(self, horizon: int, event_bits: int | None = None, copy_mixture: bool = True) -> ClassConfig:
        """The class's configuration: SWITCH events up to ``event_bits`` (default ``event_max_bits``); with
        ``copy_mixture=False`` neither MIX nor SWITCH (the ``no_mix`` control)."""
        cap = self.event_max_bits if event_bits is None else event_bits
        if not copy_mixture:
            return ClassConfig(max_bits=self.max_bits, k=2, horizon=horizon, steps=self.steps, switch=False,
                               mix=False)
        return ClassConfig(
            max_bits=self.max_bits, k=2, horizon=horizon, steps=self.steps, switch=True,
            switch_max_bits=6 + cap + self.policy_max_bits,
            switch_event_max_bits=cap, switch_policy_max_bits=self.policy_max_bits,
            switch_plain_before=False, mix=True,
        )


# -- the events, streamed ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventTimes:
    """The first-hold vectors of every detector up to ``max_bits`` on G histories, as a histogram.

    ``taus (U, G) int64``: distinct vectors of 1-based first-hold times (0: not within ``horizon`` steps);
    ``counts (U, max_bits // 3) int64``: how many detectors of n tokens have that vector (column n - 1);
    ``shortest (U,)``: canonical index of the first (so shortest) detector with that vector.
    """

    horizon: int
    max_bits: int
    taus: np.ndarray
    counts: np.ndarray
    shortest: np.ndarray
    programs: int
    """Detectors enumerated."""
    rerun: int
    """Detectors run again on the other histories (those that read an observation past the common prefix)."""

    def shortest_bits(self) -> np.ndarray:
        """``(U,)``: plain-code length of the shortest detector of each vector."""
        return index_bits(self.shortest) if len(self.shortest) else np.zeros(0, dtype=np.int64)

    def event_at(self, t: int, cap: int) -> tuple[float, str]:
        """K(E) and its text: the shortest detector of at most ``cap`` bits first holding at t (on history 0,
        and so on every history when t is within their common prefix); ``(inf, "")`` if none."""
        bits = self.shortest_bits()
        hit = np.flatnonzero((self.taus[:, 0] == t) & (bits <= cap))
        if hit.size == 0:
            return math.inf, ""
        best = hit[np.argmin(bits[hit])]
        return float(bits[best]), program_at(int(self.shortest[best]))

    def weights(self, cap: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(taus, W, bits)`` of the vectors with a detector of at most ``cap`` bits: ``W`` the full-grammar prior
        ``sum_n c_n 2^-(1+3n)`` in integer units of ``2^-(cap+1)``, ``bits`` the shortest detector's plain length."""
        n = np.arange(1, min(cap // 3, self.counts.shape[1]) + 1)
        w = (self.counts[:, : len(n)] << (cap - 3 * n)[None, :]).sum(axis=1)
        keep = w > 0
        return self.taus[keep], w[keep], self.shortest_bits()[keep]


def _common_prefix(histories: np.ndarray) -> int:
    same = (histories == histories[:1]).all(axis=0)
    return int(same.size if same.all() else np.argmin(same))


def event_times(histories: np.ndarray, horizon: int, max_bits: int, steps: int = 1000,
                show_progress: bool = False) -> EventTimes:
    """Run every detector up to ``max_bits`` on the histories ``(G, >= horizon - 1)`` to its first hold, block by
    block; memory: one block plus the histogram (never programs x histories x steps).

    A detector's emission s reads only ``o_1 .. o_{s-1}``, so one that does not read an observation after its first
    emission (``FirstHolds.reads`` false) or stops within the common prefix of the histories is run on history 0
    only; the others are run again on each further history.
    """
    histories = np.asarray(histories, dtype=np.int64)
    n_hist = histories.shape[0]
    common = _common_prefix(histories[:, : horizon - 1])
    table: dict[bytes, list[Any]] = {}
    programs = rerun = 0
    width = max_bits // 3
    for block in progress(list(blocks(max_bits)), desc=f"events <= {max_bits} bits", unit="block",
                          disable=not show_progress):
        codes = enumerate_block(block)
        r0 = first_hold_times(codes, None, 2, horizon, histories[0], steps)
        first = np.repeat(r0.first[:, None], n_hist, axis=1)
        again = np.flatnonzero(r0.reads & (r0.n_emitted > common))
        if again.size and n_hist > 1:
            rerun += again.size
            sub = codes[again]
            for g in range(1, n_hist):
                first[again, g] = first_hold_times(sub, None, 2, horizon, histories[g], steps).first
        programs += codes.shape[0]
        _, at, count = np.unique(_vector_keys(first, horizon), return_index=True, return_counts=True)
        for i, c in zip(at, count, strict=True):
            vec = first[i]
            entry = table.setdefault(vec.tobytes(), [vec.copy(), np.zeros(width, np.int64), block.start + int(i)])
            entry[1][block.n_tokens - 1] += int(c)
    entries = list(table.values())
    return EventTimes(
        horizon=horizon, max_bits=max_bits,
        taus=np.array([e[0] for e in entries], dtype=np.int64).reshape(-1, n_hist),
        counts=np.array([e[1] for e in entries], dtype=np.int64).reshape(-1, width),
        shortest=np.array([e[2] for e in entries], dtype=np.int64), programs=programs, rerun=rerun,
    )


def _vector_keys(first: np.ndarray, horizon: int) -> np.ndarray:
    """One int64 per row of ``first`` (values 0..horizon), equal iff the rows are equal (a 1-D sort is far
    cheaper than ``np.unique(axis=0)``); rows packed as bytes where the base-(horizon+1) number would overflow."""
    base = horizon + 1
    if first.shape[1] * math.log2(base) < 62:
        return first @ (base ** np.arange(first.shape[1], dtype=np.int64))
    _, inverse = np.unique(first, axis=0, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64)


def detector_first_holds(observations: tuple[int, ...], max_bits: int, steps: int = 1000) -> np.ndarray:
    """``(n_detectors,)`` first step (1-based) at which each detector up to ``max_bits`` holds, 0 if never within
    ``len(observations) + 1`` steps, in canonical order (materialised: for tests and small caps)."""
    horizon = len(observations) + 1
    out = [first_hold_times(enumerate_block(block), None, 2, horizon, observations, steps).first
           for block in blocks(max_bits)]
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class PointClass:
    """What one point's classes are built from: the plain programs (no MIX), the SWITCH policies P (plain programs
    up to ``policy_max_bits``, as behaviour rows with their full-grammar prior) and the event histogram."""

    config: Config
    histories: np.ndarray
    horizon: int
    plain: ModelClass
    policies: ModelClass
    events: EventTimes

    @classmethod
    def build(cls, config: Config, histories: list[tuple[int, ...]], horizon: int, event_cap: int,
              show_progress: bool = False) -> PointClass:
        plain = build_class(config.class_config(horizon, copy_mixture=False), observations=histories)
        policies = build_class(dataclasses.replace(config.class_config(horizon, copy_mixture=False),
                                                   max_bits=config.policy_max_bits), observations=histories)
        events = event_times(plain.histories, horizon, event_cap, config.steps, show_progress)
        return cls(config, plain.histories, horizon, plain, policies, events)

    def model_class(self, event_bits: int | None, copy_mixture: bool = True) -> ModelClass:
        """The class with SWITCH events up to ``event_bits`` (plain programs, MIX, SWITCH E P MIX), or, with
        ``copy_mixture=False``, the plain programs alone (no MIX, no SWITCH)."""
        if not copy_mixture:
            return self.plain
        cap = self.config.event_max_bits if event_bits is None else event_bits
        if cap > self.events.max_bits:
            raise ValueError(f"argument event_bits: {cap} exceeds the enumerated events ({self.events.max_bits})")
        cc = self.config.class_config(self.horizon, cap)
        unit = cc.unit_bits
        taus, w_e, e_bits = self.events.weights(cap)
        pol = self.policies
        w_p = pol.weight_by_kind[:, KINDS.index("plain")]  # units 2^-(policy_max_bits + 1)
        steps = np.arange(self.horizon)
        after = steps[None, None, :] >= np.where(taus > 0, taus - 1, self.horizon)[:, :, None]  # (U, G, H)
        sw_codes = np.where(after[:, None], pol.codes[None], np.int8(CODE_MIX)).reshape(-1, *pol.codes.shape[1:])
        # prior of SWITCH(E, P, MIX) = 2^-2 (SWITCH) * 2^-(1+3n_E) * 2^-(1+3n_P) * 2^-2 (MIX)
        shift = unit - (cap + 1) - (self.config.policy_max_bits + 1) - 4
        sw_weight = (w_e[:, None] * w_p[None, :]).reshape(-1) << shift
        sw_bits = (4 + 1 + e_bits[:, None] + pol.rep_bits[None, :]).reshape(-1)
        weights = np.zeros((self.plain.rows + 1 + len(sw_weight), len(KINDS)), dtype=np.int64)
        weights[: self.plain.rows] = self.plain.weight_by_kind << (unit - self.plain.config.unit_bits)
        weights[self.plain.rows, KINDS.index("mix")] = 1 << (unit - 2)
        weights[self.plain.rows + 1 :, KINDS.index("switch")] = sw_weight
        codes = np.concatenate([self.plain.codes, np.full((1, *self.plain.codes.shape[1:]), CODE_MIX, np.int8),
                                sw_codes])
        bits = np.concatenate([self.plain.rep_bits, [2], sw_bits]).astype(np.int64)
        e_texts = [program_at(int(i)) for i in self._shortest_at(cap)]

        def text(row: int) -> str:
            if row < self.plain.rows:
                return self.plain.rep_text[row]
            if row == self.plain.rows:
                return "MIX"
            u, p = divmod(row - self.plain.rows - 1, pol.rows)
            return f"SWITCH({e_texts[u]}, {pol.rep_text[p]}, MIX)"

        programs = {**self.plain.programs_by_kind, "mix": 1,
                    "switch": int(self.events.counts[:, : cap // 3].sum()) * int(sum(pol.programs_by_kind.values()))}
        return merge_rows(cc, codes, weights, bits, text, self.histories, programs)

    def _shortest_at(self, cap: int) -> np.ndarray:
        """Canonical index of the shortest detector of each vector kept by ``events.weights(cap)``."""
        n = np.arange(1, min(cap // 3, self.events.counts.shape[1]) + 1)
        keep = (self.events.counts[:, : len(n)] > 0).any(axis=1)
        return self.events.shortest[keep]


# -- one point ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SwitchCost:
    """What it costs (nats) to switch to "play 1" at step t after a history, against each base policy."""

    world: str
    t: int
    k: int
    """Demonstrator steps before the switch (t - 1)."""
    event_cap: int
    """SWITCH events of at most this many bits are in the class (0: no MIX and no SWITCH in the class)."""
    kl_bayes: float
    """``KL_{x_{<2t},m}(pi* || xi)``, Definition 2."""
    maximiser: tuple[int, ...]
    """The observation sequence o_t .. o_{m-1} attaining it."""
    bound_posterior: float
    """``-ln w(S | x_{<2t})``, S = rows predicting pi*'s actions with probability 1 on every continuation."""
    shortest_bits: int
    """Full-grammar length of the shortest program in S (its name: ``shortest_program``)."""
    shortest_program: str
    shortest_posterior_ratio: float
    """``w(nu | x_{<2t}) / w(nu)`` of that program (the sharp bound needs it >= 1)."""
    event_bits: float
    """K(E): shortest detector (plain code) unprecedented at t under the cap; inf if none."""
    event: str = ""
    """That detector's text."""
    d_bits: int | None = None
    """``len(SWITCH(E, P*, MIX)) - K(E) - K(P*)`` of the construction if it is in the class, else None."""
    bound: float = math.inf
    """``[K(E) + K(P*) + d] ln 2`` (inf without an unprecedented event under the cap or without the construction)."""
    kl_pessimistic: dict[str, float] = field(default_factory=dict)
    """KL against the pessimistic imitator, per top-set reading."""
    budgeted_value: dict[str, dict[float, float]] = field(default_factory=dict)
    """Value (expected fraction of 1s over the switch steps) of the Definition-2 KL-constrained optimal agent,
    per base policy and budget: "bayes" is xi itself (a semimeasure: NaN where even its missing mass costs more than
    the budget), "pessimistic" is nu_alpha whose help probability goes to the demonstrator, as when it asks;
    ``-inf`` marks a solver failure (counted in the summary)."""
    demonstrator_in_top_set: dict[str, bool] = field(default_factory=dict)
    """Whether the demonstrator (the shortest always-0 program) is in the top set at t, per reading: Theorem 4's
    guarantee (infinite KL for anything the demonstrator never does) applies only then."""

    @property
    def bound_length(self) -> float:
        """``len(nu) ln 2`` for the shortest program nu predicting the switch (inf if there is none)."""
        return self.shortest_bits * LN2 if self.shortest_program else math.inf


def _switch_set(mc: ModelClass, t: int, steps: int) -> np.ndarray:
    """Rows that play 1 with probability 1 at steps t .. t + steps - 1 on every history of the class."""
    window = mc.codes[:, :, t - 1 : t - 1 + steps]
    return (window == 1).all(axis=(1, 2))


def point_class(config: Config, observations: tuple[int, ...], t: int, event_cap: int | None = None,
                show_progress: bool = False) -> PointClass:
    """The classes of one point: histories ``o_1 .. o_{t-1}`` plus every continuation over the switch window."""
    n_more = config.switch_steps - 1
    prefix = tuple(observations[: t - 1])
    histories = [prefix + c for c in itertools.product((0, 1), repeat=n_more)]
    cap = config.event_max_bits if event_cap is None else event_cap
    return PointClass.build(config, histories, t + n_more, cap, show_progress)


def switch_cost(config: Config, world: str, observations: tuple[int, ...], t: int, policy: str,
                point: PointClass | None = None, event_cap: int | None = None, copy_mixture: bool = True,
                extras: bool = True) -> SwitchCost:
    """Measure the switch at t in the class of ``point`` (built here if None) with SWITCH events up to
    ``event_cap`` bits (default ``config.event_max_bits``), or without MIX and SWITCH (``copy_mixture=False``).
    ``policy``: the text of P* ("always 1") in the construction. ``extras``: also the pessimistic imitator and
    the budgeted agent."""
    cap = config.event_max_bits if event_cap is None else event_cap
    point = point or point_class(config, observations, t, cap)
    mc = point.model_class(cap, copy_mixture)
    prefix = tuple(observations[: t - 1])
    demo = tuple(x for o in prefix for x in (0, o))

    def switch(history: tuple[int, ...]) -> np.ndarray:
        return np.array([0.0, 1.0])

    beta = BayesianImitator(mc)
    kl = tree_kl(switch, beta, n_actions=2, n_observations=2, horizon=config.switch_steps, history=demo)
    state = OnlineMixture(mc)
    for o in prefix:
        state.update(0, o)
    post = state.posterior()
    in_set = _switch_set(mc, t, config.switch_steps)
    mass = float(post[in_set].sum())
    candidates = np.flatnonzero(in_set & (post > 0))
    best = candidates[np.argmin(mc.rep_bits[candidates])] if candidates.size else None
    ratio = float(math.exp(state.log_likelihood_ratio()[best])) if best is not None else math.nan
    event_bits, event = point.events.event_at(t, cap)
    d_bits = None
    p_plain = _plain(policy)
    if event:
        construction = Switch(_plain(event), p_plain, Mix())
        if in_class(mc.config, construction):
            d_bits = expr_bits(construction) - _plain(event).bits - p_plain.bits
    bound = (event_bits + p_plain.bits + d_bits) * LN2 if d_bits is not None else math.inf
    pessimistic: dict[str, float] = {}
    in_top: dict[str, bool] = {}
    values: dict[str, dict[float, float]] = {}
    if extras:
        demonstrator = (mc.codes == 0).all(axis=(1, 2))
        for reading in ("absolute", "prior_relative"):
            nu = PessimisticImitator(mc, config.alpha, reading, demo_steps=t - 1)
            pessimistic[reading] = float(tree_kl(switch, nu, n_actions=2, n_observations=2,
                                                 horizon=config.switch_steps, history=demo).value)
            mask = top_set_mask(state.log_likelihood_ratio(), mc.rep_bits, config.alpha, reading)
            in_top[reading] = bool((mask & demonstrator).any())
        if config.budgets:
            nu_alpha = PessimisticImitator(mc, config.alpha, "absolute", demo_steps=t - 1)

            def deferring(history: tuple[int, ...]) -> np.ndarray:
                """nu_alpha, with its help probability handed to the demonstrator (who always plays 0)."""
                p = nu_alpha(history)
                return p + (1.0 - p.sum()) * np.array([1.0, 0.0])

            values = {base: budgeted_values(config, demo, t, fn) for base, fn in (("bayes", beta),
                                                                                   ("pessimistic", deferring))}
    return SwitchCost(
        world=world, t=t, k=t - 1, event_cap=cap if copy_mixture else 0, kl_bayes=float(kl.value),
        maximiser=tuple(kl.maximiser or ()), bound_posterior=-math.log(mass) if mass > 0 else math.inf,
        shortest_bits=int(mc.rep_bits[best]) if best is not None else 0,
        shortest_program=mc.rep_text[best] if best is not None else "", shortest_posterior_ratio=ratio,
        event_bits=event_bits, event=event, d_bits=d_bits, bound=bound, kl_pessimistic=pessimistic,
        budgeted_value=values, demonstrator_in_top_set=in_top,
    )


def _plain(text: str) -> Plain:
    from aitheory.dsl import parse

    expr = parse(text)
    assert isinstance(expr, Plain)
    return expr


def budgeted_values(config: Config, demo: tuple[int, ...], t: int, base: Any) -> dict[float, float]:
    """Value of the KL-constrained optimal agent (Definition 2, budget in nats) for each budget, against ``base``.

    Utility: the fraction of the switch steps t .. m at which the action is 1 (what the demonstrator never does).
    Observations after t are fair coin flips for the value (Definition 2's constraint ranges over all of them).
    """
    from aitheory.planning import (
        Environment,
        InfeasibleBudgetError,
        PlanningError,
        PlanningProblem,
        kl_optimal_policy,
    )

    steps = config.switch_steps
    env = Environment(2, 2, kernel=lambda h, a: np.array([0.5, 0.5]))

    def utility(history: tuple[int, ...]) -> float:
        return float(np.mean([history[2 * s] for s in range(t - 1, t - 1 + steps)]))

    problem = PlanningProblem.build(env, utility, start=demo, m=t - 1 + steps)
    out = {}
    for budget in config.budgets:
        try:
            out[budget] = float(kl_optimal_policy(problem, base, budget).value)
        except InfeasibleBudgetError:
            out[budget] = math.nan  # no policy fits: reported as a missing point
        except PlanningError as exc:  # the solver failed the exact re-check: counted in the summary, never hidden
            warnings.warn(f"theorem1: no budgeted value at t={t}, budget {budget}: {exc}", stacklevel=2)
            out[budget] = -math.inf
    return out




def _worlds(config: Config) -> list[tuple[str, tuple[int, ...], int]]:
    """(world, observations o_1 .. o_{t-1}, t) for every point of the three experiments."""
    points = []
    for pattern in config.patterns:
        obs = (0,) * (config.pattern_k - len(pattern)) + tuple(int(c) for c in pattern)
        points.append((f"pattern {pattern}", obs, config.pattern_k + 1))
    for k in config.k_grid:
        # k demonstrator steps; the k-th observation is the novel (or recurring) 1; the agent switches at k + 1.
        points.append(("novel", (0,) * (k - 1) + (1,), k + 1))
        occurrences = (*(int((j + 1) % config.period == 0) for j in range(k - 1)), 1)
        points.append(("precedented", occurrences, k + 1))
    return points


def _policy(config: Config) -> str:
    """P* = "always 1": the shortest plain program emitting 1 at every step (searched), as text."""
    horizon = max(config.pattern_k, *config.k_grid) + 1 + config.switch_steps
    for block in blocks(config.policy_max_bits):
        codes = enumerate_block(block)
        res = run_batch(codes, None, 2, horizon, None, config.steps, record_steps=False)
        hit = np.flatnonzero((res.actions == 1).all(axis=1))
        if hit.size:
            return program_at(block.start + int(hit[0]))
    raise ValueError(f"argument policy_max_bits: no 'always 1' program of at most {config.policy_max_bits} bits")


@dataclass(frozen=True)
class _Measured:
    """Every measurement of a run: the main points, the class-size study and the controls' points."""

    costs: list[SwitchCost]
    sizes: list[SwitchCost]
    no_mix: list[SwitchCost]
    no_event: SwitchCost
    policy: str
    times: dict[str, int]


def _measure(config: Config, show_progress: bool) -> _Measured:
    policy = _policy(config)
    points = _worlds(config)
    k_max = max(config.k_grid)
    studied = {(w, k) for w, k in (("novel", k_max), ("precedented", k_max))}
    costs: list[SwitchCost] = []
    sizes: list[SwitchCost] = []
    no_mix: list[SwitchCost] = []
    no_event: SwitchCost | None = None
    done: dict[tuple[tuple[int, ...], int, int], SwitchCost] = {}
    built: dict[tuple[tuple[int, ...], int], PointClass] = {}
    enumerated = rerun = 0
    for world, obs, t in progress(points, desc="theorem1", unit="point", disable=not show_progress):
        study = world.startswith("pattern") or (world, t - 1) in studied
        main_cap = max(config.class_sizes) if world.startswith("pattern") else config.event_max_bits
        cap_needed = config.largest_cap if study else main_cap
        point = built.get((obs, t))
        if point is None or point.events.max_bits < cap_needed:
            point = built[obs, t] = point_class(config, obs, t, cap_needed)
            enumerated += point.events.programs
            rerun += point.events.rerun
        if (obs, t, main_cap) not in done:  # the same history in two worlds is measured once
            done[obs, t, main_cap] = switch_cost(config, world, obs, t, policy, point, main_cap)
        cost = dataclasses.replace(done[obs, t, main_cap], world=world)
        costs.append(cost)
        if study:
            sizes += [switch_cost(config, world, obs, t, policy, point, cap, extras=False)
                      for cap in sorted(set(config.class_sizes))]
        if world == "novel":
            no_mix.append(switch_cost(config, world, obs, t, policy, point, copy_mixture=False, extras=False))
            if t - 1 == k_max:
                below = int(cost.event_bits) - 3 if math.isfinite(cost.event_bits) else main_cap
                no_event = switch_cost(config, world, obs, t, policy, point, max(3, below), extras=False)
    assert no_event is not None
    return _Measured(costs, sizes, no_mix, no_event, policy, {"detectors_run": enumerated, "rerun": rerun})


# -- the summary ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SkippedPoint(Summary):
    """A point not checked against ``len(nu) ln 2`` because nu's posterior ratio is below 1
    (``length_bound_skipped[i]``), with the bound that does hold there."""

    world: str
    """[name] The point's world."""
    t: int
    """[steps] The switch step."""
    program: str
    """[program] nu, the shortest program playing the switch."""
    posterior_ratio: float
    """[ratio] w(nu | x_{<2t}) / w(nu), below 1."""
    kl_bayes: float
    """[nats] The KL to switch."""
    bound_length: float
    """[nats] len(nu) ln 2."""
    bound_with_ratio: float
    """[nats] -ln w(nu | x_{<2t}) = len(nu) ln 2 - ln(ratio)."""
    held_with_ratio: bool
    """[flag] The KL is at most that bound."""


@dataclass(frozen=True)
class PatternPoint(Summary):
    """One pattern world at the largest class size (``kl_vs_event_bits[world]``)."""

    event_bits: float
    """[bits] K(E): the shortest detector unprecedented at t under the cap (inf if none)."""
    event: str
    """[program] That detector."""
    kl: float
    """[nats] The KL to switch."""
    bound: float
    """[nats] [K(E) + K(pi*) + d] ln 2."""
    converged: bool
    """[flag] The KL moved by at most ``converged_nats`` between the two largest class sizes."""


@dataclass(frozen=True)
class ClassSizeRow(Summary):
    """One studied point at every class size (``class_size_study[world]``)."""

    k: int
    """[steps] Demonstrator steps before the switch."""
    class_sizes: tuple[int, ...]
    """[bits] The event caps, ascending."""
    kl: tuple[float, ...]
    """[nats] The KL to switch at each."""
    event_bits: tuple[float, ...]
    """[bits] K(E) at each (inf: no event unprecedented under the cap)."""
    bound: tuple[float, ...]
    """[nats] The theorem's bound at each."""
    event: tuple[str, ...]
    """[program] The event at each ("" if none)."""
    last_change_nats: float
    """[nats] |KL change| between the two largest sizes whose class holds the event (inf if fewer than two)."""
    converged: bool
    """[flag] That change is at most ``converged_nats``."""


@dataclass(frozen=True)
class SlopeAtSize(Summary):
    """The pattern worlds' KL-against-K(E) slope at one class size (``slope_by_class_size[size]``)."""

    event_bits: tuple[int, ...]
    """[bits] The event lengths fitted on (those already in the next smaller class)."""
    slope: float
    """[nats per bit] The least-squares slope at this size."""
    slope_at_previous_size: float
    """[nats per bit] The slope on the same worlds at the next smaller size."""
    previous_size: int
    """[bits] That size."""


@dataclass(frozen=True)
class PolicySummary(Summary):
    """The policy-mode keys of ``summary.json`` (the top level in ``mode="policy"``, under ``policy_mode`` in the
    joint mode), in the file's order."""

    claim: bool
    """[flag] The claim held (module docstring, "claim held")."""
    pessimistic_agent_value_zero: bool
    """[flag] Where the demonstrator is in the top set, the budgeted agent's value against nu_alpha is 0."""
    largest_budget: float
    """[nats] The largest KL budget of the budgeted agent (nan without budgets)."""
    budget_solver_failures: int
    """[count] Budgeted values the solver failed to certify."""
    value_at_largest_budget: Mapping[str, Mapping[str, float]]
    """[fraction] Per world (novel, precedented) and k (as text): the budgeted agent's value at the largest budget."""
    posterior_bound_held: bool
    """[flag] Every KL is at most -ln w(S | x_{<2t})."""
    length_bound_held: bool
    """[flag] Every KL is at most len(nu) ln 2 where nu's posterior ratio is at least 1."""
    length_bound_skipped_points: int
    """[count] Points where that ratio is below 1 (not checked against len(nu) ln 2)."""
    length_bound_skipped: tuple[SkippedPoint, ...]
    """[nats] Those points, with the bound that holds there."""
    every_point_bounded: bool
    """[flag] Every novel and pattern point has an unprecedented event under the cap and the construction."""
    theorem_bound_held: bool
    """[flag] Every point is bounded and every finite bound [K(E) + K(pi*) + d] ln 2 holds."""
    novel_bound_held: bool
    """[flag] Every novel point's KL is at most the one k-independent bound ``novel_bound``."""
    pessimistic_infinite: bool
    """[flag] The KL against nu_alpha is infinite wherever the demonstrator is in the top set."""
    kl_pessimistic_min: float
    """[nats] The smallest of those KLs (nan if none)."""
    points: int
    """[count] Points measured (pattern, novel and precedented worlds)."""
    demonstrator_in_top_set_points: Mapping[str, int]
    """[count] Points where the demonstrator is in the top set, per reading."""
    event_max_bits: int
    """[bits] SWITCH events of at most this many bits in the class of the novel and precedented worlds."""
    class_sizes: tuple[int, ...]
    """[bits] The event caps of the class-size study."""
    max_kl_novel: float
    """[nats] The largest KL in the novel world: the headline measured value."""
    min_kl_novel: float
    """[nats] The smallest KL in the novel world."""
    novel_event_bits: float
    """[bits] K(E) of the one event unprecedented at t in every novel world."""
    novel_event: str
    """[program] That event."""
    policy: str
    """[program] P*, "always 1"."""
    policy_bits: int
    """[bits] K(P*)."""
    d_bits: int | None
    """[bits] d measured from the construction in the novel points' class (null if it holds none)."""
    novel_bound_bits: float
    """[bits] K(E) + K(P*) + d for the novel event (inf without d)."""
    novel_bound: float
    """[nats] That times ln 2: the headline bound."""
    kl_by_k: Mapping[str, Mapping[str, float]]
    """[nats] Per world (novel, precedented) and k (as text): the KL to switch."""
    event_by_k: Mapping[str, Mapping[str, tuple[str, float, float]]]
    """[bits] Per world and k: the shortest unprecedented event, its K(E) (bits) and its bound (nats)."""
    kl_vs_event_bits: Mapping[str, PatternPoint]
    """[nats] Per pattern world: K(E), the KL and the bound at the largest class size."""
    event_lengths: tuple[int, ...]
    """[bits] The distinct finite K(E) of the pattern worlds."""
    class_size_study: Mapping[str, ClassSizeRow]
    """[nats] Per studied point: the KL at every class size."""
    slope_nats_per_bit: float
    """[nats per bit] The KL-against-K(E) slope of the pattern worlds at the largest class size."""
    slope_event_bits: tuple[int, ...]
    """[bits] The event lengths it is fitted on."""
    slope_change_nats_per_bit: float
    """[nats per bit] |slope - slope at the next smaller size| on the same worlds."""
    slope_converged: bool
    """[flag] That change is at most ``converged_slope``."""
    slope_by_class_size: Mapping[str, SlopeAtSize]
    """[nats per bit] The slope per class size (key: the size in bits, as text)."""
    levels_converged: tuple[str, ...]
    """[name] The studied points whose KL converged in the class size."""
    ln2: float
    """[nats per bit] ln 2, the slope the sharp bound predicts."""
    slope_novel_nats_per_k: float
    """[nats per step] Least-squares slope of the novel world's KL against k."""
    slope_precedented_nats_per_k: float
    """[nats per step] The same in the precedented world."""
    max_ratio_to_sharp_bound: float
    """[ratio] The largest KL / [K(E) + K(pi*) + d] ln 2 over the bounded points."""
    max_ratio_to_printed_bound: float
    """[ratio] The largest KL / ([K(E) + K(pi*) + d] / ln 2), the printed '/ log 2' form."""
    factor_verdict: str
    """[text] Which form of the bound holds, in words."""
    detectors_run: int
    """[count] Detectors enumerated for the events (all points)."""
    rerun: int
    """[count] Detectors run again on the other histories of a point."""


@dataclass(frozen=True)
class CheckHeader(Summary):
    """The verdict keys that open a check's ``summary.json`` (:meth:`CheckResult.summary`), as nested under
    ``policy_mode``."""

    name: str
    """[name] "theorem1"."""
    statement: str
    """[text] The policy-mode statement."""
    measured: float
    """[nats] ``max_kl_novel``."""
    bound: float
    """[nats] ``novel_bound``."""
    relation: str
    """[relation] "<="."""
    held: bool
    """[flag] The policy-mode claim held and each of its controls failed."""
    units: str
    """[name] "nats"."""
    claim_held: bool
    """[flag] The policy-mode claim held."""
    controls_failed: bool
    """[flag] Every policy-mode control failed, as expected."""
    controls: Mapping[str, Mapping[str, Any]]
    """[nats] The policy-mode controls (also at the top level, prefixed ``policy_``)."""


@dataclass(frozen=True)
class PolicyModeSummary(PolicySummary, CheckHeader):
    """``summary.json["policy_mode"]`` in the joint mode: the policy-mode check's whole summary without its
    figures: the :class:`CheckHeader` keys, the :class:`PolicySummary` keys, then ``verdict`` (dataclass fields
    follow the reversed method resolution order, so the header's come first, as in the file)."""

    verdict: str
    """[text] The policy-mode verdict line."""


@dataclass(frozen=True)
class Theorem1Summary(JointSummary):
    """Theorem 1's keys of ``summary.json`` in the joint mode (the default): the joint check's
    (:class:`aitheory.theory.theorem1_joint.JointSummary`), then ``policy_mode``."""

    policy_mode: PolicyModeSummary
    """[nats] The policy-mode worlds' whole summary (KL in nats, lengths in bits)."""


SUMMARY = Theorem1Summary
#: Rows of ``metrics.csv`` by its ``series`` column: the main points (one per world), the class-size study, the
#: no_mix control's points and the no_event control's point.
SERIES = ("point", "class_size", "no_mix", "no_event")
#: Figure stems written into the run folder (PNG and SVG), drawn by :func:`draw_figures`: the policy mode's
#: (``theorem1_value_vs_k`` only with ``budgets``), then, in the joint mode, the joint check's.
FIGURES = ("theorem1_kl_vs_event_bits", "theorem1_kl_vs_k", "theorem1_class_size", "theorem1_value_vs_k",
           "theorem1_joint_kl_vs_k", "theorem1_joint_tradeoff", "theorem1_joint_no_mix", "theorem1_joint_patterns")


def summary_class(config: Config) -> type[Theorem1Summary] | type[PolicySummary]:
    """The summary class of a run in ``config.mode``: :class:`Theorem1Summary` (joint) or :class:`PolicySummary`."""
    return Theorem1Summary if config.mode == "joint" else PolicySummary


def run(config: Config, folder: RunFolder, show_progress: bool = False) -> CheckResult:
    """The check in ``config.mode``: "policy", the policy-mode worlds; "joint", Theorem 1 in the joint setting
    (:mod:`aitheory.theory.theorem1_joint`) with the policy-mode result under ``policy_mode`` and its controls
    beside the joint ones (prefixed ``policy_``): held iff both claims held and every control failed."""
    policy = _run_policy(config, folder, show_progress)
    if config.mode == "policy":
        assert isinstance(policy.details, PolicySummary)
        return dataclasses.replace(policy, figures=draw_figures(folder, config, policy.details) if config.plot else ())
    measured = joint.measure_joint(config)
    joint.write_joint_rows(measured, folder.path)
    part, joint_controls = joint.summarise_joint(config, measured)
    controls = joint_controls + tuple(dataclasses.replace(c, name=f"policy_{c.name}") for c in policy.controls)
    claim = bool(part.joint_claim) and bool(policy.claim_held)
    held = held_with_controls(claim, controls)
    summary = Theorem1Summary(**part.fields(), policy_mode=PolicyModeSummary(
        **{key: value for key, value in policy.summary().items() if key != "figures"}))
    figures = draw_figures(folder, config, summary) if config.plot else ()
    no_mix = joint_controls[1].details
    verdict = (f"joint mode: KL(pi* || xi) = {_fmt(summary.kl_nats)} nats < [d + K(U) + K(E) + len(u)] ln 2 = "
               f"[{summary.d_bits} + {summary.k_utility_bits} + {summary.k_event_bits} + "
               f"{summary.k_value_bits}] ln 2 = {_fmt(summary.bound_nats)} at k = {summary.k} "
               f"(value {_fmt(summary.value)} > v = {_fmt(summary.v)}; KL at k = "
               f"{ {p.k: round(p.kl_nats, 3) for p in measured.novel} }); hand-made class, KL against "
               f"horizon without a copy-the-mixture model "
               f"{ {n: round(v, 2) for n, v in no_mix['kl_by_horizon'].items()} }, with it "
               f"{ {n: round(v, 2) for n, v in no_mix['kl_by_horizon_with_copy'].items()} }; "
               f"patterns at k = {summary.patterns_k}: KL against K(E) "
               f"{ {r.k_event_bits: round(r.kl_nats, 2) for r in summary.patterns} } "
               f"({'each below its bound' if summary.patterns_held else 'NOT all below their bounds'}), slope "
               f"{_fmt(summary.patterns_slope_nats_per_bit)} nats/bit (ln 2 = {LN2:.3f}); "
               f"policy mode: {'held' if policy.held else 'NOT held'}; {controls_verdict(controls)}")
    return CheckResult(
        name=NAME, statement=STATEMENT_JOINT, measured=summary.kl_nats, bound=summary.bound_nats,
        relation="<", held=held, units="nats", details=summary,
        figures=figures, verdict=verdict, controls=controls, claim_held=claim,
    )


def _run_policy(config: Config, folder: RunFolder, show_progress: bool = False) -> CheckResult:
    """The policy-mode worlds (module docstring): their rows in ``metrics.csv`` (:data:`SERIES`) and their result,
    without figures (:func:`run` draws them)."""
    measured = _measure(config, show_progress)
    folder.write_metrics(*_metrics(measured))
    novel_points = [(obs, t) for world, obs, t in _worlds(config) if world == "novel"]
    common_event = _common_event(novel_points, config.event_max_bits, config.steps)
    summary, controls = _summarise(config, measured, common_event)
    held = held_with_controls(summary.claim, controls)
    verdict = (f"novel event: KL to switch <= {_fmt(summary.max_kl_novel)} nats for every k in "
               f"{list(config.k_grid)} (bound {_fmt(summary.novel_bound)} = {_fmt(summary.novel_bound_bits)} "
               f"bits x ln 2, d = {_fmt(summary.d_bits)} bits measured from the construction in the class); "
               f"KL against K(E) at class size {max(config.class_sizes)}: slope {_fmt(summary.slope_nats_per_bit)} "
               f"nats/bit on the lengths {list(summary.slope_event_bits)} "
               f"({'converged' if summary.slope_converged else 'NOT converged'}: moved "
               f"{_fmt(summary.slope_change_nats_per_bit)} from the next smaller class; ln 2 = {LN2:.3f}); "
               f"K(E) of the patterns {list(summary.event_lengths)}; "
               f"against nu_alpha: >= {_fmt(summary.kl_pessimistic_min)} nats where the demonstrator is in the top "
               f"set; {controls_verdict(controls)}")
    return CheckResult(
        name=NAME, statement=STATEMENT, measured=summary.max_kl_novel, bound=summary.novel_bound,
        relation="<=", held=held, units="nats", details=summary, verdict=verdict,
        controls=controls, claim_held=summary.claim,
    )


def _fmt(x: Any) -> str:
    if x is None:
        return "none"
    x = float(x)
    return ("inf" if x > 0 else "-inf") if math.isinf(x) else "nan" if math.isnan(x) else f"{x:.4g}"


def _common_event(points: list[tuple[tuple[int, ...], int]], max_bits: int, steps: int) -> tuple[float, str]:
    """The shortest detector unprecedented at t in *every* given world (one event for all k), and its text;
    streamed block by block, stopping at the first length with one."""
    horizon = max(t for _, t in points)
    streams = [tuple(obs) + (0,) * (horizon - 1 - len(obs)) for obs, _ in points]
    for block in blocks(max_bits):
        codes = enumerate_block(block)
        mask = np.ones(codes.shape[0], dtype=bool)
        for stream, (_, t) in zip(streams, points, strict=True):
            mask &= first_hold_times(codes, None, 2, horizon, stream, steps).first == t
        hit = np.flatnonzero(mask)
        if hit.size:
            return float(block.bits), program_at(block.start + int(hit[0]))
    return math.inf, ""


def _metrics(m: _Measured) -> tuple[list[dict[str, object]], list[str]]:
    """The rows of ``metrics.csv`` and its columns: every measured point, its series (:data:`SERIES`) last."""
    rows = [*_rows(m.costs, "point"), *_rows(m.sizes, "class_size"), *_rows(m.no_mix, "no_mix"),
            *_rows([m.no_event], "no_event")]
    return rows, [*dict.fromkeys(key for row in rows for key in row if key != "series"), "series"]


def _rows(costs: list[SwitchCost], series: str) -> list[dict[str, object]]:
    return [
        {"world": c.world, "t": c.t, "k": c.k, "event_cap": c.event_cap, "kl_bayes": c.kl_bayes,
         "bound": c.bound, "event_bits": c.event_bits, "event": c.event,
         "d_bits": "" if c.d_bits is None else c.d_bits, "bound_posterior": c.bound_posterior,
         "bound_length": c.bound_length, "shortest_bits": c.shortest_bits, "shortest_program": c.shortest_program,
         "shortest_posterior_ratio": c.shortest_posterior_ratio,
         "kl_pessimistic_absolute": c.kl_pessimistic.get("absolute", ""),
         "kl_pessimistic_prior_relative": c.kl_pessimistic.get("prior_relative", ""),
         "demonstrator_top_absolute": c.demonstrator_in_top_set.get("absolute", ""),
         "demonstrator_top_prior_relative": c.demonstrator_in_top_set.get("prior_relative", ""),
         "maximiser": "".join(map(str, c.maximiser)),
         **{f"value_{base}_{b:g}": v for base, by_budget in c.budgeted_value.items() for b, v in by_budget.items()},
         "series": series}
        for c in costs
    ]


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 2 or np.ptp(x[keep]) == 0:
        return math.nan
    return float(np.polyfit(x[keep], y[keep], 1)[0])


def _class_size_study(config: Config, sizes: list[SwitchCost]) -> dict[str, ClassSizeRow]:
    """Per studied point: the KL, K(E) and bound at each class size, and whether the KL has converged (moved by
    at most ``converged_nats`` between the two largest sizes whose class holds the point's event)."""
    out: dict[str, ClassSizeRow] = {}
    for world in dict.fromkeys(c.world for c in sizes):
        pts = sorted((c for c in sizes if c.world == world), key=lambda c: c.event_cap)
        with_event = [c for c in pts if math.isfinite(c.event_bits)]
        change = (abs(with_event[-1].kl_bayes - with_event[-2].kl_bayes) if len(with_event) >= 2 else math.inf)
        out[world] = ClassSizeRow(k=pts[0].k, class_sizes=tuple(c.event_cap for c in pts),
                                  kl=tuple(c.kl_bayes for c in pts), event_bits=tuple(c.event_bits for c in pts),
                                  bound=tuple(c.bound for c in pts), event=tuple(c.event for c in pts),
                                  last_change_nats=change, converged=bool(change <= config.converged_nats))
    return out


def _slopes_by_class_size(sizes: list[SwitchCost]) -> dict[int, SlopeAtSize]:
    """Per class size c (from the second smallest on): the least-squares slope (nats/bit) of the pattern worlds' KL
    against K(E), over the event lengths already in the class of the next smaller size, at c and at that size,
    so that the two slopes are fitted on the same points and their difference says whether the slope converged."""
    pts = [c for c in sizes if c.world.startswith("pattern")]
    caps = sorted({c.event_cap for c in pts})
    out: dict[int, SlopeAtSize] = {}
    for prev, cap in itertools.pairwise(caps):
        worlds = {c.world for c in pts if c.event_cap == prev and math.isfinite(c.event_bits)}
        at = {c2: sorted((c for c in pts if c.event_cap == c2 and c.world in worlds), key=lambda c: c.event_bits)
              for c2 in (prev, cap)}
        xs = np.array([c.event_bits for c in at[cap]])
        out[cap] = SlopeAtSize(event_bits=tuple(int(x) for x in xs),
                               slope=_slope(xs, np.array([c.kl_bayes for c in at[cap]])),
                               slope_at_previous_size=_slope(np.array([c.event_bits for c in at[prev]]),
                                                             np.array([c.kl_bayes for c in at[prev]])),
                               previous_size=prev)
    return out


def _length_bound(costs: Sequence[SwitchCost]) -> tuple[bool, list[dict[str, Any]]]:
    """Whether every KL is at most ``len(nu) ln 2`` for the shortest program nu playing the switch, where nu's
    posterior ratio ``w(nu|h)/w(nu) = nu(h)/xi(h)`` is >= 1 (the bound assumes it), and the points where it is not.

    For SWITCH(E, P, MIX) before E the ratio is ``2 xi_plain(h)/xi(h) < 4/3`` (docs/mixture.md) and may fall below
    1; those points are not checked against ``len(nu) ln 2`` but reported, each with the bound that does hold there,
    ``-ln w(nu | h) = len(nu) ln 2 - ln(ratio)``.
    """
    ok = all(c.kl_bayes <= c.bound_length + _TOL for c in costs
             if c.shortest_program and c.shortest_posterior_ratio >= 1 - _TOL)
    skipped = [
        {"world": c.world, "t": c.t, "program": c.shortest_program, "posterior_ratio": c.shortest_posterior_ratio,
         "kl_bayes": c.kl_bayes, "bound_length": c.bound_length,
         "bound_with_ratio": c.bound_length - math.log(c.shortest_posterior_ratio),
         "held_with_ratio": c.kl_bayes <= c.bound_length - math.log(c.shortest_posterior_ratio) + _TOL}
        for c in costs if c.shortest_program and c.shortest_posterior_ratio < 1 - _TOL
    ]
    return ok, skipped


def _summarise(config: Config, m: _Measured, common_event: tuple[float, str]) -> tuple[PolicySummary,
                                                                                      tuple[Control, ...]]:
    costs = m.costs
    policy_bits = _plain(m.policy).bits
    by_world = {w: [c for c in costs if c.world == w] for w in ("novel", "precedented")}
    novel, prec = by_world["novel"], by_world["precedented"]
    novel_event, novel_event_text = common_event
    # d: from the construction SWITCH(E, P*, MIX) the novel points' class actually holds (None if it holds none).
    d_values = {c.d_bits for c in novel}
    d_bits = d_values.pop() if len(d_values) == 1 else None
    novel_bound_bits = novel_event + policy_bits + d_bits if d_bits is not None else math.inf
    novel_bound = novel_bound_bits * LN2
    posterior_ok = all(c.kl_bayes <= c.bound_posterior + _TOL for c in costs)
    length_ok, length_skipped = _length_bound(costs)
    # The hypothesis (an event unprecedented under the cap) must hold in the novel and pattern worlds, which are
    # built for it; in the precedented world the bound applies wherever some other event is still unprecedented.
    bounded = all(math.isfinite(c.bound) for c in costs if c.world != "precedented")
    theorem_ok = bounded and all(c.kl_bayes <= c.bound + _TOL for c in costs if math.isfinite(c.bound))
    novel_ok = math.isfinite(novel_bound) and all(c.kl_bayes <= novel_bound + _TOL for c in novel)
    blocked = [v for c in costs if c.demonstrator_in_top_set.get("absolute")
               for v in c.budgeted_value.get("pessimistic", {}).values()]
    pessimistic_value_zero = all(v <= 1e-6 for v in blocked if v != -math.inf)
    solver_failures = sum(v == -math.inf for c in costs for by in c.budgeted_value.values() for v in by.values())
    budgets = next((c.budgeted_value["bayes"] for c in costs if c.budgeted_value), {})
    top_budget = max(budgets) if budgets else math.nan
    values_top = {w: {c.k: c.budgeted_value["bayes"][top_budget] for c in by_world[w] if c.budgeted_value}
                  for w in ("novel", "precedented")}
    guaranteed = [c.kl_pessimistic[r] for c in costs for r, inside in c.demonstrator_in_top_set.items() if inside]
    pessimistic_inf = bool(guaranteed) and all(math.isinf(v) for v in guaranteed)
    points_per_reading = {r: sum(c.demonstrator_in_top_set[r] for c in costs) for r in ("absolute", "prior_relative")}
    study = _class_size_study(config, m.sizes)
    patterns = [c for c in costs if c.world.startswith("pattern")]
    slopes = _slopes_by_class_size(m.sizes)
    caps = sorted(slopes)
    slope = slopes[caps[-1]].slope if caps else math.nan
    slope_lengths = slopes[caps[-1]].event_bits if caps else ()
    slope_change = abs(slope - slopes[caps[-1]].slope_at_previous_size) if caps else math.inf
    slope_converged = bool(slope_change <= config.converged_slope)
    finite = [c for c in costs if math.isfinite(c.bound)]
    ratios_sharp = [c.kl_bayes / c.bound for c in finite]
    ratios_printed = [c.kl_bayes / (c.bound / LN2 / LN2) for c in finite]
    claim = bool(posterior_ok and length_ok and theorem_ok and novel_ok and pessimistic_inf and pessimistic_value_zero)
    controls = _controls(config, m, novel_event_text, novel_bound, d_bits)
    summary = PolicySummary(
        claim=claim,
        pessimistic_agent_value_zero=pessimistic_value_zero, largest_budget=top_budget,
        budget_solver_failures=solver_failures,
        value_at_largest_budget={w: {str(k): v for k, v in by_k.items()} for w, by_k in values_top.items()},
        posterior_bound_held=posterior_ok, length_bound_held=length_ok,
        length_bound_skipped_points=len(length_skipped),
        length_bound_skipped=tuple(SkippedPoint(**point) for point in length_skipped),
        every_point_bounded=bounded,
        theorem_bound_held=theorem_ok, novel_bound_held=novel_ok, pessimistic_infinite=pessimistic_inf,
        kl_pessimistic_min=min(guaranteed, default=math.nan),
        points=len(costs), demonstrator_in_top_set_points=points_per_reading,
        event_max_bits=config.event_max_bits, class_sizes=tuple(config.class_sizes),
        max_kl_novel=max(c.kl_bayes for c in novel), min_kl_novel=min(c.kl_bayes for c in novel),
        novel_event_bits=novel_event, novel_event=novel_event_text, policy=m.policy,
        policy_bits=policy_bits, d_bits=d_bits, novel_bound_bits=novel_bound_bits, novel_bound=novel_bound,
        kl_by_k={w: {str(c.k): c.kl_bayes for c in pts} for w, pts in by_world.items()},
        event_by_k={w: {str(c.k): (c.event, c.event_bits, c.bound) for c in pts} for w, pts in by_world.items()},
        kl_vs_event_bits={c.world: PatternPoint(event_bits=c.event_bits, event=c.event, kl=c.kl_bayes,
                                                bound=c.bound, converged=study[c.world].converged)
                          for c in patterns},
        event_lengths=tuple(sorted({int(c.event_bits) for c in patterns if math.isfinite(c.event_bits)})),
        class_size_study=study,
        slope_nats_per_bit=slope, slope_event_bits=slope_lengths, slope_change_nats_per_bit=slope_change,
        slope_converged=slope_converged, slope_by_class_size={str(cap): v for cap, v in slopes.items()},
        levels_converged=tuple(w for w, row in study.items() if row.converged), ln2=LN2,
        slope_novel_nats_per_k=_slope(np.array([c.k for c in novel], float), np.array([c.kl_bayes for c in novel])),
        slope_precedented_nats_per_k=_slope(np.array([c.k for c in prec], float),
                                            np.array([c.kl_bayes for c in prec])),
        max_ratio_to_sharp_bound=max(ratios_sharp, default=math.nan),
        max_ratio_to_printed_bound=max(ratios_printed, default=math.nan),
        factor_verdict=("the sharp '* ln 2' bound holds" if theorem_ok else "the sharp '* ln 2' bound FAILS")
        + f" (KL reaches {_fmt(max(ratios_sharp, default=math.nan))} of it; "
        + f"{_fmt(max(ratios_printed, default=math.nan))} of the printed '/ log 2' one)",
        detectors_run=m.times["detectors_run"], rerun=m.times["rerun"],
    )
    return summary, controls


def _bounded_control(name: str, description: str, *, measured: float, bound: float,
                     details: dict[str, Any]) -> Control:
    """A control of the conclusion ``KL <= bound``: held only for a finite bound (an infinite bound certifies
    nothing, so it is never "held")."""
    return Control(name, description, measured=float(measured), bound=float(bound), relation="<=", units="nats",
                   held=math.isfinite(bound) and measured <= bound + _TOL, details=details)


def _controls(config: Config, m: _Measured, novel_event: str, novel_bound: float,
              d_bits: int | None) -> tuple[Control, ...]:
    prec = [c for c in m.costs if c.world == "precedented"]
    worst = max(prec, key=lambda c: c.kl_bayes)
    precedented = _bounded_control(
        "precedented", f"the novel world's event {novel_event or '(none)'} in the precedented world, where it held "
        f"every {config.period} steps before t: the largest KL to switch against that event's bound",
        measured=worst.kl_bayes, bound=novel_bound,
        details={"k": worst.k, "kl_by_k": {c.k: c.kl_bayes for c in prec},
                 "shortest_unprecedented_event_by_k": {c.k: [c.event, c.event_bits, c.bound] for c in prec}})
    e = m.no_event
    no_event = _bounded_control(
        "no_event", f"novel world at k = {e.k} with SWITCH events capped at {e.event_cap} bits, below every event "
        "unprecedented at t: no bound (an infinite bound is not held)",
        measured=e.kl_bayes, bound=e.bound, details={"event_cap": e.event_cap, "event_bits": e.event_bits})
    last = max(m.no_mix, key=lambda c: c.k)
    no_mix = _bounded_control(
        "no_mix", f"novel world at k = {last.k} in a class without MIX and SWITCH (no copy-the-mixture model): "
        "its KL against the claim's bound for the novel event",
        measured=last.kl_bayes, bound=novel_bound,
        details={"kl_by_k": {c.k: c.kl_bayes for c in m.no_mix}, "d_bits_in_class": last.d_bits,
                 "claim_d_bits": d_bits, "shortest_program_at_largest_k": last.shortest_program,
                 "slope_nats_per_k": _slope(np.array([c.k for c in m.no_mix], float),
                                            np.array([c.kl_bayes for c in m.no_mix]))})
    return (precedented, no_event, no_mix)


def _finite(x: float) -> float:
    """NaN for a missing point (no policy fits, or a solver failure), so that it is not drawn."""
    return x if math.isfinite(x) else math.nan


def draw_figures(folder: RunFolder, config: Config, summary: Theorem1Summary | PolicySummary) -> tuple[str, ...]:
    """:data:`FIGURES` from the rows saved in ``folder``: the policy mode's from ``metrics.csv`` (its ``series``
    column, :data:`SERIES`) and the policy-mode summary (``summary.policy_mode`` in the joint mode), then in the
    joint mode the joint check's from its CSV files (:func:`aitheory.theory.theorem1_joint.plot_joint`)."""
    policy = summary.policy_mode if isinstance(summary, Theorem1Summary) else summary
    figures = _draw_policy(folder, config, policy)
    if config.mode == "joint":
        figures += joint.plot_joint(folder.path, config.joint_copy_bits)
    return figures


def _draw_policy(folder: RunFolder, config: Config, summary: PolicySummary) -> tuple[str, ...]:
    from aitheory.plotting import pyplot, save_figure

    budgets = sorted(set(config.budgets))
    rows = folder.read_rows("metrics.csv")
    if rows and "series" not in rows[0]:
        raise RunFolderError(f"{folder.file('metrics.csv')}: no column 'series': the run folder predates it, so its "
                             "rows cannot be told apart; recompute with 'aitheory check theorem1 --out NEW_DIR' "
                             "(with the options in its config.json)")
    rows = folder.read_rows("metrics.csv", ("series", "world", "k", "event_cap", "kl_bayes", "bound", "event_bits",
                                            *(f"value_{b}_{x:g}" for x in budgets for b in ("bayes", "pessimistic"))))
    series = {name: [r for r in rows if r["series"] == name] for name in SERIES}
    costs, sizes, no_mix = series["point"], series["class_size"], series["no_mix"]

    def num(r: Mapping[str, str], key: str) -> float:
        return float(r[key])

    plt = pyplot()
    names = ["theorem1_kl_vs_event_bits", "theorem1_kl_vs_k", "theorem1_class_size"]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for i, cap in enumerate(sorted(set(summary.class_sizes))):
        pts = [r for r in sizes if r["world"].startswith("pattern") and int(r["event_cap"]) == cap
               and math.isfinite(num(r, "event_bits"))]
        ax.plot([num(r, "event_bits") for r in pts], [num(r, "kl_bayes") for r in pts], "o", color=f"C{i}",
                mfc="none" if cap != max(summary.class_sizes) else None,
                label=f"KL to switch, events <= {cap} bits in the class")
    top = [r for r in costs if r["world"].startswith("pattern") and math.isfinite(num(r, "bound"))]
    for r in top:
        ax.annotate(r["world"].split()[1], (num(r, "event_bits"), num(r, "kl_bayes")), fontsize=7, xytext=(3, 3),
                    textcoords="offset points")
    if top:
        xs = np.array(sorted({num(r, "event_bits") for r in top}))
        ax.plot(xs, [next(num(r, "bound") for r in top if num(r, "event_bits") == x) for x in xs], "k-", lw=1,
                label=rf"bound $[K(E)+K(\pi^*)+d]\,\ln 2$, d={summary.d_bits}")
    ax.set_xlabel("K(E): bits of the shortest event unprecedented at t")
    ax.set_ylabel("KL needed (nats)")
    ax.set_title(f"Theorem 1, novel patterns after k={int(top[0]['k']) if top else 0}: slope "
                 f"{_fmt(summary.slope_nats_per_bit)} nats/bit "
                 f"({'converged' if summary.slope_converged else 'not converged'} in the class size) on "
                 f"{list(summary.slope_event_bits)} (ln 2 = {LN2:.3f})", fontsize=8)
    ax.legend(fontsize=7)
    save_figure(fig, folder.file(names[0]))

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for world, colour, label in (("novel", "C0", "unprecedented (novel observation)"),
                                 ("precedented", "C3", "precedented (seen not switching)")):
        pts = [r for r in costs if r["world"] == world]
        ax.plot([int(r["k"]) for r in pts], [num(r, "kl_bayes") for r in pts], "o-", color=colour, label=label)
        if world == "precedented":
            ax.plot([int(r["k"]) for r in pts], [_finite(num(r, "bound")) for r in pts], ":", color=colour, lw=1,
                    label="bound of the shortest event still unprecedented there")
    ax.plot([int(r["k"]) for r in no_mix], [num(r, "kl_bayes") for r in no_mix], "x--", color="C2",
            label="control: no MIX, no SWITCH in the class")
    ax.axhline(_finite(float(summary.novel_bound)), color="k", lw=1,
               label=f"bound for the novel event: {_fmt(summary.novel_bound_bits)} bits x ln 2")
    ax.set_xlabel("k: demonstrator steps before the switch")
    ax.set_ylabel(r"KL$(\pi^*\|\xi)$ needed (nats)")
    ax.set_title(f"Theorem 1 (events <= {summary.event_max_bits} bits): the KL needed after an unprecedented "
                 "event does not grow with data", fontsize=8)
    ax.text(0.02, 0.97, rf"against the pessimistic imitator $\nu_\alpha$: >= {_fmt(summary.kl_pessimistic_min)} "
            "nats where the demonstrator is in its top set", transform=ax.transAxes, va="top", fontsize=7)
    ax.legend(fontsize=6, loc="lower right")
    save_figure(fig, folder.file(names[1]))

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for i, (world, row) in enumerate(summary.class_size_study.items()):
        ax.plot(row.class_sizes, row.kl, "o-", color=f"C{i}",
                label=f"{world} (k = {row.k}){'' if row.converged else ', not converged'}")
    ax.set_xlabel("class size: SWITCH events of at most this many bits")
    ax.set_ylabel(r"KL$(\pi^*\|\xi)$ needed (nats)")
    ax.set_title("Theorem 1: the KL at fixed world against the class size", fontsize=9)
    ax.legend(fontsize=7)
    save_figure(fig, folder.file(names[2]))
    if not budgets:
        return tuple(names)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for i, budget in enumerate(budgets):
        for world, style in (("novel", "o-"), ("precedented", "s--")):
            pts = [r for r in costs if r["world"] == world]
            ax.plot([int(r["k"]) for r in pts], [_finite(num(r, f"value_bayes_{budget:g}")) for r in pts], style,
                    color=f"C{i}", label=f"Bayesian base, {world}, budget {budget:g} nats", ms=4)
    pts = [r for r in costs if r["world"] == "novel"]
    ax.plot([int(r["k"]) for r in pts], [_finite(num(r, f"value_pessimistic_{budgets[-1]:g}")) for r in pts], "kx-",
            label=f"pessimistic base (deferring to the demonstrator), budget {budgets[-1]:g}")
    ax.set_xlabel("k: demonstrator steps before the switch")
    ax.set_ylabel("value: expected fraction of 'bad' actions (1)")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title("KL-budgeted agent (Definition 2 optimum); missing points: no policy fits the budget", fontsize=9)
    ax.legend(fontsize=6, loc="center left")
    save_figure(fig, folder.file("theorem1_value_vs_k"))
    return (*names, "theorem1_value_vs_k")
