"""The pessimistic imitator's check: Ville bookkeeping for both top-set readings, nu_alpha <= mu, the exploit."""

from __future__ import annotations

import math
import sys
from fractions import Fraction

import numpy as np
import pytest
from scipy.stats import binomtest

from aitheory.dsl import all_sequences
from aitheory.imitators import PessimisticImitator, program_policy
from aitheory.mixture import ClassConfig, ModelClass, build_class
from aitheory.mixture.classes import CODE_TILDE
from aitheory.results import read_json
from aitheory.theory import pessimistic as P
from aitheory.theory.common import CHECKS, check_module, run_check

_CACHE: dict[str, ModelClass] = {}


def small_class() -> ModelClass:
    if "mc" not in _CACHE:
        _CACHE["mc"] = build_class(ClassConfig(max_bits=15, horizon=6), all_histories=True)
    return _CACHE["mc"]


def hand_class() -> tuple[ModelClass, P.Demonstrator]:
    """Three rows on K = 2, H = 3: mu = "always ~" (prior 1/4), "always 1" (1/8), "always 0" (1/8); the other
    half of the prior is not enumerated. Hand values along a = 1, 1, 1:
    xi(h_t) = 1, 1/4, 3/16, 5/32 and w(mu|h_t) = 1/4, 1/2, 1/3, 1/5 (so mu(h)/xi(h) = 1, 2, 4/3, 4/5)."""
    config = ClassConfig(max_bits=3, horizon=3, switch=False, mix=False)
    histories = all_sequences(2, 3)
    codes = np.empty((3, len(histories), 3), dtype=np.int8)
    codes[0], codes[1], codes[2] = CODE_TILDE, 1, 0
    mc = ModelClass(config=config, codes=codes,
                    weight_by_kind=np.array([[4, 0, 0], [2, 0, 0], [2, 0, 0]], dtype=np.int64),  # units of 1/16
                    rep_bits=np.array([2, 3, 3]), rep_text=("mu", "one", "zero"), histories=histories)
    mu = P.Demonstrator(text="mu", bits=2, row=0, codes=codes[0].copy())
    return mc, mu


def test_check_is_registered() -> None:
    assert CHECKS["pessimistic"] == "aitheory.theory.pessimistic"
    module = check_module("pessimistic")
    assert module.NAME == "pessimistic" and module.Config.quick().runs < module.Config().runs


def test_hand_case_membership_and_ville_bookkeeping() -> None:
    """xi(h), mu's posterior and its membership in both top sets equal the hand values; mu leaves both at h_3."""
    mc, mu = hand_class()
    actions = np.array([[1, 1, 1], [1, 0, 1]])
    g = np.array([0, 3])
    alphas = (0.21, 0.9)  # absolute, prior-relative
    trace = P.imitators_batch(mc, g, actions, alphas, mu.row)
    expected = [Fraction(1), Fraction(1, 4), Fraction(3, 16), Fraction(5, 32)]
    np.testing.assert_allclose(np.exp(trace.log_z[0]), [float(x) for x in expected], rtol=1e-12)
    # second run: "always 1" dies at a_2 = 0, so mu is the only survivor: w(mu|h) = 1 from h_2 on
    np.testing.assert_allclose(np.exp(trace.log_z[1]), [1, 1 / 4, 1 / 16, 1 / 32], rtol=1e-12)
    log_mu = P.mu_log_likelihood(mu, g, actions, 2)
    posterior = np.exp(mu.log_prior + log_mu - trace.log_z)
    np.testing.assert_allclose(posterior[0], [1 / 4, 1 / 2, 1 / 3, 1 / 5], rtol=1e-12)
    np.testing.assert_allclose(posterior[1], [1 / 4, 1 / 2, 1, 1], rtol=1e-12)
    absolute = P.mu_in_top_set(log_mu - trace.log_z, mu.log_prior, 0.21, "absolute")
    relative = P.mu_in_top_set(log_mu - trace.log_z, mu.log_prior, 0.9, "prior_relative")
    assert absolute.tolist() == [[True, True, True, False], [True, True, True, True]]
    assert relative.tolist() == absolute.tolist()
    # the row bookkeeping agrees with the per-program one (mu is its row's shortest program here)
    assert trace.row_in_top[:, 0].tolist() == absolute.tolist()
    assert trace.row_in_top[:, 1].tolist() == relative.tolist()
    assert P.ville_bound(0.21, mu.log_prior, "absolute") == pytest.approx(1 - 0.21 * 4)
    assert P.ville_bound(0.9, mu.log_prior, "prior_relative") == pytest.approx(0.1)
    # nu_alpha at h_1 = (a=1): top set {mu, "always 1"} in both readings -> min((1/2, 1/2), (0, 1)) = (0, 1/2)
    np.testing.assert_allclose(trace.nu[0, :, 1], [[0, 0.5], [0, 0.5]])
    assert trace.sizes[0, :, 1].tolist() == [2, 2]
    assert not trace.stopping.any()  # no row of the hand class ever stops
    # at the empty history w(nu|h) = w(nu): only mu (1/4) passes alpha = 0.21 in the absolute reading, so
    # nu_alpha = mu; every row has nu(h)/xi(h) = 1 >= 0.9 in the prior-relative one: nu_alpha = (0, 0), help 1
    np.testing.assert_allclose(trace.nu[0, :, 0], [[0.5, 0.5], [0, 0]])
    assert trace.sizes[0, :, 0].tolist() == [1, 3]


