r"""KL bounds against program length for your own event, policy, demonstrator and history (Theorem 1).

**The quantity.** After a history ``x_{<2t} = a_1 o_1 ... a_{t-1} o_{t-1}`` (the demonstrator's actions and the
observations), a policy pi acts for ``horizon`` steps ``t .. m`` (``m = t + horizon - 1``). Its cost against the
Bayesian imitator ``xi`` (the mixture as base policy) is the Definition-2 KL, in nats,

``KL_{x_{<2t},m}(pi || xi) = max_{o_t..o_{m-1}} sum_{a_t..a_m} P_pi(a | o) ln(P_pi(a | o) / P_xi(a | o))``

(open loop: the observation sequence is fixed first, the adversary picks the worst one; computed exactly by
:func:`aitheory.measures.tree_kl`). Here pi is the plain BF-8 program P read as a policy: its s-th emission on the
observations is its action at step s (1 for a ``.`` of that value, ``1/K`` each for a ``~``, mass lost if it stops).

**The bound.** Let E be an event (a detector program) *unprecedented at t*: it holds at t and at no earlier step.
The construction ``nu* = SWITCH(E, P, MIX)`` predicts like the plain mixture until E holds, then like P. Before E,
``nu*(x_{<2t}) = 2 xi_plain(x_{<2t})``, so its posterior ratio ``r = w(nu* | x_{<2t}) / w(nu*) = nu*(h) / xi(h)``
does not shrink with the amount of data (in the enumerated class it is close to 4/3: the posterior ratio the
report gives), and along P's actions, for every observation sequence, ``prod_s xi(a_s | x_{<2s}) >=
w(nu* | x_{<2t})``. Hence

``KL <= -ln w(S | x_{<2t}) <= -ln w(nu* | x_{<2t}) = len(nu*) ln 2 - ln r <= [K(E) + K(P) + d] ln 2``  (if r >= 1),

with S the rows of the class that predict exactly like P on the window (the *switch mass* ``w(S | x_{<2t})``; the
first inequality is the telescoping identity of the mixture), ``K(E) = 3 n_E`` and ``K(P) = 3 n_P`` the plain-code
lengths of the event and the policy (or of the shortest equivalent ones in the class, on request), and

``d = len(SWITCH(E, P, MIX)) - K(E) - K(P)`` bits,

the grammar overhead of the construction actually used, computed from its code (:func:`aitheory.dsl.expr_bits`):
the ``10`` of SWITCH, the leading ``0`` of each plain part and the ``11`` of MIX, 6 bits in BF-8's full grammar.
The bound does not depend on t or on the demonstrator's data; it is promised only for an unprecedented event with
``r >= 1``, which the result reports (``bound_promised``).

**The class.** Every plain program of at most ``class_config.max_bits`` bits, MIX, and optionally the enumerated
``SWITCH(E', P', MIX)`` of the config's caps (``SWITCH(E', ACT(P'), MIX)`` if ``class_config.switch_act``, the rows
joint mode's bound assumes: :func:`default_class` with ``act=True``); then the programs you give (E, P, the
demonstrator, and the construction) are added with their exact prior ``2^-len``
(:func:`aitheory.mixture.classes.add_programs`), whatever their length up to 1000 bits, unless the class already
enumerates them. Nothing is renormalised: the prior mass of
the programs beyond the bound is lost at the first step, as the mixture reports it.

**Joint mode** (``mode="joint"``). The class is built in the engine's joint mode on the interleaved histories
``x = a_1 o_1 .. a_m`` (demonstrator's prefix, then every window continuation), so xi is base policy and
environment model and the history's observations update the posterior too. The KL is the same Definition 2 for the
policy's actions, ``xi(a_s | x_{<2s})`` now the joint mixture's action prediction; E is read on the observation
stream as before. The construction is ``nu* = SWITCH(E, ACT(P), MIX)``: P read as a policy (its s-th emission on the
observations is ``a_s``, exactly as in policy mode), the observations from MIX both before and after E
(:class:`aitheory.dsl.Act`). Its length is ``len(E) + len(P) + 6`` full-grammar bits, so ``d = 8``. The
enumerated SWITCH rows the argument assumes are ``SWITCH(E', ACT(P'), MIX)`` (``class_config.switch_act``); a
joint-mode class of plain-P' rows is reported (``plain_switch_rows``, a note) and its bound is not promised.

Why the chain now holds for the observations too. After E, ``nu*(o_s | h a_s) = xi_plain(o_s | h a_s)``. If every
row of the class that is not a plain program predicts the window's observations with MIX (or has lost its mass),
the whole mixture does too: the plain rows contribute ``X(h a o) = X(h a) xi_plain(o | h a)`` (X their joint
weight, whose conditional MIX is) and every other row ``w_c nu_c(h a) xi_plain(o | h a)`` or nothing, so
``xi(o_s | h a_s) <= xi_plain(o_s | h a_s) = nu*(o_s | h a_s)``: the observations never lower nu*'s posterior.
Along P's actions the posterior moves by ``P(a_s) / xi(a_s | h)`` at each action, so, telescoping,
``prod_s xi(a_s | x_{<2s}) >= P(a) w(nu* | x_{<2t}) prod_s [nu*(o_s|.) / xi(o_s|.)] / w(nu* | x_{<2m-1} a_m)
>= P(a) w(nu* | x_{<2t})`` for every observation sequence, and ``KL <= -ln w(nu* | x_{<2t}) <= len(nu*) ln 2`` as
in policy mode (if r >= 1). Two hypotheses are checked on the class, not assumed (``observations_from_mix``):
every non-plain row with posterior > 0 predicts each window observation with MIX or nothing, and the plain mixture
keeps positive evidence on every window history that P's actions reach (else MIX, hence nu*, predicts nothing
there). ``plain_policy=True`` keeps the older construction ``SWITCH(E, P, MIX)`` with P plain in both roles (after
E, P's emissions predict the observations too): a control, since there the observations can refute nu* (in the
tests its KL, 29.52 nats, exceeds its bound, 29.11), and a reading for a user whose P is a joint-mode program (it
reads the interleaved history, its own actions included); its bound is measured, never promised. ``shortest``
compares programs in policy reading on the observation streams (E' first holding where E does, P' acting like P
on the window, on every stream): then ``SWITCH(E', ACT(P'), MIX)`` has the same joint predictions as the given
construction at every position, and its shorter length is the bound. With ``plain_policy`` it is refused (a plain
P is a joint-mode program: P' would have to match its joint predictions of both roles).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from aitheory.dsl import Act, Expr, Mix, ParseError, Plain, Switch, expr_bits, interleave, parse, parse_expr
from aitheory.dsl.status import CODE_LOST_BASE, CODE_MIX, CODE_TILDE, emission_probs
from aitheory.imitators import BayesianImitator
from aitheory.measures import tree_kl
from aitheory.mixture import ClassConfig, ModelClass, OnlineMixture, build_class
from aitheory.mixture.classes import KINDS, add_programs, in_class, program_codes

__all__ = ["FULL_SUPPORT", "LN2", "MAX_CONTINUATIONS", "MODES", "PLAIN_SWITCH_ROWS_NOTE", "SwitchCarrier",
           "SwitchCost", "default_class", "switch_cost"]

LN2 = math.log(2)
#: Refuse windows with more observation continuations ``K^(horizon-1)`` than this (the class is run on each).
MAX_CONTINUATIONS = 4096
#: The shortest plain program of full support in joint mode (``~`` at every emission: ``1/K`` to every symbol, never
#: refuted, 15 bits): added to a joint-mode class that lacks it, so that MIX's plain mixture never has evidence 0.
FULL_SUPPORT = "+[~]]"
#: How programs are read: ``"policy"`` (they emit actions) or ``"joint"`` (they predict a_1 o_1 a_2 ..).
MODES = ("policy", "joint")
#: What a joint-mode result says of a class whose enumerated SWITCH rows hold a plain P' (``plain_switch_rows``).
PLAIN_SWITCH_ROWS_NOTE = ("joint mode with enumerated SWITCH(E', P', MIX) rows, P' plain (ClassConfig.switch_act "
                          "False; --plain-policy with --switch-bits): after its event such a row predicts the "
                          "observations with P' itself; the joint bound assumes SWITCH(E', ACT(P'), MIX) rows "
                          "(default_class(..., act=True)), so it is not promised")


@dataclass(frozen=True)
class SwitchCarrier:
    """A behaviour row of the switch set S (it predicts exactly like the policy on the window)."""

    program: str
    """The row's shortest program (any program of the row has the same posterior ratio)."""
    bits: int
    """Its full-grammar length."""
    kind: str
    """``plain``, ``switch`` or ``mix`` (the kind holding most of the row's prior)."""
    posterior: float
    """``w(row | x_{<2t})``."""
    share: float
    """``posterior / w(S | x_{<2t})``: the row's share of the switch mass."""


