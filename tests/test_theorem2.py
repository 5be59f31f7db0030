"""Theorem 2 (TVD constraint): the TVD optimum raises only V-optimal actions (joint-prefix reading); the KL
optimum keeps ``beta(a|h) = 0 => pi(a|h) = 0``. The per-step reading is counted, and it does fail."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aitheory.cli import main
from aitheory.planning import (
    Environment,
    PlanningError,
    PlanningProblem,
    kl_optimal_policy,
    raised_actions,
    solve_optimal,
    tvd_optimal_policy,
)
from aitheory.planning.values import q_star_levels
from aitheory.theory import theorem2
from aitheory.theory.common import CHECKS, run_check

# ----- the minimal instance of docs/planning.md (K_a = K_o = 2, n = 3), rounded to two decimals -----

#: history -> (nu(o=0 | h, a=0), nu(o=0 | h, a=1)); nu(o=1 | h, a) = 1 - that.
KERNEL0 = {
    (): (0.37, 0.42), (0, 0): (0.48, 0.59), (0, 1): (0.47, 0.84), (1, 0): (0.46, 0.14), (1, 1): (0.37, 0.33),
    (0, 0, 0, 0): (0.12, 0.55), (0, 0, 0, 1): (0.42, 0.46), (0, 0, 1, 0): (0.52, 0.36), (0, 0, 1, 1): (0.62, 0.73),
    (0, 1, 0, 0): (0.26, 0.79), (0, 1, 0, 1): (0.78, 0.23), (0, 1, 1, 0): (0.81, 0.83), (0, 1, 1, 1): (0.76, 0.53),
    (1, 0, 0, 0): (0.25, 0.18), (1, 0, 0, 1): (0.18, 0.38), (1, 0, 1, 0): (0.75, 0.57), (1, 0, 1, 1): (0.03, 0.13),
    (1, 1, 0, 0): (0.88, 0.34), (1, 1, 0, 1): (0.69, 0.45), (1, 1, 1, 0): (0.73, 0.97), (1, 1, 1, 1): (0.24, 0.33),
}
#: U_m of the 64 complete histories in lexicographic order of (a1, o1, a2, o2, a3, o3).
UTILITY = (
    0.01, 0.30, 0.01, 0.83, 0.11, 0.06, 0.98, 0.45, 0.32, 0.05, 0.39, 0.37, 0.52, 0.01, 0.15, 0.21,
    0.44, 0.30, 0.61, 0.29, 0.91, 0.96, 0.06, 0.21, 0.56, 0.77, 0.06, 0.18, 0.46, 0.67, 0.90, 0.87,
    0.79, 0.05, 0.98, 0.61, 0.09, 0.25, 0.62, 0.39, 0.45, 0.80, 0.82, 0.55, 0.79, 0.41, 0.97, 0.61,
    0.97, 0.04, 0.88, 0.56, 0.71, 0.19, 0.55, 0.29, 0.11, 0.00, 0.91, 0.67, 0.21, 0.26, 0.47, 0.82,
)
#: history -> beta(0 | h); beta(1 | h) = 1 - that.
BETA0 = {
    (): 0.25, (0, 0): 0.15, (0, 1): 0.89, (1, 0): 0.87, (1, 1): 0.65,
    (0, 0, 0, 0): 0.19, (0, 0, 0, 1): 0.18, (0, 0, 1, 0): 0.47, (0, 0, 1, 1): 0.47,
    (0, 1, 0, 0): 0.13, (0, 1, 0, 1): 0.58, (0, 1, 1, 0): 0.49, (0, 1, 1, 1): 0.16,
    (1, 0, 0, 0): 0.00, (1, 0, 0, 1): 0.44, (1, 0, 1, 0): 0.83, (1, 0, 1, 1): 0.02,
    (1, 1, 0, 0): 0.49, (1, 1, 0, 1): 0.49, (1, 1, 1, 0): 0.45, (1, 1, 1, 1): 0.86,
}


def minimal_instance() -> tuple[PlanningProblem, tuple[np.ndarray, ...]]:
    env = Environment(2, 2, lambda h, a: [KERNEL0[h][a], 1 - KERNEL0[h][a]])
    order = {h: i for i, h in enumerate(PlanningProblem.build(env, lambda h: 0.0, m=3).histories(3))}
    problem = PlanningProblem.build(env, lambda h: UTILITY[order[h]], m=3)
    beta = problem.tabulate(lambda h: np.array([BETA0[h], 1 - BETA0[h]]), "beta")
    return problem, beta


def test_hand_made_witness_fails_per_step_but_not_jointly() -> None:
    """The hand-made tree (one observation, three steps, uniform beta): the unique TVD optimum at 0.1 moves 0.1
    from leaf (0,0,0) to leaf (1,0,0); after a_1 = 0 the non-optimal a_2 = 1 rises from 1/2 to 0.25/0.4."""
    problem, beta, eps = theorem2.per_step_witness()
    sol = tvd_optimal_policy(problem, beta, eps)
    assert sol.value == pytest.approx(sum(theorem2.WITNESS_LEAVES.values()) / 8 + eps * (1.0 - 0.0), abs=1e-9)
    assert sol.levels[0][0] == pytest.approx([0.4, 0.6], abs=1e-9)
    assert sol.levels[1][0] == pytest.approx([0.375, 0.625], abs=1e-9)  # history (a_1, o_1) = (0, 0)
    found = theorem2.count_violations(problem, sol.levels, beta)
    assert found.step_non_optimal == 1 and found.joint_non_optimal == 0 and found.joint_raised > 0
    (bad,) = [r for r in raised_actions(problem, sol.levels, beta, reading="step") if not r.optimal]
    assert (bad.history, bad.action) == ((0, 0), 1)
    assert bad.pi_probability == pytest.approx(0.625, abs=1e-9)


def test_per_step_reading_fails_where_the_joint_reading_holds() -> None:
    """At TVD budget 0.3 the optimum lowers a_1 = 0 and, after (a_1, o_1) = (0, 1), raises the conditional of the
    non-optimal action 1 while keeping its joint probability at beta's: a per-step violation, not a joint one."""
    problem, beta = minimal_instance()
    sol = tvd_optimal_policy(problem, beta, 0.3)
    found = theorem2.count_violations(problem, sol.levels, beta)
    assert found.joint_non_optimal == 0 and found.joint_raised > 0
    assert found.step_non_optimal >= 1
    q, v = q_star_levels(problem)
    i = list(problem.histories(1)).index((0, 1))
    assert q[1][i, 1] < v[1][i] - 0.05  # action 1 is clearly non-optimal there
    pi, b = sol.levels[1][i, 1], beta[1][i, 1]
    assert pi > b + 0.05  # the conditional rose...
    joint_pi, joint_b = sol.levels[0][0, 0] * pi, beta[0][0, 0] * b
    assert joint_pi == pytest.approx(joint_b, abs=1e-7)  # ...but the joint probability did not


