r"""A brute-force mixture in exact arithmetic: the oracle the fast mixture is tested against.

Written to be obviously right rather than fast: every program of the class is listed explicitly (plain programs
from :func:`aitheory.dsl.all_programs`, every ``SWITCH E P Q`` and ``MIX``), run with the *reference* interpreter
one program at a time, and the mixture is computed from its definition with :class:`fractions.Fraction`:
``xi(a | h) = xi(h a) / xi(h)`` with ``xi(h) = sum_nu 2^-len(nu) nu(h)`` (``xi(empty) = 1``), and missing mass
as ``1 - sum_a xi(a | h)`` split by the status of the program that stopped. Use only on small classes.

Both modes: in policy mode the predicted symbols are the actions (observations only feed the programs); in joint
mode they are every symbol of the interleaved history ``a_1 o_1 a_2 ...``, plain programs run in joint mode, MIX
predicts each symbol with the plain programs' mixture, and ``SWITCH(E, P, Q)`` takes both of step t's
predictions from P once the event E (a detector on the observation stream) has held at some ``t' <= t``;
``ACT(P)`` there predicts ``a_s`` with P's s-th emission in policy reading (on the observations) and every
observation with MIX, and is P itself in policy mode.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from aitheory.dsl import (
    TILDE_ACTION,
    Act,
    Mix,
    Opt,
    Plain,
    Switch,
    all_programs,
    emission_role,
    event_holds,
    expr_bits,
    interleave,
    run_reference,
)
from aitheory.dsl.parser import Expr
from aitheory.mixture.classes import ClassConfig

__all__ = ["ReferenceStep", "class_programs", "reference_predictions"]


def class_programs(config: ClassConfig, extra: Sequence[Expr] = ()) -> list[Expr]:
    """Every program of the class described by ``config``, listed explicitly, then the ``extra`` programs that are
    not in it yet (as :func:`aitheory.mixture.classes.add_programs` adds them, each with prior ``2^-len``)."""
    parts = max(config.part_tokens(r) for r in ("event", "policy", "before")) if config.switch else 0
    every = [Plain(p) for p in all_programs(max(config.max_bits, 3 * parts))]
    out: list[Expr] = [p for p in every if p.bits <= config.max_bits]
    if config.mix:
        out.append(Mix())
    if config.switch:
        events = [p for p in every if p.n_tokens <= config.part_tokens("event")]
        policies = [p for p in every if p.n_tokens <= config.part_tokens("policy")]
        befores: list[Plain | Mix] = [p for p in every if p.n_tokens <= config.part_tokens("before")]
        befores += [Mix()] if config.mix else []
        for e, p, q in itertools.product(events, policies, befores):
            s = Switch(e, Act(p) if config.switch_act else p, q)
            if expr_bits(s) <= config.switch_bits:
                out.append(s)
    listed = set(out)
    for added in extra:
        if added not in listed:
            out.append(added)
            listed.add(added)
    return out


@dataclass(frozen=True)
class _Plan:
    """What a program predicts at each step: an action, ``~`` (TILDE_ACTION), "MIX", or a lost status."""

    steps: tuple[int | str, ...]


def _plain_plan(p: Plain, config: ClassConfig, inputs: Sequence[int]) -> list[int | str]:
    """What a plain program predicts at each position, run in the class's mode on ``inputs`` (the observations,
    or the interleaved history)."""
    joint = config.mode == "joint"
    run = run_reference(p, config.k, config.positions, None if joint else list(inputs), config.steps,
                        config.tape_bound, config.detect_cycles, mode=config.mode,
                        history=list(inputs) if joint else None)
    plan: list[int | str] = list(run.actions)
    plan += [run.status] * (config.positions - len(plan))
    return plan


def _act_plan(p: Plain, config: ClassConfig, inputs: Sequence[int]) -> list[int | str]:
    """``ACT(p)``: in policy mode p's own plan; in joint mode p run as a policy on the observations
    ``x_2, x_4, ..``, its s-th emission at position ``2s-1``, "MIX" at position ``2s``, and its status at every
    position from the first action it does not emit."""
    if config.mode == "policy":
        return _plain_plan(p, config, inputs)
    run = run_reference(p, config.k, config.horizon, list(inputs[1::2]), config.steps, config.tape_bound,
                        config.detect_cycles)
    plan: list[int | str] = []
    for a in run.actions:
        plan += [a, "MIX"]
    return plan + [run.status] * (config.positions - len(plan))


def _plan(expr: Expr, config: ClassConfig, inputs: Sequence[int]) -> list[int | str]:
    if isinstance(expr, Plain):
        return _plain_plan(expr, config, inputs)
    if isinstance(expr, Mix):
        return ["MIX"] * config.positions
    if isinstance(expr, Opt) or (isinstance(expr, Switch) and isinstance(expr.after, Opt)):
        raise ValueError(f"program {expr}: OPT's exact reference is aitheory.planning.reference (opt_choice_exact)")
    assert isinstance(expr, Switch) and isinstance(expr.after, Plain | Act)
    # the event reads the observation stream: the inputs themselves, or x_2, x_4, .. of the joint history
    obs = list(inputs) if config.mode == "policy" else list(inputs[1::2])
    holds = event_holds(expr.event, config.k, config.horizon, obs, config.steps, config.tape_bound)
    after = (_act_plan(expr.after.policy, config, inputs) if isinstance(expr.after, Act)
             else _plain_plan(expr.after, config, inputs))
    before = _plan(expr.before, config, inputs)
    plan = []
    for n in range(config.positions):
        t = n if config.mode == "policy" else n // 2  # the 0-based step of position n
        switched = bool(holds[: t + 1].any())
        plan.append(after[n] if switched else before[n])
    return plan


@dataclass(frozen=True)
class ReferenceStep:
    """Exact prediction of the next symbol (``a_t``; in joint mode ``o_t`` at even positions): raw ``xi(x | h)``
    per symbol and missing mass per status."""

    raw: tuple[Fraction, ...]
    missing: dict[str, Fraction]
    evidence: Fraction
    """``xi(h)``: of the history before this position."""
    plain_evidence: Fraction = Fraction(0)
    """``xi_plain(h)`` (1/2 at the empty history); MIX's posterior ratio is ``2 xi_plain(h) / xi(h)``."""
    posterior: tuple[Fraction, ...] = ()
    """``w(nu | h)`` of every program of :func:`class_programs`, in its order."""
    role: str = "action"
    """What is predicted: ``"action"`` or ``"observation"``."""