@dataclass(frozen=True)
class SwitchCost:
    """The Definition-2 KL of a switch next to the bound ``[K(E) + K(P) + d] ln 2`` and each of its terms."""

    mode: str
    """How programs are read: ``"policy"`` (they emit actions; the observations are given, not predicted) or
    ``"joint"`` (they predict the interleaved ``a_1 o_1 a_2 ..``; xi is base policy and environment model)."""
    t: int
    """The step the policy takes over (1-based): one more than the number of observations given."""
    horizon: int
    """``m - t + 1``: the steps the policy acts for."""
    event: str
    """The event E used in the bound (the given one, or the shortest equivalent one when asked)."""
    policy: str
    """The policy P used in the bound (likewise)."""
    construction: str
    """``SWITCH(E, P, MIX)`` (``SWITCH(E, ACT(P), MIX)`` in joint mode), the model the bound is the length of."""
    kl_nats: float
    """``KL_{x_{<2t},m}(P || xi)``, Definition 2 (``inf`` if xi rules out an action P takes)."""
    worst_observations: tuple[int, ...]
    """``o_t .. o_{m-1}``: the observation sequence attaining the maximum."""
    event_bits: int
    """K(E): plain-code length of the event, 3 bits per token."""
    policy_bits: int
    """K(P): plain-code length of the policy."""
    d_bits: int
    """``len(construction) - K(E) - K(P)``: the grammar overhead of the construction, from its code."""
    bound_nats: float
    """``[K(E) + K(P) + d] ln 2 = len(construction) ln 2``."""
    posterior_ratio: float
    """``r = w(nu* | x_{<2t}) / w(nu*) = nu*(x_{<2t}) / xi(x_{<2t})`` of the construction."""
    construction_bound_nats: float
    """``-ln w(nu* | x_{<2t}) = bound_nats - ln r`` (``inf`` if the history refuted the construction)."""
    switch_mass: float
    """``w(S | x_{<2t})``: posterior of the rows predicting exactly like P on the window, on every continuation."""
    switch_bound_nats: float
    """``-ln w(S | x_{<2t})``: the class-internal bound, ``kl_nats`` is always at most this (policy mode; in joint
    mode S is the rows acting like P, and the observations in the window can break the inequality)."""
    carriers: tuple[SwitchCarrier, ...]
    """The rows of S with the largest posterior, with their share of the switch mass."""
    switch_rows: int
    """How many rows S has."""
    unprecedented: bool
    """Whether E holds at t and at no earlier step on the history."""
    event_first_hold: int
    """The first step at which E holds on the history (``<= t``)."""
    bound_promised: bool
    """Whether the theorem's hypotheses hold here: the construction in the class, E unprecedented at t, ``r >= 1``
    (and in joint mode ``observations_from_mix`` and no ``plain_switch_rows``)."""
    held: bool
    """``kl_nats <= bound_nats`` (a float tolerance of 1e-9 nats)."""
    added_programs: tuple[str, ...]
    """Programs added to the enumerated class, with their exact prior ``2^-len``."""
    notes: tuple[str, ...]
    """Plain statements of what the class lacked and what was added, and why the bound is not promised."""
    observations: tuple[int, ...]
    """``o_1 .. o_{t-1}``."""
    actions: tuple[int, ...]
    """``a_1 .. a_{t-1}``: the demonstrator's actions."""
    class_rows: int
    """Behaviour rows of the class (after the additions)."""
    not_enumerated_mass: float
    """Prior mass of the programs outside the class (lost at the first step, never renormalised)."""
    observations_from_mix: bool | None = None
    """Joint mode's extra hypothesis (module docstring), checked on the class: every non-plain row with posterior
    > 0 predicts each window observation with MIX or nothing, and the plain mixture keeps positive evidence on
    every window history P's actions reach. None in policy mode (observations are given there)."""
    plain_switch_rows: bool = False
    """Joint mode: the class enumerates ``SWITCH(E', P', MIX)`` rows with a plain P' (``class_config.switch``
    without ``switch_act``), not the ``SWITCH(E', ACT(P'), MIX)`` rows the joint bound assumes; the bound is then
    not promised (a note says so)."""


