r"""The model class of the mixture: every plain BF-8 program up to L bits, SWITCH combinators and MIX.

**Programs and prior.** The class is coded in the full BF-8 grammar (design notes, section 2): a plain program
of n tokens has ``1 + 3n`` bits (leading ``0``), ``SWITCH E P Q`` has ``2 + len(E) + len(P) + len(Q)`` bits
(leading ``10``), ``MIX`` has 2 bits (``11``). The prior of a program of ``l`` bits is ``2^-l``; over the whole
grammar it sums to exactly 1 (plain programs 1/2, SWITCH programs 1/4, MIX 1/4).

With ``max_bits = L`` the class holds every plain program of at most L bits *in the plain code* (``3n <= L``,
as ``aitheory dsl enumerate --max-bits`` counts), i.e. of at most ``L + 1`` bits in the full grammar, and every
SWITCH program of at most ``L + 1`` full-grammar bits (optionally capped further by ``switch_max_bits``), and
MIX. The prior mass of everything longer is **not enumerated**; it is reported, never renormalised away.

**Behaviour rows.** On a fixed list of G observation sequences (histories), two programs that make the same
predictions at every step are indistinguishable to the mixture, so they are collapsed into one row carrying
their total prior (exact integers in units of ``2^-(L+1)``), split by program kind. A row's behaviour is a code
per history and step:

* ``0 .. K-1``: a ``.`` emission of that action (probability 1);
* :data:`CODE_TILDE` (-1): a ``~`` emission (probability ``1/K`` for each action);
* :data:`CODE_MIX` (-3): predicts with the plain-program mixture's raw conditional ``xi_plain(a | h)``;
* ``CODE_LOST_BASE - s`` (-10 - s): the row's run has stopped with status ``STATUSES[s]`` (halted, timed out,
  out of tape, proven silent) and predicts nothing: its mass is lost from this step on.

These codes and the statuses have one home, :mod:`aitheory.dsl.status` (re-exported here).

SWITCH E P Q (E, P plain; Q plain or MIX): E *holds at t* if the detector's t-th emission is a ``.`` of a
non-zero value on the same observations; at step t the row uses P's code if E held at some ``t' <= t``, else
Q's code (``aitheory.dsl.combinators``).

**Modes** (design.md section 2). In **policy mode** (the default) a row predicts the actions only: codes
``(R, G, H)`` over the steps t = 1..H, on G observation sequences ``o_1 .. o_{H-1}``. In **joint mode** a row
predicts the whole interleaved history ``x = a_1 o_1 a_2 o_2 ...``: codes ``(R, G, 2H)`` over the *positions*
n = 1..2H (position ``2t-1`` predicts ``a_t``, position ``2t`` predicts ``o_t``), on G interleaved histories
``x_1 .. x_{2H-1}``; plain programs run in joint mode (``,`` reads ``x_n``). MIX predicts every position with
the plain programs' joint mixture. ``SWITCH E P Q`` switches the predictions of both roles: at positions
``2t-1`` and ``2t`` it uses P's codes if E held at some ``t' <= t``; the event E stays a detector on the
observation stream (its t-th emission, run in policy reading on ``o_1 .. o_{t-1}``), as the contract defines
events, so whether it holds at t is known before ``a_t``.

``SWITCH(E, ACT(P), Q)`` (added by hand, or enumerated instead of ``SWITCH E P Q`` by a class with
``switch_act``): ``ACT(P)`` is P read as a policy only. In policy mode
it predicts exactly as P. In joint mode P runs in policy reading on the observation stream (its s-th emission is
its prediction of ``a_s``, ``,`` loads ``o_{s-1}``), and the observation positions are :data:`CODE_MIX`
(:func:`policy_codes_in_joint_mode`): after E, the row takes P's actions and MIX's observations, the policy-only
component of the contract.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from aitheory.dsl import (
    DEFAULT_STEPS,
    DEFAULT_TAPE_BOUND,
    TILDE_ACTION,
    Act,
    EnumConfig,
    Expr,
    Mix,
    Mode,
    Opt,
    Plain,
    Switch,
    all_sequences,
    behaviour_table,
    blocks,
    check_mode,
    emission_role,
    enumerate_block,
    event_holds,
    expr_bits,
    program_at,
    program_count,
    run_batch,
    run_batch_all,
    run_reference,
)
from aitheory.dsl.behaviour import group_rows
from aitheory.dsl.limits import LIMITS
from aitheory.dsl.status import (  # the one home of behaviour codes (module docstring), re-exported here
    CODE_LOST_BASE,
    CODE_MIX,
    CODE_TILDE,
    NO_ACTION,
    Status,
    lost_code,
    lost_status,
)

__all__ = [
    "CODE_LOST_BASE",
    "CODE_MIX",
    "CODE_TILDE",
    "KINDS",
    "MAX_SWITCH_PART_PROGRAMS",
    "ClassConfig",
    "ClassTooLargeError",
    "ModelClass",
    "add_programs",
    "add_rows",
    "build_class",
    "check_switch_parts",
    "in_class",
    "lost_status",
    "merge_rows",
    "policy_codes_in_joint_mode",
    "program_codes",
    "switch_part_programs",
]

#: Program kinds, in the column order of :attr:`ModelClass.weight_by_kind`.
KINDS: tuple[str, ...] = ("plain", "switch", "mix")
_PLAIN, _SWITCH, _MIX = 0, 1, 2
#: Refuse to materialise more SWITCH behaviour cells than this in one length combination (int8 each).
MAX_SWITCH_CELLS = 1 << 30
#: Refuse to enumerate and run more plain programs than this for the SWITCH parts (they are held in memory at once).
MAX_SWITCH_PART_PROGRAMS = 4_000_000
#: Longest program :func:`add_programs` accepts: its prior ``2^-bits`` must be a normal float64 (exact: a power of 2).
MAX_ADDED_BITS = 1000


class ClassTooLargeError(ValueError):
    """The class would need more programs or memory than allowed; raised before anything is enumerated."""


def policy_codes_in_joint_mode(action_codes: np.ndarray) -> np.ndarray:
    """Joint-mode codes ``(..., 2H)`` of a policy-only component with action codes ``(..., H)``: its action codes
    at the action positions ``2t-1`` and :data:`CODE_MIX` at the observation positions ``2t``, so that the
    observations it does not model come from the plain programs' mixture (design.md section 2, "Joint mode")."""
    out = np.full((*action_codes.shape[:-1], 2 * action_codes.shape[-1]), CODE_MIX, dtype=np.int8)
    out[..., 0::2] = action_codes
    return out