def _prob(step: int | str, a: int, k: int, xi_plain: Sequence[Fraction]) -> Fraction:
    if step == "MIX":
        return xi_plain[a]
    if step == TILDE_ACTION:
        return Fraction(1, k)
    return Fraction(int(step == a))


def reference_predictions(
    config: ClassConfig, actions: Sequence[int], observations: Sequence[int] | None = None,
    extra: Sequence[Expr] = (),
) -> list[ReferenceStep]:
    """Exact predictions of the mixture over the whole class (plus ``extra``): at steps ``1 .. len(actions) + 1``
    (policy mode), or at every position of the interleaved history ``interleave(actions, observations)`` and the
    next one (joint mode)."""
    if config.mode == "joint":
        symbols = list(interleave(actions, list(observations or [])))
        inputs = (symbols + [0] * config.positions)[: config.positions - 1]
    else:
        symbols = list(actions)
        inputs = (list(observations or []) + [0] * config.horizon)[: config.horizon - 1]
    programs = class_programs(config, extra)
    plans = [_plan(e, config, inputs) for e in programs]
    weights = [Fraction(1, 2 ** expr_bits(e)) for e in programs]
    plain_total = sum((w for e, w in zip(programs, weights, strict=True) if isinstance(e, Plain)), Fraction(0))
    not_enumerated = 1 - sum(weights, Fraction(0))
    plain_not_enumerated = Fraction(1, 2) - plain_total
    is_plain = [isinstance(e, Plain) for e in programs]
    lik = [Fraction(1)] * len(programs)
    k = config.k
    xi_h, xi_plain_h = Fraction(1), Fraction(1, 2)
    out = []
    for t in range(len(symbols) + 1):
        # One pass over every program: its joint w_nu nu(h), split by what it predicts next. Sums over the plain
        # programs give the plain mixture (MIX predicts with it); the rest, with MIX's share, the whole mixture.
        joint = [w * lk for w, lk in zip(weights, lik, strict=True)]
        num, plain_num = [Fraction(0)] * k, [Fraction(0)] * k  # sum of w nu(h) nu(x | h), whole and plain
        lost: dict[str, Fraction] = {}
        plain_lost: dict[str, Fraction] = {}
        mix_joint = Fraction(0)
        for plain, j, pl in zip(is_plain, joint, plans, strict=True):
            step = pl[t]
            if not j:
                continue
            if step == "MIX":
                mix_joint += j
            elif isinstance(step, str):
                lost[step] = lost.get(step, Fraction(0)) + j
                if plain:
                    plain_lost[step] = plain_lost.get(step, Fraction(0)) + j
            else:  # a '.' of one symbol (probability 1), or a '~' (1/K to each)
                for a, share in ([(step, j)] if step != TILDE_ACTION else [(a, j / k) for a in range(k)]):
                    num[a] += share
                    if plain:
                        plain_num[a] += share
        # Once xi_plain(h) = 0 the plain mixture predicts nothing (and MIX, its likelihood 0, has no posterior).
        plain_raw = [n / xi_plain_h if xi_plain_h else Fraction(0) for n in plain_num]
        plain_missing = {s: m / xi_plain_h for s, m in plain_lost.items()} if xi_plain_h else {}
        raw = [(num[a] + mix_joint * plain_raw[a]) / xi_h for a in range(k)]
        missing = {s: m / xi_h for s, m in lost.items()}
        if t == 0:
            plain_missing["not_enumerated"] = plain_not_enumerated / xi_plain_h
            missing["not_enumerated"] = not_enumerated
        mix_post = mix_joint / xi_h
        for name, mass in plain_missing.items():
            missing[name] = missing.get(name, Fraction(0)) + mix_post * mass
        posterior = tuple(j / xi_h if j else Fraction(0) for j in joint)
        out.append(ReferenceStep(tuple(raw), missing, xi_h, xi_plain_h, posterior, emission_role(t + 1, config.mode)))
        if t == len(symbols):
            break
        a = symbols[t]
        if raw[a] == 0:
            what, where = ("action", "step") if config.mode == "policy" else ("symbol", "position")
            raise ValueError(f"argument actions: the class gives {what} {a} probability 0 at {where} {t + 1}")
        lik = [lk * _prob(pl[t], a, k, plain_raw) if lk else lk for lk, pl in zip(lik, plans, strict=True)]
        xi_h *= raw[a]
        xi_plain_h *= plain_raw[a]
    return out