def default_class(k: int = 2, class_bits: int = 15, switch_bits: int = 0, steps: int = 1000,
                  act: bool = False) -> ClassConfig:
    """The enumerated part of the class: plain programs of at most ``class_bits`` bits, MIX, and (if
    ``switch_bits > 0``) every ``SWITCH(E', P', MIX)`` (``SWITCH(E', ACT(P'), MIX)`` if ``act``, the rows joint
    mode's bound assumes) whose parts have at most ``switch_bits`` plain-code bits. The horizon is set by
    :func:`switch_cost`."""
    return ClassConfig(max_bits=class_bits, k=k, horizon=1, steps=steps, switch=switch_bits > 0,
                       switch_max_bits=(8 if act else 6) + 2 * switch_bits if switch_bits > 0 else None,
                       switch_event_max_bits=switch_bits or None, switch_policy_max_bits=switch_bits or None,
                       switch_plain_before=False, mix=True, switch_act=act)


def _plain(program: Plain | str, name: str) -> Plain:
    """A plain program from text, with the argument named in the error (``ParseError`` keeps the position)."""
    if isinstance(program, Plain):
        return program
    try:
        expr = parse_expr(program)
    except ParseError as exc:
        raise ParseError(exc.text, exc.position, f"argument {name}: {exc.reason}") from None
    if not isinstance(expr, Plain):
        raise ValueError(f"argument {name}: must be a plain BF-8 program, got {program!r}")
    return expr


