r"""Proposition 1 (no triangle inequality for KL).

**Statement.** For every ``eps > 0`` there are distributions ``pi, beta, tau`` with
``KL(pi || beta) <= eps``, ``KL(tau || beta) <= eps`` and ``KL(pi || tau) = inf``.
So a policy ``pi`` close to a base policy ``beta`` that is itself close to the trusted policy ``tau``
can still do, with positive probability, what ``tau`` never does.

**Witness** (:func:`witness`), in exact rational arithmetic. Over actions ``{0, 1}``: ``tau = Bern(0)``,
``pi = beta = Bern(p)`` with ``p = min(eps, 1)/2`` (``eps`` taken as the exact rational value of the float).
Then ``KL(pi || beta) = 0``, ``KL(tau || beta) = -ln(1 - p) <= p/(1-p) <= 2p <= eps`` (the first step holds on
``0 < p < 1``, checked symbolically in ``proofs_check/check_prop1.py``; the other two are checked here in
``Fraction`` arithmetic) and ``KL(pi || tau) = inf`` because ``pi(1) = p > 0 = tau(1)``. The float value of
``KL(tau || beta) = ln(1/(1-p))`` is ``log1p`` of the exact rational ``p/(1-p)``, accurate to rounding; ``eps`` below
:data:`EPS_MIN` (twice the smallest normal float, so that ``p`` and ``KL(tau||beta) ~ p`` would be subnormal
floats with lost precision) is refused with a ``ValueError`` naming the argument.

**Inside the mixture** (:func:`mixture_points`). ``beta = xi`` (the Bayes mixture over every BF-8 program up to
``mixture_max_bits``, with SWITCH and MIX) after k demonstrator steps, ``tau`` = the demonstrator (it always plays
0; the observations were all 0), ``pi = xi``. Over a window of ``n`` steps, Definition 2 (the maximum over
open-loop observation sequences, :func:`aitheory.measures.tree_kl`): ``KL(pi || beta) = 0``; ``KL(tau || xi)``
is finite and at most ``-ln w(S_0 | x_{<2k+1})`` (``S_0``: the rows that play 0 with probability 1 at every step
of the window on every observation continuation; each gives the demonstrator's actions probability 1), but does
not go to 0 as k grows (a novel observation in the window moves xi's predictions); and ``KL(xi || tau) = inf``
because xi keeps positive probability on the action 1.

**Negative controls** (the hypothesis that ``tau`` has a zero where ``pi`` has mass is made false, so
``KL(pi || tau)`` must be finite): the witness with ``tau = Bern(p/2)`` (full support; ``KL(tau||beta) <= eps``
still holds), and in the mixture ``tau`` = the uniform policy. ``held`` needs the witness at ``eps`` and on the
whole sweep, the mixture claim at every k, and both controls to fail.

**Generalisation** (:func:`separating_policy`). Given any ``beta`` and any ``tau`` with a zero entry on
the set ``Z`` where ``beta(Z) > 0``, the policy putting the *most* mass on ``Z`` subject to
``KL(pi || beta) <= eps`` is the two-level tilt ``pi(x) = beta(x) r / beta(Z)`` on ``Z`` and
``pi(x) = beta(x) (1-r) / (1 - beta(Z))`` off ``Z``, where ``r >= beta(Z)`` solves the binary equation
``KL(Bern(r) || Bern(beta(Z))) = eps`` (or ``r = 1`` if ``-ln beta(Z) <= eps``). It has
``KL(pi || tau) = inf`` whenever ``r > 0``. (By the data-processing inequality no ``pi`` with
``KL(pi||beta) <= eps`` puts more than ``r`` on ``Z``, and the tilt attains it.)

All values in nats.
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from scipy.optimize import brentq

from aitheory.imitators import BayesianImitator
from aitheory.measures import as_pmf, kl, kl_exact, tree_kl
from aitheory.mixture import ClassConfig, ModelClass, OnlineMixture, build_class
from aitheory.results import RunFolder, write_csv
from aitheory.theory.common import CheckResult, Control, Summary, controls_verdict, held_with_controls

__all__ = ["EPS_MIN", "FIGURES", "NAME", "STATEMENT", "SUMMARY", "Config", "MixturePoint", "Prop1Result",
           "Prop1Summary", "SeparatingPolicy", "check", "draw_figures", "mixture_points", "plot_mixture", "plot_sweep",
           "run", "separating_policy", "witness"]

NAME = "prop1"
STATEMENT = "Proposition 1: for every eps > 0, KL(pi||beta) <= eps and KL(tau||beta) <= eps but KL(pi||tau) = inf"

#: The smallest eps accepted: twice the smallest normal float, so that ``p = eps/2`` and ``KL(tau||beta) ~ p``
#: are normal floats (below it they would be subnormal, with lost precision, or 0).
EPS_MIN = 2.0 * sys.float_info.min


def _check_eps(eps: object) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not math.isfinite(eps) or eps <= 0:
        raise ValueError(f"argument eps: must be a finite number > 0, got {eps!r}")
    if eps < EPS_MIN:
        raise ValueError(f"argument eps: must be >= {EPS_MIN:.6g} (below it p = eps/2 and KL(tau||beta) ~ p are "
                         f"not normal floats), got {eps!r}")
    return float(eps)


@dataclass(frozen=True)
class Config:
    """Proposition 1's check: the witness at one eps and over a log grid of eps; the same inside the mixture."""

    eps: float = 0.01
    """The budget eps > 0 in nats (at least 4.45e-308, twice the smallest normal float)."""
    sweep_points: int = 61
    """Number of eps values in the sweep from 1e-4 to 10."""
    mixture_max_bits: int = 24
    """Plain programs of at most this many bits (3 per token) in the mixture xi (with SWITCH and MIX)."""
    mixture_window: int = 3
    """n: Definition 2's window, the steps k+1 .. k+n over which KL(tau||xi) and KL(xi||tau) are taken."""
    mixture_k: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 56, 64, 96, 128)
    """Numbers k of demonstrator steps (always 0, observations 0) before the window."""
    plot: bool = True
    """Draw the figures (needs matplotlib)."""

    def __post_init__(self) -> None:
        _check_eps(self.eps)
        if not 1 <= self.sweep_points <= 10**5:
            raise ValueError(f"argument sweep_points: must be in 1..100000, got {self.sweep_points}")
        if not 3 <= self.mixture_max_bits <= 27:
            raise ValueError(f"argument mixture_max_bits: must be in 3..27, got {self.mixture_max_bits}")
        if not 1 <= self.mixture_window <= 6:
            raise ValueError(f"argument mixture_window: must be in 1..6 (2^(n-1) histories), got "
                             f"{self.mixture_window}")
        if not self.mixture_k or min(self.mixture_k) < 0 or max(self.mixture_k) > 512:
            raise ValueError(f"argument mixture_k: need numbers of steps in 0..512, got {self.mixture_k}")

    @classmethod
    def quick(cls) -> Config:
        return cls(sweep_points=13, mixture_max_bits=21, mixture_window=2, mixture_k=(1, 4, 16))