def test_stay_estimate_is_clopper_pearson() -> None:
    est = P.stay_estimate(9_950, 10_000, bound=0.99, confidence=0.99)
    ci = binomtest(9_950, 10_000).proportion_ci(confidence_level=0.99, method="exact")
    assert est.lower == pytest.approx(ci.low, rel=1e-9) and est.upper == pytest.approx(ci.high, rel=1e-9)
    assert est.consistent and est.established
    low = P.stay_estimate(9_800, 10_000, bound=0.99, confidence=0.99)
    assert not low.consistent and not low.established  # 0.98 with n = 10,000 contradicts a bound of 0.99
    edge = P.stay_estimate(10_000, 10_000, bound=0.9995, confidence=0.99)
    assert edge.upper == 1.0 and edge.consistent and not edge.established
    with pytest.raises(ValueError, match="stays"):
        P.stay_estimate(11, 10, bound=0.5, confidence=0.9)


def test_violation_counter_catches_a_wrong_imitator() -> None:
    """With max instead of min, nu exceeds mu (and KL(pi||nu) < KL(pi||mu) for pi = mu): both are counted."""
    mc, mu = hand_class()
    actions = np.array([[1, 1, 1]])
    g = np.array([0])
    mu_probs = mu.probs(g[:, None], np.arange(3)[None, :], 2)
    stays = np.array([True])
    right = P.imitators_batch(mc, g, actions, (0.21, 0.9), mu.row, combine="min")
    wrong = P.imitators_batch(mc, g, actions, (0.21, 0.9), mu.row, combine="max")
    ok = P.dominance_violations(right.nu[:, 1], mu_probs, stays)
    bad = P.dominance_violations(wrong.nu[:, 1], mu_probs, stays)
    assert ok.dominance == 0 and ok.kl_violations == 0 and ok.histories == 3
    assert bad.dominance > 0 and bad.kl["mu"] > 0


def test_engine_equals_the_step_by_step_imitator() -> None:
    """The compiled engine agrees with PessimisticImitator / BayesianImitator on random demonstrator runs of a
    class with SWITCH and MIX rows, for both readings."""
    mc = small_class()
    mu = P.demonstrator_in_class(mc, "+[~]]")
    rng = np.random.default_rng(3)
    runs = P.simulate(mu, mc, 12, 0.3, rng)
    for alphas in ((2.0**-14, 0.5), (2.0**-8, 0.05)):
        config = P.Config(demonstrator="+[~]]", lossless_demonstrator="+[~]]", max_bits=15, horizon=6,
                          alpha=alphas[1], alpha_absolute=alphas[0], demo_steps=3)
        assert P.cross_check(mc, config, runs, 12) == 0
    # "]" (halts at once) is in the prior-relative top set at the empty history: help is 1 there
    trace = P.imitators_batch(mc, runs.g, runs.actions, (2.0**-14, 0.5), mu.row)
    assert trace.stopping[:, 1, 0].all() and (trace.nu[:, 1, 0] == 0).all()


def test_runs_in_chunks_equal_runs_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """imitators_batch sends the runs to the engine CHUNK at a time: the result does not depend on the chunk, and
    with_xi=False leaves only xi out."""
    mc = small_class()
    mu = P.demonstrator_in_class(mc, "+[~]]")
    runs = P.simulate(mu, mc, 7, 0.5, np.random.default_rng(4))
    whole = P.imitators_batch(mc, runs.g, runs.actions, (2.0**-14, 0.5), mu.row)
    monkeypatch.setattr(P, "CHUNK", 3)
    chunked = P.imitators_batch(mc, runs.g, runs.actions, (2.0**-14, 0.5), mu.row, with_xi=False)
    assert chunked.xi is None and whole.xi is not None and whole.xi.shape == (7, mc.config.horizon, 2)
    for name in ("log_z", "nu", "sizes", "stopping", "row_log_lik", "row_in_top"):
        np.testing.assert_allclose(getattr(chunked, name), getattr(whole, name), rtol=1e-13, atol=1e-15)