def _demonstrator_actions(observations: tuple[int, ...], actions: Sequence[int] | None,
                          demonstrator: Plain | None, config: ClassConfig) -> tuple[int, ...]:
    n = len(observations)
    if actions is not None and demonstrator is not None:
        raise ValueError("arguments actions and demonstrator: give at most one")
    if actions is not None:
        acts = tuple(int(a) for a in actions)
        if len(acts) != n or any(not 0 <= a < config.k for a in acts):
            raise ValueError(f"argument actions: need {n} actions (one per observation) in 0..{config.k - 1}, "
                             f"got {list(acts)}")
        return acts
    if demonstrator is None:
        return (0,) * n
    if config.mode == "joint":
        return _joint_demonstrator_actions(observations, demonstrator, config)
    codes = program_codes(dataclasses.replace(config, horizon=n + 1), np.array([(*observations, 0)]),
                          demonstrator)[0, :n]
    bad = np.flatnonzero(codes < 0)
    if bad.size:
        raise ValueError(f"argument demonstrator: {demonstrator} does not emit a definite action at step "
                         f"{int(bad[0]) + 1} of the history (a '~' or a stopped run); give the actions instead")
    return tuple(int(a) for a in codes)


def _joint_demonstrator_actions(observations: tuple[int, ...], demonstrator: Plain,
                                config: ClassConfig) -> tuple[int, ...]:
    """The demonstrator's actions in joint mode: its emission at position ``2s-1`` of the interleaved history
    ``a_1 o_1 .. a_{s-1} o_{s-1}`` it has produced so far (run once per step, since it reads its own actions)."""
    acts: list[int] = []
    for s in range(1, len(observations) + 1):
        prefix = (*interleave(acts, observations[: s - 1]), 0)  # x_1 .. x_{2s-1}; x_{2s-1} = a_s is not read
        step_config = dataclasses.replace(config, horizon=s)
        code = int(program_codes(step_config, np.array([prefix]), demonstrator)[0, 2 * s - 2])
        if code < 0:
            raise ValueError(f"argument demonstrator: {demonstrator} does not emit a definite action at step {s} of "
                             "the history (a '~' or a stopped run); give the actions instead")
        acts.append(code)
    return tuple(acts)


def _histories(observations: tuple[int, ...], k: int, horizon: int) -> list[tuple[int, ...]]:
    continuations = k ** (horizon - 1)
    if continuations > MAX_CONTINUATIONS:
        raise ValueError(f"argument horizon: {horizon} steps mean {continuations:,} observation continuations "
                         f"(K^(horizon-1)), limit {MAX_CONTINUATIONS:,}; lower the horizon")
    return [observations + c for c in itertools.product(range(k), repeat=horizon - 1)]


def _joint_histories(prefix: tuple[int, ...], k: int, horizon: int) -> list[tuple[int, ...]]:
    """Interleaved histories ``x_1 .. x_{2m-1}``: the demonstrator's ``prefix`` and every window continuation
    ``a_t o_t .. a_{m-1} o_{m-1} a_m`` (``K^(2 horizon - 1)`` of them, the policy's actions included)."""
    continuations = k ** (2 * horizon - 1)
    if continuations > MAX_CONTINUATIONS:
        raise ValueError(f"argument horizon: {horizon} steps mean {continuations:,} window continuations in joint "
                         f"mode (K^(2 horizon-1)), limit {MAX_CONTINUATIONS:,}; lower the horizon")
    return [prefix + c for c in itertools.product(range(k), repeat=2 * horizon - 1)]