@dataclass(frozen=True)
class Prop1Result:
    """The witness of Proposition 1 at one ``eps`` (all KLs in nats)."""

    eps: float
    """The budget: both ``KL(pi||beta)`` and ``KL(tau||beta)`` must be at most this."""
    p: float
    """``beta(1) = pi(1) = min(eps, 1)/2`` (exact: halving a normal float is exact)."""
    pi: tuple[float, float]
    beta: tuple[float, float]
    tau: tuple[float, float]
    kl_pi_beta: float
    kl_tau_beta: float
    kl_pi_tau: float
    bound: float
    """The bound both small KLs must meet: ``eps``."""
    chain: tuple[float, float, float]
    """``(-ln(1-p), p/(1-p), 2p)``: the inequality chain of the proof, each term <= the next."""
    chain_exact: bool
    """``p/(1-p) <= 2p <= eps`` in exact rationals (and ``-ln(1-p) <= p/(1-p)`` by ``proofs_check``)."""
    held: bool
    """``KL(pi||beta) = 0 <= eps``, the exact chain, ``0 < KL(tau||beta) <= eps`` and ``KL(pi||tau) = inf``."""


def _bern(q: Fraction) -> tuple[Fraction, Fraction]:
    return (1 - q, q)


def _witness_tau(p: Fraction) -> tuple[Fraction, Fraction]:
    """The witness's trusted policy: ``Bern(0)`` (a tests' hook: a full-support tau must break the claim)."""
    return (Fraction(1), Fraction(0))


