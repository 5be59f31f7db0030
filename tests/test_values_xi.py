"""Values under xi (issue 10 item 3): xi's own observation predictions as the environment, xi(a | h) as the base
policy, checked against the brute-force Fraction mixture (aitheory.planning.reference)."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

from aitheory.dsl.combinators import utility_rewards, utility_value
from aitheory.mixture import ClassConfig, build_class
from aitheory.planning import Environment, PlanningProblem, value
from aitheory.planning.reference import exact_tree, exact_v_star, exact_value
from aitheory.planning.xi import as_policy, prediction_tree, program_utility, xi_problem

U_OBS = "+[>,.<]]"  # U = mean of o_t
U_ACT = ".+[>,..<]]"  # U = mean of a_t
# Every class below has the 15-bit program +[~]] (uniform over every history), so every history has positive
# evidence and the exact reference is defined everywhere.
PLAIN = ClassConfig(max_bits=15, k=2, horizon=2, mode="joint", switch=False)
WITH_SWITCH = ClassConfig(max_bits=15, k=2, horizon=3, mode="joint", switch=True, switch_max_bits=14)
START = (1, 0)


@pytest.fixture(scope="module")
def plain_case():
    mc = build_class(PLAIN, all_histories=True)
    return prediction_tree(mc), exact_tree(PLAIN)


@pytest.fixture(scope="module")
def switch_case():
    mc = build_class(WITH_SWITCH, all_histories=True)
    assert mc.programs_by_kind["switch"] > 0
    return prediction_tree(mc, START), exact_tree(WITH_SWITCH, START)


def _close(a: float, b: Fraction, tol: float = 1e-12) -> bool:
    return abs(a - float(b)) <= tol * max(1.0, abs(float(b)))


@pytest.mark.parametrize("case", ["plain_case", "switch_case"])
def test_predictions_equal_the_exact_mixture_at_every_prefix(case, request):
    """xi(x | h) and xi_plain(x | h) at every prefix of the tree equal the brute-force Fraction mixture, and so do
    the evidences at the start."""
    tree, exact = request.getfixturevalue(case)
    assert set(tree.xi) == set(exact.xi)
    for prefix in exact.xi:
        for model in ("xi", "mix"):
            got, want = tree.predictions(prefix, model), exact.predictions(prefix, model)
            assert all(_close(g, w) for g, w in zip(got, want, strict=True)), (prefix, model)
    assert _close(np.exp(tree.log_model_evidence(exact.start)), exact.evidence)
    assert _close(np.exp(tree.log_model_evidence(exact.start, "mix")), exact.model_evidence("mix"))


@pytest.mark.parametrize("case", ["plain_case", "switch_case"])
@pytest.mark.parametrize("model", ["xi", "mix"])
def test_values_equal_the_exact_sum_over_every_history(case, model, request):
    """V^pi_{nu,U} by expectimax equals the exact sum over every complete history, for a stochastic callable, a
    deterministic table and an open-loop plan; V* equals the best of all deterministic policies (enumerated)."""
    tree, exact = request.getfixturevalue(case)
    h0, m = exact.start, exact.m
    rng = np.random.default_rng(3)
    table: dict = {}

    def stochastic(h):
        key = tuple(h)
        if key not in table:
            p = Fraction(int(rng.integers(1, 8)), 8)
            table[key] = (p, 1 - p)
        return table[key]

    plan = {h: (len(h) // 2 + sum(h)) % 2 for n in range(len(h0), 2 * m, 2)
            for h in (h0 + s for s in itertools.product(range(2), repeat=n - len(h0)))}
    for utility in (U_OBS, U_ACT):
        xp = xi_problem(tree, utility, h0, m, model=model)
        cases = [(lambda h: [float(x) for x in stochastic(h)], stochastic),
                 (plan, as_policy(plan, 2)),
                 ([1] * (m - len(h0) // 2), as_policy([1] * (m - len(h0) // 2), 2, h0))]
        for given, exact_pi in cases:
            def exact_pi_fr(h, f=exact_pi):
                return [Fraction(float(x)) for x in f(h)]

            assert _close(xp.value(given), exact_value(exact, exact_pi_fr, utility, model))
        assert _close(xp.v_star(), exact_v_star(exact, utility, model))


def test_base_policy_and_environment_are_the_mixtures_predictions(switch_case):
    """The solvers' inputs: beta[s][i] = xi(. | h_i) and the kernel nu(. | h_i, a) = xi(. | h_i a), exactly."""
    tree, exact = switch_case
    xp = xi_problem(tree, U_OBS, START, WITH_SWITCH.horizon)
    for s in range(xp.problem.steps):
        for i, h in enumerate(xp.problem.histories(s)):
            assert all(_close(g, w) for g, w in zip(xp.beta[s][i], exact.predictions(h), strict=True))
            for a in range(2):
                want = exact.predictions((*h, a))
                assert all(_close(g, w) for g, w in zip(xp.problem.obs[s][i, a], want, strict=True))