def _first_holds(codes: np.ndarray) -> np.ndarray:
    """``(..., G)``: 1-based first step at which a detector's codes hold (a ``.`` of a non-zero value), 0 if never."""
    holds = codes >= 1
    return np.where(holds.any(axis=-1), holds.argmax(axis=-1) + 1, 0)


def _shortest_plain(mc: ModelClass, match: np.ndarray) -> Plain | None:
    """The shortest plain program among the rows where ``match`` is true (rows represented by a plain program)."""
    plain_rows = mc.prior_by_kind()[:, KINDS.index("plain")] > 0
    for i in np.flatnonzero(match & plain_rows)[np.argsort(mc.rep_bits[match & plain_rows], kind="stable")]:
        try:
            return parse(mc.rep_text[i])
        except (ParseError, ValueError):
            continue
    return None


def _shortest_equivalents(mc: ModelClass, e_codes: np.ndarray, p_codes: np.ndarray,
                          window: slice) -> tuple[Plain | None, Plain | None]:
    """The shortest plain programs of the policy-reading class ``mc`` that first hold at the step E's codes
    ``e_codes`` (G, H) first hold on every history, and that act like P's codes ``p_codes`` (G, H) on the
    ``window`` steps on every history (None where the class has none)."""
    e_short = _shortest_plain(mc, (_first_holds(mc.codes) == _first_holds(e_codes)).all(axis=1))
    p_short = _shortest_plain(mc, (mc.codes[:, :, window] == p_codes[None, :, window]).all(axis=(1, 2)))
    return e_short, p_short


def _shortest_in_policy_reading(config: ClassConfig, hist: np.ndarray, event: Plain, policy: Plain,
                                t: int) -> tuple[Plain | None, Plain | None]:
    """Joint mode's shortest equivalents: E is a detector and ACT(P) acts on the observation stream ``x_2, x_4,
    ..`` alone, so both are compared in policy reading, on every observation stream ``o_1 .. o_{m-1}`` of the
    joint histories ``hist``, among the plain programs of at most ``config.max_bits`` bits. E' first holding at
    the same step as E on every stream and P' acting like P at steps ``t .. m`` on every stream give
    ``SWITCH(E', ACT(P'), MIX)`` the same joint predictions as ``SWITCH(E, ACT(P), MIX)`` at every position of
    every history (MIX until the common switch step, then the same actions and MIX's observations), so the
    bound's argument holds for the shorter construction unchanged."""
    streams = np.unique(hist[:, 1::2], axis=0)
    reading = dataclasses.replace(config, mode="policy", switch=False, mix=False)
    mc = build_class(reading, observations=[tuple(int(o) for o in s) for s in streams])
    return _shortest_equivalents(mc, program_codes(reading, mc.histories, event),
                                 program_codes(reading, mc.histories, policy), slice(t - 1, reading.horizon))


def _policy_fn(codes: np.ndarray, mc: ModelClass) -> Callable[[tuple[int, ...]], np.ndarray]:
    """P as a policy over interleaved histories, from its behaviour codes ``(G, H)`` on the class's histories."""
    k = mc.config.k
    joint = mc.config.mode == "joint"

    def pi(history: tuple[int, ...]) -> np.ndarray:
        s = len(history) // 2 + 1
        if joint:  # the emission at position 2s-1 of the interleaved history
            return emission_probs(int(codes[mc.history_index(list(history)), 2 * s - 2]), k)
        code = int(codes[mc.history_index(list(history[1::2])), s - 1])
        return emission_probs(code, k)

    return pi


def _base_policy(mc: ModelClass) -> Callable[[tuple[int, ...]], np.ndarray]:
    """``xi(. | h)`` as a policy; on a history the mixture gives probability 0 (``xi(h) = 0``, so the policy's KL on
    that branch is already ``inf``) the conditional is undefined and is returned as all 0."""
    imitator = BayesianImitator(mc)
    zero = np.zeros(mc.config.k)

    def beta(history: tuple[int, ...]) -> np.ndarray:
        try:
            return imitator(history)
        except ValueError as exc:
            if "probability 0" not in str(exc):
                raise
            return zero

    return beta