def witness(eps: float, tau_of: Callable[[Fraction], tuple[Fraction, Fraction]] | None = None) -> Prop1Result:
    """Build the witness of Proposition 1 for ``eps >= EPS_MIN`` and evaluate all three KLs (nats), exactly.

    ``tau_of(p)`` replaces ``tau = Bern(0)`` (for the negative control); the verdict is computed the same way.
    """
    e = Fraction(_check_eps(eps))
    p = min(e, Fraction(1)) / 2
    pi = beta = _bern(p)
    tau = (tau_of or _witness_tau)(p)
    k_pi_beta, k_tau_beta, k_pi_tau = kl_exact(pi, beta), kl_exact(tau, beta), kl_exact(pi, tau)
    kl_pi_beta, kl_tau_beta, kl_pi_tau = float(k_pi_beta), float(k_tau_beta), float(k_pi_tau)
    pf = float(p)
    chain = (-math.log1p(-pf), pf / (1.0 - pf), 2.0 * pf)
    chain_exact = p / (1 - p) <= 2 * p <= e
    held = (
        not k_pi_beta.terms and not k_pi_beta.infinite
        and chain_exact
        and 0.0 < kl_tau_beta <= float(e)
        and k_pi_tau.infinite
    )
    return Prop1Result(
        eps=float(e), p=pf, pi=(float(pi[0]), float(pi[1])), beta=(float(beta[0]), float(beta[1])),
        tau=(float(tau[0]), float(tau[1])), kl_pi_beta=kl_pi_beta, kl_tau_beta=kl_tau_beta, kl_pi_tau=kl_pi_tau,
        bound=float(e), chain=chain, chain_exact=bool(chain_exact), held=bool(held),
    )


# -- inside the mixture ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MixturePoint:
    """Proposition 1 with ``beta = pi = xi`` after k demonstrator steps and ``tau`` = the demonstrator (nats)."""

    k: int
    kl_pi_beta: float
    """``KL(xi || xi)`` (Definition 2): 0."""
    kl_tau_beta: float
    """``KL(tau || xi)`` (Definition 2): finite, at most ``bound_tau_beta``."""
    maximiser: tuple[int, ...]
    """The observation sequence attaining ``kl_tau_beta``."""
    bound_tau_beta: float
    """``-ln w(S_0 | x_{<2k+1})``: the posterior of the rows that play 0 at every step of the window."""
    kl_pi_tau: float
    """``KL(xi || tau)`` (Definition 2): inf."""
    kl_pi_uniform: float
    """The control: ``KL(xi || uniform)`` (Definition 2), finite (the uniform policy has full support)."""

    @property
    def held(self) -> bool:
        """``KL(xi||xi) = 0``, ``KL(tau||xi) <= -ln w(S_0|h) < inf`` and ``KL(xi||tau) = inf``."""
        return (self.kl_pi_beta == 0.0 and math.isfinite(self.bound_tau_beta)
                and self.kl_tau_beta <= self.bound_tau_beta * (1 + 1e-12) + 1e-15 and math.isinf(self.kl_pi_tau)
                and self.kl_pi_tau > 0)


def _mixture_class(config: Config) -> ModelClass:
    n = config.mixture_window
    histories = sorted({(0,) * k + c for k in config.mixture_k for c in itertools.product((0, 1), repeat=n - 1)})
    horizon = max(config.mixture_k) + n
    return build_class(ClassConfig(max_bits=config.mixture_max_bits, k=2, horizon=horizon), observations=histories)


def _zero_rows_posterior(mc: ModelClass, k: int, window: int) -> float:
    """``w(S_0 | h)``: posterior after k demonstrator steps of the rows playing 0 at steps k+1..k+window on every
    observation continuation."""
    state = OnlineMixture(mc)
    for _ in range(k):
        state.update(0, 0)
    conts = [mc.history_index((0,) * k + c) for c in itertools.product((0, 1), repeat=window - 1)]
    codes = mc.codes[:, conts, k: k + window]
    return float(state.posterior()[(codes == 0).all(axis=(1, 2))].sum())