@dataclass(frozen=True)
class ClassConfig:
    """Which programs are in the class and how they are run."""

    max_bits: int = 24
    """L: plain programs of at most L bits in the plain code (3 per token); L + 1 bits in the full grammar."""
    k: int = 2
    """Alphabet size K of actions and observations."""
    horizon: int = 16
    """H: predictions are available for steps 1..H (a history of up to H - 1 actions, then one more)."""
    steps: int = DEFAULT_STEPS
    """T: step budget per emission."""
    tape_bound: int = DEFAULT_TAPE_BOUND
    """Tape cells -B..B."""
    switch: bool = True
    """Include ``SWITCH E P Q`` programs (E, P plain; Q plain or MIX) of at most L + 1 full-grammar bits."""
    switch_max_bits: int | None = None
    """Full-grammar length bound of SWITCH programs (None: L + 1, the plain programs' bound). It may exceed
    L + 1 so that constructions with longer parts are in the class; then cap the parts with the next two."""
    switch_event_max_bits: int | None = None
    """Cap on the plain-code length (3 per token) of the event E in SWITCH programs (None: no extra cap)."""
    switch_policy_max_bits: int | None = None
    """Cap on the plain-code length of P (the behaviour after the event) in SWITCH programs (None: no extra cap)."""
    switch_plain_before: bool = True
    """Include SWITCH programs whose Q (the behaviour before the event) is plain; otherwise Q is always MIX."""
    switch_act: bool = False
    """Enumerate ``SWITCH E ACT(P) Q`` instead of ``SWITCH E P Q``: P read as a policy only (``ACT``, 2 more
    bits), so that in joint mode the rows take P's actions and MIX's observations after E (the class that
    :func:`aitheory.bounds.switch_cost`'s joint-mode bound assumes). In policy mode ``ACT(P)`` predicts as P. A
    class holds one kind or the other, never both. False: plain P, the behaviour before this field existed."""
    mix: bool = True
    """Include ``MIX`` (2 bits: prior 1/4), which predicts with the plain programs' posterior mixture."""
    detect_cycles: bool = True
    """Cycle detection in the interpreter (status proven_silent)."""
    mode: Mode = "policy"
    """``"policy"``: rows predict actions only (observations given); ``"joint"``: rows predict actions and
    observations alternately, positions 1..2H (design.md section 2, "Joint mode")."""

    def __post_init__(self) -> None:
        check_mode(self.mode)
        if not 3 <= self.max_bits <= 57:
            raise ValueError(f"argument max_bits: must be between 3 and 57, got {self.max_bits}")
        LIMITS.check_run(self.k, self.horizon, self.steps, self.tape_bound)  # the machine's caps (dsl.limits)
        if self.switch and self.switch_max_bits is not None and not 10 <= self.switch_max_bits <= 62:
            raise ValueError(f"argument switch_max_bits: must be between 10 and 62, got {self.switch_max_bits}")

    @property
    def positions(self) -> int:
        """Predicted symbols per history: H actions (policy mode) or 2H symbols ``a_1 o_1 .. a_H o_H`` (joint)."""
        return self.horizon if self.mode == "policy" else 2 * self.horizon

    def role(self, position: int) -> str:
        """``"action"`` or ``"observation"``: what the prediction at ``position`` (1-based) is about."""
        return emission_role(position, self.mode)

    def step_of_position(self) -> np.ndarray:
        """``(positions,)``: the 0-based step t - 1 of each 0-based position (``n // 2`` in joint mode)."""
        positions = np.arange(self.positions)
        return positions if self.mode == "policy" else positions // 2

    @property
    def full_bits(self) -> int:
        """The length bound in full-grammar bits, ``L + 1``; weights are integers in units of ``2^-(L+1)``."""
        return self.max_bits + 1

    @property
    def switch_bits(self) -> int:
        """Full-grammar length bound of SWITCH programs."""
        return self.full_bits if self.switch_max_bits is None else self.switch_max_bits

    @property
    def unit_bits(self) -> int:
        """Weights are integers in units of ``2^-unit_bits``: the longest program's length."""
        return max(self.full_bits, self.switch_bits if self.switch else 0)

    def part_tokens(self, role: str) -> int:
        """Largest number of tokens of a SWITCH part (``"event"``, ``"policy"`` or ``"before"``)."""
        act = 2 if self.switch_act else 0  # the ``11`` of ACT(P)
        rest = {"event": 2 + 4 + act + (2 if self.mix else 4), "policy": 2 + 4 + act + (2 if self.mix else 4),
                "before": 2 + 4 + act + 4}[role]
        tokens = (self.switch_bits - rest - 1) // 3
        cap = {"event": self.switch_event_max_bits, "policy": self.switch_policy_max_bits, "before": None}[role]
        if role == "before" and not self.switch_plain_before:
            return 0
        return max(0, tokens if cap is None else min(tokens, cap // 3))


@dataclass(frozen=True)
class ModelClass:
    """Behaviour rows of the class on G histories (see the module docstring for the codes).

    Shapes: ``codes (R, G, P) int8`` over the P = ``config.positions`` predicted symbols; ``weight_by_kind (R, 3)
    int64`` in units of ``2^-(L+1)`` (columns :data:`KINDS`); ``rep_bits (R,)`` full-grammar length of the row's
    shortest program and ``rep_text`` its text; ``histories (G, P-1)`` the inputs: observation sequences
    ``o_1 .. o_{H-1}`` (policy mode) or interleaved histories ``x_1 .. x_{2H-1}`` (joint mode).
    """

    config: ClassConfig
    codes: np.ndarray
    weight_by_kind: np.ndarray
    rep_bits: np.ndarray
    rep_text: tuple[str, ...]
    histories: np.ndarray
    programs_by_kind: dict[str, int] = field(default_factory=dict)
    """How many programs of each kind the rows stand for."""
    extra_weight_by_kind: np.ndarray | None = None
    """``(R, 3) float64``: prior of the programs added by :func:`add_programs`, beside the integer units (their
    ``2^-bits`` is exact in float64 for any length up to :data:`MAX_ADDED_BITS`); None: nothing added."""
    extra_mass: tuple[Fraction, ...] = (Fraction(0), Fraction(0), Fraction(0))
    """Exact prior mass of the added programs, per kind (:data:`KINDS`)."""

    @property
    def rows(self) -> int:
        return int(self.codes.shape[0])

    @property
    def unit(self) -> int:
        """Weights are integers in units of ``1 / unit`` (``unit = 2^unit_bits``)."""
        return 1 << self.config.unit_bits

    def prior_by_kind(self) -> np.ndarray:
        """``(R, 3) float64``: prior probability of each row's programs, per kind (added programs included)."""
        prior = self.weight_by_kind.astype(np.float64) / self.unit
        return prior if self.extra_weight_by_kind is None else prior + self.extra_weight_by_kind

    def prior(self) -> np.ndarray:
        """``(R,)`` prior probability of each row (all kinds)."""
        return self.prior_by_kind().sum(axis=1)

    def prior_plain(self) -> np.ndarray:
        """``(R,)`` prior probability of each row's plain programs only."""
        return self.prior_by_kind()[:, _PLAIN]

    def enumerated_mass(self) -> dict[str, Fraction]:
        """Exact prior mass in the class (enumerated, plus any added by :func:`add_programs`), per kind."""
        return {kind: Fraction(int(self.weight_by_kind[:, i].sum()), self.unit) + self.extra_mass[i]
                for i, kind in enumerate(KINDS)}

    def not_enumerated_mass(self) -> Fraction:
        """Exact prior mass of the programs beyond the length bound (the whole grammar sums to 1)."""
        return 1 - sum(self.enumerated_mass().values(), Fraction(0))

    def plain_not_enumerated_mass(self) -> Fraction:
        """Exact prior mass of plain programs beyond L bits (plain programs sum to 1/2 in the full grammar)."""
        return Fraction(1, 2) - self.enumerated_mass()["plain"]

    @property
    def mode(self) -> str:
        """``"policy"`` or ``"joint"`` (:attr:`ClassConfig.mode`)."""
        return self.config.mode

    @property
    def positions(self) -> int:
        """P: the number of predicted symbols per history (the last axis of ``codes``)."""
        return int(self.codes.shape[2])

    def history_index(self, observations: tuple[int, ...] | list[int]) -> int:
        """Index g of a history whose first ``len(observations)`` inputs are ``observations``: observations
        ``o_1 ..`` in policy mode, symbols ``x_1 ..`` of the interleaved history in joint mode. The rows' codes at
        positions ``1 .. len(observations) + 1`` are then those of this prefix.

        Raises ``ValueError`` naming the argument when no history of the class starts that way.
        """
        what = "observations" if self.mode == "policy" else "history"
        symbols = "observations" if self.mode == "policy" else "symbols"
        obs = np.asarray(observations, dtype=np.int64)
        n = min(len(obs), self.histories.shape[1])
        if len(obs) > self.histories.shape[1] + 1:
            raise ValueError(
                f"argument {what}: {len(obs)} {symbols}, but the class covers histories of at most "
                f"{self.histories.shape[1]} (horizon {self.config.horizon}); build it with a larger horizon"
            )
        match = np.flatnonzero((self.histories[:, :n] == obs[:n]).all(axis=1))
        if match.size == 0:
            raise ValueError(
                f"argument {what}: {list(map(int, obs))} is not a prefix of any history the class was built "
                f"on; build the class on these {symbols} (or on all histories)"
            )
        return int(match[0])


# --------------------------------------------------------------------------------------------------------------
# Building


def _codes_from_runs(actions: np.ndarray, status: np.ndarray) -> np.ndarray:
    """Turn interpreter output (``NO_ACTION`` after the run stopped, plus a status) into behaviour codes."""
    codes = actions.astype(np.int8, copy=True)
    lost = actions == NO_ACTION
    stopped = (CODE_LOST_BASE - status.astype(np.int16)).astype(np.int8)  # lost_code, vectorised
    codes[lost] = np.broadcast_to(stopped[..., None], actions.shape)[lost]
    return codes


def _histories(config: ClassConfig, observations: list[tuple[int, ...]] | None, all_histories: bool) -> np.ndarray:
    """``(G, P - 1)`` inputs: the given sequences padded with 0 (observations, or interleaved histories in joint
    mode), one all-0 sequence if none, or every sequence."""
    width = config.positions - 1
    if all_histories:
        return all_sequences(config.k, config.positions)
    if not observations:
        return np.zeros((1, width), dtype=np.int64)
    out = np.zeros((len(observations), width), dtype=np.int64)
    for g, obs in enumerate(observations):
        for j, o in enumerate(obs[:width]):
            if not 0 <= int(o) < config.k:
                raise ValueError(f"argument observations: history {g} has symbol {o} at position {j}, "
                                 f"outside 0..{config.k - 1}")
            out[g, j] = int(o)
    return out


def _run_programs(codes: np.ndarray, lengths: np.ndarray, config: ClassConfig, histories: np.ndarray,
                  all_histories: bool) -> np.ndarray:
    """Behaviour codes ``(n, G, P)`` of explicit programs on the histories, in the class's mode."""
    if all_histories:
        every = run_batch_all(codes, lengths, config.k, config.positions, config.steps, config.tape_bound,
                              config.detect_cycles, mode=config.mode)
        return _codes_from_runs(every.actions, every.status)
    out = np.empty((codes.shape[0], histories.shape[0], config.positions), dtype=np.int8)
    joint = config.mode == "joint"
    for g, inputs in enumerate(histories):
        res = run_batch(codes, lengths, config.k, config.positions, None if joint else inputs, config.steps,
                        config.tape_bound, config.detect_cycles, record_steps=False, mode=config.mode,
                        history=inputs if joint else None)
        out[:, g, :] = _codes_from_runs(res.actions, res.status)
    return out


def _run_detectors(codes: np.ndarray, lengths: np.ndarray, config: ClassConfig, histories: np.ndarray,
                   all_histories: bool) -> np.ndarray:
    """Behaviour codes ``(n, G, H)`` of explicit programs read as event detectors: in policy reading on the
    observation stream of each history (in policy mode the same runs as :func:`_run_programs`; in joint mode
    the observations ``x_2, x_4, ..`` of each interleaved history)."""
    if config.mode == "policy":
        return _run_programs(codes, lengths, config, histories, all_histories)
    streams, which = np.unique(histories[:, 1::2], axis=0, return_inverse=True)
    out = np.empty((codes.shape[0], len(streams), config.horizon), dtype=np.int8)
    for j, obs in enumerate(streams):
        res = run_batch(codes, lengths, config.k, config.horizon, obs, config.steps, config.tape_bound,
                        config.detect_cycles, record_steps=False)
        out[:, j, :] = _codes_from_runs(res.actions, res.status)
    return out[:, which.reshape(-1), :]


@dataclass(frozen=True)
class _Group:
    """Programs of one length grouped by behaviour: codes ``(B, G, H)``, counts, first canonical index."""

    tokens: int
    codes: np.ndarray
    count: np.ndarray
    first: np.ndarray


def _short_groups(config: ClassConfig, histories: np.ndarray, all_histories: bool, max_tokens: int,
                  run: Callable[..., np.ndarray] = _run_programs) -> list[_Group]:
    """Every plain program of 1..max_tokens tokens, run by ``run`` (:func:`_run_programs`, or
    :func:`_run_detectors` for events) and grouped by behaviour, one group list per length."""
    groups = []
    for n in range(1, max_tokens + 1):
        parts = [b for b in blocks(3 * n, min_bits=3 * (n - 1))]
        codes = np.concatenate([enumerate_block(b) for b in parts])
        start = parts[0].start
        lengths = np.full(codes.shape[0], n, dtype=np.int32)
        behaviour = run(codes, lengths, config, histories, all_histories)
        flat = behaviour.reshape(behaviour.shape[0], -1)
        first_pos, inverse = group_rows(flat)
        count = np.bincount(inverse, minlength=len(first_pos)).astype(np.int64)
        groups.append(_Group(n, flat[first_pos].reshape(-1, *behaviour.shape[1:]), count,
                             start + first_pos.astype(np.int64)))
    return groups


def _first_hold(codes: np.ndarray) -> np.ndarray:
    """``(B, G)``: 0-based first step at which each detector emits a non-zero ``.`` (H if never)."""
    holds = codes >= 1
    horizon = codes.shape[-1]
    return np.where(holds.any(axis=-1), holds.argmax(axis=-1), horizon)


@dataclass
class _Rows:
    codes: list[np.ndarray] = field(default_factory=list)
    weight: list[np.ndarray] = field(default_factory=list)
    bits: list[np.ndarray] = field(default_factory=list)
    text: list[list[str | int]] = field(default_factory=list)

    def add(self, codes: np.ndarray, weight: np.ndarray, bits: np.ndarray, text: list[str | int]) -> None:
        self.codes.append(codes)
        self.weight.append(weight)
        self.bits.append(bits)
        self.text.append(text)


def _switch_rows(config: ClassConfig, groups: list[_Group], rows: _Rows,
                 event_groups: list[_Group] | None = None, policy_groups: list[_Group] | None = None) -> int:
    """Add every SWITCH E P Q (``SWITCH E ACT(P) Q`` if ``config.switch_act``) of at most ``config.switch_bits``
    bits; return the number of programs.

    ``groups``: P and Q runs (codes per position); ``event_groups``: E's detector runs (codes per step; None:
    ``groups``, as in policy mode); ``policy_groups``: P's runs when they differ from ``groups`` (ACT(P) in joint
    mode: codes per position from :func:`policy_codes_in_joint_mode`)."""
    budget = config.switch_bits
    by_len = {g.tokens: g for g in groups}
    policies_by_len = by_len if policy_groups is None else {g.tokens: g for g in policy_groups}
    act = 2 if config.switch_act else 0
    events_by_len = by_len if event_groups is None else {g.tokens: g for g in event_groups}
    steps = config.step_of_position()
    n_programs = 0
    q_options: list[tuple[int | None, int]] = [(None, 2)] if config.mix else []
    q_options += [(n, 1 + 3 * n) for n in by_len if n <= config.part_tokens("before")]
    event_lengths = [n for n in events_by_len if n <= config.part_tokens("event")]
    policy_lengths = [n for n in by_len if n <= config.part_tokens("policy")]
    for n_e, n_p in itertools.product(event_lengths, policy_lengths):
        for n_q, q_bits in q_options:
            bits = 2 + (1 + 3 * n_e) + act + (1 + 3 * n_p) + q_bits
            if bits > budget:
                continue
            e, p = events_by_len[n_e], policies_by_len[n_p]
            tau_all = _first_hold(e.codes)  # (Be, G)
            taus, tau_inv = np.unique(tau_all, axis=0, return_inverse=True)
            tau_inv = tau_inv.reshape(-1)
            e_count = np.array([e.count[tau_inv == i].sum() for i in range(len(taus))], dtype=np.int64)
            e_first = np.array([e.first[tau_inv == i].min() for i in range(len(taus))], dtype=np.int64)
            if n_q is None:
                q_codes = np.full((1, *p.codes.shape[1:]), CODE_MIX, dtype=np.int8)
                q_count, q_first = np.ones(1, dtype=np.int64), np.array([-1], dtype=np.int64)
            else:
                q = by_len[n_q]
                q_codes, q_count, q_first = q.codes, q.count, q.first
            size = len(taus) * len(p.count) * len(q_count) * int(np.prod(p.codes.shape[1:]))
            if size > MAX_SWITCH_CELLS:
                raise ValueError(
                    f"SWITCH programs of {bits} bits need {size:,} behaviour cells (limit {MAX_SWITCH_CELLS:,}); "
                    "lower switch_max_bits, or use fewer histories"
                )
            after = steps[None, None, :] >= taus[:, :, None]  # (Bt, G, H)
            combined = np.where(after[:, None, None], p.codes[None, :, None], q_codes[None, None, :])
            shape = combined.shape[:3]
            count = e_count[:, None, None] * p.count[None, :, None] * q_count[None, None, :]
            unit_weight = 1 << (config.unit_bits - bits)
            n_programs += int(count.sum())
            idx = np.indices(shape).reshape(3, -1).T
            texts: list[str | int] = []
            for ie, ip, iq in idx:
                q_text = "MIX" if n_q is None else program_at(int(q_first[iq]))
                p_text = program_at(int(p.first[ip]))
                p_text = f"ACT({p_text})" if act else p_text
                texts.append(f"SWITCH({program_at(int(e_first[ie]))}, {p_text}, {q_text})")
            rows.add(combined.reshape(-1, *combined.shape[3:]), count.reshape(-1) * unit_weight,
                     np.full(len(texts), bits, dtype=np.int64), texts)
    return n_programs


def _kind_weights(weight: np.ndarray, kind: int) -> np.ndarray:
    out = np.zeros((len(weight), len(KINDS)), dtype=np.int64)
    out[:, kind] = weight
    return out


def build_class(
    config: ClassConfig,
    observations: list[tuple[int, ...]] | None = None,
    all_histories: bool = False,
    workers: int | None = 1,
    scheduler: str | None = None,
    show_progress: bool = False,
    *,
    histories: list[tuple[int, ...]] | None = None,
) -> ModelClass:
    """Enumerate, run and collapse the class on the given histories.

    Policy mode: ``observations``, a list of observation sequences (each padded with 0 to ``H - 1``); None: one
    history of all-0 observations; ``all_histories=True``: every sequence of ``K^(H-1)``. Joint mode:
    ``histories``, a list of interleaved histories ``a_1 o_1 a_2 ...`` (each padded with 0 to ``2H - 1``); None:
    the all-0 history; ``all_histories=True``: every sequence of ``K^(2H-1)``. ``workers``/``scheduler`` as in
    :func:`aitheory.dsl.behaviour_table` (plain programs are enumerated in parallel blocks).
    """
    if config.mode == "policy" and histories is not None:
        raise ValueError("argument histories: interleaved histories are for joint mode; policy mode takes "
                         "observations")
    if config.mode == "joint" and observations is not None:
        raise ValueError("argument observations: joint mode takes interleaved histories (histories=...), since "
                         "its programs read and predict the actions too")
    inputs = _histories(config, observations if config.mode == "policy" else histories, all_histories)
    check_switch_parts(config, inputs.shape[0])
    return _build(config, inputs, all_histories, workers, scheduler, show_progress)


def _build(config: ClassConfig, histories: np.ndarray, all_histories: bool, workers: int | None,
           scheduler: str | None, show_progress: bool) -> ModelClass:
    table = behaviour_table(
        EnumConfig(max_bits=config.max_bits, k=config.k, horizon=config.positions, steps=config.steps,
                   tape_bound=config.tape_bound, detect_cycles=config.detect_cycles,
                   histories=None if all_histories else tuple(tuple(int(o) for o in h) for h in histories),
                   all_histories=all_histories),
        workers=workers, scheduler=scheduler, show_progress=show_progress,
    )
    rows = _Rows()
    # Plain rows: table weights are in units of 2^-L for 3n-bit programs; in the full grammar each program has
    # one more bit, so the same integers are the weights in units of 2^-(L+1).
    scale = 1 << (config.unit_bits - config.full_bits)
    rows.add(_codes_from_runs(table.actions, table.status), _kind_weights(table.weight * scale, _PLAIN),
             1 + table.shortest_bits(), [int(f) for f in table.first])
    programs = {"plain": table.programs, "switch": 0, "mix": 0}
    if config.mix:
        mix_codes = np.full((1, histories.shape[0], config.positions), CODE_MIX, dtype=np.int8)
        rows.add(mix_codes, _kind_weights(np.array([1 << (config.unit_bits - 2)]), _MIX),
                 np.array([2]), ["MIX"])
        programs["mix"] = 1
    if config.switch:
        max_tokens = max(config.part_tokens(role) for role in ("event", "policy", "before"))
        if max_tokens >= 1:
            groups = _short_groups(config, histories, all_histories, max_tokens)
            events = None
            if config.mode == "joint":
                events = _short_groups(config, histories, all_histories, config.part_tokens("event"),
                                       _run_detectors)
            policies = None
            if config.mode == "joint" and config.switch_act:  # ACT(P): P in policy reading, MIX's observations
                policies = [dataclasses.replace(g, codes=policy_codes_in_joint_mode(g.codes)) for g in
                            _short_groups(config, histories, all_histories, config.part_tokens("policy"),
                                          _run_detectors)]
            before = len(rows.codes)
            programs["switch"] = _switch_rows(config, groups, rows, events, policies)
            for i in range(before, len(rows.codes)):
                rows.weight[i] = _kind_weights(rows.weight[i], _SWITCH)
    return _collapse(config, rows, histories, programs)


def _text(item: str | int) -> str:
    """A row label: program text, or the canonical index of a plain program."""
    return item if isinstance(item, str) else program_at(item)


def _collapse(config: ClassConfig, rows: _Rows, histories: np.ndarray, programs: dict[str, int]) -> ModelClass:
    text: list[str | int] = [t for part in rows.text for t in part]
    return merge_rows(config, np.concatenate(rows.codes), np.concatenate(rows.weight), np.concatenate(rows.bits),
                      lambda i: _text(text[i]), histories, programs)


def merge_rows(config: ClassConfig, codes: np.ndarray, weights: np.ndarray, bits: np.ndarray,
               text: Callable[[int], str], histories: np.ndarray, programs: dict[str, int]) -> ModelClass:
    """The model class of ``n`` program rows, rows of equal behaviour merged: the one way a class is made.

    ``codes`` ``(n, G, P)`` are the rows' behaviour codes, ``weights`` ``(n, len(KINDS))`` their integer prior
    weights per kind (units ``2^-config.unit_bits``), ``bits`` ``(n,)`` their full-grammar lengths and
    ``text(i)`` row i's program text. Rows with equal codes (:func:`aitheory.dsl.behaviour.group_rows`) become
    one row whose weight is the per-kind sum, ``w(row) = sum_{nu in row} w(nu)``; its representative is the
    shortest program (ties: the row given first, so plain before MIX/SWITCH when added in that order). Merged
    rows of zero weight are dropped; the rest come in the canonical order: by the representative's length, then
    by first occurrence. ``text`` is called only for the representatives kept.
    """
    flat = codes.reshape(codes.shape[0], -1)
    first, inverse = group_rows(flat)
    merged = np.zeros((len(first), len(KINDS)), dtype=np.int64)
    np.add.at(merged, inverse, weights)
    order = np.lexsort((np.arange(len(bits)), bits))
    rep = np.full(len(first), -1, dtype=np.int64)
    for i in order[::-1]:
        rep[inverse[i]] = i
    keep = merged.sum(axis=1) > 0
    final = np.lexsort((np.arange(len(first)), bits[rep]))
    final = final[keep[final]]
    return ModelClass(
        config=config,
        codes=np.ascontiguousarray(flat[first][final].reshape(-1, *codes.shape[1:])),
        weight_by_kind=merged[final],
        rep_bits=bits[rep][final],
        rep_text=tuple(text(int(rep[i])) for i in final),
        histories=histories,
        programs_by_kind=programs,
    )


# --------------------------------------------------------------------------------------------------------------
# Sizes, refused before anything is enumerated


def switch_part_programs(config: ClassConfig) -> int:
    """How many plain programs :func:`build_class` enumerates and runs (all at once) as parts of SWITCH programs:
    every program of 1 .. n tokens, n the largest part length allowed by the caps (0 without SWITCH)."""
    if not config.switch:
        return 0
    tokens = max(config.part_tokens(role) for role in ("event", "policy", "before"))
    return sum(program_count(n) for n in range(1, tokens + 1))


def _largest_switch_bits(config: ClassConfig, limit: int) -> int:
    """The largest ``switch_max_bits`` whose SWITCH parts stay within ``limit`` programs (other options equal)."""
    best = 10
    for bits in range(10, 63):
        candidate = ClassConfig(**{**config.__dict__, "switch_max_bits": bits})
        if switch_part_programs(candidate) > limit:
            break
        best = bits
    return best


def check_switch_parts(config: ClassConfig, n_histories: int, limit: int = MAX_SWITCH_PART_PROGRAMS) -> None:
    """Raise :class:`ClassTooLargeError` (naming the option that lowers it, with the estimate) when the SWITCH parts
    would need more than ``limit`` programs; each is held with its behaviour, ``n + G * H`` bytes."""
    count = switch_part_programs(config)
    if count <= limit:
        return
    tokens = max(config.part_tokens(role) for role in ("event", "policy", "before"))
    gib = count * (tokens + n_histories * config.horizon) / 2**30
    raise ClassTooLargeError(
        f"switch_max_bits={config.switch_bits}: SWITCH parts of up to {tokens} tokens ({3 * tokens} bits) mean "
        f"{count:,} plain programs enumerated and run at once (about {gib:.1f} GiB, limit {limit:,} programs); "
        f"lower switch_max_bits to at most {_largest_switch_bits(config, limit)}, or cap the parts "
        "(switch_event_max_bits, switch_policy_max_bits)"
    )


# --------------------------------------------------------------------------------------------------------------
# Programs added by hand, with their exact prior


def in_class(config: ClassConfig, expr: Expr) -> bool:
    """Whether :func:`build_class` enumerates ``expr`` (so adding it again would count it twice)."""
    if isinstance(expr, Plain):
        return expr.bits <= config.max_bits
    if isinstance(expr, Mix):
        return config.mix
    if isinstance(expr, Opt) or isinstance(expr.after, Opt):
        return False  # OPT rows are never enumerated (added by hand)
    if isinstance(expr.after, Act) != config.switch_act:
        return False  # ACT(P) rows are enumerated only by a switch_act class, plain-P rows only by the others
    if not config.switch or expr_bits(expr) > config.switch_bits:
        return False
    after = expr.after.policy if isinstance(expr.after, Act) else expr.after
    if expr.event.n_tokens > config.part_tokens("event") or after.n_tokens > config.part_tokens("policy"):
        return False
    if isinstance(expr.before, Mix):
        return config.mix
    return expr.before.n_tokens <= config.part_tokens("before")


def _plain_codes(program: Plain, config: ClassConfig, obs: np.ndarray) -> np.ndarray:
    """Codes of a plain program at the class's positions: run on the observations (policy mode), or in BF-8's
    joint mode on the interleaved history ``x_1 .. x_{2H-1}`` (joint mode, ``,`` reads ``x_n``)."""
    inputs = [int(o) for o in obs]
    joint = config.mode == "joint"
    run = run_reference(program, config.k, config.positions, None if joint else inputs, config.steps,
                        config.tape_bound, config.detect_cycles, mode=config.mode, history=inputs if joint else None)
    codes = [CODE_TILDE if a == TILDE_ACTION else a for a in run.actions]
    codes += [lost_code(Status.of(run.status))] * (config.positions - len(codes))
    return np.array(codes, dtype=np.int8)


def _act_codes(program: Plain, config: ClassConfig, obs: np.ndarray) -> np.ndarray:
    """Codes of ``ACT(program)`` at the class's positions: the program in policy reading (on the observations,
    which in joint mode are ``x_2, x_4, ..`` of the interleaved history), and in joint mode its s-th emission at
    position ``2s-1`` and :data:`CODE_MIX` at the observation positions."""
    if config.mode == "policy":
        return _plain_codes(program, config, obs)
    policy = dataclasses.replace(config, mode="policy")
    return policy_codes_in_joint_mode(_plain_codes(program, policy, obs[1::2]))


def program_codes(config: ClassConfig, histories: np.ndarray, expr: Expr) -> np.ndarray:
    """``(G, P) int8`` behaviour codes (module docstring; P = H positions, 2H in joint mode) of one program of any
    length on the histories, run with the reference interpreter; SWITCH as in :mod:`aitheory.dsl.combinators`
    (both positions of a step switched in joint mode), MIX as :data:`CODE_MIX`, ``ACT(P)`` P's actions with MIX's
    observations (joint mode; P itself in policy mode)."""
    if isinstance(expr, Opt) or (isinstance(expr, Switch) and isinstance(expr.after, Opt)):
        raise ValueError(f"program {expr}: OPT plans with the mixture; add it with "
                         "aitheory.planning.add_opt_programs (joint mode)")
    out = np.empty((histories.shape[0], config.positions), dtype=np.int8)
    for g, obs in enumerate(histories):
        if isinstance(expr, Mix):
            out[g] = CODE_MIX
        elif isinstance(expr, Plain):
            out[g] = _plain_codes(expr, config, obs)
        else:
            assert isinstance(expr, Switch) and isinstance(expr.after, Plain | Act)
            # the event reads the observation stream: the inputs, or x_2, x_4, .. of the joint history
            stream = obs if config.mode == "policy" else obs[1::2]
            holds = event_holds(expr.event, config.k, config.horizon, [int(o) for o in stream], config.steps,
                                config.tape_bound)
            switched = np.cumsum(holds) > 0  # per step; both positions of a step in joint mode
            after = (_act_codes(expr.after.policy, config, obs) if isinstance(expr.after, Act)
                     else _plain_codes(expr.after, config, obs))
            before = program_codes(config, obs[None, :], expr.before)[0]
            out[g] = np.where(switched[config.step_of_position()], after, before)
    return out


def add_programs(model_class: ModelClass, programs: list[Expr]) -> tuple[ModelClass, tuple[Expr, ...]]:
    """The class with ``programs`` added as rows of their own, each with its exact prior ``2^-expr_bits``.

    Programs the class already enumerates (:func:`in_class`) or listed twice are skipped, so nothing is counted
    twice; the second value lists the programs actually added. Added rows come after the enumerated ones and are
    not merged with rows of equal behaviour (the mixture is linear in the rows, so this changes no prediction).
    An added plain program enters ``xi_plain`` (what MIX predicts with). Raises ``ValueError`` for a program
    longer than :data:`MAX_ADDED_BITS`, whose prior would not be a normal float64.
    """
    config = model_class.config
    added: list[Expr] = []
    for expr in programs:
        bits = expr_bits(expr)
        if bits > MAX_ADDED_BITS:
            raise ValueError(f"program {expr}: {bits} bits; programs added to the class must have at most "
                             f"{MAX_ADDED_BITS} bits (their prior 2^-bits must be a normal float64)")
        if not in_class(config, expr) and expr not in added:
            added.append(expr)
    if not added:
        return model_class, ()
    kinds = [_PLAIN if isinstance(e, Plain) else _MIX if isinstance(e, Mix) else _SWITCH for e in added]
    codes = np.stack([program_codes(config, model_class.histories, e) for e in added])
    grown = add_rows(model_class, codes, [expr_bits(e) for e in added], [str(e) for e in added],
                     [KINDS[kind] for kind in kinds])
    return grown, tuple(added)


def add_rows(model_class: ModelClass, codes: np.ndarray, bits: list[int], texts: list[str],
             kinds: list[str]) -> ModelClass:
    """The class with rows of given behaviour codes ``(n, G, P)`` appended, row i with exact prior ``2^-bits[i]``
    in the column ``kinds[i]`` (:data:`KINDS`), named ``texts[i]``: the one way rows are added
    (:func:`add_programs`; ``aitheory.planning.add_opt_programs`` for OPT rows, kind ``"switch"``, the column of
    every combinator but MIX). The caller makes sure no program is counted twice."""
    n = len(bits)
    if codes.shape != (n, *model_class.codes.shape[1:]) or len(texts) != n or len(kinds) != n:
        raise ValueError(f"argument codes: expected shape {(n, *model_class.codes.shape[1:])} with {n} bits, "
                         f"texts and kinds, got {codes.shape}, {len(texts)}, {len(kinds)}")
    for b, text in zip(bits, texts, strict=True):
        if not 0 < b <= MAX_ADDED_BITS:
            raise ValueError(f"program {text}: {b} bits; programs added to the class must have 1 to "
                             f"{MAX_ADDED_BITS} bits (their prior 2^-bits must be a normal float64)")
    extra = np.zeros((model_class.rows + n, len(KINDS)))
    if model_class.extra_weight_by_kind is not None:
        extra[: model_class.rows] = model_class.extra_weight_by_kind
    mass = list(model_class.extra_mass)
    programs_by_kind = dict(model_class.programs_by_kind)
    for i, (b, kind_name) in enumerate(zip(bits, kinds, strict=True)):
        kind = KINDS.index(kind_name)
        extra[model_class.rows + i, kind] = 2.0 ** -b
        mass[kind] += Fraction(1, 2 ** b)
        programs_by_kind[kind_name] = programs_by_kind.get(kind_name, 0) + 1
    return ModelClass(
        config=model_class.config,
        codes=np.concatenate([model_class.codes, codes.astype(np.int8)]),
        weight_by_kind=np.concatenate([model_class.weight_by_kind, np.zeros((n, len(KINDS)), np.int64)]),
        rep_bits=np.concatenate([model_class.rep_bits, bits]).astype(np.int64),
        rep_text=(*model_class.rep_text, *texts),
        histories=model_class.histories,
        programs_by_kind=programs_by_kind,
        extra_weight_by_kind=extra,
        extra_mass=tuple(mass),
    )