def test_simulated_runs_follow_the_demonstrator() -> None:
    """history_index matches ModelClass.history_index, and every action has mu-probability > 0."""
    mc = small_class()
    mu = P.demonstrator_in_class(mc, "+[~.]]") if mc.config.max_bits >= 18 else P.demonstrator_in_class(mc, "+[~]]")
    runs = P.simulate(mu, mc, 50, 0.5, np.random.default_rng(0))
    policy = program_policy(mu.text)
    for b in range(5):
        obs = mc.histories[runs.g[b]]
        assert mc.history_index(list(obs)) == runs.g[b]
        for t in range(mc.config.horizon):
            h = tuple(int(x) for pair in zip(runs.actions[b, :t], obs[:t], strict=True) for x in pair)
            assert policy(h)[runs.actions[b, t]] > 0


def test_demonstrator_must_be_in_the_class() -> None:
    mc = small_class()
    with pytest.raises(ValueError, match="argument demonstrator"):
        P.demonstrator_in_class(mc, "+[~.]]")  # 18 plain bits > 15
    with pytest.raises(ValueError, match="argument demonstrator"):
        P.demonstrator_in_class(mc, "~]")  # halts after one action


def test_exploit_policy_takes_what_mu_never_does() -> None:
    pi = P.exploit_policy("+[~.]]", 2, demo_steps=1)
    mu = program_policy("+[~.]]")
    assert pi(()).tolist() == mu(()).tolist()  # before the switch: like mu
    h = (0, 1)  # step 2: mu emits 1 for sure; the exploit takes 0
    assert mu(h).tolist() == [0.0, 1.0] and pi(h).tolist() == [1.0, 0.0]


@pytest.mark.parametrize(("field", "value"), [("runs", 0), ("alpha", 0.0), ("alpha_absolute", 2.0),
                                              ("demo_steps", 10), ("confidence", 1.0), ("p_one", -0.1)])
def test_config_errors_name_the_argument(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"argument {field}"):
        P.Config(**{field: value})
    with pytest.raises(ValueError, match="argument demonstrator"):
        P.Config(demonstrator="+[~.]]", max_bits=15)
    with pytest.raises(ValueError, match="position"):
        P.Config(demonstrator="+[~.")


def test_a_wrong_imitator_fails_the_check(tmp_path) -> None:
    """The check can fail: with max instead of min, nu_alpha > mu on the stay runs (counted) and held is False."""
    from aitheory.results import RunFolder

    result = P.run(tiny(cross_check_runs=0), RunFolder.create(tmp_path / "wrong", "pessimistic"), combine="max")
    assert not result.held
    assert sum(result.details.dominance_violations.values()) > 0
    assert sum(sum(v.values()) for v in result.details.kl_violations.values()) > 0


def test_pessimistic_imitator_matches_hand_class_prediction() -> None:
    """PessimisticImitator on the hand class gives the hand value (0, 1/2) after a_1 = 1."""
    mc, _ = hand_class()
    imitator = PessimisticImitator(mc, alpha=0.9, reading="prior_relative")
    np.testing.assert_allclose(imitator((1, 0)), [0.0, 0.5])


def test_help_experiment_runs(tmp_path, monkeypatch) -> None:
    """experiments/pessimistic_help.py --quick writes its metrics and figure."""
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "experiments" / "pessimistic_help.py"
    spec = importlib.util.spec_from_file_location("pessimistic_help", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "pessimistic_help", module)  # dataclasses look the module up
    spec.loader.exec_module(module)
    assert module.main(["--quick", "--out", str(tmp_path / "help")]) == 0
    assert (tmp_path / "help" / "metrics.csv").exists()
    assert (tmp_path / "help" / "pessimistic_help_long.png").exists()
    exploits = read_json(tmp_path / "help" / "exploit.json")
    assert exploits and all(e["kl_nu"]["absolute"] == "inf" and e["switch_blocked"] for e in exploits)


