r"""Proposition 2 (frequency of simple unprecedented events).

**Statement.** In any environment, the complexity of the simplest event that is unprecedented at some future
time, ``f(t) = min{ K(E) : E unprecedented at some t' >= t }``, grows slower than every computable unbounded
function. Reason: "it is time n" is an event unprecedented exactly at n with ``K <= K(n) + O(1)``, and
``min_{n >= t} K(n)`` grows slower than any computable unbounded function. So more data never makes the
``K(E)`` term of Theorem 1 large.

**What is computed** (all lengths in bits, 3 per BF-8 token, plain code). A real history: ``N - 1``
observations ``o_1 .. o_{N-1}`` of a seeded stochastic environment (i.i.d. Bernoulli(p), or a two-state Markov
chain). Events are plain BF-8 detectors run on that stream (``aitheory.dsl.events``): E holds at t if its t-th
emission is a non-zero ``.``, and is unprecedented at t if it first holds at t.

- ``g_L(t)``: the length of the shortest detector of at most ``L`` bits whose first-hold time is exactly t
  (``inf`` if none), from *every* program up to L bits (streamed in blocks; per program only its first-hold time
  is kept). ``f_L(t) = min_{t <= t' <= N} g_L(t')``. Where ``f_L(t)`` is finite it equals the history's
  ``f_N(t)`` (the simplest event first holding in ``[t, N]``) exactly, since every shorter program was run;
  where it is ``inf``, ``f_N(t) > L``.
- The proof's mechanism, constructed explicitly: :func:`counter_detector` ``C_n`` is a detector that holds
  first at exactly n on every observation stream ("it is time n"): it writes ``x = n - 2`` in binary on the
  tape and decrements it once per emission, emitting 0, until the borrow runs past the top bit, then emits 1.
  Its length ``l(n) = 3 (20 + 3 m + popcount(x) + [x odd] - [x even])`` bits (``m`` the bit length of x) is
  ``O(log n)``, shortest at ``n = 2^j + 2``. Every ``C_n``, ``3 <= n <= N``, is run on the real stream to
  verify that it first holds at n (and a sample with the reference interpreter). ``U(t) = min_{t <= n <= N}
  l(n)`` is then a verified upper bound on ``f_N(t)`` at every t, computed independently of the enumeration.
- ``F(t) = min(f_L(t), U(t))``: the best certified upper bound on ``f_N(t)`` (exact where ``<= L``).

**held** (what could come out false):

1. *mechanism*: every ``C_n`` first holds at exactly n on the real history (fast path, all n; reference
   interpreter, a sample including every n achieving ``U``), and its measured length equals ``l(n)``;
2. *consistency*: ``f_L(t) <= U(t)`` wherever ``f_L(t)`` is finite; ``f_L <= f_L^blind`` (the same minimum over
   observation-blind detectors only); and ``g_L(n) <= l(n)`` for every counter short enough to be enumerated
   (``l(n) <= L``), i.e. the enumeration misses nothing the construction exhibits;
3. *logarithmic growth*: a line ``c + b log2 t`` fitted on the first half of the ``log2 t`` range
   (``t <= sqrt(N)``; ``b`` the least-squares slope of F's step corners on ``log2 t``, ``c`` the largest
   residual so the line is an upper envelope there; see :func:`fit_log_envelope`) still bounds ``F(t)`` on the
   second half (``sqrt(N) < t <= N``). The
   headline measured value is the largest excess ``max_t F(t) - (c + b log2 t)`` over the second half (bits);
   held needs it ``<= 0`` (up to a float tolerance of 1e-9 bits).

**What is certified** (the verdict says it in these words): ``f(t) <= U(t) = O(log t)``, with ``U`` verified
on the history to N, and ``f(t)`` exact where the enumeration reaches (``f(t) <= L``: for t up to
``f_exact_up_to_t``). Beyond that f is only bounded from above; nothing here measures how much slower than
``log t`` it grows.

**Several streams.** Besides the primary history, every detector of at most ``stream_max_bits`` bits is run on
each of ``streams`` (``kind:p`` as for the primary one; ``bernoulli:0`` is all zeros): f exact per stream, and
``f_L <= U`` on each (the counters read no observation, so ``U`` holds on every stream; their envelope counters
are re-run on each). All streams are enumerated in one pass (:func:`enumerate_streams`, over
:mod:`aitheory.dsl.first_hold_search`: a detector that reads no observation runs once for all of them), with the
same tables as the per-stream slow path :func:`enumerate_first_holds_reference`. The verdict says to how many
bits f is exact on which stream, and up to which t (``f_exact_streams``).

**A faster-growing family** (:func:`tower_detector`). ``T_j`` lays out its own counter: starting from one cell, it
triples a run of 1s j times (each pass appends two cells per cell and fills the gap: ``L -> 3L + 1``), emitting a
0 per copied cell, then runs the binary decrement loop of ``C_n`` on the run read as an all-ones counter of
``W_j`` bits. It fires first at ``n(j) = E_j + 2^(W_j) + 1`` (``E_j`` the zeros emitted while laying out) with
``76 + 2j`` tokens: ``O(j)`` tokens for ``log2 n = O(3^j)``. Each level up to ``tower_levels`` is run to its
firing time (the fast kernel; the reference interpreter where ``n(j) <= 10^4``) and its length compared with the
binary counter ``l(n(j))`` at the same n.

**Negative controls** (the hypothesis that the detector class holds the simple events is made false, so the
conclusion must fail): ``small_class``: only the detectors of at most ``control_max_bits`` bits (fewer than the 9
bits of ``+.]``, the simplest event) and no counters: no event of the class is unprecedented at any t, so
``f(t) <= U(t) < inf`` fails; ``unary_counters``: "time n" coded in unary (``+~^(n-1).]``, ``3(n + 2)`` bits, the
only time events such a class would have): the growth test must fail.

**Theorem 1's bound from it**: ``(U(t) + K(pi*) + d) ln 2`` nats with ``K(pi*) = 15`` bits (``+[.]]``, "always
play 1", measured from the program) and ``d = 6`` bits (``len(SWITCH E P MIX) = 2 + (1 + 3n_E) + (1 + 3n_P) + 2``
in BF-8's full grammar), at t = 8, 100, 1000, N.

A finite history cannot test an asymptotic statement about all computable functions; see
``docs/theory/prop2.md`` for what these checks do and do not show.
"""

from __future__ import annotations

import hashlib
import io
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from aitheory.dsl.codes import BITS_PER_TOKEN
from aitheory.dsl.combinators import event_holds, unprecedented_at
from aitheory.dsl.enumerate import blocks, enumerate_block, program_at
from aitheory.dsl.events import EVENT_STATUSES, first_hold_times
from aitheory.dsl.fast import pack_programs
from aitheory.dsl.first_hold_search import StreamSet, first_hold_block, stream_set
from aitheory.dsl.limits import LIMITS
from aitheory.dsl.parser import parse
from aitheory.dsl.reference import DEFAULT_STEPS, DEFAULT_TAPE_BOUND, run_reference
from aitheory.progress import progress
from aitheory.results import RunFolder, atomic_write_bytes, fingerprint, write_csv
from aitheory.theory.common import CheckResult, Control, Summary, controls_verdict, held_with_controls

__all__ = [
    "FIGURES",
    "NAME",
    "STATEMENT",
    "SUMMARY",
    "Config",
    "Enumerated",
    "EventRecord",
    "ExactStream",
    "GrowthFit",
    "Prop2Summary",
    "StreamSummary",
    "TowerSummary",
    "counter_bits",
    "counter_detector",
    "draw_figures",
    "enumerate_first_holds",
    "enumerate_first_holds_reference",
    "enumerate_streams",
    "fit_log_envelope",
    "observations",
    "run",
    "staircase_text",
    "suffix_min",
    "tower_detector",
    "tower_fire_time",
    "unary_detector",
]