def mixture_points(config: Config, model_class: ModelClass | None = None) -> list[MixturePoint]:
    """Proposition 1 inside the mixture at every k of ``config.mixture_k`` (see the module docstring)."""
    mc = model_class if model_class is not None else _mixture_class(config)
    xi = BayesianImitator(mc)

    def tau(h: tuple[int, ...]) -> np.ndarray:
        return np.array([1.0, 0.0])

    def uniform(h: tuple[int, ...]) -> np.ndarray:
        return np.array([0.5, 0.5])

    out = []
    n = config.mixture_window
    for k in config.mixture_k:
        demo = (0, 0) * k
        kw = dict(n_actions=2, n_observations=2, horizon=n, history=demo)
        tau_xi = tree_kl(tau, xi, **kw)  # type: ignore[arg-type]
        mass = _zero_rows_posterior(mc, k, n)
        out.append(MixturePoint(
            k=k, kl_pi_beta=float(tree_kl(xi, xi, **kw).value), kl_tau_beta=float(tau_xi.value),  # type: ignore[arg-type]
            maximiser=tuple(tau_xi.maximiser or ()), bound_tau_beta=-math.log(mass) if mass > 0 else math.inf,
            kl_pi_tau=float(tree_kl(xi, tau, **kw).value),  # type: ignore[arg-type]
            kl_pi_uniform=float(tree_kl(xi, uniform, **kw).value),  # type: ignore[arg-type]
        ))
    return out


# -- the check ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prop1Summary(Summary):
    """Proposition 1's keys of ``summary.json`` (after ``controls``), in the file's order."""

    eps: float
    """[nats] The budget eps of the witness."""
    p: float
    """[probability] beta(1) = pi(1) = min(eps, 1)/2 of the witness."""
    kl_pi_beta: float
    """[nats] KL(pi||beta) of the witness at eps (0 exactly)."""
    kl_tau_beta: float
    """[nats] KL(tau||beta) = -ln(1 - p) of the witness at eps, at most eps."""
    kl_pi_tau: float
    """[nats] KL(pi||tau) of the witness at eps: inf ("inf" in the file)."""
    held_at_eps: bool
    """[flag] The witness at eps satisfies the proposition (exact rational arithmetic)."""
    held_on_sweep: bool
    """[flag] The witness satisfies it at every eps of the sweep (metrics.csv)."""
    sweep_points: int
    """[count] eps values in the sweep (the log grid plus eps itself)."""
    eps_min: float
    """[nats] The smallest eps accepted (twice the smallest normal float)."""
    extremes: Mapping[str, Mapping[str, float | bool]]
    """[nats] At each extreme eps (key: eps as text): ``kl_tau_beta`` (nats) and ``held`` (flag)."""
    held_at_extremes: bool
    """[flag] The witness satisfies it at every extreme eps."""
    mixture_max_bits: int
    """[bits] Plain programs of at most this many bits in the mixture xi."""
    mixture_window: int
    """[steps] Definition 2's window n inside the mixture."""
    mixture_k: tuple[int, ...]
    """[steps] The numbers k of demonstrator steps before the window (mixture.csv, one row each)."""
    mixture_kl_tau_xi: tuple[float, ...]
    """[nats] KL(tau||xi) (Definition 2) at each k."""
    mixture_bound_tau_xi: tuple[float, ...]
    """[nats] Its bound -ln w(S_0 | h) at each k."""
    mixture_kl_xi_tau: tuple[float, ...]
    """[nats] KL(xi||tau) (Definition 2) at each k: inf."""
    mixture_kl_xi_xi: tuple[float, ...]
    """[nats] KL(xi||xi) at each k: 0."""
    mixture_maximiser: tuple[str, ...]
    """[symbols] The observation sequence attaining KL(tau||xi) at each k, as digits."""
    held_mixture: bool
    """[flag] The claim inside the mixture held at every k."""


SUMMARY = Prop1Summary
#: Figure stems written into the run folder (PNG and SVG), drawn by :func:`draw_figures`.
FIGURES = ("prop1_kl_vs_eps", "prop1_mixture_kl_vs_k")


def _controls(result: Prop1Result, points: Sequence[MixturePoint]) -> tuple[Control, ...]:
    full = witness(result.eps, tau_of=lambda p: _bern(p / 2))
    last = points[-1]
    return (
        Control.compare(
            "full_support_tau", "the witness with tau = Bern(p/2) (full support, KL(tau||beta) <= eps still): "
            "KL(pi||tau) must be finite", measured=full.kl_pi_tau, relation="==", bound=math.inf, units="nats",
            details={"eps": full.eps, "kl_tau_beta": full.kl_tau_beta, "kl_pi_beta": full.kl_pi_beta}),
        Control.compare(
            "full_support_tau_mixture", f"inside the mixture at k = {last.k}, tau = the uniform policy (full "
            "support): KL(xi||tau) must be finite", measured=last.kl_pi_uniform, relation="==", bound=math.inf,
            units="nats", details={"k": last.k, "by_k": [p.kl_pi_uniform for p in points]}),
    )