def test_cli_runs_the_check_and_rejects_bad_input(tmp_path, capsys) -> None:
    """``aitheory check pessimistic --quick``: exit 0 with one HELD line; a bad --alpha: exit 2 naming alpha."""
    from aitheory.cli import main

    code = main(["check", "pessimistic", "--quick", "--runs", "100", "--no-plot", "--out", str(tmp_path / "cli")])
    out = capsys.readouterr().out.strip()
    assert code == 0 and "HELD" in out and out.count("\n") == 0
    assert read_json(tmp_path / "cli" / "summary.json")["runs"] == 100
    try:
        code = main(["check", "pessimistic", "--quick", "--alpha", "0"])
    except SystemExit as exc:
        code = int(str(exc.code))
    assert code == 2
    err = capsys.readouterr().err
    assert "alpha" in err and "Traceback" not in err


def test_runs_are_reproducible_from_the_seed() -> None:
    """Same seed: the same runs and the same bookkeeping; another seed: other runs."""
    mc = small_class()
    mu = P.demonstrator_in_class(mc, "+[~]]")
    config = P.Config(demonstrator="+[~]]", lossless_demonstrator="+[~]]", max_bits=15, horizon=6, demo_steps=3,
                      batch=7)
    a = P.simulate(mu, mc, 30, 0.5, np.random.default_rng(11))
    b = P.simulate(mu, mc, 30, 0.5, np.random.default_rng(11))
    c = P.simulate(mu, mc, 30, 0.5, np.random.default_rng(12))
    assert (a.g == b.g).all() and (a.actions == b.actions).all()
    assert not ((a.g == c.g).all() and (a.actions == c.actions).all())
    acc_a, acc_b = P.collect(mc, mu, config, a), P.collect(mc, mu, config, b)
    for reading in P.READINGS:
        np.testing.assert_array_equal(acc_a.cat("help", reading), acc_b.cat("help", reading))
        np.testing.assert_array_equal(acc_a.cat("stays", reading), acc_b.cat("stays", reading))


# ----------------------------------------------------------------------------------------------------------------
# The lossless class, the controls, the act-and-query protocol


def tiny(**changes: object) -> P.Config:
    """A small configuration for the tests that break a claim (seconds)."""
    base = {**vars(P.Config.quick()), "runs": 200, "plot": False, "cross_check_runs": 1, "outside_runs": 4,
            "protocol_steps": 40, "protocol_runs": 2, "exploit_runs": 1}
    return P.Config(**{**base, **changes})


def run_tiny(tmp_path, name: str, **changes: object) -> P.CheckResult:
    from aitheory.results import RunFolder

    return P.run(tiny(**changes), RunFolder.create(tmp_path / name, "pessimistic"))


def test_lossless_class_is_a_measure_and_the_engine_matches_fractions() -> None:
    """Every code of the lossless class is an action or ~; with the prior renormalised, xi(h) (engine) equals the
    exact Fraction sum_r (w_r/Z) nu_r(h), and xi(.|h) sums to 1 at every step (a measure: xi/mu a martingale)."""
    mc = small_class()
    sub, log_norm = P.lossless_class(mc)
    assert ((sub.codes == CODE_TILDE) | (sub.codes >= 0)).all() and sub.rows < mc.rows
    z = sum(sub.enumerated_mass().values(), Fraction(0))
    assert math.isclose(math.exp(log_norm), float(z), rel_tol=1e-12)
    mu = P.demonstrator_in_class(sub, "+[~]]")
    runs = P.simulate(mu, sub, 4, 0.5, np.random.default_rng(5))
    trace = P.imitators_batch(sub, runs.g, runs.actions, (0.01, 0.5), mu.row, log_norm=log_norm)
    assert trace.xi is not None
    weights = [Fraction(int(w), sub.unit) / z for w in sub.weight_by_kind.sum(axis=1)]
    for b in range(4):
        lik = [Fraction(1)] * sub.rows
        for t in range(sub.config.horizon + 1):
            xi = sum((w * x for w, x in zip(weights, lik, strict=True)), Fraction(0))
            assert math.isclose(math.exp(trace.log_z[b, t]), float(xi), rel_tol=1e-12)
            if t == sub.config.horizon:
                break
            assert trace.xi[b, t].sum() == pytest.approx(1.0, abs=1e-12)
            a = int(runs.actions[b, t])
            for r in range(sub.rows):
                code = int(sub.codes[r, runs.g[b], t])
                lik[r] *= Fraction(1, 2) if code == CODE_TILDE else Fraction(int(code == a))
    config = P.Config(demonstrator="+[~]]", lossless_demonstrator="+[~]]", max_bits=15, horizon=6, demo_steps=3,
                      alpha=0.5, alpha_absolute=0.05)
    assert P.cross_check(sub, config, runs, 4, log_norm=log_norm) == 0  # PessimisticImitator(renormalise=True)


