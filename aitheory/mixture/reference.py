r"""A brute-force mixture in exact arithmetic: the oracle the fast mixture is tested against.

Written to be obviously right rather than fast: every program of the class is listed explicitly (plain programs
from :func:`aitheory.dsl.all_programs`, every ``SWITCH E P Q`` and ``MIX``), run with the *reference* interpreter
one program at a time, and the mixture is computed from its definition with :class:`fractions.Fraction`:
``xi(a | h) = xi(h a) / xi(h)`` with ``xi(h) = sum_nu 2^-len(nu) nu(h)`` (``xi(empty) = 1``), and missing mass
as ``1 - sum_a xi(a | h)`` split by the status of the program that stopped. Use only on small classes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from aitheory.dsl import TILDE_ACTION, Mix, Plain, Switch, all_programs, event_holds, expr_bits, run_reference
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
            s = Switch(e, p, q)
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


def _plain_plan(p: Plain, config: ClassConfig, obs: Sequence[int]) -> list[int | str]:
    run = run_reference(p, config.k, config.horizon, list(obs), config.steps, config.tape_bound,
                        config.detect_cycles)
    plan: list[int | str] = list(run.actions)
    plan += [run.status] * (config.horizon - len(plan))
    return plan


def _plan(expr: Expr, config: ClassConfig, obs: Sequence[int]) -> list[int | str]:
    if isinstance(expr, Plain):
        return _plain_plan(expr, config, obs)
    if isinstance(expr, Mix):
        return ["MIX"] * config.horizon
    assert isinstance(expr, Switch)
    holds = event_holds(expr.event, config.k, config.horizon, list(obs), config.steps, config.tape_bound)
    after = _plain_plan(expr.after, config, obs)
    before = _plan(expr.before, config, obs)
    switched = False
    plan = []
    for t in range(config.horizon):
        switched = switched or bool(holds[t])
        plan.append(after[t] if switched else before[t])
    return plan


@dataclass(frozen=True)
class ReferenceStep:
    """Exact prediction of ``a_t``: raw ``xi(a | h)`` per action and missing mass per status."""

    raw: tuple[Fraction, ...]
    missing: dict[str, Fraction]
    evidence: Fraction
    """``xi(h_{<t})``."""


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
    """Exact predictions at steps ``1 .. len(actions) + 1`` of the mixture over the whole class (plus ``extra``)."""
    obs = list(observations or []) + [0] * config.horizon
    obs = obs[: config.horizon - 1]
    programs = class_programs(config, extra)
    plans = [_plan(e, config, obs) for e in programs]
    weights = [Fraction(1, 2 ** expr_bits(e)) for e in programs]
    plain_total = sum((w for e, w in zip(programs, weights, strict=True) if isinstance(e, Plain)), Fraction(0))
    not_enumerated = 1 - sum(weights, Fraction(0))
    plain_not_enumerated = Fraction(1, 2) - plain_total
    lik = [Fraction(1)] * len(programs)
    k = config.k
    xi_h, xi_plain_h = Fraction(1), Fraction(1, 2)
    out = []
    for t in range(len(actions) + 1):
        # The plain mixture first (MIX predicts with it).
        # Once xi_plain(h) = 0 the plain mixture predicts nothing (and MIX, its likelihood 0, has no posterior).
        plain_raw = [
            sum((w * lk * _prob(pl[t], a, k, []) for e, w, lk, pl in zip(programs, weights, lik, plans, strict=True)
                 if isinstance(e, Plain)), Fraction(0)) / xi_plain_h if xi_plain_h else Fraction(0)
            for a in range(k)
        ]
        raw = [
            sum((w * lk * _prob(pl[t], a, k, plain_raw) for w, lk, pl in zip(weights, lik, plans, strict=True)),
                Fraction(0)) / xi_h
            for a in range(k)
        ]
        missing: dict[str, Fraction] = {}
        plain_missing: dict[str, Fraction] = {}
        for e, w, lk, pl in zip(programs, weights, lik, plans, strict=True):
            status = pl[t]
            if isinstance(status, str) and status != "MIX":
                missing[status] = missing.get(status, Fraction(0)) + w * lk / xi_h
                if isinstance(e, Plain) and xi_plain_h:
                    plain_missing[status] = plain_missing.get(status, Fraction(0)) + w * lk / xi_plain_h
        if t == 0:
            plain_missing["not_enumerated"] = plain_not_enumerated / xi_plain_h
            missing["not_enumerated"] = not_enumerated
        mix_post = sum((w * lk / xi_h for w, lk, pl in zip(weights, lik, plans, strict=True) if pl[t] == "MIX"),
                       Fraction(0))
        for name, mass in plain_missing.items():
            missing[name] = missing.get(name, Fraction(0)) + mix_post * mass
        out.append(ReferenceStep(tuple(raw), missing, xi_h))
        if t == len(actions):
            break
        a = actions[t]
        if raw[a] == 0:
            raise ValueError(f"argument actions: the class gives action {a} probability 0 at step {t + 1}")
        lik = [lk * _prob(pl[t], a, k, plain_raw) for lk, pl in zip(lik, plans, strict=True)]
        xi_h *= raw[a]
        xi_plain_h *= plain_raw[a]
    return out