def _fmt(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:.6g}"


def run(config: Config, folder: RunFolder, show_progress: bool = False) -> CheckResult:
    """The witness at ``config.eps`` and over the sweep, the mixture points and the controls; writes
    ``metrics.csv`` (the sweep), ``mixture.csv`` (one row per k) and the figures."""
    grid = sorted({*np.logspace(-4, 1, config.sweep_points).tolist(), config.eps})
    sweep = check(grid)
    folder.write_metrics(
        {"eps": r.eps, "p": r.p, "kl_pi_beta": r.kl_pi_beta, "kl_tau_beta": r.kl_tau_beta,
         "kl_pi_tau": r.kl_pi_tau, "bound": r.bound, "held": r.held}
        for r in sweep
    )
    result = witness(config.eps)
    extremes = check([EPS_MIN, 1e-300, 1e-100, 1e6])
    points = mixture_points(config)
    write_csv(folder.file("mixture.csv"), [
        {"k": p.k, "kl_pi_beta": p.kl_pi_beta, "kl_tau_beta": p.kl_tau_beta, "bound_tau_beta": p.bound_tau_beta,
         "kl_pi_tau": p.kl_pi_tau, "kl_pi_uniform": p.kl_pi_uniform,
         "maximiser": "".join(map(str, p.maximiser)), "held": p.held} for p in points])
    held_on_sweep = all(r.held for r in sweep)
    held_at_extremes = all(r.held for r in extremes)
    held_mixture = all(p.held for p in points)
    claim = result.held and held_on_sweep and held_at_extremes and held_mixture
    controls = _controls(result, points)
    first, last = points[0], points[-1]
    summary = Prop1Summary(
        eps=result.eps, p=result.p, kl_pi_beta=result.kl_pi_beta, kl_tau_beta=result.kl_tau_beta,
        kl_pi_tau=result.kl_pi_tau, held_at_eps=result.held, held_on_sweep=held_on_sweep, sweep_points=len(sweep),
        eps_min=EPS_MIN, extremes={f"{r.eps:g}": {"kl_tau_beta": r.kl_tau_beta, "held": r.held} for r in extremes},
        held_at_extremes=held_at_extremes, mixture_max_bits=config.mixture_max_bits,
        mixture_window=config.mixture_window, mixture_k=tuple(p.k for p in points),
        mixture_kl_tau_xi=tuple(p.kl_tau_beta for p in points), mixture_bound_tau_xi=tuple(p.bound_tau_beta
                                                                                           for p in points),
        mixture_kl_xi_tau=tuple(p.kl_pi_tau for p in points), mixture_kl_xi_xi=tuple(p.kl_pi_beta for p in points),
        mixture_maximiser=tuple("".join(map(str, p.maximiser)) for p in points), held_mixture=held_mixture)
    return CheckResult(
        name=NAME, statement=STATEMENT, measured=result.kl_pi_tau, bound=math.inf, relation="==",
        held=held_with_controls(claim, controls), claim_held=claim, controls=controls, units="nats",
        details=summary, figures=draw_figures(folder, config, summary) if config.plot else (),
        verdict=(f"witness (exact rationals): KL(pi||beta)={_fmt(result.kl_pi_beta)} <= eps, "
                 f"KL(tau||beta)={_fmt(result.kl_tau_beta)} <= eps, KL(pi||tau)={_fmt(result.kl_pi_tau)} nats at "
                 f"eps={result.eps:g}; held on all {len(sweep)} eps of the sweep: {held_on_sweep}, and at eps = "
                 f"{', '.join(f'{r.eps:g}' for r in extremes)}: {held_at_extremes}; inside the mixture "
                 f"({config.mixture_max_bits} bits, window {config.mixture_window}): KL(tau||xi) = "
                 f"{_fmt(first.kl_tau_beta)} at k = {first.k} .. {_fmt(last.kl_tau_beta)} at k = {last.k} "
                 f"(<= -ln w(S_0|h) = {_fmt(last.bound_tau_beta)}), KL(xi||tau) = "
                 f"{_fmt(min(p.kl_pi_tau for p in points))} at every k: {held_mixture}; {controls_verdict(controls)}"),
    )