def test_constrained_optima_use_xi_as_base_policy_and_environment(switch_case):
    """Definition-2 KL and TVD optima: within budget (re-checked on Definition 2 by brute force over open-loop
    observation sequences with the exact xi), value between beta's and V*, rising with the budget; the TVD optimum
    at budget 1 reaches V*."""
    tree, exact = switch_case
    xp = xi_problem(tree, U_ACT, START, WITH_SWITCH.horizon)
    v_star = xp.v_star()
    least = xp.least_divergence()
    with pytest.raises(ValueError, match="infeasible"):
        xp.kl_optimum(least.kl * 0.9)
    last = -1.0
    for eps in (least.kl + 0.05, least.kl + 0.5, least.kl + 3.0):
        sol = xp.kl_optimum(eps)
        assert sol.achieved <= eps + 1e-9 and sol.value <= v_star + 1e-9
        assert _brute_kl(sol.policy, exact) <= eps + 1e-6
        assert sol.value >= last - 1e-9
        last = sol.value
    expected = xp.kl_optimum(least.kl_expected + 1.0, expected=True)
    assert expected.value <= v_star + 1e-9
    assert xp.tvd_optimum(1.0).value == pytest.approx(v_star, abs=1e-8)
    budget = (least.tvd + 1.0) / 2
    tight = xp.tvd_optimum(budget)
    assert tight.achieved <= budget + 1e-9 and tight.value <= v_star + 1e-9


def _brute_kl(pi, exact) -> float:
    """max over o_1 (the only open-loop observation with n = 2 steps) of sum_a P_pi ln(P_pi / P_xi)."""
    h0 = exact.start
    worst = -np.inf
    for o1 in range(2):
        total = 0.0
        for a1, a2 in itertools.product(range(2), repeat=2):
            h1 = (*h0, a1, o1)
            p = float(pi(h0)[a1]) * float(pi(h1)[a2])
            b = float(exact.predictions(h0)[a1]) * float(exact.predictions(h1)[a2])
            if p > 0:
                total += p * np.log(p / b)
        worst = max(worst, total)
    return worst


def test_negative_control_fair_coin_observations_give_other_values(plain_case):
    """The values depend on xi's observation model: the same policy under fair-coin observations (what the
    policy-mode theorem1 check used) has a different value, so the agreement above is not vacuous."""
    tree, exact = plain_case
    xp = xi_problem(tree, U_OBS, (), PLAIN.horizon)
    coin = PlanningProblem.build(Environment(2, 2, lambda h, a: [0.5, 0.5]), program_utility(U_OBS, 2), m=2)
    policy = as_policy([1, 1], 2)
    assert abs(value(coin, policy) - xp.value(policy)) > 0.1
    wrong = exact_value(exact, lambda h: [Fraction(float(x)) for x in policy(h)], U_ACT)
    assert not _close(xp.value(policy), wrong)


def test_zero_evidence_histories_are_reported():
    """Without +[~]] (9 bits) some histories have xi = 0: they are listed and predict nothing below."""
    mc = build_class(ClassConfig(max_bits=9, k=2, horizon=2, mode="joint", switch=False), all_histories=True)
    tree = prediction_tree(mc)
    assert tree.zero_evidence
    for z in tree.zero_evidence:
        assert not tree.predictions(z).any()
        assert tree.predictions(z[:-1])[z[-1]] == 0


def test_bad_input_is_refused_with_the_argument_named():
    policy_mode = build_class(ClassConfig(max_bits=9, k=2, horizon=2, switch=False))
    with pytest.raises(ValueError, match="joint-mode"):
        prediction_tree(policy_mode)
    one_history = build_class(ClassConfig(max_bits=9, k=2, horizon=2, mode="joint", switch=False))
    with pytest.raises(ValueError, match="all_histories"):
        prediction_tree(one_history)
    mc = build_class(PLAIN, all_histories=True)
    with pytest.raises(ValueError, match="argument m"):
        prediction_tree(mc, (), 3)
    with pytest.raises(ValueError, match="argument start"):
        prediction_tree(mc, (1,), 2)
    with pytest.raises(ValueError, match="max_histories"):
        prediction_tree(mc, max_histories=15)
    with pytest.raises(ValueError, match="argument model"):
        xi_problem(mc, U_OBS, model="coin")  # type: ignore[arg-type]


def test_utility_reading_by_hand():
    """r_t is emission 2t + 1 (after o_t was readable), v / (K - 1); '~' and missing emissions count 0."""
    x = (1, 0, 1, 1, 0, 1)
    assert utility_rewards(U_OBS, 2, x) == (0, 1, 1)  # echoes o_t
    assert utility_value(U_ACT, 2, x) == Fraction(2, 3)  # a = 1, 1, 0
    assert utility_rewards(U_OBS, 3, (1, 2, 1, 1)) == (1, Fraction(1, 2))
    assert utility_rewards("+[~]]", 2, x) == (0, 0, 0)  # '~' is not a reward
    assert utility_rewards("++.]", 3, x) == (0, 0, 0)  # emission 1 only, then halted: missing rewards count 0
    assert utility_rewards("+[.]]", 2, x) == (1, 1, 1)
    with pytest.raises(ValueError, match="even length"):
        utility_rewards(U_OBS, 2, (1, 0, 1))
