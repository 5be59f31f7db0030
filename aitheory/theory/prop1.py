r"""Proposition 1 (no triangle inequality for KL).

**Statement.** For every ``eps > 0`` there are distributions ``pi, beta, tau`` with
``KL(pi || beta) <= eps``, ``KL(tau || beta) <= eps`` and ``KL(pi || tau) = inf``.
So a policy ``pi`` close to a base policy ``beta`` that is itself close to the trusted policy ``tau``
can still do, with positive probability, what ``tau`` never does.

**Witness** (:func:`witness`). Over actions ``{0, 1}``: ``tau = Bern(0)``, ``pi = beta = Bern(p)`` with
``p = min(eps, 1)/2``. Then ``KL(pi || beta) = 0``, ``KL(tau || beta) = -ln(1 - p) <= p/(1-p) <= 2p <= eps``
(the middle steps hold on ``0 < p <= 1/2``; checked symbolically in ``proofs_check/check_prop1.py``) and
``KL(pi || tau) = inf`` because ``pi(1) = p > 0 = tau(1)``.

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

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import brentq

from aitheory.measures import as_pmf, kl
from aitheory.results import RunFolder
from aitheory.theory.common import CheckResult

__all__ = ["NAME", "STATEMENT", "Config", "Prop1Result", "SeparatingPolicy", "check", "run", "separating_policy",
           "witness"]

NAME = "prop1"
STATEMENT = "Proposition 1: for every eps > 0, KL(pi||beta) <= eps and KL(tau||beta) <= eps but KL(pi||tau) = inf"


@dataclass(frozen=True)
class Config:
    """Proposition 1's check: the witness at one eps, and over a log grid of eps for the figure."""

    eps: float = 0.01
    """The budget eps > 0 in nats."""
    sweep_points: int = 61
    """Number of eps values in the sweep from 1e-4 to 10."""
    plot: bool = True
    """Draw the figure (needs matplotlib)."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.eps) and self.eps > 0):
            raise ValueError(f"argument eps: must be a finite number > 0, got {self.eps!r}")
        if not 1 <= self.sweep_points <= 10**5:
            raise ValueError(f"argument sweep_points: must be in 1..100000, got {self.sweep_points}")

    @classmethod
    def quick(cls) -> Config:
        return cls(sweep_points=13)


@dataclass(frozen=True)
class Prop1Result:
    """The witness of Proposition 1 at one ``eps`` (all KLs in nats)."""

    eps: float
    """The budget: both ``KL(pi||beta)`` and ``KL(tau||beta)`` must be at most this."""
    p: float
    """``beta(1) = pi(1) = min(eps, 1)/2``."""
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
    held: bool
    """``kl_pi_beta <= eps and kl_tau_beta <= eps and kl_pi_tau == inf`` (and the chain is ordered)."""


def witness(eps: float) -> Prop1Result:
    """Build the witness of Proposition 1 for ``eps > 0`` and evaluate all three KLs (nats)."""
    if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps > 0):
        raise ValueError(f"argument eps: must be a finite number > 0, got {eps!r}")
    p = min(float(eps), 1.0) / 2.0
    pi = beta = (1.0 - p, p)
    tau = (1.0, 0.0)
    kl_pi_beta = kl(pi, beta)
    kl_tau_beta = kl(tau, beta)
    kl_pi_tau = kl(pi, tau)
    chain = (-math.log1p(-p), p / (1.0 - p), 2.0 * p)
    held = (
        kl_pi_beta <= eps
        and kl_tau_beta <= eps
        and math.isinf(kl_pi_tau)
        and chain[0] <= chain[1] <= chain[2] <= eps
    )
    return Prop1Result(
        eps=float(eps), p=p, pi=pi, beta=beta, tau=tau, kl_pi_beta=kl_pi_beta, kl_tau_beta=kl_tau_beta,
        kl_pi_tau=kl_pi_tau, bound=float(eps), chain=chain, held=bool(held),
    )


def run(config: Config, folder: RunFolder, show_progress: bool = False) -> CheckResult:
    """The witness at ``config.eps`` and over the sweep; writes ``metrics.csv`` and the figure."""
    grid = sorted({*np.logspace(-4, 1, config.sweep_points).tolist(), config.eps})
    sweep = check(grid)
    folder.write_metrics(
        {"eps": r.eps, "p": r.p, "kl_pi_beta": r.kl_pi_beta, "kl_tau_beta": r.kl_tau_beta,
         "kl_pi_tau": r.kl_pi_tau, "bound": r.bound, "held": r.held}
        for r in sweep
    )
    result = witness(config.eps)
    figures: tuple[str, ...] = ()
    if config.plot:
        plot_sweep(sweep, folder.file("prop1_kl_vs_eps"), highlight=result)
        figures = ("prop1_kl_vs_eps",)
    held_on_sweep = all(r.held for r in sweep)
    return CheckResult(
        name=NAME, statement=STATEMENT, measured=result.kl_pi_tau, bound=math.inf, relation="==",
        held=result.held and held_on_sweep, units="nats",
        details={"eps": result.eps, "p": result.p, "kl_pi_beta": result.kl_pi_beta,
                 "kl_tau_beta": result.kl_tau_beta, "kl_pi_tau": result.kl_pi_tau, "held_at_eps": result.held,
                 "held_on_sweep": held_on_sweep, "sweep_points": len(sweep)},
        figures=figures,
        verdict=(f"KL(pi||beta)={result.kl_pi_beta:.6g} <= eps, KL(tau||beta)={result.kl_tau_beta:.6g} <= eps, "
                 f"KL(pi||tau)={'inf' if math.isinf(result.kl_pi_tau) else result.kl_pi_tau} nats at "
                 f"eps={result.eps:g}; held on all {len(sweep)} eps of the sweep: {held_on_sweep}"),
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


def plot_sweep(results: list[Prop1Result], stem: str | Path, highlight: Prop1Result | None = None) -> tuple[Path, Path]:
    """Figure of the three KLs against eps (log axes), saved as ``stem.png`` and ``stem.svg``.

    ``KL(tau||beta)`` and the bound ``eps`` share the main log-log panel; ``KL(pi||tau)`` is infinite, so it is
    drawn in a strip above marked "∞" rather than at a made-up height; ``KL(pi||beta) = 0`` exactly, drawn in a
    strip below (a log axis has no 0).
    """
    from aitheory.plotting import pyplot, save_figure

    plt = pyplot()
    eps = np.array([r.eps for r in results])
    fig, (top, main, bottom) = plt.subplots(
        3, 1, sharex=True, figsize=(6.4, 5.2), gridspec_kw={"height_ratios": [1, 5, 1], "hspace": 0.08}
    )
    inf_mask = np.array([math.isinf(r.kl_pi_tau) for r in results])
    top.plot(eps[inf_mask], np.ones(inf_mask.sum()), "^", color="C3", ms=4)
    top.set_yticks([1.0], labels=[r"KL($\pi\|\tau$) = $\infty$"])
    main.loglog(eps, eps, "k--", lw=1, label=r"bound $\varepsilon$")
    main.loglog(eps, [r.kl_tau_beta for r in results], "C0-", label=r"KL($\tau\|\beta$) $= -\ln(1-p)$")
    main.loglog(eps, [2 * r.p for r in results], "C0:", lw=1, label=r"$2p$ (proof's upper bound)")
    if highlight is not None:
        main.plot([highlight.eps], [highlight.kl_tau_beta], "o", color="C1", label=f"eps = {highlight.eps:g}")
    main.set_ylabel("KL (nats)")
    main.legend(fontsize=8)
    zero_mask = np.array([r.kl_pi_beta == 0 for r in results])
    bottom.plot(eps[zero_mask], np.zeros(zero_mask.sum()), "s", color="C2", ms=3)
    bottom.set_yticks([0.0], labels=[r"KL($\pi\|\beta$) = 0"])
    bottom.set_xlabel(r"$\varepsilon$ (nats)")
    top.set_title("Proposition 1: no triangle inequality for KL")
    return save_figure(fig, stem)