def check(eps_values: list[float]) -> list[Prop1Result]:
    """The witness at each ``eps`` in ``eps_values``."""
    return [witness(e) for e in eps_values]


@dataclass(frozen=True)
class SeparatingPolicy:
    """A ``pi`` within ``eps`` nats of ``beta`` that puts mass on what ``tau`` never does."""

    pi: np.ndarray
    forbidden: tuple[int, ...]
    """The actions ``x`` with ``tau(x) = 0``."""
    mass_forbidden: float
    """``pi(Z)``: the largest mass any ``pi`` with ``KL(pi||beta) <= eps`` can put on ``Z``."""
    kl_pi_beta: float
    kl_pi_tau: float


def _binary_kl(r: float, b: float) -> float:
    return kl([r, 1.0 - r], [b, 1.0 - b])


def separating_policy(beta: np.ndarray | list[float], tau: np.ndarray | list[float], eps: float) -> SeparatingPolicy:
    """The ``pi`` maximising ``pi(Z)``, ``Z = {x : tau(x) = 0}``, subject to ``KL(pi || beta) <= eps``.

    Requires ``beta`` a probability vector with ``beta(Z) > 0`` (e.g. full support) and ``tau`` a (semi)measure
    with at least one zero entry; raises ``ValueError`` naming the argument otherwise.
    """
    b = as_pmf(beta, "beta")
    t = as_pmf(tau, "tau")
    if b.shape != t.shape:
        raise ValueError(f"arguments beta and tau: shapes differ ({b.shape} vs {t.shape})")
    if not (math.isfinite(eps) and eps > 0):
        raise ValueError(f"argument eps: must be a finite number > 0, got {eps!r}")
    if abs(b.sum() - 1.0) > 1e-9:
        raise ValueError(f"argument beta: must sum to 1 (a policy), sums to {b.sum():.12g}")
    zero = t == 0
    if not zero.any():
        raise ValueError("argument tau: has no zero entry, so no pi can have KL(pi || tau) = inf")
    bz = float(b[zero].sum())
    if bz <= 0:
        raise ValueError("argument beta: puts no mass where tau is zero, so KL(pi||beta) < inf forces pi(Z) = 0")
    if bz >= 1.0 or -math.log(bz) <= eps:
        r = 1.0
    else:
        r = brentq(lambda x: _binary_kl(x, bz) - eps, bz, 1.0, xtol=1e-15, rtol=4 * np.finfo(float).eps)
        # brentq brackets the root; step down to the side where the constraint holds.
        while _binary_kl(r, bz) > eps:
            r = math.nextafter(r, bz)
    pi = np.where(zero, b * (r / bz), b * ((1.0 - r) / (1.0 - bz)) if bz < 1 else 0.0)
    return SeparatingPolicy(
        pi=pi, forbidden=tuple(int(i) for i in np.flatnonzero(zero)), mass_forbidden=float(pi[zero].sum()),
        kl_pi_beta=kl(pi, b), kl_pi_tau=kl(pi, t),
    )


def draw_figures(folder: RunFolder, config: Config, summary: Prop1Summary) -> tuple[str, ...]:
    """:data:`FIGURES` from the rows saved in ``folder``: the sweep (``metrics.csv``, eps = ``config.eps``
    highlighted) and the mixture points (``mixture.csv``)."""
    sweep = folder.read_rows("metrics.csv", ("eps", "p", "kl_pi_beta", "kl_tau_beta", "kl_pi_tau"))
    mixture = folder.read_rows("mixture.csv", ("k", "kl_tau_beta", "bound_tau_beta", "kl_pi_tau", "kl_pi_uniform"))
    plot_sweep(sweep, folder.file(FIGURES[0]), highlight_eps=config.eps)
    plot_mixture(mixture, config, folder.file(FIGURES[1]))
    return FIGURES


