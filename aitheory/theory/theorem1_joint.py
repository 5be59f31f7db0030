r"""Theorem 1 in the joint setting: xi predicts actions and observations, and the construction is
``nu* = SWITCH(E, OPT(U, u), MIX)``.

**Statement (the paper's form).** For a utility U, an event E unprecedented at t and a value ``v < V*``, the
policy pi* that ``OPT(U, u)`` chooses at ``h = x_{<2t}`` (the first deterministic policy of the remaining horizon,
in the canonical order, with ``nu_MIX(h) V^pi_{MIX,U}(h) > u``; docs/planning.md) has, with u a dyadic code of
about ``v nu_MIX(h)``,

    V^{pi*}_{xi,U}(h) > v   and   KL_{h,m}(pi* || xi) < [d + K(U) + K(E) + K(v xi(h))] ln 2   nats,

where ``K(U) = len(U)``, ``K(E) = len(E)`` (full-grammar bits, :func:`aitheory.dsl.expr_bits`), ``K(v xi(h)) =
len(u)`` (Elias-delta code of the dyadic u) and d the grammar constant **measured on the construction**:
``d = len(nu*) - len(E) - len(U) - len(u)`` (7 bits in BF-8's grammar). The mechanism: before E, nu* predicts
like MIX, so ``w(nu* | h) = w(nu*) nu_MIX(h) / xi(h)``; along pi*'s actions, for every observation sequence,
``prod_s xi(a*_s | h_s) >= w(nu* | h) * prod_s nu_MIX(o_s | ..) / xi(o_s | ..)``, which is the telescoping bound
``-ln w(nu* | h)`` when the two observation models agree (a class of plain programs and MIX plus OPT rows: every
row predicts observations as a plain program or as MIX does, docs/planning.md).

**How it is checked.** The class: every plain program up to ``joint_max_bits`` bits, MIX, and the construction
nu* (one row, prior ``2^-len(nu*)``, :func:`aitheory.planning.add_opt_programs`), in joint mode, built on every
continuation of the tree's start (the first history at which E holds on the demonstrator's history). The
demonstrator always plays 0; U = the mean of the actions (``.+[>,..<]]``), E = "the last observation was 1"
(``+[>,.<]]``). ``kl_nats`` is Definition 2's KL of pi* against xi, computed exactly on the tree
(:meth:`aitheory.planning.XiProblem.divergence`; a test recomputes it with ``fractions.Fraction``), and the value
``V^{pi*}_{xi,U}(h)`` by exact expectimax over xi's own observation predictions.

* **novel** (the claim): observations 0, then a novel 1 after the k-th demonstrator step (E unprecedented at
  t = k + 1), for every k of ``joint_k_grid``.
* **trade-off** (simplicity against optimality): at ``joint_tradeoff_k``, u from coarse to fine
  (``v_j = (1 - 2^-j) V*``, u the shortest dyadic code in ``[v_j nu_MIX(h), V* nu_MIX(h))``): the value reached
  against the KL spent and the bound, as ``len(u)`` grows (rows ``theorem1_joint_tradeoff.csv``, figure).
* **patterns** (KL against K(E), not against the data; part of the claim): at one k = ``joint_pattern_k``,
  observations 0 then a novel pattern (``joint_patterns``), each with its own event E (``joint_pattern_events``,
  the policy-mode patterns' shortest detectors, 22 to 34 bits) unprecedented at t and its own nu*_E in the class;
  the least-squares slope of the KL against K(E) is reported (ln 2 per bit where every KL sits at its telescoping
  bound; rows ``theorem1_joint_patterns.csv``, figure).

**Negative controls** (each must fail):

* ``precedented``: the observation 1 also came one step earlier and the demonstrator did not switch, so E is not
  unprecedented at t: nu* switched at t - 1, disagreed with the demonstrator and is out of the posterior. The
  conclusion tested is the construction's guarantee ``KL <= -ln w(nu* | h)``, which is infinite there (not
  held); the KL and the theorem-form bound are reported beside it.
* ``no_mix``: the paper's counterexample, in a hand-made class (:data:`HANDMADE`): without a model that copies the
  mixture's observation predictions, adversarial observations make the worst-case KL of "always 1" grow with the
  horizon past the bound ``len(C) ln 2`` that the copy-the-mixture model C gives; with C the KL stays below it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from aitheory.dsl import Dyadic, Mix, Opt, Plain, Switch, event_holds, expr_bits, parse
from aitheory.mixture import ClassConfig, ModelClass, OnlineMixture, build_class
from aitheory.planning import add_opt_programs, opt_choice, prediction_tree, xi_problem
from aitheory.results import RunFolder, write_csv
from aitheory.theory.common import Control, Summary

if TYPE_CHECKING:  # the joint check reads the joint_* fields and steps; theorem1 imports this module
    from aitheory.theory.theorem1 import Config

__all__ = ["HANDMADE", "HandmadeKL", "HandmadeModel", "JointFields", "JointMeasured", "JointPoint", "JointPointRow",
           "JointSummary", "PatternRow", "TradeoffRow",
           "handmade_kl", "joint_class", "joint_point", "measure_joint", "pattern_rows", "plot_joint",
           "slope_per_bit", "summarise_joint", "tradeoff", "write_joint_rows"]

LN2 = math.log(2)
_TOL = 1e-9
POINTS_CSV = "theorem1_joint_points.csv"
TRADEOFF_CSV = "theorem1_joint_tradeoff.csv"
NO_MIX_CSV = "theorem1_joint_no_mix.csv"
PATTERNS_CSV = "theorem1_joint_patterns.csv"


# -- one point of the enumerated joint class ----------------------------------------------------------------------


@dataclass(frozen=True)
class JointFields:
    """The fields a point of the enumerated joint class has both as computed (:class:`JointPoint`) and as a summary
    row (:class:`JointPointRow`), in the columns' order of ``theorem1_joint_points.csv``; each class states the
    type of ``plan``."""

    world: str
    """[name] "novel" or "precedented"."""
    k: int
    """[steps] Demonstrator steps before t."""
    t: int
    """[steps] The step at which pi* starts."""
    steps: int
    """[steps] Decisions left, m - t + 1."""
    unprecedented: bool
    """[flag] E holds at t and at no earlier step (on the demonstrator's observations)."""
    v_star_mix: float
    """[utility] V*_{MIX,U}(h), what OPT plans with."""
    v: float
    """[utility] The value asked for, joint_value_fraction * V*."""
    u: str
    """[dyadic] The threshold u (text)."""
    k_value_bits: int
    """[bits] K(v xi(h)) = len(u)."""
    k_event_bits: int
    """[bits] K(E) = len(E), full grammar."""
    k_utility_bits: int
    """[bits] K(U) = len(U), full grammar."""
    construction_bits: int
    """[bits] len(SWITCH(E, OPT(U, u), MIX))."""
    d_bits: int
    """[bits] d = construction_bits - K(E) - K(U) - len(u), measured."""
    plan: object
    """[actions] pi*'s action table (canonical node order, docs/planning.md)."""
    value_xi: float
    """[utility] V^{pi*}_{xi,U}(h) in the class with nu* (exact expectimax under xi's observation predictions)."""
    value_mix: float
    """[utility] V^{pi*}_{MIX,U}(h), the value OPT's choice reaches under MIX."""
    kl_nats: float
    """[nats] KL_{h,m}(pi* || xi), Definition 2: the max over open-loop observation sequences."""
    log_posterior_ratio: float
    """[nats] ln w(nu* | h) / w(nu*) (-inf when nu* is out of the posterior)."""
    mix_evidence: float
    """[probability] nu_MIX(h)."""
    plays_pi_star: bool
    """[flag] nu*'s actions from t equal pi*'s on every continuation of h (in the novel world it starts acting at
    h)."""


@dataclass(frozen=True)
class JointPoint(JointFields):
    """Theorem 1's construction at one history ``h = x_{<2t}`` (demonstrator: action 0 at every step), with its
    bounds and verdict as properties."""

    plan: tuple[int, ...]
    """[actions] pi*'s action table (canonical node order, docs/planning.md), one action per node."""

    @property
    def bound_nats(self) -> float:
        """``[d + K(U) + K(E) + K(v xi(h))] ln 2``."""
        return (self.d_bits + self.k_utility_bits + self.k_event_bits + self.k_value_bits) * LN2

    @property
    def bound_posterior(self) -> float:
        """``-ln w(nu* | h)``, the construction's telescoping bound on pi*'s KL: inf when nu* is out of the
        posterior or does not play pi* from h."""
        if not self.plays_pi_star:
            return math.inf
        return self.construction_bits * LN2 - self.log_posterior_ratio

    @property
    def held(self) -> bool:
        """The theorem at this point: E unprecedented, value above v, KL below the bound and below
        ``-ln w(nu* | h)``."""
        return bool(self.unprecedented and self.value_xi > self.v and self.kl_nats < self.bound_nats
                    and self.kl_nats <= self.bound_posterior + _TOL)

    def row(self) -> JointPointRow:
        """This point as a row of ``theorem1_joint_points.csv`` and of ``summary.json["points"]``."""
        return JointPointRow.from_point(self)


@dataclass(frozen=True)
class JointPointRow(JointFields, Summary):
    """One point of the enumerated joint class (:class:`JointPoint` with its bounds and verdict): a row of
    ``theorem1_joint_points.csv`` and of ``summary.json["points"]``, in the columns' order (the fields of
    :class:`JointFields`, then the bounds and the verdict)."""

    plan: str
    """[actions] pi*'s action table (canonical node order), one digit per node."""
    bound_nats: float
    """[nats] [d + K(U) + K(E) + K(v xi(h))] ln 2."""
    bound_posterior: float
    """[nats] -ln w(nu* | h), the telescoping bound (inf when nu* is out of the posterior or does not play pi*)."""
    held: bool
    """[flag] The theorem at this point (:attr:`JointPoint.held`)."""

    @classmethod
    def from_point(cls, point: JointPoint) -> JointPointRow:
        """``point``'s fields (its plan as digits), its bounds and its verdict."""
        return cls(**{**asdict(point), "plan": "".join(map(str, point.plan))}, bound_nats=point.bound_nats,
                   bound_posterior=point.bound_posterior, held=point.held)


def _demonstrator(observations: Sequence[int]) -> tuple[int, ...]:
    return tuple(x for o in observations for x in (0, int(o)))


def _first_hold(event: Plain, observations: Sequence[int], t: int, steps: int) -> tuple[int | None, bool]:
    """(the first step <= t at which E holds on the observations, whether E is unprecedented at t)."""
    holds = event_holds(event, 2, t, list(observations[: t - 1]), steps)
    hit = np.flatnonzero(holds)
    first = int(hit[0]) + 1 if hit.size else None
    return first, bool(first == t)


def joint_class(config: Config, root: tuple[int, ...], m: int, mix: bool = True) -> ModelClass:
    """Plain programs up to ``joint_max_bits`` (and MIX) in joint mode, on every continuation of ``root`` to
    horizon m."""
    rest = 2 * m - 1 - len(root)
    histories = [root + c for c in itertools.product((0, 1), repeat=rest)]
    cc = ClassConfig(max_bits=config.joint_max_bits, k=2, horizon=m, mode="joint", switch=False, mix=mix,
                     steps=config.steps)
    return build_class(cc, histories=histories)


def joint_point(config: Config, world: str, observations: Sequence[int],
                value_fraction: float | None = None, event_text: str | None = None) -> JointPoint:
    """Theorem 1's construction after the demonstrator's history with ``observations`` (o_1 .. o_{t-1}, actions 0):
    OPT's choice pi* at ``h``, nu* added to the class, pi*'s value and Definition-2 KL under that class's xi.
    The event is ``event_text`` (default ``config.joint_event``)."""
    utility, event = parse(config.joint_utility), parse(config.joint_event if event_text is None else event_text)
    assert isinstance(utility, Plain) and isinstance(event, Plain)
    obs = tuple(int(o) for o in observations)
    t = len(obs) + 1
    m = t - 1 + config.joint_steps
    h = _demonstrator(obs)
    first, unprecedented = _first_hold(event, obs, t, config.steps)
    root = h[: 2 * ((first or t) - 1)]  # the tree starts where nu* starts acting (or at h without an event)
    mc = joint_class(config, root, m)
    tree = prediction_tree(mc, root, m)
    mix = xi_problem(tree, utility, h, m, model="mix")
    v_star = mix.v_star()
    fraction = config.joint_value_fraction if value_fraction is None else value_fraction
    v = fraction * v_star
    ev = Fraction(mix.evidence)
    u = Dyadic.shortest_in(Fraction(v) * ev, Fraction(v_star) * ev)
    nu_star = Switch(event, Opt(utility, u), Mix())
    choice = opt_choice(mix, u)
    grown = add_opt_programs(mc, [nu_star], tree=tree)
    xp = xi_problem(prediction_tree(grown, root, m), utility, h, m)
    policy = choice.policy()
    state = OnlineMixture(grown)
    for a, o in zip(h[0::2], h[1::2], strict=True):
        state.update(a, o)
    ratio = float(state.log_likelihood_ratio()[-1])  # nu* is the last row
    plays = all(int(grown.codes[-1, g, 2 * (s - 1)]) == choice.action(x[: 2 * (s - 1)])
                for g, x in enumerate(tuple(int(y) for y in row) for row in grown.histories) if x[: len(h)] == h
                for s in range(t, m + 1)) if choice.found else False
    bits = expr_bits(nu_star)
    e_bits, u_bits = expr_bits(event), expr_bits(utility)
    return JointPoint(
        world=world, k=t - 1, t=t, steps=config.joint_steps, unprecedented=unprecedented, v_star_mix=v_star, v=v,
        u=str(u), k_value_bits=u.bits, k_event_bits=e_bits, k_utility_bits=u_bits, construction_bits=bits,
        d_bits=bits - e_bits - u_bits - u.bits, plan=choice.table, value_xi=xp.value(policy),
        value_mix=choice.value, kl_nats=float(xp.divergence(policy).kl), log_posterior_ratio=ratio,
        mix_evidence=mix.evidence, plays_pi_star=plays)


@dataclass(frozen=True)
class TradeoffRow(Summary):
    """One threshold of the trade-off: asking for ``v_j = (1 - 2^-j) V*`` (a row of ``theorem1_joint_tradeoff.csv``
    and of ``summary.json["tradeoff"]``)."""

    level: int
    """[count] j, the level of the threshold."""
    fraction: float
    """[fraction] 1 - 2^-j: the value asked for, as a fraction of V*."""
    u: str
    """[dyadic] The threshold u (text)."""
    k_value_bits: int
    """[bits] len(u) = K(v xi(h))."""
    value_xi: float
    """[utility] V^{pi*}_{xi,U}(h), the value reached."""
    v_star_mix: float
    """[utility] V*_{MIX,U}(h)."""
    kl_nats: float
    """[nats] KL_{h,m}(pi* || xi), Definition 2."""
    bound_nats: float
    """[nats] [d + K(U) + K(E) + len(u)] ln 2."""
    held: bool
    """[flag] The theorem at this threshold (:attr:`JointPoint.held`)."""


def tradeoff(config: Config) -> list[TradeoffRow]:
    """The value reached against the KL spent as u goes from coarse to fine (novel world at
    ``joint_tradeoff_k``)."""
    obs = (0,) * (config.joint_tradeoff_k - 1) + (1,)
    rows = []
    for j in range(config.joint_tradeoff_levels + 1):
        fraction = 1.0 - 2.0**-j
        p = joint_point(config, "tradeoff", obs, fraction)
        rows.append(TradeoffRow(j, fraction, p.u, p.k_value_bits, p.value_xi, p.v_star_mix, p.kl_nats,
                                p.bound_nats, p.held))
    return rows


@dataclass(frozen=True)
class PatternRow(Summary):
    """One event of the patterns world: observations 0, then a novel pattern ending at step k, E a detector that
    first holds at t = k + 1 (a row of ``theorem1_joint_patterns.csv`` and of ``summary.json["patterns"]``)."""

    pattern: str
    """[observations] The novel pattern (0/1 text) after the zeros."""
    event: str
    """[program] E (text), nu*_E = SWITCH(E, OPT(U, u), MIX)."""
    k_event_bits: int
    """[bits] K(E) = len(E), full grammar."""
    k: int
    """[steps] Demonstrator steps before t."""
    unprecedented: bool
    """[flag] E holds at t and at no earlier step."""
    k_value_bits: int
    """[bits] len(u) = K(v xi(h))."""
    d_bits: int
    """[bits] d = len(nu*_E) - K(E) - K(U) - len(u), measured."""
    construction_bits: int
    """[bits] len(nu*_E)."""
    kl_nats: float
    """[nats] KL_{h,m}(pi* || xi), Definition 2, in the class with nu*_E."""
    bound_nats: float
    """[nats] [d + K(U) + K(E) + len(u)] ln 2."""
    bound_posterior_nats: float
    """[nats] -ln w(nu*_E | h), the telescoping bound (inf if nu*_E does not play pi* from h)."""
    value: float
    """[utility] V^{pi*}_{xi,U}(h)."""
    v: float
    """[utility] The value asked for."""
    held: bool
    """[flag] The theorem at this point (:attr:`JointPoint.held`)."""


def pattern_rows(config: Config) -> list[PatternRow]:
    """The patterns world: for each pattern p and its event E (``joint_patterns``, ``joint_pattern_events``), the
    observations ``0^(k - len p) p`` with k = ``joint_pattern_k``, and Theorem 1's construction with E (one class
    per event, each with its own nu*_E). The same k for every event, so the KL can move with K(E) and not with the
    amount of data."""
    rows = []
    k = config.joint_pattern_k
    for pattern, event in zip(config.joint_patterns, config.joint_pattern_events, strict=True):
        obs = (0,) * (k - len(pattern)) + tuple(int(c) for c in pattern)
        p = joint_point(config, "patterns", obs, event_text=event)
        rows.append(PatternRow(pattern, event, p.k_event_bits, p.k, p.unprecedented, p.k_value_bits, p.d_bits,
                               p.construction_bits, p.kl_nats, p.bound_nats, p.bound_posterior, p.value_xi, p.v,
                               p.held))
    return rows


def slope_per_bit(bits: Sequence[float], nats: Sequence[float]) -> float:
    """Least-squares slope (nats per bit) of ``nats`` against ``bits`` over the finite pairs; NaN with fewer than
    two distinct lengths."""
    x, y = np.asarray(bits, dtype=float), np.asarray(nats, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 2 or np.ptp(x[keep]) == 0:
        return math.nan
    return float(np.polyfit(x[keep], y[keep], 1)[0])


# -- the hand-made class of the no_mix control -------------------------------------------------------------------


@dataclass(frozen=True)
class HandmadeModel:
    """A stationary model: prior weight, ``P(a = 1)`` at every step, ``P(o = 1)`` at every step."""

    name: str
    weight: Fraction
    p_action: Fraction
    p_observation: Fraction


#: The paper's counterexample in four lines: a demonstrator (never plays 1), an explorer (plays 1 w.p. 1/8),
#: and a switcher that plays 1 but has its own observation model (o = 1 w.p. 1/64), which adversarial
#: observations (always 1) keep refuting. All share "always 1" as the target pi*.
HANDMADE: tuple[HandmadeModel, ...] = (
    HandmadeModel("demonstrator", Fraction(1, 2), Fraction(0), Fraction(1, 2)),
    HandmadeModel("explorer", Fraction(1, 4), Fraction(1, 8), Fraction(1, 2)),
    HandmadeModel("switcher", Fraction(1, 8), Fraction(1), Fraction(1, 64)),
)


def _kl_along(observations: Sequence[int], copy_bits: int | None) -> Fraction:
    r"""``prod_s xi(1 | h_s)`` along a* = 1, 1, .. with the given o_1 .. o_{n-1}, exactly; with ``copy_bits`` the
    class also holds C (prior ``2^-copy_bits``): plays 1, predicts o by the other models' mixture (MIX's role)."""
    lik = [Fraction(1)] * len(HANDMADE)
    w_c = Fraction(1, 2**copy_bits) if copy_bits is not None else Fraction(0)
    lik_c = Fraction(1)
    product = Fraction(1)
    for o in (*observations, None):
        den = sum(m.weight * x for m, x in zip(HANDMADE, lik, strict=True)) + w_c * lik_c
        num = sum(m.weight * x * m.p_action for m, x in zip(HANDMADE, lik, strict=True)) + w_c * lik_c
        product *= num / den
        if o is None:
            break
        lik = [x * m.p_action for m, x in zip(HANDMADE, lik, strict=True)]
        plain = sum(m.weight * x for m, x in zip(HANDMADE, lik, strict=True))
        obs_p = [m.p_observation if o == 1 else 1 - m.p_observation for m in HANDMADE]
        if plain:
            lik_c *= sum(m.weight * x * p for m, x, p in zip(HANDMADE, lik, obs_p, strict=True)) / plain
        else:
            lik_c = Fraction(0)
        lik = [x * p for x, p in zip(lik, obs_p, strict=True)]
    return product


def _nats(product: Fraction) -> float:
    return math.inf if product == 0 else -(math.log(product.numerator) - math.log(product.denominator))


@dataclass(frozen=True)
class HandmadeKL:
    """KL of "always 1" against xi of the hand-made class at one horizon, with and without the copy model."""

    horizon: int
    kl_adversarial: float
    """Along the adversarial observations (all 1): a lower bound on Definition 2's max, exact."""
    kl_worst: float
    """Definition 2's max over every observation sequence (NaN above ``joint_exact_horizon``)."""
    kl_adversarial_copy: float
    kl_worst_copy: float

    @property
    def kl(self) -> float:
        """The worst case where it was enumerated, else the adversarial lower bound."""
        return self.kl_adversarial if math.isnan(self.kl_worst) else self.kl_worst

    @property
    def kl_copy(self) -> float:
        return self.kl_adversarial_copy if math.isnan(self.kl_worst_copy) else self.kl_worst_copy


def handmade_kl(horizons: Sequence[int], copy_bits: int, exact_horizon: int) -> list[HandmadeKL]:
    """The no_mix control's curve: for each horizon n, the KL of n steps of "always 1" from the empty history."""
    out = []
    for n in horizons:
        adversarial = (1,) * (n - 1)
        worst = worst_c = math.nan
        if n <= exact_horizon:
            seqs = list(itertools.product((0, 1), repeat=n - 1))
            worst = max(_nats(_kl_along(o, None)) for o in seqs)
            worst_c = max(_nats(_kl_along(o, copy_bits)) for o in seqs)
        out.append(HandmadeKL(n, _nats(_kl_along(adversarial, None)), worst,
                              _nats(_kl_along(adversarial, copy_bits)), worst_c))
    return out


# -- the whole joint check --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JointMeasured:
    """Every measurement of the joint check: the novel points, the precedented control's point, the trade-off
    rows, the hand-made class's curve and the patterns world's rows."""

    novel: list[JointPoint]
    precedented: JointPoint
    tradeoff: list[TradeoffRow]
    handmade: list[HandmadeKL]
    patterns: list[PatternRow]


def measure_joint(config: Config) -> JointMeasured:
    """The novel world at every k of ``joint_k_grid``, the precedented world at ``joint_precedented_k`` (the
    observation 1 at steps k - 1 and k), the trade-off, the hand-made class and the patterns world."""
    novel = [joint_point(config, "novel", (0,) * (k - 1) + (1,)) for k in config.joint_k_grid]
    k = config.joint_precedented_k
    precedented = joint_point(config, "precedented", (0,) * (k - 2) + (1, 1))
    return JointMeasured(novel, precedented, tradeoff(config),
                         handmade_kl(config.joint_horizons, config.joint_copy_bits, config.joint_exact_horizon),
                         pattern_rows(config))


def write_joint_rows(m: JointMeasured, out: Path) -> None:
    """The rows the figures are drawn from: points, trade-off, the no_mix curve and the patterns world, as CSV in
    the run folder."""
    write_csv(out / POINTS_CSV, [asdict(p.row()) for p in [*m.novel, m.precedented]])
    write_csv(out / TRADEOFF_CSV, [asdict(r) for r in m.tradeoff])
    write_csv(out / NO_MIX_CSV, [{**asdict(r), "kl": r.kl, "kl_copy": r.kl_copy} for r in m.handmade])
    write_csv(out / PATTERNS_CSV, [asdict(r) for r in m.patterns])


@dataclass(frozen=True)
class JointSummary(Summary):
    """The joint check's keys of ``summary.json`` (its top level, after ``controls``; the novel world at the largest
    k of ``joint_k_grid`` unless said otherwise), in the file's order."""

    mode: str
    """[name] "joint"."""
    joint_claim: bool
    """[flag] The theorem held at every novel point and every patterns point, and the copy model's KL stayed below
    len(C) ln 2."""
    k: int
    """[steps] Demonstrator steps before t."""
    t: int
    """[steps] The step at which E is unprecedented and pi* starts."""
    steps: int
    """[steps] Decisions from t to the horizon m (m - t + 1)."""
    k_event_bits: int
    """[bits] K(E) = len(E), full grammar."""
    k_utility_bits: int
    """[bits] K(U) = len(U), full grammar."""
    k_value_bits: int
    """[bits] K(v xi(h)) = len(u), the dyadic threshold's code."""
    d_bits: int
    """[bits] d = len(SWITCH(E, OPT(U, u), MIX)) - K(E) - K(U) - len(u), measured."""
    construction_bits: int
    """[bits] len(SWITCH(E, OPT(U, u), MIX))."""
    kl_nats: float
    """[nats] KL_{h,m}(pi* || xi), Definition 2: the headline measured value."""
    bound_nats: float
    """[nats] [d + K(U) + K(E) + K(v xi(h))] ln 2: the headline bound."""
    bound_posterior_nats: float
    """[nats] -ln w(nu* | h), the construction's telescoping bound."""
    value: float
    """[utility] V^{pi*}_{xi,U}(h), the value pi* reaches."""
    v: float
    """[utility] The value asked for, joint_value_fraction * V*."""
    v_star_mix: float
    """[utility] V*_{MIX,U}(h)."""
    u: str
    """[dyadic] The threshold u (text)."""
    plan: tuple[int, ...]
    """[actions] pi*'s action table (canonical node order)."""
    utility: str
    """[program] U (text)."""
    event: str
    """[program] E (text)."""
    joint_max_bits: int
    """[bits] Plain programs of at most this many bits in the class."""
    points: tuple[JointPointRow, ...]
    """[nats] Every novel point as in ``theorem1_joint_points.csv`` (:class:`JointPointRow`: k, KL and bounds in
    nats, lengths in bits, values, flags)."""
    kl_by_k_joint: Mapping[str, float]
    """[nats] KL_{h,m}(pi* || xi) at each k of ``joint_k_grid`` (key: k as text)."""
    tradeoff: tuple[TradeoffRow, ...]
    """[nats] The trade-off rows (``theorem1_joint_tradeoff.csv``), coarse to fine."""
    handmade_copy_bound_nats: float
    """[nats] len(C) ln 2, the bound the copy model C gives in the hand-made class."""
    handmade_copy_held: bool
    """[flag] With C in the hand-made class the KL stayed below that bound at every horizon."""
    patterns: tuple[PatternRow, ...]
    """[nats] The patterns world's rows (``theorem1_joint_patterns.csv``): one event E per pattern, same k."""
    patterns_k: int
    """[steps] Demonstrator steps before t in the patterns world (the same for every event)."""
    patterns_held: bool
    """[flag] The theorem held at every patterns point (E unprecedented, value above v, KL below both bounds)."""
    patterns_event_bits: tuple[int, ...]
    """[bits] K(E) of the patterns world's events, in the rows' order."""
    patterns_slope_nats_per_bit: float
    """[nats per bit] Least-squares slope of the KL against K(E) over the patterns world (ln 2 = 0.693 where every
    KL sits at its telescoping bound and len(u) and the posterior ratio are the same)."""
    patterns_bound_slope_nats_per_bit: float
    """[nats per bit] The same slope of -ln w(nu*_E | h), the telescoping bound."""


def summarise_joint(config: Config, m: JointMeasured) -> tuple[JointSummary, tuple[Control, ...]]:
    """The joint part of the summary (the done-when keys at the top level) and its two controls."""
    main = max(m.novel, key=lambda p: p.k)
    copy_bound = config.joint_copy_bits * LN2
    copy_held = all(r.kl_copy <= copy_bound + _TOL for r in m.handmade)
    patterns_held = bool(m.patterns) and all(r.held for r in m.patterns)
    claim = bool(all(p.held for p in m.novel) and copy_held and patterns_held)
    summary = JointSummary(
        mode="joint", joint_claim=claim, k=main.k, t=main.t, steps=main.steps,
        k_event_bits=main.k_event_bits, k_utility_bits=main.k_utility_bits,
        k_value_bits=main.k_value_bits, d_bits=main.d_bits, construction_bits=main.construction_bits,
        kl_nats=main.kl_nats, bound_nats=main.bound_nats, bound_posterior_nats=main.bound_posterior,
        value=main.value_xi, v=main.v, v_star_mix=main.v_star_mix, u=main.u, plan=tuple(main.plan),
        utility=config.joint_utility, event=config.joint_event, joint_max_bits=config.joint_max_bits,
        points=tuple(p.row() for p in m.novel),
        kl_by_k_joint={str(p.k): p.kl_nats for p in m.novel},
        tradeoff=tuple(m.tradeoff),
        handmade_copy_bound_nats=copy_bound, handmade_copy_held=copy_held,
        patterns=tuple(m.patterns), patterns_k=config.joint_pattern_k, patterns_held=patterns_held,
        patterns_event_bits=tuple(r.k_event_bits for r in m.patterns),
        patterns_slope_nats_per_bit=slope_per_bit([r.k_event_bits for r in m.patterns],
                                                  [r.kl_nats for r in m.patterns]),
        patterns_bound_slope_nats_per_bit=slope_per_bit([r.k_event_bits for r in m.patterns],
                                                        [r.bound_posterior_nats for r in m.patterns]),
    )
    p = m.precedented
    precedented = Control(
        "precedented", f"E ({config.joint_event}) already held at t - 1 = {p.t - 1} and the demonstrator did not "
        "switch: nu* started acting there, by OPT's choice at t - 1, so it no longer plays pi* from h (or left "
        "the posterior), and the construction's guarantee KL <= -ln w(nu*|h) is lost (bound inf: not held); "
        f"against the theorem-form bound of E the KL is {p.kl_nats:.4g} {'<' if p.kl_nats < p.bound_nats else '>='} "
        f"{p.bound_nats:.4g} nats",
        measured=p.kl_nats, bound=p.bound_posterior, relation="<=", units="nats",
        held=math.isfinite(p.bound_posterior) and p.kl_nats <= p.bound_posterior + _TOL,
        details={"k": p.k, "unprecedented": p.unprecedented, "log_posterior_ratio": p.log_posterior_ratio,
                 "nu_star_plays_pi_star": p.plays_pi_star,
                 "theorem_bound_nats": p.bound_nats, "kl_below_theorem_bound": p.kl_nats < p.bound_nats,
                 "plan": list(p.plan)})
    last = max(m.handmade, key=lambda r: r.horizon)
    no_mix = Control(
        "no_mix", "hand-made class without a copy-the-mixture model (demonstrator, explorer, a switcher with its "
        "own observation model): adversarial observations make the KL of 'always 1' grow with the horizon past "
        f"the bound {config.joint_copy_bits} bits x ln 2 that the copy model C gives",
        measured=last.kl, bound=copy_bound, relation="<=", units="nats", held=last.kl <= copy_bound + _TOL,
        details={"horizon": last.horizon, "kl_by_horizon": {r.horizon: r.kl for r in m.handmade},
                 "kl_by_horizon_with_copy": {r.horizon: r.kl_copy for r in m.handmade},
                 "exact_worst_case_up_to_horizon": config.joint_exact_horizon,
                 "models": [{"name": x.name, "weight": str(x.weight), "p_action_1": str(x.p_action),
                             "p_observation_1": str(x.p_observation)} for x in HANDMADE],
                 "copy_bits": config.joint_copy_bits})
    return summary, (precedented, no_mix)


def plot_joint(out: Path, copy_bits: int) -> tuple[str, ...]:
    """The KL against k, the trade-off and the no_mix curves, drawn from the rows saved in the run folder ``out``
    (:data:`POINTS_CSV`, :data:`TRADEOFF_CSV`, :data:`NO_MIX_CSV`; a missing file or column is a
    :class:`aitheory.results.RunFolderError` naming it)."""
    from aitheory.plotting import pyplot, save_figure

    plt = pyplot()
    folder = RunFolder(out)
    rows = folder.read_rows(TRADEOFF_CSV, ("k_value_bits", "value_xi", "fraction", "v_star_mix", "kl_nats",
                                              "bound_nats"))
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.6, 4.0))
    bits = [int(r["k_value_bits"]) for r in rows]
    left.plot(bits, [float(r["value_xi"]) for r in rows], "o-", color="C0", label=r"$V^{\pi^*}_{\xi,U}(h)$ reached")
    left.plot(bits, [float(r["fraction"]) * float(r["v_star_mix"]) for r in rows], "x:", color="C1",
              label=r"$v = (1 - 2^{-j})\,V^*$ asked for")
    left.axhline(float(rows[0]["v_star_mix"]), color="k", lw=0.8, label=r"$V^*$ (MIX's model)")
    left.set_xlabel(r"len(u) = $K(v\,\xi(h))$ (bits)")
    left.set_ylabel("value")
    left.legend(fontsize=7)
    right.plot(bits, [float(r["kl_nats"]) for r in rows], "o-", color="C0", label=r"KL$(\pi^*\|\xi)$ spent")
    right.plot(bits, [float(r["bound_nats"]) for r in rows], "s--", color="C3", ms=4,
               label=r"bound $[d+K(U)+K(E)+\mathrm{len}(u)]\ln 2$")
    right.set_xlabel(r"len(u) (bits)")
    right.set_ylabel("nats")
    right.legend(fontsize=7)
    fig.suptitle("Theorem 1, joint setting: simplicity against optimality as u goes from coarse to fine", fontsize=9)
    save_figure(fig, out / "theorem1_joint_tradeoff")

    rows = folder.read_rows(POINTS_CSV, ("world", "k", "kl_nats", "bound_nats", "bound_posterior"))
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    novel = [r for r in rows if r["world"] == "novel"]
    prec = [r for r in rows if r["world"] == "precedented"]
    k = [int(r["k"]) for r in novel]
    ax.plot(k, [float(r["kl_nats"]) for r in novel], "o-", color="C0", label=r"novel: KL$(\pi^*\|\xi)$")
    ax.plot(k, [float(r["bound_nats"]) for r in novel], "k-", lw=1, label=r"bound $[d+K(U)+K(E)+\mathrm{len}(u)]\ln 2$")
    ax.plot(k, [float(r["bound_posterior"]) for r in novel], "k:", lw=1, label=r"$-\ln w(\nu^* | h)$")
    ax.plot([int(r["k"]) for r in prec], [float(r["kl_nats"]) for r in prec], "s", color="C3",
            label="precedented: KL (nu* no longer plays pi*)")
    ax.set_xlabel("k: demonstrator steps before t")
    ax.set_ylabel("nats")
    ax.set_title("Theorem 1, joint setting: the KL to switch reaches nu*'s bound and stays", fontsize=9)
    ax.legend(fontsize=7)
    save_figure(fig, out / "theorem1_joint_kl_vs_k")

    rows = folder.read_rows(NO_MIX_CSV, ("horizon", "kl_worst", "kl", "kl_copy"))
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    n = [int(r["horizon"]) for r in rows]
    exact = max((int(r["horizon"]) for r in rows if r["kl_worst"] not in ("", "nan")), default=0)
    ax.plot(n, [float(r["kl"]) for r in rows], "x--", color="C2", label="without a copy-the-mixture model")
    ax.plot(n, [float(r["kl_copy"]) for r in rows], "o-", color="C0", label=f"with the copy model C ({copy_bits} bits)")
    ax.axhline(copy_bits * LN2, color="k", lw=1, label=f"bound len(C) ln 2 = {copy_bits * LN2:.2f} nats")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("horizon (steps of 'always 1')")
    ax.set_ylabel("worst-case KL (nats)")
    ax.set_title("Theorem 1's counterexample: adversarial observations, hand-made class\n"
                 f"(max over every o-sequence up to horizon {exact}, along o = 1, 1, ... beyond)", fontsize=9)
    ax.legend(fontsize=7)
    save_figure(fig, out / "theorem1_joint_no_mix")
    _plot_patterns(plt, save_figure, folder, out)
    return ("theorem1_joint_kl_vs_k", "theorem1_joint_tradeoff", "theorem1_joint_no_mix", "theorem1_joint_patterns")