def _push_to_non_optimal(problem: PlanningProblem, levels: tuple[np.ndarray, ...], beta: tuple[np.ndarray, ...],
                         delta: float = 0.05) -> tuple[np.ndarray, ...]:
    """A deliberately wrong optimum: at the root, the worst action gets ``beta``'s probability plus ``delta``
    (the other actions share the rest in their old proportions)."""
    q, _ = q_star_levels(problem)
    bad = int(np.argmin(q[0][0]))
    root = levels[0][0].copy()
    target = min(1.0, beta[0][0, bad] + delta)
    others = np.arange(root.size) != bad
    rest = root[others].sum()
    root[others] = (1 - target) * (root[others] / rest if rest > 0 else 1 / others.sum())
    root[bad] = target
    return (root[None, :], *levels[1:])


def test_a_wrong_optimum_is_counted_as_a_violation() -> None:
    problem, beta = minimal_instance()
    sol = tvd_optimal_policy(problem, beta, 0.3)
    q, v = q_star_levels(problem)
    assert q[0][0].min() < v[0][0] - 0.01  # the root has a non-optimal action
    wrong = _push_to_non_optimal(problem, sol.levels, beta)
    assert np.allclose(wrong[0].sum(axis=1), 1.0)
    assert theorem2.count_violations(problem, wrong, beta).joint_non_optimal >= 1
    assert theorem2.count_violations(problem, sol.levels, beta).joint_non_optimal == 0