def plot_sweep(rows: Sequence[Mapping[str, object]], stem: str | Path,
               highlight_eps: float | None = None) -> tuple[Path, Path]:
    """Figure of the three KLs against eps (log axes) from the sweep's rows (``metrics.csv``: ``eps``, ``p``,
    ``kl_pi_beta``, ``kl_tau_beta``, ``kl_pi_tau``), saved as ``stem.png`` and ``stem.svg``.

    ``KL(tau||beta)`` and the bound ``eps`` share the main log-log panel; ``KL(pi||tau)`` is infinite, so it is
    drawn in a strip above marked "∞" rather than at a made-up height; ``KL(pi||beta) = 0`` exactly, drawn in a
    strip below (a log axis has no 0). The row at ``highlight_eps`` (if any) is marked.
    """
    from aitheory.plotting import column, pyplot, save_figure

    plt = pyplot()
    eps = column(rows, "eps")
    kl_tau_beta = column(rows, "kl_tau_beta")
    fig, (top, main, bottom) = plt.subplots(
        3, 1, sharex=True, figsize=(6.4, 5.2), gridspec_kw={"height_ratios": [1, 5, 1], "hspace": 0.08}
    )
    inf_mask = np.isinf(column(rows, "kl_pi_tau"))
    top.plot(eps[inf_mask], np.ones(inf_mask.sum()), "^", color="C3", ms=4)
    top.set_yticks([1.0], labels=[r"KL($\pi\|\tau$) = $\infty$"])
    main.loglog(eps, eps, "k--", lw=1, label=r"bound $\varepsilon$")
    main.loglog(eps, kl_tau_beta, "C0-", label=r"KL($\tau\|\beta$) $= -\ln(1-p)$")
    main.loglog(eps, 2 * column(rows, "p"), "C0:", lw=1, label=r"$2p$ (proof's upper bound)")
    at = np.flatnonzero(eps == highlight_eps) if highlight_eps is not None else np.array([], dtype=int)
    if at.size:
        main.plot([eps[at[0]]], [kl_tau_beta[at[0]]], "o", color="C1", label=f"eps = {eps[at[0]]:g}")
    main.set_ylabel("KL (nats)")
    main.legend(fontsize=8)
    zero_mask = column(rows, "kl_pi_beta") == 0
    bottom.plot(eps[zero_mask], np.zeros(zero_mask.sum()), "s", color="C2", ms=3)
    bottom.set_yticks([0.0], labels=[r"KL($\pi\|\beta$) = 0"])
    bottom.set_xlabel(r"$\varepsilon$ (nats)")
    top.set_title("Proposition 1: no triangle inequality for KL")
    return save_figure(fig, stem)


def plot_mixture(rows: Sequence[Mapping[str, object]], config: Config, stem: str | Path) -> tuple[Path, Path]:
    """``KL(tau||xi)`` and its bound ``-ln w(S_0|h)`` against k (main panel), ``KL(xi||tau) = inf`` in a strip
    above, the control ``KL(xi||uniform)`` (finite) dotted; from the mixture's rows (``mixture.csv``)."""
    from aitheory.plotting import column, pyplot, save_figure

    plt = pyplot()
    k = column(rows, "k")
    fig, (top, main) = plt.subplots(2, 1, sharex=True, figsize=(6.4, 4.6),
                                    gridspec_kw={"height_ratios": [1, 5], "hspace": 0.08})
    inf_mask = np.isinf(column(rows, "kl_pi_tau"))
    top.plot(k[inf_mask], np.ones(inf_mask.sum()), "^", color="C3", ms=4)
    top.set_yticks([1.0], labels=[r"KL($\xi\|\tau$) = $\infty$"])
    main.plot(k, column(rows, "kl_tau_beta"), "o-", color="C0", label=r"KL($\tau\|\xi$), Definition 2")
    main.plot(k, column(rows, "bound_tau_beta"), "k--", lw=1, label=r"bound $-\ln w(S_0 \mid h)$")
    main.plot(k, column(rows, "kl_pi_uniform"), "s:", color="C2", ms=3,
              label=r"control: KL($\xi\|$uniform), finite")
    main.axhline(0, color="0.6", lw=0.8)
    if k.min() > 0:
        main.set_xscale("log")
    else:
        main.set_xscale("symlog", linthresh=1)
        main.set_xlim(left=0)
    main.set_xlabel("k (demonstrator steps before the window)")
    main.set_ylabel("KL (nats)")
    main.legend(fontsize=8)
    top.set_title(f"Proposition 1 inside the mixture ({config.mixture_max_bits} bits, window "
                  f"{config.mixture_window}): pi = beta = xi, tau = demonstrator", fontsize=9)
    return save_figure(fig, stem)