NAME = "prop2"
STATEMENT = ("Proposition 2: f(t), the length of the simplest event unprecedented at some t' >= t, grows slower "
             "than every computable unbounded function")

#: Alphabet size: BF-8 detectors on binary observations, as in the rest of aitheory.
K = 2
#: Smallest n for which :func:`counter_detector` is defined.
COUNTER_MIN_N = 3
#: Length in bits of the simplest event, ``+.]`` (holds at t = 1): a class of shorter detectors holds no event.
SIMPLEST_EVENT_BITS = 9
#: Highest tower level that can be run to its firing time (level 4 fires after about 2^60 emissions).
TOWER_MAX_LEVEL = 3
#: Theorem 1's construction beyond the event: pi* = "always play 1", the shortest such plain program.
PI_STAR = "+[.]]"
#: Bits of ``SWITCH E P MIX`` beyond the plain-code lengths of E and P: ``2 + 1 + 1 + 2`` (full grammar).
SWITCH_OVERHEAD_BITS = 6


@dataclass(frozen=True)
class Config:
    """Proposition 2's check: a real history, every detector up to ``max_bits``, and the proof's counters."""

    horizon: int = 10_000
    """N: the number of time steps (emissions) of the history; observations o_1..o_{N-1} are drawn."""
    max_bits: int = 30
    """L: every plain detector of at most this many bits (3 per token) is run; 30 bits = 25,916,429 programs."""
    environment: Literal["bernoulli", "markov"] = "bernoulli"
    """The stochastic environment: i.i.d. Bernoulli(p), or a two-state Markov chain that flips with probability p."""
    p: float = 0.5
    """Bernoulli: P(o_t = 1); Markov: P(o_t != o_{t-1}) (o_1 ~ Bernoulli(1/2))."""
    seed: int = 0
    """Seed of the numpy Generator that draws the observations."""
    steps: int = DEFAULT_STEPS
    """T: per-emission step budget of every detector (a detector that needs more never holds)."""
    tape_bound: int = DEFAULT_TAPE_BOUND
    """B: detectors may use cells -B..B."""
    reference_checks: int = 8
    """How many counter detectors C_n, besides those achieving the envelope, are also run with the reference
    interpreter (randomly chosen n)."""
    streams: tuple[str, ...] = ("bernoulli:0", "bernoulli:1", "markov:0.01")
    """Further observation streams (kind:p, kind bernoulli or markov; seed as above) on which f is enumerated."""
    stream_max_bits: int = 30
    """Every detector of at most this many bits is run on each of ``streams`` (in the same pass as the primary
    history: a detector that reads no observation runs once for all)."""
    tower_levels: int = 3
    """Levels j = 1..this of the tower counters T_j run to their firing time n(j) (j = 3: about 10^6 steps)."""
    control_max_bits: int = 6
    """The small-class control: detectors of at most this many bits (must be < 9, the simplest event's length)."""
    plot: bool = True
    """Draw the figures (needs matplotlib)."""

    def __post_init__(self) -> None:
        if self.horizon < 2 * COUNTER_MIN_N:
            raise ValueError(f"argument horizon: must be >= {2 * COUNTER_MIN_N}, got {self.horizon}")
        if not BITS_PER_TOKEN <= self.max_bits <= 33:
            raise ValueError(f"argument max_bits: must be in 3..33 (33 bits = 2e8 programs), got {self.max_bits}")
        if self.environment not in ("bernoulli", "markov"):
            raise ValueError(f"argument environment: must be 'bernoulli' or 'markov', got {self.environment!r}")
        if not (math.isfinite(self.p) and 0.0 <= self.p <= 1.0):
            raise ValueError(f"argument p: must be a probability in [0, 1], got {self.p!r}")
        if self.steps < 1:
            raise ValueError(f"argument steps: must be >= 1, got {self.steps}")
        if self.tape_bound < 1:
            raise ValueError(f"argument tape_bound: must be >= 1, got {self.tape_bound}")
        LIMITS.check_run(2, self.horizon, self.steps, self.tape_bound, bounded_horizon=False)  # the machine's caps
        if self.horizon > 10**7:
            raise ValueError(f"argument horizon: N = {self.horizon} steps needs {8 * self.horizon / 2**30:.3g} GiB per "
                             "float array of the history; at most 1e7")
        if self.seed < 0:
            raise ValueError(f"argument seed: must be >= 0 (a numpy seed), got {self.seed}")
        if self.reference_checks < 0:
            raise ValueError(f"argument reference_checks: must be >= 0, got {self.reference_checks}")
        for spec in self.streams:
            _parse_stream(spec)
        if not BITS_PER_TOKEN <= self.stream_max_bits <= 33:
            raise ValueError(f"argument stream_max_bits: must be in 3..33, got {self.stream_max_bits}")
        if not 0 <= self.tower_levels <= TOWER_MAX_LEVEL:
            raise ValueError(f"argument tower_levels: must be in 0..{TOWER_MAX_LEVEL} (level {TOWER_MAX_LEVEL + 1} "
                             f"fires after about 2^60 steps), got {self.tower_levels}")
        if not BITS_PER_TOKEN <= self.control_max_bits < SIMPLEST_EVENT_BITS:
            raise ValueError(f"argument control_max_bits: must be in 3..{SIMPLEST_EVENT_BITS - 1} (below the "
                             f"simplest event, +.], {SIMPLEST_EVENT_BITS} bits), got {self.control_max_bits}")

    @classmethod
    def quick(cls) -> Config:
        return cls(horizon=600, max_bits=18, reference_checks=2, streams=("bernoulli:0",), stream_max_bits=15,
                   tower_levels=2)


def _parse_stream(spec: str) -> tuple[str, float]:
    """``"kind:p"`` -> ``(kind, p)``; ``ValueError`` naming ``streams`` otherwise."""
    kind, _, p = spec.partition(":")
    try:
        prob = float(p)
    except ValueError:
        prob = math.nan
    if kind not in ("bernoulli", "markov") or not (0.0 <= prob <= 1.0):
        raise ValueError(f"argument streams: expected kind:p with kind bernoulli or markov and p in [0, 1], "
                         f"got {spec!r}")
    return kind, prob