def switch_cost(
    observations: Sequence[int],
    event: Plain | str,
    policy: Plain | str,
    *,
    horizon: int,
    actions: Sequence[int] | None = None,
    demonstrator: Plain | str | None = None,
    class_config: ClassConfig | None = None,
    shortest: bool = False,
    carriers: int = 5,
    add: bool = True,
    mode: str = "policy",
    plain_policy: bool = False,
    add_construction: bool = True,
) -> SwitchCost:
    """The Definition-2 KL of switching to ``policy`` at ``t = len(observations) + 1`` for ``horizon`` steps, and
    the Theorem-1 bound ``[K(E) + K(P) + d] ln 2`` of ``SWITCH(event, policy, MIX)`` (module docstring).

    ``observations``: ``o_1 .. o_{t-1}``; the demonstrator's actions are ``actions``, or those of the plain program
    ``demonstrator`` on the observations, or all 0 (the default: a demonstrator that never plays anything else).
    ``class_config``: the enumerated part of the class (its horizon is replaced; default :func:`default_class`).
    ``shortest``: price E and P by the shortest plain programs of the class that switch at the same step on every
    history and act like P on the window (the construction from them is added too); else by the given programs.
    ``mode``: how programs are read; ``"policy"`` (programs emit actions, observations are given) or ``"joint"``
    (the class predicts the interleaved history; module docstring, "Joint mode"; the same inputs; ``shortest``
    compares E and P in policy reading on the observation streams there, :func:`_shortest_in_policy_reading`).
    ``plain_policy`` (joint mode): use ``SWITCH(E, P, MIX)`` with P plain in both roles instead of
    ``SWITCH(E, ACT(P), MIX)``; P's actions are then its joint-reading emissions and the bound is never promised.
    ``add_construction=False`` adds the other programs but neither the construction nor MIX (a negative control of
    the theorem's hypothesis that keeps the rest of the class, e.g. the demonstrator program).
    ``add=False`` leaves the enumerated class as it is (a negative control: the construction may then be missing,
    which the result states, and the bound is not promised).
    Raises ``ValueError`` (``ParseError`` with the position for bad program text) for bad input: among others an
    event that has not held by t, and a window whose continuations exceed :data:`MAX_CONTINUATIONS`.
    """
    if mode not in MODES:
        raise ValueError(f"argument mode: must be one of {', '.join(MODES)}, got {mode!r}")
    joint = mode == "joint"
    if joint and shortest and plain_policy:
        raise ValueError("argument shortest: not with plain_policy in joint mode (a plain P reads the interleaved "
                         "history and predicts both roles, so no shorter P' is known to give the construction the "
                         "same joint predictions); drop one of the two")
    e_given, p_given = _plain(event, "event"), _plain(policy, "policy")
    demo_prog = _plain(demonstrator, "demonstrator") if demonstrator is not None else None
    if horizon < 1:
        raise ValueError(f"argument horizon: must be >= 1, got {horizon}")
    base = class_config or default_class()
    obs = tuple(int(o) for o in observations)
    if any(not 0 <= o < base.k for o in obs):
        raise ValueError(f"argument observations: every symbol must be in 0..{base.k - 1}, got {list(obs)}")
    t = len(obs) + 1
    config = dataclasses.replace(base, horizon=t + horizon - 1, mode="joint" if joint else "policy")
    acts = _demonstrator_actions(obs, actions, demo_prog, config)
    if joint:
        mc = build_class(config, histories=_joint_histories(interleave(acts, obs), config.k, horizon))
    else:
        mc = build_class(config, observations=_histories(obs, config.k, horizon))
    hist = mc.histories
    # E reads the observation stream (x_2, x_4, .. of a joint history), in policy reading in both modes
    e_first = _first_holds(program_codes(dataclasses.replace(config, mode="policy"),
                                         hist[:1, 1::2] if joint else hist[:1], e_given))[0]
    if e_first == 0 or e_first > t:
        where = "never holds" if e_first == 0 else f"first holds at step {e_first}"
        raise ValueError(f"argument event: {e_given} {where} on this history; it must hold by t = {t} (the step "
                         "after the history), so give the observations up to its first hold")
    act = joint and not plain_policy  # the policy-only construction SWITCH(E, ACT(P), MIX)
    # P's codes (G, P); in joint mode those of the construction, which are ACT(P)'s from the switch step t on
    p_codes = program_codes(config, hist, Switch(e_given, Act(p_given), Mix()) if act else p_given)
    # the policy's positions: steps t .. m (policy mode), the action positions 2t-1 .. 2m-1 (joint mode)
    window = slice(2 * t - 2, config.positions, 2) if joint else slice(t - 1, config.horizon)
    e_used, p_used = e_given, p_given
    notes: list[str] = []
    if shortest:
        e_short, p_short = (_shortest_in_policy_reading(config, hist, e_given, p_given, t) if joint else
                            _shortest_equivalents(mc, program_codes(config, hist, e_given), p_codes, window))
        if e_short is not None and e_short.bits < e_given.bits:
            e_used = e_short
            notes.append(f"K(E) priced by the shortest equivalent event in the class: {e_short}")
        if p_short is not None and p_short.bits < p_given.bits:
            p_used = p_short
            notes.append(f"K(P) priced by the shortest equivalent policy in the class: {p_short}")
    construction = Switch(e_used, Act(p_used) if act else p_used, Mix())
    wanted: list[Expr] = [e_given, p_given]
    if add_construction:
        wanted += [Switch(e_given, Act(p_given) if act else p_given, Mix()), construction]
    if demo_prog is not None:
        wanted.append(demo_prog)
    if joint:  # MIX predicts nu*'s observations: a plain model of full support keeps it defined on every history
        wanted.append(parse(FULL_SUPPORT))
    if not config.mix and add and add_construction:
        wanted.insert(0, Mix())
        notes.append("MIX was not in the class: added, since the construction copies the mixture before E")
    mc, added = add_programs(mc, wanted) if add else (mc, ())
    if added:
        notes.append("added with their exact prior 2^-len: " + ", ".join(str(e) for e in added))
    # Posterior after the demonstrator's history.
    state = OnlineMixture(mc)
    for s, (a, o) in enumerate(zip(acts, obs, strict=True)):
        try:
            state.update(a, o)
        except ValueError as exc:
            if joint:  # the class predicts the observations too
                raise ValueError(f"argument observations: the class cannot explain the history a_1 o_1 .. at step "
                                 f"{s + 1} ({exc}); enlarge the class (class_bits)") from None
            raise ValueError(f"argument actions: the class cannot explain the demonstrator's action {a} at step "
                             f"{s + 1} ({exc})") from None
    post = state.posterior()
    log_ratio = state.log_likelihood_ratio()
    nu_codes = program_codes(config, hist, construction)
    nu_rows = np.flatnonzero((mc.codes == nu_codes[None]).all(axis=(1, 2)))
    present = bool(nu_rows.size) and ((add and add_construction) or in_class(config, construction))
    ratio = float(math.exp(log_ratio[nu_rows[0]])) if present else 0.0
    if not present:
        notes.append(f"missing: {construction} is not in the class (it was not added), so no model of the class "
                     "copies the mixture until E and then acts like P; the bound is not promised")
    in_s = (mc.codes[:, :, window] == p_codes[None, :, window]).all(axis=(1, 2))
    mass = float(post[in_s].sum())
    order = np.flatnonzero(in_s)[np.argsort(-post[in_s], kind="stable")][:carriers]
    kinds = mc.prior_by_kind().argmax(axis=1)
    top = tuple(SwitchCarrier(mc.rep_text[i], int(mc.rep_bits[i]), KINDS[int(kinds[i])], float(post[i]),
                              float(post[i] / mass) if mass > 0 else 0.0) for i in order)
    demo = tuple(x for a, o in zip(acts, obs, strict=True) for x in (a, o))
    kl = tree_kl(_policy_fn(p_codes, mc), _base_policy(mc), n_actions=config.k,
                 n_observations=config.k, horizon=horizon, history=demo)
    bits = expr_bits(construction)
    d_bits = bits - e_used.bits - p_used.bits
    bound = bits * LN2
    unprecedented = bool(e_first == t)
    promised = present and unprecedented and ratio >= 1 - 1e-12
    if not unprecedented:
        notes.append(f"E is precedented: it first held at step {e_first} < t = {t}; the bound is not promised")
    elif present and ratio < 1 - 1e-12:
        notes.append(f"the posterior ratio of the construction is {ratio:.4g} < 1: the bound is not promised")
    if (p_codes[:, window] <= CODE_LOST_BASE).any():
        notes.append("P stops (loses its mass) inside the window: it is a semimeasure policy there")
    from_mix: bool | None = None
    plain_rows = joint and config.switch and not config.switch_act
    if act:
        from_mix = _observations_from_mix(mc, post, p_codes, t, notes)
        promised = promised and from_mix and not plain_rows
        if plain_rows:
            notes.append(PLAIN_SWITCH_ROWS_NOTE)
    elif joint:
        notes.append("joint mode with a plain P (plain_policy): nu* = SWITCH(E, P, MIX) takes P's emissions in both "
                     "roles (P's observation predictions included); the window's observations move nu*'s posterior, "
                     "so KL <= -ln w(nu* | x_<2t) is not proved: the KL and the bound are measured, the bound is "
                     "not promised")
        promised = False
    kl_value = float(kl.value)
    return SwitchCost(
        mode=mode, t=t, horizon=horizon, event=str(e_used), policy=str(p_used), construction=str(construction),
        kl_nats=kl_value, worst_observations=tuple(int(o) for o in (kl.maximiser or ())),
        event_bits=e_used.bits, policy_bits=p_used.bits, d_bits=d_bits, bound_nats=bound,
        posterior_ratio=ratio, construction_bound_nats=bound - math.log(ratio) if ratio > 0 else math.inf,
        switch_mass=mass, switch_bound_nats=-math.log(mass) if mass > 0 else math.inf, carriers=top,
        switch_rows=int(in_s.sum()), unprecedented=unprecedented, event_first_hold=int(e_first),
        bound_promised=promised, held=kl_value <= bound + 1e-9, added_programs=tuple(str(e) for e in added),
        notes=tuple(notes), observations=obs, actions=acts, class_rows=mc.rows,
        not_enumerated_mass=float(mc.not_enumerated_mass()), observations_from_mix=from_mix,
        plain_switch_rows=plain_rows,
    )


