"""Semantics of the combinators ``SWITCH(E, P, Q)`` and ``MIX`` as predictive semimeasures over actions.

A plain program's prediction of ``a_t`` on a history is a vector over the K actions: one-hot on the value of
its t-th emission if that is a ``.``, uniform ``1/K`` if it is a ``~``, and all 0 if the run stopped before
emitting it (halted, timed out, out of tape, proven silent: that mass is lost, never renormalised).

Events: E *holds at t* if the detector's t-th emitted symbol, on the same observations, is a ``.`` of a
non-zero value (a ``~`` emission or no emission counts as not holding, so events stay deterministic: this is
our reading of the contract, which speaks of "the emitted symbol"). E is *unprecedented at t* if it holds at t
and at no earlier time.

``SWITCH(E, P, Q)`` predicts ``a_t`` with P's prediction if E held at some ``t' <= t`` and with Q's otherwise;
all three run from the start on the same history. ``MIX`` is the posterior mixture of all plain programs,
computed by the mixture module; here it is supplied as a callable. ``OPT(U, u)`` plans with the mixture, so its
semantics live in :mod:`aitheory.planning.opt` (it is refused here). ``ACT(P)`` is P read as a policy, which is
what every program is here (these are predictions of actions): ``SWITCH(E, ACT(P), Q)`` predicts as
``SWITCH(E, P, Q)``; the difference is joint mode's, where ACT leaves the observations to MIX
(:func:`aitheory.mixture.classes.program_codes`).

**Utilities** (the reading of a plain program U as a reward detector; :func:`utility_rewards`): U runs on the
complete interleaved history ``x = a_1 o_1 .. a_m o_m`` as its input, in joint mode's reading (``,`` after n
emissions loads ``x_n``, 0 before the first emission), for ``2m + 1`` emissions. Its reward for step t is its
emission number ``2t + 1``, the first one made after it could read ``o_t`` (so ``r_t`` depends on
``a_1 o_1 .. a_t o_t`` only); a ``.`` of value v gives ``r_t = v / (K - 1)``, and a ``~`` or a missing emission
(the run stopped first) gives 0, as for events. ``U_m(x) = (1/m) sum_t r_t``, in ``[0, 1]``, exact
(:class:`fractions.Fraction`); ``K(U)`` is U's length. Examples (K = 2): ``+[>,.<]]`` echoes ``x_{n}`` at emission
``n + 1``, so ``U = mean of o_t``; ``.+[>,..<]]`` echoes each action twice, so ``U = mean of a_t``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction

import numpy as np

from aitheory.dsl.parser import Act, Expr, Mix, Opt, Plain, Switch, parse_expr
from aitheory.dsl.reference import DEFAULT_STEPS, DEFAULT_TAPE_BOUND, run_reference
from aitheory.dsl.status import TILDE_ACTION, emission_probs

__all__ = ["MixPredictor", "event_holds", "predict", "unprecedented_at", "utility_rewards", "utility_value"]

#: ``mix(t, obs)`` -> length-K array: the mixture's prediction of ``a_{t+1}`` (0-based t) on observations obs.
MixPredictor = Callable[[int, Sequence[int] | None], np.ndarray]


def _plain_predictions(
    p: Plain, k: int, horizon: int, obs: Sequence[int] | None, steps: int, tape_bound: int
) -> np.ndarray:
    run = run_reference(p, k, horizon, obs, steps, tape_bound)
    out = np.zeros((horizon, k))
    out[: len(run.actions)] = emission_probs(np.array(run.actions, dtype=np.int64), k)
    return out


def event_holds(
    event: Plain | str,
    k: int,
    horizon: int,
    obs: Sequence[int] | None = None,
    steps: int = DEFAULT_STEPS,
    tape_bound: int = DEFAULT_TAPE_BOUND,
) -> np.ndarray:
    """Boolean array of length H: ``holds[t-1]`` is True iff event E holds at time t (1-based)."""
    e = parse_expr(event) if isinstance(event, str) else event
    if not isinstance(e, Plain):
        raise ValueError(f"an event must be a plain program, got {e}")
    run = run_reference(e, k, horizon, obs, steps, tape_bound)
    holds = np.zeros(horizon, dtype=bool)
    for t, a in enumerate(run.actions):
        holds[t] = a not in (0, TILDE_ACTION)
    return holds


def unprecedented_at(holds: np.ndarray) -> int | None:
    """The time t (1-based) at which the event first holds, i.e. where it is unprecedented; None if never."""
    idx = np.flatnonzero(holds)
    return int(idx[0]) + 1 if idx.size else None


def _plain_program(program: Plain | str, what: str) -> Plain:
    e = parse_expr(program) if isinstance(program, str) else program
    if not isinstance(e, Plain):
        raise ValueError(f"{what} must be a plain program, got {e}")
    return e


def utility_rewards(
    utility: Plain | str,
    k: int,
    history: Sequence[int],
    steps: int = DEFAULT_STEPS,
    tape_bound: int = DEFAULT_TAPE_BOUND,
) -> tuple[Fraction, ...]:
    """The rewards ``r_1 .. r_m`` in ``[0, 1]`` that the plain program ``utility`` reads off a complete history
    ``a_1 o_1 .. a_m o_m`` (module docstring): ``r_t = v / (K - 1)`` for a ``.`` of v as emission ``2t + 1``, 0
    for a ``~`` or a missing emission."""
    u = _plain_program(utility, "a utility")
    x = [int(s) for s in history]
    if len(x) % 2 or not x:
        raise ValueError(f"argument history: a complete history a_1 o_1 .. a_m o_m has even length >= 2, "
                         f"got length {len(x)}")
    m = len(x) // 2
    run = run_reference(u, k, 2 * m + 1, steps=steps, tape_bound=tape_bound, mode="joint", history=x)
    emitted = list(run.actions) + [TILDE_ACTION] * (2 * m + 1 - len(run.actions))
    return tuple(Fraction(0) if emitted[2 * t] == TILDE_ACTION else Fraction(emitted[2 * t], k - 1)
                 for t in range(1, m + 1))


def utility_value(
    utility: Plain | str,
    k: int,
    history: Sequence[int],
    steps: int = DEFAULT_STEPS,
    tape_bound: int = DEFAULT_TAPE_BOUND,
) -> Fraction:
    """``U_m(a_1 o_1 .. a_m o_m) = (1/m) sum_t r_t`` (:func:`utility_rewards`), exact, in ``[0, 1]``."""
    rewards = utility_rewards(utility, k, history, steps, tape_bound)
    return sum(rewards, Fraction(0)) / len(rewards)


def predict(
    expr: Expr | str,
    k: int = 2,
    horizon: int = 8,
    obs: Sequence[int] | None = None,
    steps: int = DEFAULT_STEPS,
    tape_bound: int = DEFAULT_TAPE_BOUND,
    mix: MixPredictor | None = None,
) -> np.ndarray:
    """Predictions ``(H, K)``: row t-1 is the semimeasure's distribution of ``a_t`` (rows sum to <= 1)."""
    e = parse_expr(expr) if isinstance(expr, str) else expr
    if isinstance(e, Plain):
        return _plain_predictions(e, k, horizon, obs, steps, tape_bound)
    if isinstance(e, Mix):
        if mix is None:
            raise ValueError("MIX needs the mixture's predictor (pass mix=...); it is not a plain program")
        return np.array([np.asarray(mix(t, obs), dtype=float) for t in range(horizon)])
    if isinstance(e, Opt) or (isinstance(e, Switch) and isinstance(e.after, Opt)):
        raise ValueError(f"{e}: OPT plans with the mixture's values; its predictions are "
                         "aitheory.planning.opt's (opt_choice, add_opt_programs)")
    assert isinstance(e, Switch) and isinstance(e.after, Plain | Act)
    switched = np.cumsum(event_holds(e.event, k, horizon, obs, steps, tape_bound)) > 0
    policy = e.after.policy if isinstance(e.after, Act) else e.after  # ACT(P) acts as P (module docstring)
    after = _plain_predictions(policy, k, horizon, obs, steps, tape_bound)
    before = predict(e.before, k, horizon, obs, steps, tape_bound, mix)
    return np.where(switched[:, None], after, before)