def _draw(environment: str, p: float, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if environment == "bernoulli":
        return (rng.random(n) < p).astype(np.int8)
    flips = rng.random(n) < p
    first = int(rng.random() < 0.5)
    return ((first + np.cumsum(flips) - flips[0]) % 2).astype(np.int8)


def observations(config: Config) -> np.ndarray:
    """The history's observations ``o_1 .. o_{N-1}`` (``int8`` in {0, 1}) from ``config``'s environment and seed."""
    return _draw(config.environment, config.p, config.horizon - 1, config.seed)


def stream_observations(spec: str, config: Config) -> np.ndarray:
    """The observations of one of ``config.streams`` (same horizon and seed as the primary history)."""
    kind, p = _parse_stream(spec)
    return _draw(kind, p, config.horizon - 1, config.seed)


# -- the proof's mechanism: "it is time n" ------------------------------------------------------------------------


def counter_detector(n: int) -> str:
    """A detector (text) that first holds at exactly t = n on every observation stream, ``n >= 3``.

    With ``x = n - 2`` of ``m`` bits, the tape holds, from cell 0 rightwards: a top marker 1, then for each bit
    of x from the most significant down a *rail* cell 1 and the bit; then a 0 sentinel. The loop
    ``[>>[>]<+[<<+].<]`` walks to the sentinel, decrements x (flip the lowest bit; while the flip gave 1, i.e.
    a borrow, move two cells left and flip), emits the 0 it stopped on, and steps left onto that bit's rail
    (1: go on). When x was 0 the borrow reaches the top marker, and the cell left of it is 0: the loop exits
    after x + 1 emissions of 0, and ``+.`` emits 1 at t = x + 2 = n. (For even x the lowest bit is 0 and need
    not be written, saving the ``>`` and the ``<``.) Never reads an observation.
    """
    if int(n) != n or n < COUNTER_MIN_N:
        raise ValueError(f"argument n: must be an integer >= {COUNTER_MIN_N}, got {n!r}")
    x = int(n) - 2
    m = x.bit_length()
    init = "+" + "".join(">+>" + ("+" if (x >> i) & 1 else "") for i in range(m - 1, -1, -1))
    init = init[:-1] if x % 2 == 0 else init + "<"  # end on the lowest bit's rail
    return init + "[>>[>]<+[<<+].<]" + "+.]"


def counter_bits(n: np.ndarray | int) -> np.ndarray:
    """``l(n)``: length in bits of :func:`counter_detector` (n), by its formula (vectorised over n >= 3)."""
    x = np.asarray(n, dtype=np.int64) - 2
    if (x < 1).any():
        raise ValueError(f"argument n: every n must be >= {COUNTER_MIN_N}")
    m = np.floor(np.log2(x)).astype(np.int64) + 1
    pop = np.zeros_like(x)
    y = x.copy()
    while (y > 0).any():
        pop += y & 1
        y >>= 1
    tokens = 20 + 3 * m + pop + np.where(x % 2 == 1, 1, -1)
    return BITS_PER_TOKEN * tokens


@dataclass(frozen=True)
class CounterCheck:
    """The construction run on the real history: lengths per n and whether each fired exactly at n."""

    n: np.ndarray
    """The times n = 3..N."""
    bits: np.ndarray
    """``l(n)`` in bits (measured from the detector text; equals :func:`counter_bits`)."""
    first: np.ndarray
    """Measured first-hold time of ``C_n`` (fast interpreter)."""
    reference_n: tuple[int, ...]
    """The n also run with the reference interpreter."""
    reference_first: tuple[int, ...]
    """Their first-hold times from the reference interpreter (0 = never)."""

    @property
    def verified(self) -> bool:
        return bool((self.first == self.n).all()) and self.reference_n == self.reference_first


def check_counters(obs: np.ndarray, config: Config, rng: np.random.Generator) -> CounterCheck:
    """Run every ``C_n``, ``3 <= n <= N``, on ``obs`` (fast), and some with the reference interpreter."""
    n = np.arange(COUNTER_MIN_N, config.horizon + 1, dtype=np.int64)
    programs = [parse(counter_detector(int(v))).codes for v in n]
    codes, lengths = pack_programs(programs)
    bits = BITS_PER_TOKEN * lengths.astype(np.int64)
    got = first_hold_times(codes, lengths, K, config.horizon, obs, config.steps, config.tape_bound)
    envelope_n = _suffix_argmin(bits, n)
    extra = rng.choice(n, size=min(config.reference_checks, n.size), replace=False).tolist()
    ref_n = tuple(sorted({*envelope_n, *(int(v) for v in extra)}))
    ref_first = tuple(
        unprecedented_at(event_holds(counter_detector(v), K, config.horizon, obs.tolist(), config.steps,
                                     config.tape_bound)) or 0
        for v in ref_n
    )
    return CounterCheck(n=n, bits=bits, first=got.first, reference_n=ref_n, reference_first=ref_first)


def _suffix_argmin(values: np.ndarray, times: np.ndarray) -> list[int]:
    """The times achieving the suffix minimum of ``values`` (the record-setters read from the right)."""
    out: list[int] = []
    best = math.inf
    for v, t in zip(values[::-1], times[::-1], strict=True):
        if v < best:
            best = v
            out.append(int(t))
    return sorted(out)


# -- a faster-growing family: the counter lays out its own width ---------------------------------------------------

#: One tripling pass over a run of 1s (head on its first cell, 0s to the right): for each cell, mark it (0), emit
#: the 0, walk past the run and the new copies, append two 1s, walk back, unmark, step on; ends on the gap.
_TRIPLE = "[+.>[>]>[>]+>+<[<]<[<]+>]"
#: The binary decrement loop of :func:`counter_detector` and its ending.
_DECREMENT = "[>>[>]<+[<<+].<]+.]"


def _tower_run_length(j: int) -> int:
    """Length of the run after j tripling passes: ``L_0 = 1``, ``L_{i+1} = 3 L_i + 1``."""
    length = 1
    for _ in range(j):
        length = 3 * length + 1
    return length


def tower_detector(j: int) -> str:
    """``T_j``: a detector that first holds at exactly :func:`tower_fire_time` (j) on every stream, ``j >= 1``.

    Tape: a unary loop counter of j 1s at cells ``-(j-1)..0``, a 0 at cell 1, the run from cell 2. Each pass of
    the outer loop consumes the loop counter's leftmost 1, walks to the run, triples it (:data:`_TRIPLE`, then
    fills the gap: ``L -> 3L + 1``) and walks back. Then the run, made odd-length, is read as :func:`counter_detector`'s
    layout (marker, then rail/bit pairs, all 1: ``x = 2^W - 1``) and the decrement loop counts it down. Never
    reads an observation; ``76 + 2j`` tokens.
    """
    if int(j) != j or j < 1:
        raise ValueError(f"argument j: must be an integer >= 1, got {j!r}")
    length = _tower_run_length(int(j))
    ending = ">>[>]+<" if length % 2 == 0 else ">>[>]<<"
    return (">>+<<" + "+" + "<+" * (int(j) - 1) + "[>]<" + "[[<]>+>[>]>" + _TRIPLE + "+[<]<]" + ending
            + _DECREMENT)


def tower_fire_time(j: int) -> int:
    """``n(j) = E_j + 2^(W_j) + 1``: ``E_j = L_0 + .. + L_{j-1}`` zeros emitted while tripling, ``W_j = floor(L_j / 2)``
    bits of the all-ones counter (the run, made odd, is a marker and ``W_j`` rail/bit pairs)."""
    emitted = sum(_tower_run_length(i) for i in range(int(j)))
    width = _tower_run_length(int(j)) // 2
    return emitted + 2**width + 1


@dataclass(frozen=True)
class TowerCheck:
    """One tower level run to its firing time: where it fired, and its length against the binary counter's."""

    j: int
    n: int
    """Predicted first-hold time ``n(j)``."""
    first: int
    """Measured first-hold time (fast kernel, all-zero observations; the detector reads none)."""
    reads: bool
    reference_first: int | None
    """The reference interpreter's first-hold time (None: not run, ``n(j)`` too large for it)."""
    bits: int
    binary_bits: int
    """``l(n(j))``: the binary counter firing at the same time."""

    @property
    def verified(self) -> bool:
        return (self.first == self.n and not self.reads and self.reference_first in (None, self.n)
                and self.bits == BITS_PER_TOKEN * (76 + 2 * self.j))


#: The reference interpreter runs a tower level only up to this firing time.
TOWER_REFERENCE_MAX_N = 10_000


def check_towers(levels: int, steps: int = DEFAULT_STEPS, tape_bound: int = DEFAULT_TAPE_BOUND) -> list[TowerCheck]:
    """Run ``T_1 .. T_levels`` to their firing times (see :class:`TowerCheck`)."""
    out = []
    for j in range(1, levels + 1):
        text = tower_detector(j)
        n = tower_fire_time(j)
        codes, lengths = pack_programs([parse(text).codes])
        got = first_hold_times(codes, lengths, K, n + 1, None, steps, tape_bound)
        ref = (unprecedented_at(event_holds(text, K, n + 1, None, steps, tape_bound)) or 0
               if n <= TOWER_REFERENCE_MAX_N else None)
        out.append(TowerCheck(j=j, n=n, first=int(got.first[0]), reads=bool(got.reads[0]), reference_first=ref,
                              bits=BITS_PER_TOKEN * int(lengths[0]), binary_bits=int(counter_bits(n))))
    return out


def unary_detector(n: int) -> str:
    """``+~^(n-1).]``: "it is time n" in unary (``3(n + 2)`` bits); ``~`` never holds, so it first holds at n."""
    if int(n) != n or n < 1:
        raise ValueError(f"argument n: must be an integer >= 1, got {n!r}")
    return "+" + "~" * (int(n) - 1) + ".]"


def _unary_envelope(horizon: int, sample: np.ndarray, steps: int, tape_bound: int) -> tuple[np.ndarray, bool]:
    """``U_unary(t) = min_{t <= n <= N} 3(n + 2) = 3(t + 2)``, and whether the sampled unary detectors fire at n
    (and have that length)."""
    programs = [parse(unary_detector(int(v))).codes for v in sample]
    codes, lengths = pack_programs(programs)
    got = first_hold_times(codes, lengths, K, horizon, None, steps, tape_bound)
    lengths_ok = bool((BITS_PER_TOKEN * lengths.astype(np.int64) == 3 * (sample + 2)).all())
    t = np.arange(1, horizon + 1)
    return suffix_min(3.0 * (t + 2)), bool((got.first == sample).all()) and lengths_ok


# -- exhaustive enumeration -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enumerated:
    """First-hold statistics of every detector up to ``max_bits`` on one history (index t = 0..N; t = 0 unused).

    ``g[t]``: bits of the shortest detector first holding at t (``inf`` if none); ``first_index[t]``: canonical
    index of the first such detector (-1 if none); ``blind[t]``: that detector is observation-blind;
    ``g_blind[t]``: the same minimum over observation-blind detectors only; ``count[t]``: how many detectors
    first hold at t; ``status_count``: programs per final status (``EVENT_STATUSES``); ``steps``: machine
    steps of all of them (a run shared with another stream, or fast-forwarded, counts its full length).
    """

    max_bits: int
    programs: int
    g: np.ndarray
    first_index: np.ndarray
    blind: np.ndarray
    g_blind: np.ndarray
    count: np.ndarray
    status_count: dict[str, int] = field(default_factory=dict)
    steps: int = 0


def enumerate_first_holds(
    max_bits: int,
    horizon: int,
    obs: np.ndarray,
    steps: int = DEFAULT_STEPS,
    tape_bound: int = DEFAULT_TAPE_BOUND,
    show_progress: bool = False,
) -> Enumerated:
    """Run every plain detector of at most ``max_bits`` bits on ``obs`` to its first hold, block by block
    (:func:`enumerate_streams` with one stream).

    Memory is bounded by one block (about 131k programs) plus O(N) arrays: no programs-by-time array is formed.
    """
    return enumerate_streams([max_bits], horizon, [obs], steps, tape_bound, show_progress)[0]


def enumerate_streams(
    max_bits: Sequence[int],
    horizon: int,
    streams: Sequence[np.ndarray],
    steps: int = DEFAULT_STEPS,
    tape_bound: int = DEFAULT_TAPE_BOUND,
    show_progress: bool = False,
    checkpoint: str | Path | None = None,
    every_seconds: float = 60.0,
) -> list[Enumerated]:
    """:class:`Enumerated` of every detector of at most ``max_bits[s]`` bits on each of ``streams``, in one pass.

    Each block of programs (one length, canonical order) runs once through
    :func:`aitheory.dsl.first_hold_search.first_hold_block` on the streams whose ``max_bits`` reach it: a detector
    runs on the first of them, and on the others only if it read an observation (else its result is the same
    there). Same results as :func:`enumerate_first_holds_reference` on each stream (first-hold times exactly;
    statuses up to the extra ``periodic`` runs found on constant tails, see that module).

    ``checkpoint``: a ``.npz`` path; every ``every_seconds`` (and at the end) the tables of the blocks done so far
    are written there atomically, and a run with the same arguments resumes from it (one of other arguments is
    refused with ``ValueError``).
    """
    if len(max_bits) != len(streams) or not streams:
        raise ValueError(f"arguments max_bits and streams: need one max_bits per stream, got {len(max_bits)} and "
                         f"{len(streams)}")
    n_s = len(streams)
    g = np.full((n_s, horizon + 1), math.inf)
    g_blind = np.full((n_s, horizon + 1), math.inf)
    first_index = np.full((n_s, horizon + 1), -1, dtype=np.int64)
    blind = np.zeros((n_s, horizon + 1), dtype=bool)
    count = np.zeros((n_s, horizon + 1), dtype=np.int64)
    status = np.zeros((n_s, len(EVENT_STATUSES)), dtype=np.int64)
    programs = np.zeros(n_s, dtype=np.int64)
    total = np.zeros(n_s, dtype=np.int64)
    packed: dict[tuple[int, ...], StreamSet] = {}
    all_blocks = list(blocks(max(max_bits)))
    tables = {"g": g, "g_blind": g_blind, "first_index": first_index, "blind": blind, "count": count,
              "status": status, "programs": programs, "total": total}
    key = _enumeration_key(max_bits, horizon, streams, steps, tape_bound)
    done = _load_enumeration(checkpoint, key, tables) if checkpoint is not None else 0
    saved_at = time.monotonic()
    for i, block in enumerate(progress(all_blocks, desc=f"detectors <= {max(max_bits)} bits on {n_s} streams",
                                       unit="block", disable=not show_progress)):
        if i < done:
            continue
        if checkpoint is not None and time.monotonic() - saved_at >= every_seconds:
            _save_enumeration(checkpoint, key, tables, i)
            saved_at = time.monotonic()
        active = tuple(s for s in range(n_s) if max_bits[s] >= block.bits)
        if active not in packed:
            packed[active] = stream_set([streams[s] for s in active], horizon, K)
        r = first_hold_block(enumerate_block(block), packed[active], steps, tape_bound)
        for j, s in enumerate(active):
            programs[s] += block.size
            status[s] += r.status[j]
            total[s] += r.steps[j]
            count[s] += r.count[j]
            times = np.flatnonzero(r.first[j] >= 0)
            new = times[g[s, times] > block.bits]
            g[s, new] = block.bits
            first_index[s, new] = block.start + r.first[j, new]
            blind[s, new] = r.first_blind[j, new]
            blind_times = np.flatnonzero(r.any_blind[j])
            g_blind[s, blind_times] = np.minimum(g_blind[s, blind_times], block.bits)
    if checkpoint is not None:
        _save_enumeration(checkpoint, key, tables, len(all_blocks))
    return [Enumerated(max_bits=int(max_bits[s]), programs=int(programs[s]), g=g[s], first_index=first_index[s],
                       blind=blind[s], g_blind=g_blind[s], count=count[s],
                       status_count={name: int(c) for name, c in zip(EVENT_STATUSES, status[s], strict=True)},
                       steps=int(total[s]))
            for s in range(n_s)]


def _enumeration_key(max_bits: Sequence[int], horizon: int, streams: Sequence[np.ndarray], steps: int,
                     tape_bound: int) -> str:
    """Identity of an enumeration's arguments (the streams by their SHA-256) for its checkpoint."""
    digests = [hashlib.sha256(np.ascontiguousarray(np.asarray(o)[: horizon - 1], dtype=np.uint8).tobytes()).hexdigest()
               for o in streams]
    return fingerprint("prop2-enumeration", {"max_bits": [int(b) for b in max_bits], "horizon": horizon,
                                             "streams": digests, "steps": steps, "tape_bound": tape_bound})


def _save_enumeration(path: str | Path, key: str, tables: dict[str, np.ndarray], done: int) -> None:
    """Write the tables after ``done`` blocks to ``path`` atomically."""
    buf = io.BytesIO()
    payload: dict[str, Any] = {"key": np.array(key), "done": np.array(done), **tables}
    np.savez(buf, **payload)
    atomic_write_bytes(path, buf.getvalue())


def _load_enumeration(path: str | Path, key: str, tables: dict[str, np.ndarray]) -> int:
    """Fill ``tables`` from the checkpoint at ``path`` and return its number of finished blocks (0 if none)."""
    if not Path(path).is_file():
        return 0
    with np.load(path, allow_pickle=False) as data:
        if str(data["key"]) != key:
            raise ValueError(f"argument checkpoint: {str(path)!r} belongs to another enumeration (other bits, "
                             "streams, horizon or machine limits); remove it or choose another path")
        for name, arr in tables.items():
            arr[...] = data[name]
        return int(data["done"])


def enumerate_first_holds_reference(
    max_bits: int,
    horizon: int,
    obs: np.ndarray,
    steps: int = DEFAULT_STEPS,
    tape_bound: int = DEFAULT_TAPE_BOUND,
    show_progress: bool = False,
    detect_cycles: bool = True,
) -> Enumerated:
    """The slow path of :func:`enumerate_first_holds`, kept as its reference: every block through
    :func:`aitheory.dsl.events.first_hold_times`, one stream (the tests check the two agree).
    ``detect_cycles=False`` skips Brent's cycle check (about 4x faster here): the first-hold times are the same (a
    run proven silent never emits again, so it would time out instead), only the statuses differ."""
    g = np.full(horizon + 1, math.inf)
    g_blind = np.full(horizon + 1, math.inf)
    first_index = np.full(horizon + 1, -1, dtype=np.int64)
    blind = np.zeros(horizon + 1, dtype=bool)
    count = np.zeros(horizon + 1, dtype=np.int64)
    status = np.zeros(len(EVENT_STATUSES), dtype=np.int64)
    programs = machine_steps = 0
    all_blocks = list(blocks(max_bits))
    for block in progress(all_blocks, desc=f"detectors <= {max_bits} bits", unit="block",
                          disable=not show_progress):
        codes = enumerate_block(block)
        r = first_hold_times(codes, None, K, horizon, obs, steps, tape_bound, detect_cycles=detect_cycles)
        programs += codes.shape[0]
        machine_steps += int(r.total_steps.sum())
        status += np.bincount(r.status, minlength=len(EVENT_STATUSES))
        held = np.flatnonzero(r.first > 0)
        count += np.bincount(r.first[held], minlength=horizon + 1)
        times, at = np.unique(r.first[held], return_index=True)
        new = g[times] > block.bits
        g[times[new]] = block.bits
        first_index[times[new]] = block.start + held[at[new]]
        blind[times[new]] = ~r.reads[held[at[new]]]
        held_blind = held[~r.reads[held]]
        times_b = np.unique(r.first[held_blind])
        g_blind[times_b] = np.minimum(g_blind[times_b], block.bits)
    return Enumerated(
        max_bits=max_bits, programs=programs, g=g, first_index=first_index, blind=blind, g_blind=g_blind,
        count=count, status_count={s: int(c) for s, c in zip(EVENT_STATUSES, status, strict=True)},
        steps=machine_steps,
    )


def suffix_min(g: np.ndarray) -> np.ndarray:
    """``f(t) = min_{t' >= t} g(t')`` over the array (non-decreasing by construction)."""
    return np.minimum.accumulate(np.asarray(g, dtype=float)[::-1])[::-1]


# -- the growth test -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrowthFit:
    """A line ``c + b log2 t`` fitted on ``t <= split`` as an upper envelope, tested on ``t > split`` (bits)."""

    slope: float
    """b, bits per doubling of t: the least-squares slope through the first half's step corners (or fixed)."""
    intercept: float
    """c, the largest residual ``F(t) - b log2 t`` on the first half, so the line bounds F there."""
    split: int
    excess: float
    """``max_{t > split} F(t) - (c + b log2 t)``: <= 0 when the line still bounds F on the second half."""
    worst_t: int
    """The t of the largest excess."""

    @property
    def held(self) -> bool:
        return self.excess <= GROWTH_TOLERANCE_BITS


#: Float tolerance of the growth test (bits): the line is fitted in floating point.
GROWTH_TOLERANCE_BITS = 1e-9


def fit_log_envelope(t: np.ndarray, values: np.ndarray, split: int, slope: float | None = None) -> GrowthFit:
    """Fit ``c + b log2 t`` to the staircase ``values`` on ``t <= split`` and test it on ``t > split``.

    ``b`` is the least-squares slope, against ``log2 t``, of the first half's *step corners* (the first point
    and every t where the value changes): a least-squares fit to all points of a staircase depends on where
    the window cuts the last step and can come out below the staircase's true rate (a perfect
    ``a + 9 floor(log2 t)`` gives 8.7 on ``t <= 100``), which would then fail on the second half for no reason;
    the corners of ``a + b floor(log2 t)`` lie exactly on ``a + b log2 t``. ``c`` is the largest residual on
    the first half. If ``values`` is not finite on the first half, nothing can be fitted and the excess is
    ``inf`` (a failure); an infinite value on the second half is an infinite excess.
    """
    t = np.asarray(t, dtype=float)
    values = np.asarray(values, dtype=float)
    first = t <= split
    if first.sum() < 2 or (~first).sum() < 1:
        raise ValueError(f"argument split: needs >= 2 points at or below and >= 1 above it, got split={split}")
    if not np.isfinite(values[first]).all():
        return GrowthFit(slope=math.nan, intercept=math.nan, split=int(split), excess=math.inf,
                         worst_t=int(t[first][~np.isfinite(values[first])][0]))
    x = np.log2(t)
    xf, vf = x[first], values[first]
    corner = np.r_[True, vf[1:] != vf[:-1]]
    if slope is not None:
        b = float(slope)
    elif corner.sum() >= 2:
        b = float(np.polyfit(xf[corner], vf[corner], 1)[0])
    else:
        b = 0.0
    c = float(np.max(vf - b * xf))
    excess_all = values[~first] - (c + b * x[~first])
    i = int(np.argmax(excess_all))
    return GrowthFit(slope=b, intercept=c, split=int(split), excess=float(excess_all[i]),
                     worst_t=int(t[~first][i]))


# -- the check ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamResult:
    """The enumeration on one further stream: f exact where it is at most ``max_bits``, and consistency with U."""

    spec: str
    max_bits: int
    ones_fraction: float
    f_exact_up_to_t: int
    f_exact: list[float]
    """``f(t)`` for t = 1 .. ``f_exact_up_to_t``."""
    records: list[dict[str, Any]]
    consistent: bool
    """``f_L <= U`` where finite, ``g_L(n) <= l(n)`` for enumerable counters, envelope counters fire at n."""


def _stream_result(spec: str, config: Config, enum: Enumerated, ell: np.ndarray, u: np.ndarray,
                   envelope_n: list[int]) -> StreamResult:
    obs = stream_observations(spec, config)
    t = np.arange(1, config.horizon + 1)
    g = enum.g[1:]
    f = suffix_min(g)
    finite = np.isfinite(f)
    codes, lengths = pack_programs([parse(counter_detector(v)).codes for v in envelope_n])
    fired = first_hold_times(codes, lengths, K, config.horizon, obs, config.steps, config.tape_bound).first
    consistent = (bool((f[finite] <= u[finite]).all()) and bool(((ell > config.stream_max_bits) | (g <= ell)).all())
                  and bool((fired == np.asarray(envelope_n)).all()))
    last = int(t[finite][-1]) if finite.any() else 0
    return StreamResult(spec=spec, max_bits=config.stream_max_bits, ones_fraction=float(obs.mean()),
                        f_exact_up_to_t=last, f_exact=[float(x) for x in f[:last]],
                        records=_records(t, g, f, enum), consistent=consistent)


def _controls(config: Config, obs: np.ndarray, t: np.ndarray, u: np.ndarray, split: int) -> tuple[Control, ...]:
    """The small-class and unary-counter controls (module docstring)."""
    small = enumerate_first_holds(config.control_max_bits, config.horizon, obs, config.steps, config.tape_bound)
    f_small = suffix_min(small.g[1:])
    rng = np.random.default_rng([config.seed, 3])
    sample = np.unique(np.r_[np.arange(1, min(config.horizon, 60) + 1),
                             rng.integers(1, config.horizon + 1, size=20), config.horizon])
    u_unary, unary_ok = _unary_envelope(config.horizon, sample, config.steps, config.tape_bound)
    fit = fit_log_envelope(t, u_unary, split)
    return (
        Control.compare(
            "small_class", f"only the {small.programs} detectors of at most {config.control_max_bits} bits (the "
            f"simplest event, +.], has {SIMPLEST_EVENT_BITS}) and no counters: no event of the class is "
            "unprecedented, so the certificate max_t f(t) < inf (the claim's is U) must fail",
            measured=float(np.max(f_small)), relation="<", bound=math.inf, units="bits",
            details={"programs": small.programs, "distinct_first_hold_times": int(np.isfinite(small.g).sum()),
                     "claim_max_u_bits": float(np.max(u))}),
        Control.compare(
            "unary_counters", "'time n' coded in unary, +~^(n-1).] (3(n+2) bits): the growth test on its envelope "
            "must fail", measured=fit.excess, relation="<=", bound=GROWTH_TOLERANCE_BITS, units="bits",
            details={"slope_bits_per_doubling": fit.slope, "intercept_bits": fit.intercept,
                     "sample_fires_at_n": unary_ok, "sample_size": int(sample.size)}),
    )


def theorem1_bound_nats(u_bits: float) -> float:
    """Theorem 1's bound ``(U(t) + K(pi*) + d) ln 2`` in nats for an event of ``u_bits`` bits (:data:`PI_STAR`,
    :data:`SWITCH_OVERHEAD_BITS`)."""
    return (u_bits + BITS_PER_TOKEN * len(parse(PI_STAR).codes) + SWITCH_OVERHEAD_BITS) * math.log(2)


# -- the summary ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventRecord(Summary):
    """An enumerated event that sets f (``summary.json["records_enum"][i]``; ``records.csv`` too)."""

    t: int
    """[steps] Its first-hold time; f steps up after it."""
    bits: int
    """[bits] Its plain-code length: f(t)."""
    program: str
    """[program] The detector (text)."""
    blind: bool
    """[flag] It reads no observation."""


@dataclass(frozen=True)
class ExactStream(Summary):
    """How far f is exact on one stream (``summary.json["f_exact_streams"][stream]``)."""

    bits: int
    """[bits] Every detector of at most this many bits was run on the stream."""
    up_to_t: int
    """[steps] f(t) is exact for t up to this (f(t) <= ``bits`` there)."""


@dataclass(frozen=True)
class StreamSummary(Summary):
    """The enumeration on one further stream (``summary.json["streams"][stream]``)."""

    max_bits: int
    """[bits] Every detector of at most this many bits was run on the stream."""
    ones_fraction: float
    """[fraction] Fraction of the stream's observations equal to 1."""
    f_exact_up_to_t: int
    """[steps] f(t) is exact for t up to this."""
    f_exact: tuple[float, ...]
    """[bits] f(t) for t = 1 .. ``f_exact_up_to_t``."""
    records: tuple[EventRecord, ...]
    """[bits] The enumerated events that set f on the stream (``streams.csv``)."""
    consistent: bool
    """[flag] f_L <= U where finite, g_L(n) <= l(n) for enumerable counters, envelope counters fire at n."""


@dataclass(frozen=True)
class TowerSummary(Summary):
    """One tower level T_j run to its firing time (``summary.json["towers"][i]``; ``towers.csv`` too)."""

    j: int
    """[count] The level."""
    n: int
    """[steps] Predicted first-hold time n(j)."""
    first_hold: int
    """[steps] Measured first-hold time (fast kernel)."""
    reference_first_hold: int | None
    """[steps] The reference interpreter's first-hold time (null: not run, n(j) too large for it)."""
    bits: int
    """[bits] Length of T_j."""
    binary_counter_bits: int
    """[bits] l(n(j)): the binary counter firing at the same time."""
    beats_binary_counter: bool
    """[flag] T_j is shorter than that binary counter."""
    verified: bool
    """[flag] T_j fired at n(j), read no observation, the reference agreed and its length is 3 (76 + 2j) bits."""


@dataclass(frozen=True)
class Prop2Summary(Summary):
    """Proposition 2's keys of ``summary.json`` (after ``controls``), in the file's order."""

    horizon: int
    """[steps] N: the history's length."""
    max_bits: int
    """[bits] L: every detector of at most this many bits was run on the history."""
    environment: str
    """[name] The stochastic environment (bernoulli or markov)."""
    p: float
    """[probability] Its parameter (Bernoulli: P(o = 1); Markov: P(o_t != o_{t-1}))."""
    ones_fraction: float
    """[fraction] Fraction of the history's observations equal to 1."""
    programs: int
    """[count] Detectors enumerated on the history."""
    status_count: Mapping[str, int]
    """[count] Detectors per final status (emitted, halted, timed_out, out_of_tape, proven_silent, periodic)."""
    distinct_first_hold_times_enum: int
    """[count] Times t at which some enumerated detector first holds."""
    last_first_hold_time_enum: int
    """[steps] The last t at which f is finite (exact)."""
    records_enum: tuple[EventRecord, ...]
    """[bits] The enumerated events that set f (``records.csv``)."""
    record_setters_observation_dependent: int
    """[count] Of those, the ones that read an observation."""
    counter_n_checked: int
    """[count] Counters C_n run on the history (n = 3..N)."""
    counter_all_fire_at_n: bool
    """[flag] Every C_n first held at exactly n (fast kernel)."""
    counter_reference_n: tuple[int, ...]
    """[steps] The n whose C_n was also run with the reference interpreter."""
    counter_reference_agrees: bool
    """[flag] The reference interpreter's first-hold times equal those n."""
    counter_envelope_times: tuple[int, ...]
    """[steps] The n whose l(n) sets the envelope U."""
    counter_envelope_bits: tuple[int, ...]
    """[bits] l(n) at each of them."""
    counter_envelope_slope_bits_per_doubling: float
    """[bits per doubling of t] Least-squares slope of U on log2 t beyond the enumeration (nan if undefined)."""
    counter_detector_at_horizon: str
    """[program] C_N, the counter first holding at t = N (text)."""
    f_at_1: float
    """[bits] F(1) = min(f_L(1), U(1))."""
    f_at_split: float
    """[bits] F at the growth fit's split t = floor(sqrt(N))."""
    f_at_horizon: float
    """[bits] F(N)."""
    f_exact_up_to_t: int
    """[steps] f(t) is exact on the history for t up to this."""
    f_exact: tuple[float, ...]
    """[bits] f(t) for t = 1 .. ``f_exact_up_to_t``."""
    f_exact_bits: int
    """[bits] The detectors' cap on the history (L)."""
    f_exact_streams: Mapping[str, ExactStream]
    """[bits] Per stream (the history first, as kind:p): the cap and up to which t f is exact."""
    u_verified_to_t: int
    """[steps] U is verified on the history up to this t (N when the mechanism held, else 0)."""
    u_bits_at: Mapping[str, float]
    """[bits] U(t) at t = 8, 100, 1000, N (those <= N; key: t as text)."""
    growth_split_t: int
    """[steps] The growth fit's split: the line is fitted on t <= this, tested beyond."""
    growth_slope_bits_per_doubling: float
    """[bits per doubling of t] b, the fitted line's slope."""
    growth_intercept_bits: float
    """[bits] c, the fitted line's intercept (its largest residual on the first half)."""
    growth_excess_bits: float
    """[bits] max over t > split of F(t) - (c + b log2 t): the headline measured value (held: <= 0)."""
    growth_worst_t: int
    """[steps] The t of that largest excess."""
    slope_one_intercept_bits: float
    """[bits] The intercept of the same fit with the slope fixed at 1 bit per doubling."""
    slope_one_excess_bits: float
    """[bits] Its largest excess on the second half."""
    streams: Mapping[str, StreamSummary]
    """[bits] The enumeration on each further stream (key: kind:p)."""
    towers: tuple[TowerSummary, ...]
    """[bits] The tower levels T_1 .. T_j run to their firing times."""
    pi_star: str
    """[program] pi* of Theorem 1's bound: "always play 1"."""
    pi_star_bits: int
    """[bits] K(pi*), its plain-code length."""
    switch_overhead_bits: int
    """[bits] d: the bits of SWITCH E P MIX beyond the plain codes of E and P."""
    theorem1_bound_nats_at: Mapping[str, float]
    """[nats] Theorem 1's bound (F(t) + K(pi*) + d) ln 2 at the times of ``u_bits_at``."""
    held_mechanism: bool
    """[flag] Every C_n first holds at exactly n (both interpreters) and has length l(n)."""
    held_consistency: bool
    """[flag] f_L <= U where finite, f_L <= f_L^blind, and g_L(n) <= l(n) for every enumerable counter."""
    held_growth: bool
    """[flag] The line fitted on the first half bounds F on the second half (excess <= 1e-9 bits)."""
    held_streams: bool
    """[flag] Every further stream is consistent."""
    held_towers: bool
    """[flag] Every tower level is verified."""
    held_pi_star: bool
    """[flag] pi* plays 1 at every step (reference interpreter)."""
    held_slope_one: bool
    """[flag] The growth test with the slope fixed at 1 bit per doubling held."""


SUMMARY = Prop2Summary
#: Figure stems written into the run folder (PNG and SVG), drawn by :func:`draw_figures`.
FIGURES = ("prop2_f_vs_log2_t", "prop2_f_vs_log2log2_t")


def run(config: Config, folder: RunFolder, show_progress: bool = False) -> CheckResult:
    """Enumerate, construct, compare, run the controls; write ``metrics.csv`` (one row per t), ``records.csv``,
    ``streams.csv``, ``towers.csv``, then the figures from those rows (:func:`draw_figures`)."""
    rng = np.random.default_rng(config.seed)
    obs = observations(config)
    n_max = config.horizon
    enum, *stream_enums = enumerate_streams(
        [config.max_bits] + [config.stream_max_bits] * len(config.streams), n_max,
        [obs] + [stream_observations(spec, config) for spec in config.streams], config.steps, config.tape_bound,
        show_progress)
    counters = check_counters(obs, config, np.random.default_rng(rng.integers(2**63)))
    mechanism = counters.verified and bool((counters.bits == counter_bits(counters.n)).all())

    t = np.arange(1, n_max + 1)
    g_enum = enum.g[1:]
    f_enum = suffix_min(g_enum)
    f_blind = suffix_min(enum.g_blind[1:])
    ell = np.full(n_max, math.inf)  # l(n) at t = n, for the counters verified to fire at n
    ok = counters.first == counters.n
    ell[counters.n[ok] - 1] = counters.bits[ok]
    u = suffix_min(ell)
    big_g = np.minimum(g_enum, ell)
    big_f = np.minimum(f_enum, u)
    finite = np.isfinite(f_enum)
    consistent = (bool((f_enum[finite] <= u[finite]).all()) and bool((f_enum <= f_blind).all())
                  and bool(((ell > config.max_bits) | (g_enum <= ell)).all()))
    split = math.isqrt(n_max)
    fit = fit_log_envelope(t, big_f, split)
    fit_one = fit_log_envelope(t, big_f, split, slope=1.0)
    envelope_n = _suffix_argmin(ell[COUNTER_MIN_N - 1:], counters.n)
    streams = [_stream_result(spec, config, e, ell, u, envelope_n)
               for spec, e in zip(config.streams, stream_enums, strict=True)]
    held_streams = all(sr.consistent for sr in streams)
    towers = check_towers(config.tower_levels, config.steps, config.tape_bound)
    held_towers = all(tw.verified for tw in towers)
    pi_star_ok = bool((np.asarray(run_reference(PI_STAR, K, 64).actions) == 1).all())
    claim = mechanism and consistent and fit.held and held_streams and held_towers and pi_star_ok
    controls = _controls(config, obs, t, u, split)
    held = held_with_controls(claim, controls)

    records = _records(t, g_enum, f_enum, enum)
    last_enum = int(t[finite][-1]) if finite.any() else 0
    folder.write_metrics(
        {"t": int(ti), "log2_t": math.log2(ti), "obs_prev": int(obs[ti - 2]) if ti >= 2 else 0,
         "g_enum_bits": g_enum[i], "f_enum_bits": f_enum[i], "f_blind_bits": f_blind[i],
         "detectors_first_holding": int(enum.count[ti]), "counter_bits": ell[i], "counter_envelope_bits": u[i],
         "g_bits": big_g[i], "f_bits": big_f[i], "envelope_line_bits": fit.intercept + fit.slope * math.log2(ti),
         "theorem1_bound_nats": theorem1_bound_nats(big_f[i])}
        for i, ti in enumerate(t.tolist())
    )
    write_csv(folder.file("records.csv"), [
        *({"t": r["t"], "bits": r["bits"], "source": "enumeration", "observation_blind": r["blind"],
           "program": r["program"]} for r in records),
        *({"t": v, "bits": int(ell[v - 1]), "source": "counter", "observation_blind": True,
           "program": counter_detector(v)} for v in envelope_n),
    ], fieldnames=["t", "bits", "source", "observation_blind", "program"])
    write_csv(folder.file("streams.csv"), [
        {"stream": sr.spec, "max_bits": sr.max_bits, "t": r["t"], "bits": r["bits"], "program": r["program"],
         "observation_blind": r["blind"]} for sr in streams for r in sr.records],
        fieldnames=["stream", "max_bits", "t", "bits", "program", "observation_blind"])
    write_csv(folder.file("towers.csv"), [
        {"j": tw.j, "n": tw.n, "first_hold": tw.first, "reference_first_hold": tw.reference_first,
         "bits": tw.bits, "binary_counter_bits": tw.binary_bits, "verified": tw.verified,
         "program": tower_detector(tw.j)} for tw in towers])
    counter_part = t > last_enum
    slope_u = float(np.polyfit(np.log2(t[counter_part]), u[counter_part], 1)[0]) if np.isfinite(
        u[counter_part]).all() and counter_part.sum() > 1 else math.nan
    bound_times = [v for v in (8, 100, 1000, n_max) if v <= n_max]
    summary = Prop2Summary(
        horizon=n_max, max_bits=config.max_bits, environment=config.environment, p=config.p,
        ones_fraction=float(obs.mean()), programs=enum.programs, status_count=enum.status_count,
        distinct_first_hold_times_enum=int(np.isfinite(g_enum).sum()),
        last_first_hold_time_enum=last_enum,
        records_enum=tuple(EventRecord(**r) for r in records),
        record_setters_observation_dependent=sum(1 for r in records if not r["blind"]),
        counter_n_checked=int(counters.n.size), counter_all_fire_at_n=bool((counters.first == counters.n).all()),
        counter_reference_n=tuple(counters.reference_n),
        counter_reference_agrees=counters.reference_n == counters.reference_first,
        counter_envelope_times=tuple(envelope_n),
        counter_envelope_bits=tuple(int(ell[v - 1]) for v in envelope_n),
        counter_envelope_slope_bits_per_doubling=slope_u,
        counter_detector_at_horizon=counter_detector(n_max),
        f_at_1=float(big_f[0]), f_at_split=float(big_f[split - 1]), f_at_horizon=float(big_f[-1]),
        f_exact_up_to_t=last_enum, f_exact=tuple(float(x) for x in f_enum[:last_enum]),
        f_exact_bits=config.max_bits,
        f_exact_streams={f"{config.environment}:{config.p:g}": ExactStream(bits=config.max_bits, up_to_t=last_enum),
                         **{sr.spec: ExactStream(bits=sr.max_bits, up_to_t=sr.f_exact_up_to_t) for sr in streams}},
        u_verified_to_t=n_max if mechanism else 0,
        u_bits_at={str(v): float(u[v - 1]) for v in bound_times},
        growth_split_t=split, growth_slope_bits_per_doubling=fit.slope, growth_intercept_bits=fit.intercept,
        growth_excess_bits=fit.excess, growth_worst_t=fit.worst_t,
        slope_one_intercept_bits=fit_one.intercept, slope_one_excess_bits=fit_one.excess,
        streams={sr.spec: StreamSummary(max_bits=sr.max_bits, ones_fraction=sr.ones_fraction,
                                        f_exact_up_to_t=sr.f_exact_up_to_t, f_exact=tuple(sr.f_exact),
                                        records=tuple(EventRecord(**r) for r in sr.records),
                                        consistent=sr.consistent) for sr in streams},
        towers=tuple(TowerSummary(j=tw.j, n=tw.n, first_hold=tw.first, reference_first_hold=tw.reference_first,
                                  bits=tw.bits, binary_counter_bits=tw.binary_bits,
                                  beats_binary_counter=tw.bits < tw.binary_bits, verified=tw.verified)
                     for tw in towers),
        pi_star=PI_STAR, pi_star_bits=BITS_PER_TOKEN * len(parse(PI_STAR).codes),
        switch_overhead_bits=SWITCH_OVERHEAD_BITS,
        theorem1_bound_nats_at={str(v): theorem1_bound_nats(float(big_f[v - 1])) for v in bound_times},
        held_mechanism=mechanism, held_consistency=consistent, held_growth=fit.held,
        held_streams=held_streams, held_towers=held_towers, held_pi_star=pi_star_ok,
        held_slope_one=fit_one.held,
    )
    figures = draw_figures(folder, config, summary) if config.plot else ()
    f_text = staircase_text(f_enum[:last_enum])
    stream_text = ", ".join(f"{sr.spec} for t <= {sr.f_exact_up_to_t}" for sr in streams)
    tower_text = ", ".join(f"T_{tw.j} fires at {tw.n:,} with {tw.bits} bits (binary counter {tw.binary_bits})"
                           for tw in towers)
    verdict = (
        f"f(t) <= U(t) = O(log t), with U verified to N = {n_max:,}: time-n counters fire at n for n = 3..{n_max}: "
        f"{mechanism}; U(t) <= {fit.intercept:.1f} + {fit.slope:.2f} log2 t fitted on t <= {split} holds on "
        f"({split}, {n_max}] (excess {fit.excess:.1f} bits), U({n_max}) = {u[-1]:g} bits; f exact to "
        f"{config.max_bits} bits on {config.environment}:{config.p:g} for t <= {last_enum} ({enum.programs:,} "
        f"detectors; f = {f_text})"
        + (f", and to {config.stream_max_bits} bits on {stream_text}" if streams else "")
        + (f"; {tower_text}: verified {held_towers}" if towers else "")
        + f"; Theorem 1 bound (U + K(pi*) + d) ln 2 = {theorem1_bound_nats(float(big_f[-1])):.1f} nats at t = "
        f"{n_max:,}; {controls_verdict(controls)}"
    )
    return CheckResult(
        name=NAME, statement=STATEMENT, measured=fit.excess, bound=0.0, relation="<=", held=held, claim_held=claim,
        controls=controls, units="bits", details=summary, figures=figures, verdict=verdict,
    )


def staircase_text(f: np.ndarray) -> str:
    """``f(1..n)`` as its steps: ``"9 bits at t = 1, ..., 30 bits for 8 <= t <= 24"``."""
    parts: list[str] = []
    i = 0
    while i < len(f):
        j = i
        while j + 1 < len(f) and f[j + 1] == f[i]:
            j += 1
        parts.append(f"{f[i]:g} bits " + (f"at t = {i + 1}" if i == j else f"for {i + 1} <= t <= {j + 1}"))
        i = j + 1
    return ", ".join(parts)


def _records(t: np.ndarray, g: np.ndarray, f: np.ndarray, enum: Enumerated) -> list[dict[str, Any]]:
    """The enumerated events that set f: at each t where ``g(t) = f(t) < inf`` and f jumps after t."""
    out: list[dict[str, Any]] = []
    for i in np.flatnonzero(np.isfinite(g) & (g == f)):
        ti = int(t[i])
        if i + 1 < len(f) and f[i + 1] == f[i]:
            continue  # a later t has the same length: that one sets the record
        out.append({"t": ti, "bits": int(g[i]), "program": program_at(int(enum.first_index[ti])),
                    "blind": bool(enum.blind[ti])})
    return out


def draw_figures(folder: RunFolder, config: Config, summary: Prop2Summary) -> tuple[str, ...]:
    """:data:`FIGURES` from the rows saved in ``folder``: ``metrics.csv`` (g, f, the counters' lengths and their
    envelope at every t) and the fitted envelope line of ``summary``, drawn by :func:`plot_f`."""
    from aitheory.plotting import column

    rows = folder.read_rows("metrics.csv", ("t", "g_enum_bits", "f_enum_bits", "counter_bits",
                                            "counter_envelope_bits"))
    fit = GrowthFit(slope=summary.growth_slope_bits_per_doubling, intercept=summary.growth_intercept_bits,
                    split=summary.growth_split_t, excess=summary.growth_excess_bits, worst_t=summary.growth_worst_t)
    t = column(rows, "t").astype(np.int64)
    g, f, ell, u = (column(rows, c) for c in ("g_enum_bits", "f_enum_bits", "counter_bits", "counter_envelope_bits"))
    for stem, loglog in zip(FIGURES, (False, True), strict=True):
        plot_f(t, g, f, ell, u, fit, config, folder.file(stem), loglog=loglog)
    return FIGURES


def plot_f(
    t: np.ndarray,
    g_enum: np.ndarray,
    f_enum: np.ndarray,
    ell: np.ndarray,
    u: np.ndarray,
    fit: GrowthFit,
    config: Config,
    stem: str | Path,
    loglog: bool,
) -> tuple[Path, Path]:
    """g and f against ``log2 t`` (or ``log2 log2 t``): enumerated values, the counters' lengths and envelope."""
    from aitheory.plotting import pyplot, save_figure

    plt = pyplot()
    x = np.log2(t.astype(float))
    if loglog:
        keep = t >= 2
        x = np.log2(x[keep])
        t, g_enum, f_enum, ell, u = t[keep], g_enum[keep], f_enum[keep], ell[keep], u[keep]
    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    ax.plot(x, ell, ".", color="0.75", ms=1.5, label=r"$\ell(n)$: counter 'it is time n', at $t=n$")
    simple = np.isfinite(ell) & np.isin(t, 2 ** np.arange(1, 40) + 2)
    ax.plot(x[simple], ell[simple], "v", color="C0", ms=4, label=r"$\ell(n)$ at the simple times $n = 2^j + 2$")
    ax.step(x, u, where="post", color="C0", lw=1.4,
            label=r"$U(t)=\min_{n\geq t}\ell(n)$ (verified upper bound on $f$)")
    fin = np.isfinite(g_enum)
    ax.plot(x[fin], g_enum[fin], "o", color="C3", ms=5, label=rf"$g(t)$, every detector $\leq {config.max_bits}$ bits")
    ff = np.isfinite(f_enum)
    ax.step(x[ff], f_enum[ff], where="post", color="C3", lw=1.4, label=r"$f(t)=\min_{t'\geq t} g(t')$ (exact)")
    ax.axhline(config.max_bits, color="C3", ls=":", lw=1, label=rf"$L$ = {config.max_bits} bits: $f > L$ beyond")
    tl = t.astype(float)
    ax.plot(x, fit.intercept + fit.slope * np.log2(tl), "k--", lw=1,
            label=rf"${fit.intercept:.0f} + {fit.slope:.1f}\,\log_2 t$ (fitted on $t\leq {fit.split}$)")
    ax.axvline(np.log2(np.log2(fit.split)) if loglog else np.log2(fit.split), color="0.5", lw=0.8, ls="-.")
    ax.set_xlabel(r"$\log_2\log_2 t$" if loglog else r"$\log_2 t$")
    ax.set_ylabel("length (bits)")
    ax.set_title(f"Proposition 2 on {config.horizon:,} steps ({config.environment}, p={config.p:g}, "
                 f"seed {config.seed})", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    return save_figure(fig, stem)