def test_kl_support_violation_is_counted() -> None:
    """beta((1,0,0,0))(0) = 0: a policy putting 1e-9 there is a support violation (no tolerance); the KL optimum
    keeps it at exactly 0."""
    problem, beta = minimal_instance()
    sol = kl_optimal_policy(problem, beta, 0.2)
    assert theorem2.support_violations(problem, sol.levels, beta) == 0
    wrong = [lv.copy() for lv in sol.levels]
    i = list(problem.histories(2)).index((1, 0, 0, 0))
    assert beta[2][i, 0] == 0
    wrong[2][i] = [1e-9, 1 - 1e-9]
    assert theorem2.support_violations(problem, wrong, beta) == 1


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("theorem2")
    run_check("theorem2", theorem2.Config.quick(), out)
    return out


def test_quick_check_holds_and_writes_its_folder(quick_run: Path) -> None:
    summary = json.loads((quick_run / "summary.json").read_text())
    config = theorem2.Config.quick()
    assert summary["held"] is True and summary["measured"] == 0 and summary["bound"] == 0
    assert summary["per_step_witness_step_violations"] == 1 and summary["per_step_witness_joint_violations"] == 0
    assert summary["solver_failures"] == 0
    assert summary["trees"] == config.trees
    assert summary["tvd_joint_raised"] > 0  # the check looked at real raises, not an empty set
    assert summary["tvd_support_violations"] > 0  # TVD does leave beta's support: the contrast with KL
    for stem in summary["figures"]:
        for ext in ("png", "svg"):
            assert (quick_run / f"{stem}.{ext}").stat().st_size > 1000
    with (quick_run / "metrics.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * config.trees * len(config.budgets)
    tvd = [r for r in rows if r["method"] == "tvd"]
    kl = [r for r in rows if r["method"] == "kl"]
    # the summary's counts are the sums of the per-case rows
    assert sum(int(r["joint_non_optimal"]) for r in tvd) == summary["tvd_joint_violations"]
    assert sum(int(r["step_non_optimal"]) for r in tvd) == summary["tvd_step_violations"]
    assert sum(int(r["support_violations"]) for r in kl) == summary["kl_support_violations"]
    assert all(float(r["achieved_tvd"]) <= float(r["budget"]) + 1e-9 for r in tvd)
    assert all(float(r["achieved_kl"]) <= float(r["budget"]) + 1e-9 for r in kl)
    assert all(float(r["off_support_probability"]) == 0 for r in kl)
    # mass on non-optimal actions falls with the budget, to 0 for TVD at eps = 1 (pi* is feasible)
    masses = summary["mean_non_optimal_probability_tvd"]
    assert masses == sorted(masses, reverse=True) and masses[-1] == pytest.approx(0, abs=1e-7)


def test_a_wrong_solver_makes_the_check_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check can fail: a "TVD optimum" that pushes mass onto a non-optimal action is reported, exit code 1."""
    real = theorem2.tvd_optimal_policy

    def wrong(problem, beta, eps):  # type: ignore[no-untyped-def]
        sol = real(problem, beta, eps)
        q, v = q_star_levels(problem)
        if not (q[0][0] < v[0][0] - 1e-6).any():
            return sol
        return dataclasses.replace(sol, levels=_push_to_non_optimal(problem, sol.levels, beta))

    monkeypatch.setattr(theorem2, "tvd_optimal_policy", wrong)
    code = main(["check", "theorem2", "--quick", "--trees", "3", "--no-plot", "--out", str(tmp_path)])
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert code == 1 and summary["held"] is False and summary["tvd_joint_violations"] > 0


def test_solver_failures_are_counted_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(problem, beta, eps):  # type: ignore[no-untyped-def]
        raise PlanningError("simulated solver failure")

    monkeypatch.setattr(theorem2, "kl_optimal_policy", broken)
    tree = theorem2.random_tree(np.random.default_rng(0), 2, 2, 2)
    cases = theorem2.check_tree(tree, (0.1, 0.5))
    failed = [c for c in cases if c.violations is None]
    assert [c.method for c in failed] == ["kl", "kl"] and "simulated" in failed[0].failure
    held, summary = theorem2._summarise(theorem2.Config(trees=1, budgets=(0.1, 0.5)), [tree], cases, [])
    assert summary["solver_failures"] == 2 and held is False


@settings(max_examples=12, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([(2, 2, 2), (3, 2, 2), (2, 3, 2), (2, 2, 3), (3, 1, 3)]),
    st.sampled_from([0.05, 0.2, 0.5]),
    st.booleans(),
    st.booleans(),
)
def test_theorem2_on_random_trees(seed: int, shape: tuple[int, int, int], eps: float, semimeasure: bool,
                                  coarse: bool) -> None:
    """Theorem 2, joint reading: no non-optimal joint raise by the TVD optimum; no mass outside beta's support
    from the KL optimum (KL budget 2 eps^2); both budgets respected."""
    ka, ko, n = shape
    tree = theorem2.random_tree(np.random.default_rng(seed), ka, ko, n, zero_beta=0.4, semimeasure=semimeasure,
                                coarse=coarse)
    tvd, kl = theorem2.check_tree(tree, (eps,))
    assert tvd.violations is not None and kl.violations is not None, (tvd.failure, kl.failure)
    assert tvd.violations.joint_non_optimal == 0
    assert kl.violations.support == 0 and kl.violations.off_support_probability == 0
    assert tvd.achieved_tvd <= eps + 1e-9 and kl.achieved_kl <= 2 * eps * eps + 1e-9
    assert tvd.value >= kl.value - 1e-6  # Pinsker: the KL optimum is feasible for the TVD programme


def test_random_tree_is_seeded_and_has_zeros_in_beta() -> None:
    a = theorem2.random_tree(np.random.default_rng(5), 3, 2, 2, zero_beta=1.0)
    b = theorem2.random_tree(np.random.default_rng(5), 3, 2, 2, zero_beta=1.0)
    assert all(np.array_equal(x, y) for x, y in zip(a.beta, b.beta, strict=True))
    assert np.array_equal(a.problem.utility, b.problem.utility)
    assert all(((lv == 0).sum(axis=1) == 1).all() for lv in a.beta)
    assert all(np.allclose(lv.sum(axis=1), 1.0) for lv in a.beta)
    assert solve_optimal(a.problem).v_star <= 1.0


def test_badly_scaled_tree_is_solved() -> None:
    """A tree where Clarabel used to stop with InsufficientProgress when the KL was written as rel_entr(z, b) (the
    SCS fallback was added for it): with the -entr(z) - z ln b form Clarabel alone solves it, and the default path
    returns the same re-checked optimum."""
    tree = theorem2._trees(theorem2.Config(trees=42, max_steps=4, max_histories=81))[41]
    assert tree.shape == (3, 1, 4)
    alone = kl_optimal_policy(tree.problem, tree.beta, 0.005, solver_options={"solver": "CLARABEL"})
    sol = kl_optimal_policy(tree.problem, tree.beta, 0.005)
    assert sol.achieved <= 0.005 + 1e-12 and sol.solver in ("cvxpy/CLARABEL", "cvxpy/SCS")
    assert sol.value == pytest.approx(alone.value, abs=1e-6)
    assert theorem2.support_violations(tree.problem, sol.levels, tree.beta) == 0


def test_registered_and_config_validates() -> None:
    assert CHECKS["theorem2"] == "aitheory.theory.theorem2"
    with pytest.raises(ValueError, match="argument trees"):
        theorem2.Config(trees=0)
    with pytest.raises(ValueError, match="argument budgets"):
        theorem2.Config(budgets=(0.1, 1.5))
    with pytest.raises(ValueError, match="argument n_actions"):
        theorem2.Config(n_actions=(1, 2))
    with pytest.raises(ValueError, match="argument zero_beta"):
        theorem2.Config(zero_beta=2.0)
    with pytest.raises(ValueError, match="argument n_actions"):
        theorem2.random_tree(np.random.default_rng(0), 1, 2, 2)
    assert theorem2.Config(budgets=(0.5,)).kl_budgets == (0.5,)


# ----- the support test and the controls -----


def test_quick_check_controls_fail_and_the_support_test_is_reported(quick_run: Path) -> None:
    """Every control has held False with its own numbers; the KL optimum's mass on the tempting action stays
    within the data-processing bound r(delta), which shrinks with delta; the TVD optimum's does not."""
    summary = json.loads((quick_run / "summary.json").read_text())
    assert summary["claim_held"] is True and summary["held_support_limit"] is True
    assert set(summary["controls"]) == {"tvd_on_near_zeros", "unconstrained_on_near_zeros", "kl_raises_non_optimal"}
    for control in summary["controls"].values():
        assert control["held"] is False
    assert summary["controls"]["tvd_on_near_zeros"]["measured"] > 0
    assert summary["controls"]["kl_raises_non_optimal"]["measured"] == summary["kl_joint_non_optimal_raises"] > 0
    bounds = list(summary["support_bound_by_delta"].values())
    assert bounds == sorted(bounds, reverse=True)
    for d, mass in summary["support_kl_mass_by_delta"].items():
        assert 0 < mass <= summary["support_bound_by_delta"][d] + 1e-9  # the optimiser does use the action
    with (quick_run / "support.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    config = theorem2.Config.quick()
    assert len(rows) == config.support_trees * len(config.support_deltas)
    assert all(float(r["mass_unconstrained"]) == 1.0 for r in rows)
    assert f"{summary['controls']['tvd_on_near_zeros']['measured']:.4g}" in summary["verdict"]


def test_support_bound_is_the_data_processing_bound() -> None:
    """r(delta) is the largest pi(a*) with KL(pi||beta) <= eps at one step: KL(Bern(r)||Bern(delta)) = eps."""
    from aitheory.measures import kl

    cases = theorem2.support_limit(theorem2.Config(support_trees=2, support_deltas=(1e-3,)))
    eps = 2 * theorem2.Config().support_budget_tvd ** 2 + 1e-6
    for c in cases:
        assert kl([c.bound, 1 - c.bound], [c.delta, 1 - c.delta]) == pytest.approx(eps, rel=1e-6)
        assert c.mass_kl <= c.bound < c.mass_tvd


def test_a_kl_solver_that_leaves_the_support_makes_the_check_fail(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Breaking the KL half: a "KL optimum" that is really the TVD optimum (at the same numeric budget) leaves
    beta's support and overshoots r(delta) on the tempting trees: held is False."""
    monkeypatch.setattr(theorem2, "kl_optimal_policy", lambda problem, beta, eps: tvd_optimal_policy(
        problem, beta, min(1.0, eps)))
    code = main(["check", "theorem2", "--quick", "--trees", "3", "--no-plot", "--out", str(tmp_path)])
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert code == 1 and summary["held"] is False and summary["claim_held"] is False
    assert summary["support_kl_max_excess"] > 0