def test_exceedance_rows_count_and_compare_with_ville() -> None:
    max_log = np.log(np.array([1.0, 2.0, 2.5, 8.0]))
    rows = P.exceedance_rows(max_log, 0.99, points=9)
    assert rows[0]["c"] == 2.0 and rows[0]["runs_exceeding"] == 3 and rows[0]["fraction_of_ville"] == 1.5
    assert rows[-1]["c"] == 8.0 and rows[-1]["runs_exceeding"] == 1
    assert all(r["consistent"] == (r["lower"] <= 1 / r["c"]) for r in rows)


def test_quick_run_has_power_controls_that_fail_and_the_protocol(tmp_path) -> None:
    """The default-shaped quick run: a Ville case at >= 1/4 of 1/c, both controls measured and failed, the
    exploit finite for the demonstrator and infinite for the switch, the act-and-query run."""
    result = run_check("pessimistic", P.Config.quick(), tmp_path / "run")
    assert result.held, result.verdict
    summary = read_json(tmp_path / "run" / "summary.json")
    assert summary["held"] is True and all(summary["claims"].values())
    assert summary["lossless"]["ville_power"]["fraction_of_ville"] >= 0.25
    assert summary["lossless"]["ville_power"]["c"] >= 2
    controls = summary["controls"]
    assert set(controls) == {"outside_class", "alpha_too_large"}
    for name, c in controls.items():
        assert c["held"] is False and "bound" in c and "measured" in c and c["relation"] in (">=", "=="), name
    assert sum(controls["outside_class"]["nu_alpha_above_mu_histories"].values()) > 0
    assert controls["alpha_too_large"]["bound_vacuous"] is True
    assert summary["exploit"]
    for e in summary["exploit"]:
        assert e["kl_nu"] == {"absolute": "inf", "prior_relative": "inf"}
        assert all(isinstance(v, float) and math.isfinite(v) for v in e["demonstrator_kl"].values())
    for reading in P.READINGS:
        p = summary["protocol"][reading]
        assert p["held"] and p["nu_alpha_above_mu_histories"] == 0 and p["imitator_took_action_mu_never_takes"] == 0
        assert p["query_mean_last_tenth"] < p["query_mean_first_tenth"]
    assert summary["relation"] == ">=" and summary["measured"] >= summary["bound"]
    assert summary["engine_mismatches"] == 0 and summary["bookkeeping_inconsistencies"] == 0
    assert summary["lossless"]["engine_mismatches"] == 0
    assert all(v == 0 for v in summary["dominance_violations"].values())
    for e in summary["exploit"]:
        assert math.isfinite(e["kl_xi"]) and e["kl_xi"] > 0 and e["switch_steps"] >= 1 and e["switch_blocked"]
        for step in e["per_step"]:
            if step["switch"]:  # the mechanism: nu_alpha gives the switched-to action 0, xi does not
                assert step["nu_of_action"] == {"absolute": 0.0, "prior_relative": 0.0} and step["xi_of_action"] > 0
    for name in ("config.json", "metrics.csv", "ville.csv", "ville_lossless.csv", "protocol.csv",
                 "pessimistic_ville.png", "pessimistic_ville.svg", "pessimistic_help.png", "pessimistic_help.svg",
                 "pessimistic_ville_lossless.png", "pessimistic_protocol.png"):
        assert (tmp_path / "run" / name).exists(), name


@pytest.mark.parametrize(("changes", "claim"), [
    ({"exploit_runs": 0}, "exploit"),  # an empty check is not held
    ({"ville_power": 1.0}, "lossless_class"),  # Ville never binds exactly here
    ({"protocol_steps": 5}, "protocol"),  # the query probability is 1 for the first steps: no shrinking shown
])
def test_each_claim_broken_turns_the_check_false(tmp_path, changes: dict, claim: str) -> None:
    result = run_tiny(tmp_path, claim, **changes)
    assert not result.held and result.details.claims[claim] is False, result.verdict
    assert "HELD" not in result.verdict


def test_a_control_that_holds_makes_the_check_not_held(tmp_path) -> None:
    """Outside the class but only 5 steps: dominance still holds there (the control's claim holds), so the control
    did not fail, and the check is not held although every claim is."""
    result = run_tiny(tmp_path, "short", outside_horizon=5)
    assert {c.name: c for c in result.controls}["outside_class"].held is True and result.claim_held is True
    assert all(result.details.claims.values()) and not result.held