def _observations_from_mix(mc: ModelClass, post: np.ndarray, p_codes: np.ndarray, t: int, notes: list[str]) -> bool:
    """Joint mode's hypotheses (module docstring), on the class's codes ``(R, G, 2m)`` and the posterior at
    ``x_{<2t}``: (1) every row with non-plain prior and posterior > 0 predicts every window observation ``o_t ..
    o_{m-1}`` (0-based positions ``2s-1``) with :data:`CODE_MIX` or has lost its mass there, on every history; (2)
    on every history whose window actions P's codes ``p_codes`` (G, 2m) give probability > 0, some plain row with
    posterior > 0 predicts the symbols ``x_{2t-1} .. x_{2m-2}`` (so MIX's plain mixture never has evidence 0
    there). A false hypothesis is named in ``notes``."""
    m = mc.config.horizon
    obs_window = slice(2 * t - 1, 2 * m - 2, 2)
    kinds = mc.prior_by_kind()
    combinator = (kinds[:, KINDS.index("switch")] + kinds[:, KINDS.index("mix")] > 0) & (post > 0)
    own = mc.codes[combinator][:, :, obs_window]
    offenders = np.flatnonzero(combinator)[~((own == CODE_MIX) | (own <= CODE_LOST_BASE)).all(axis=(1, 2))]
    if offenders.size:
        names = ", ".join(mc.rep_text[i] for i in offenders[:3])
        notes.append(f"joint mode: {offenders.size} non-plain rows predict window observations themselves, not with "
                     f"MIX (e.g. {names}), so xi(o | h) may exceed nu*'s; the bound is not promised")
    x = mc.histories[:, 2 * t - 2 : 2 * m - 2]  # x_{2t-1} .. x_{2m-2} of every history
    acts = p_codes[:, 2 * t - 2 : 2 * m - 1 : 2]
    reached = ((acts == mc.histories[:, 2 * t - 2 : 2 * m - 1 : 2]) | (acts == CODE_TILDE)).all(axis=1)
    plain = (kinds[:, KINDS.index("plain")] > 0) & (post > 0)
    codes = mc.codes[plain][:, :, 2 * t - 2 : 2 * m - 2]
    explained = ((codes == x[None]) | (codes == CODE_TILDE)).all(axis=2).any(axis=0)  # (G,)
    starved = int((reached & ~explained).sum())
    if starved:
        notes.append(f"joint mode: on {starved} window histories that P's actions reach no plain program of the class "
                     "predicts the symbols, so MIX (hence nu*) predicts nothing there; the bound is not promised "
                     "(a class with a program of full support, e.g. +[~]] at 15 bits, has none)")
    return not offenders.size and not starved