def _plot_patterns(plt: Any, save_figure: Any, folder: RunFolder, out: Path) -> None:
    """The patterns world: KL against K(E), beside both bounds and the least-squares line (from
    :data:`PATTERNS_CSV`)."""
    rows = folder.read_rows(PATTERNS_CSV, ("pattern", "k", "k_event_bits", "kl_nats", "bound_nats",
                                           "bound_posterior_nats"))
    bits = [int(r["k_event_bits"]) for r in rows]
    kl = [float(r["kl_nats"]) for r in rows]
    slope = slope_per_bit(bits, kl)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ax.plot(bits, kl, "o-", color="C0", label=rf"KL$(\pi^*\|\xi)$ (slope {slope:.3f} nats/bit; ln 2 = {LN2:.3f})")
    ax.plot(bits, [float(r["bound_posterior_nats"]) for r in rows], "k:", lw=1, label=r"$-\ln w(\nu^*_E | h)$")
    ax.plot(bits, [float(r["bound_nats"]) for r in rows], "s--", color="C3", ms=4,
            label=r"bound $[d+K(U)+K(E)+\mathrm{len}(u)]\ln 2$")
    for b, y, r in zip(bits, kl, rows, strict=True):
        ax.annotate(r["pattern"], (b, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax.set_xlabel("K(E) = len(E) (bits)")
    ax.set_ylabel("nats")
    ax.set_title(f"Theorem 1, joint setting: novel patterns after k = {rows[0]['k'] if rows else '?'} steps, "
                 "KL against K(E)", fontsize=9)
    ax.legend(fontsize=7)
    save_figure(fig, out / "theorem1_joint_patterns")
