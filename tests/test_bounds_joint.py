"""``aitheory.bounds.switch_cost(mode="joint")`` against an exact Fraction computation (issue 12, both modes).

Claims tested: (1) in joint mode ``kl_nats`` is Definition 2's open-loop maximum of the policy's actions against the
joint mixture's ``xi(a | h)``, computed exactly from :mod:`aitheory.mixture.reference` in joint mode (the added
programs with prior ``2^-len``), P's actions being its policy reading (``ACT(P)``; with ``plain_policy`` its
joint-reading emissions); (2) the posterior ratio of ``SWITCH(E, ACT(P), MIX)`` is ``nu*(h) / xi(h)`` of the exact
mixture; (3) the bound is promised and holds, with ``d = 8`` from the code, also where the plain-P construction gave
KL = inf; (4) the claims can fail: a KL within one bit of the bound (reducing it by one bit turns ``held``), the
plain-P construction exceeding its bound, a class without MIX and the construction exceeding it too, a class
whose combinator rows predict the observations themselves, and a KL against the policy-mode mixture that differs.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from aitheory.bounds import FULL_SUPPORT, LN2, _observations_from_mix, default_class, switch_cost
from aitheory.dsl import TILDE_ACTION, Act, Mix, Switch, expr_bits, interleave, parse, parse_expr, run_reference
from aitheory.mixture import OnlineMixture, build_class
from aitheory.mixture.classes import add_programs, in_class, program_codes
from aitheory.mixture.reference import class_programs, reference_predictions


def _emission(policy: str, config, x: tuple[int, ...], position: int, plain: bool = False) -> list[Fraction]:
    """P's prediction of the action at the 1-based ``position`` of the interleaved history ``x``, by the reference
    interpreter: its policy reading (emission s on the observations ``x_2, x_4, ..``) or, ``plain``, its joint
    reading (emission ``position`` on the interleaved history)."""
    s = (position + 1) // 2
    if plain:
        run = run_reference(parse(policy), config.k, position, None, config.steps, mode="joint",
                            history=list(x) + [0] * position)
        emitted = run.actions[position - 1] if len(run.actions) >= position else None
    else:
        run = run_reference(parse(policy), config.k, s, list(x[1::2]), config.steps)
        emitted = run.actions[s - 1] if len(run.actions) >= s else None
    k = config.k
    if emitted is None:
        return [Fraction(0)] * k
    return [Fraction(1, k)] * k if emitted == TILDE_ACTION else [Fraction(int(b == emitted)) for b in range(k)]


def _xi_next(config, prefix: tuple[int, ...], extra: list) -> tuple[Fraction, ...] | None:
    """Exact ``xi(. | prefix)`` of the joint mixture; None if ``xi(prefix) = 0`` (the conditional is undefined)."""
    try:
        return reference_predictions(config, prefix[0::2], prefix[1::2], extra=extra)[-1].raw
    except ValueError:
        return None


def _brute_force(config, obs: tuple[int, ...], acts: tuple[int, ...], policy: str, horizon: int,
                 extra: list, plain: bool = False) -> tuple[float, tuple[int, ...]]:
    """max over o_t..o_{m-1} of sum_{a_t..a_m} P_pi ln(P_pi / prod_s xi(a_s | h_s)), xi the exact joint mixture."""
    k, t = config.k, len(obs) + 1
    best, arg = -math.inf, ()
    for cont in itertools.product(range(k), repeat=horizon - 1):
        total = 0.0
        for a_seq in itertools.product(range(k), repeat=horizon):
            full = interleave(acts + a_seq, obs + cont)  # a_1 o_1 .. a_m
            p_pi, p_xi = Fraction(1), Fraction(1)
            for j, a in enumerate(a_seq):
                pos = 2 * (t + j) - 1
                p_pi *= _emission(policy, config, full[: pos - 1], pos, plain)[a]
                xi = _xi_next(config, full[: pos - 1], extra) if p_xi else None
                p_xi = p_xi * xi[a] if xi is not None else Fraction(0)
            if p_pi:
                total += math.inf if p_xi == 0 else float(p_pi) * math.log(p_pi / p_xi)
        if total > best:
            best, arg = total, cont
    return best, arg


# The 9-bit class cannot explain these histories in joint mode (it predicts the observations too), so the
# demonstrator is a program that emits exactly a_1 o_1 a_2 o_2; switch_cost adds it with its prior 2^-len.
CASES = [
    ((0, 1), "...+.]", "+[,.+]]", "+[.]]", 2, False),  # novel observation, then always 1
    ((0, 1), "...+.]", "+[,.+]]", "+[~]]", 2, False),  # a stochastic policy
    ((0, 1), "+.+..+.]", "+[,.+]]", "+[>,.<]]", 2, False),  # a policy that reads the observations; a_1 = 1
    ((1, 0), ".+.+..]", "+[,.+]]", "+[.]]", 2, False),  # precedented: E held at step 2 < t = 3
    ((0, 1), "+.+..+.]", "+[,.+]]", ",.,.]", 2, True),  # plain P in both roles: reads the interleaved history
]


@pytest.mark.parametrize(("obs", "demonstrator", "event", "policy", "horizon", "plain"), CASES)
def test_joint_kl_and_ratio_equal_the_exact_fraction_mixture(obs, demonstrator, event, policy, horizon,
                                                             plain) -> None:
    base = default_class(class_bits=9)
    r = switch_cost(obs, event, policy, horizon=horizon, demonstrator=demonstrator, class_config=base,
                    mode="joint", plain_policy=plain)
    acts = r.actions
    config = dataclasses.replace(base, horizon=len(obs) + horizon, mode="joint")
    extra = [parse_expr(p) for p in r.added_programs]
    exact, worst = _brute_force(config, obs, acts, policy, horizon, extra, plain)
    assert r.mode == "joint"
    assert r.construction == (f"SWITCH({event}, {policy}, MIX)" if plain else f"SWITCH({event}, ACT({policy}), MIX)")
    assert r.kl_nats == pytest.approx(exact, rel=1e-9, abs=1e-12)
    assert r.worst_observations == worst or r.kl_nats == pytest.approx(exact)
    # posterior ratio of the construction after the demonstrator's history: w(nu* | h) / w(nu*), exactly
    programs = class_programs(config, extra)
    step = reference_predictions(config, acts, obs, extra=extra)[2 * len(obs)]
    nu = programs.index(parse_expr(r.construction))
    bits = r.event_bits + r.policy_bits + r.d_bits
    assert r.posterior_ratio == pytest.approx(float(step.posterior[nu] * 2**bits), rel=1e-9)
    assert r.unprecedented == (obs == (0, 1))
    assert r.d_bits == (6 if plain else 8)
    assert r.bound_promised == (r.unprecedented and not plain)
    if r.bound_promised:
        assert r.held and r.observations_from_mix
    if plain:
        assert any("plain_policy" in n for n in r.notes)


def test_joint_kl_differs_from_policy_mode() -> None:
    """Negative control for the brute force: the same inputs read in policy mode give another KL, so the joint
    comparison above would fail if switch_cost ignored the mode."""
    base = default_class(class_bits=9)
    joint = switch_cost((0, 1), "+[,.+]]", "+[.]]", horizon=2, class_config=base, mode="joint",
                        demonstrator="...+.]")
    policy = switch_cost((0, 1), "+[,.+]]", "+[.]]", horizon=2, class_config=base, actions=joint.actions)
    assert abs(joint.kl_nats - policy.kl_nats) > 1e-3


def test_issue_example_in_joint_mode_keeps_kl_below_the_bound() -> None:
    r = switch_cost([0] * 9 + [1], "+[,.+]]", "+[.]]", horizon=3, mode="joint")
    assert r.unprecedented and r.t == 11
    assert r.construction == "SWITCH(+[,.+]], ACT(+[.]]), MIX)"
    assert r.d_bits == 8 and r.bound_nats == pytest.approx((r.event_bits + r.policy_bits + 8) * math.log(2))
    assert r.kl_nats <= r.bound_nats and r.held and r.bound_promised and r.observations_from_mix
    assert r.posterior_ratio >= 1
    assert any(c.program == r.construction for c in r.carriers)


def test_joint_construction_missing_without_additions() -> None:
    """Control: with nothing added, the 21-bit event's construction is not in the class and its ratio is 0."""
    r = switch_cost((0, 1), "+[,.+]]", "+[.]]", horizon=2, class_config=default_class(class_bits=15),
                    mode="joint", add=False)
    assert r.posterior_ratio == 0 and not r.bound_promised
    assert any("missing" in n for n in r.notes)


def test_joint_program_codes_match_the_enumerated_rows() -> None:
    """program_codes in joint mode (used by add_programs) agrees with build_class's own rows, SWITCH included."""
    config = dataclasses.replace(default_class(class_bits=6, switch_bits=6), horizon=3, mode="joint")
    mc = build_class(config, all_histories=True)
    for i, text in enumerate(mc.rep_text):
        assert (program_codes(config, mc.histories, parse_expr(text)) == mc.codes[i]).all(), text
    grown, added = add_programs(mc, [Switch(parse("+[,.+]]"), parse("+[.]]"), parse_expr("MIX"))])
    assert len(added) == 1 and grown.codes.shape[1:] == mc.codes.shape[1:]
    assert np.array_equal(grown.codes[: mc.rows], mc.codes)


def test_joint_refuses_shortest_with_plain_p_and_large_windows() -> None:
    with pytest.raises(ValueError, match="argument shortest: not with plain_policy"):
        switch_cost((0, 1), "+[,.+]]", "+[.]]", horizon=2, mode="joint", shortest=True, plain_policy=True)
    with pytest.raises(ValueError, match=r"argument horizon.*joint"):
        switch_cost((0, 1), "+[,.+]]", "+[.]]", horizon=8, mode="joint")


def test_the_case_where_plain_p_gave_inf_now_keeps_the_bound() -> None:
    """The case that gave KL = inf against 29.1 nats with nu* = SWITCH(E, +[.]], MIX) (P plain: nu* predicted o_t = 1
    with P's emission, the adversary played 0 and refuted it): with SWITCH(E, ACT(+[.]]), MIX) the KL is finite,
    below the bound, and the bound is promised; FULL_SUPPORT was added so that MIX's plain mixture stays defined."""
    r = switch_cost((0, 1), "+[,.+]]", "+[.]]", horizon=2, demonstrator="...+.]",
                    class_config=default_class(class_bits=9), mode="joint")
    assert r.construction == "SWITCH(+[,.+]], ACT(+[.]]), MIX)"
    assert math.isfinite(r.kl_nats) and r.kl_nats <= r.construction_bound_nats <= r.bound_nats
    assert r.held and r.bound_promised and r.unprecedented and r.posterior_ratio >= 1
    assert FULL_SUPPORT in r.added_programs


# 59 steps in which the demonstrator program +[>.<~]] (actions 0, observations uniform) explains the history far
# better than the uniform +[~]], so after E nothing but the construction predicts the policy's 1s.
TIGHT = ([0] * 59 + [1], "+[,.+]]", "+[.]]")


def test_joint_bound_is_tight_and_the_verdict_turns_with_one_bit_less() -> None:
    """Claim and control: KL <= [K(E) + K(P) + d] ln 2 holds (promised), and within one bit of it, so a bound one
    bit shorter (d = 7) would fail: the verdict depends on the construction's exact length."""
    obs, event, policy = TIGHT
    r = switch_cost(obs, event, policy, horizon=2, mode="joint", demonstrator="+[>.<~]]")
    assert r.bound_promised and r.held and r.kl_nats <= r.construction_bound_nats + 1e-9
    assert r.kl_nats > r.bound_nats - LN2  # the control: one bit less and the measured KL is above it


def test_joint_bound_fails_where_p_predicts_the_observations() -> None:
    """Control: on the same history the plain-P construction SWITCH(E, +[.]], MIX) (P's emissions predict the
    observations too) is refuted by o_t = 0, and the KL exceeds its bound; not promised, and held is false."""
    obs, event, policy = TIGHT
    r = switch_cost(obs, event, policy, horizon=2, mode="joint", demonstrator="+[>.<~]]", plain_policy=True)
    assert r.construction == "SWITCH(+[,.+]], +[.]], MIX)"
    assert r.kl_nats > r.bound_nats and not r.held and not r.bound_promised and r.worst_observations == (0,)
    assert r.observations_from_mix is None


def test_joint_without_the_copy_the_mixture_construction_the_kl_exceeds_the_bound() -> None:
    """Control (MIX dropped): the same history in a class without MIX and without the construction (everything
    else added: E, P, the demonstrator, +[~]]) has no model that copies the mixture until E; the KL exceeds the
    bound, and the result says the construction is missing."""
    obs, event, policy = TIGHT
    config = dataclasses.replace(default_class(class_bits=15), mix=False)
    r = switch_cost(obs, event, policy, horizon=2, mode="joint", demonstrator="+[>.<~]]", class_config=config,
                    add_construction=False)
    assert "+[>.<~]]" in r.added_programs and not any("SWITCH" in p for p in r.added_programs)
    assert r.kl_nats > r.bound_nats and not r.held and not r.bound_promised and r.posterior_ratio == 0
    assert any("missing" in n for n in r.notes)


def test_joint_hypothesis_check_names_rows_that_predict_observations_themselves() -> None:
    """Control of the hypothesis check: a class with SWITCH(E, +[~]], MIX) (after E it predicts the observations
    with its own '~', not with MIX) fails observations_from_mix; without that row the same check passes."""
    obs, event, policy = (0, 1), parse("+[,.+]]"), parse("+[.]]")
    config = dataclasses.replace(default_class(class_bits=15), horizon=4, mode="joint")
    histories = [(0, 0, 0, 1, *c) for c in itertools.product(range(2), repeat=3)]
    base = build_class(config, histories=histories)
    construction = Switch(event, Act(policy), Mix())
    for extra, want in (([], True), ([Switch(event, parse("+[~]]"), Mix())], False)):
        mc, _ = add_programs(base, [construction, *extra])
        state = OnlineMixture(mc)
        for a, o in zip((0, 0), obs, strict=True):
            state.update(a, o)
        notes: list[str] = []
        p_codes = program_codes(config, mc.histories, construction)
        assert _observations_from_mix(mc, state.posterior(), p_codes, 3, notes) is want
        assert bool(notes) is not want


def test_promised_joint_bounds_hold_on_a_grid() -> None:
    """The claim over many cases: wherever the joint bound is promised, kl_nats <= -ln w(nu* | x_<2t)
    (construction_bound_nats) <= bound_nats; the grid has promised and unpromised (precedented) cases."""
    histories = [((0, 1), "...+.]"), ((1, 1), None), ((1, 0, 1), "+[>.<~]]")]
    events, policies = ["+[,.+]]", "+.]", ",+.]"], ["+[.]]", "+[~]]", "+[>,.<]]", ".+.]"]
    promised = unpromised = 0
    for (obs, demo), event, policy, horizon in itertools.product(histories, events, policies, (1, 2)):
        try:
            r = switch_cost(obs, event, policy, horizon=horizon, mode="joint", demonstrator=demo,
                            class_config=default_class(class_bits=9))
        except ValueError:  # the event has not held by t
            continue
        if r.bound_promised:
            promised += 1
            assert r.kl_nats <= r.construction_bound_nats + 1e-9 <= r.bound_nats + 1e-9, (obs, event, policy)
        else:
            unpromised += 1
    assert promised >= 5 and unpromised >= 1


# Enumerated SWITCH rows in joint mode (--switch-bits): SWITCH(E', ACT(P'), MIX), the rows the bound assumes.
@pytest.mark.parametrize("act", [True, False])
def test_joint_kl_with_enumerated_switch_rows_equals_the_exact_fraction_mixture(act: bool) -> None:
    """The KL and the posterior ratio with enumerated SWITCH rows of 3-token parts, ACT(P') rows or (control of the
    reference) plain P' rows, against the exact Fraction mixture of the same class listed program by program."""
    obs, demonstrator, event, policy = (0, 1), "...+.]", "+[,.+]]", "+[.]]"
    base = default_class(class_bits=9, switch_bits=9, act=act)
    r = switch_cost(obs, event, policy, horizon=2, demonstrator=demonstrator, class_config=base, mode="joint")
    config = dataclasses.replace(base, horizon=len(obs) + 2, mode="joint")
    extra = [parse_expr(p) for p in r.added_programs]
    programs = class_programs(config, extra)
    assert any(isinstance(p, Switch) and isinstance(p.after, Act) == act for p in programs)
    assert not any(isinstance(p, Switch) and isinstance(p.after, Act) != act for p in programs[: -len(extra)])
    exact, _ = _brute_force(config, obs, r.actions, policy, 2, extra)
    assert r.kl_nats == pytest.approx(exact, rel=1e-9, abs=1e-12)
    step = reference_predictions(config, r.actions, obs, extra=extra)[2 * len(obs)]
    nu = programs.index(parse_expr(r.construction))
    assert r.posterior_ratio == pytest.approx(float(step.posterior[nu] * 2 ** expr_bits(parse_expr(r.construction))),
                                              rel=1e-9)


def test_enumerated_act_rows_keep_the_joint_bound_promised() -> None:
    """With parts of 5 tokens the plain-P rows include SWITCH(+.], +[~]], MIX), which predicts the window's
    observations with its own '~' (posterior > 0): observations_from_mix fails and the bound is not promised. The
    same caps with ACT(P') rows (the class the argument assumes) keep it promised, and the KL stays below it."""
    obs, demonstrator, event, policy = (0, 1), "...+.]", "+[,.+]]", "+[.]]"
    plain, act = (switch_cost(obs, event, policy, horizon=2, demonstrator=demonstrator, mode="joint",
                              class_config=default_class(class_bits=9, switch_bits=15, act=a)) for a in (False, True))
    assert not plain.bound_promised and plain.observations_from_mix is False
    assert any("SWITCH(+.], +[~]], MIX)" in n for n in plain.notes)
    assert act.bound_promised and act.observations_from_mix and act.held
    assert act.kl_nats <= act.construction_bound_nats + 1e-9 <= act.bound_nats + 1e-9


def test_joint_program_codes_match_the_enumerated_act_rows() -> None:
    """program_codes of SWITCH(E', ACT(P'), Q) agrees with build_class's enumerated ACT rows (joint mode), and
    in_class knows which kind a class enumerates."""
    config = dataclasses.replace(default_class(class_bits=6, switch_bits=9, act=True), horizon=3, mode="joint")
    mc = build_class(config, all_histories=True)
    assert any(text.startswith("SWITCH(") and "ACT(" in text for text in mc.rep_text)
    for i, text in enumerate(mc.rep_text):
        assert (program_codes(config, mc.histories, parse_expr(text)) == mc.codes[i]).all(), text
    act_row, plain_row = (parse_expr(s) for s in ("SWITCH(+.], ACT(+.]), MIX)", "SWITCH(+.], +.], MIX)"))
    assert in_class(config, act_row) and not in_class(config, plain_row)
    plain_config = dataclasses.replace(config, switch_act=False, switch_max_bits=24)
    assert in_class(plain_config, plain_row) and not in_class(plain_config, act_row)


@pytest.mark.parametrize(("event", "policy", "demonstrator"), [("><+[,.+]]", "><+[.]]", "...+.]"),
                                                                ("+[,.+]]", "+[>,.<]]", "+.+..+.]")])
def test_joint_shortest_prices_an_equivalent_construction_exactly(event: str, policy: str, demonstrator: str) -> None:
    """--shortest in joint mode: E' and P' are compared in policy reading on the observation streams, so the
    shorter SWITCH(E', ACT(P'), MIX) has the same joint codes as the given construction on every history of the
    window (checked with program_codes, and failing for an event that switches one step early, the control); the KL
    equals the exact Fraction mixture's, and the promised bound is the shorter construction's length."""
    obs = (0, 1)
    base = default_class(class_bits=15)
    given = switch_cost(obs, event, policy, horizon=2, demonstrator=demonstrator, class_config=base, mode="joint")
    r = switch_cost(obs, event, policy, horizon=2, demonstrator=demonstrator, class_config=base, mode="joint",
                    shortest=True)
    assert r.event_bits < given.event_bits and r.event_bits + r.policy_bits + 8 == expr_bits(parse_expr(r.construction))
    config = dataclasses.replace(base, horizon=len(obs) + 2, mode="joint")
    histories = np.array([(*interleave(r.actions, obs), *c) for c in itertools.product(range(2), repeat=3)])
    codes = program_codes(config, histories, parse_expr(r.construction))
    assert np.array_equal(codes, program_codes(config, histories, parse_expr(given.construction)))
    early = Switch(parse(".+.]"), Act(parse(r.policy)), Mix())  # first holds at step 2 < t = 3
    assert not np.array_equal(program_codes(config, histories, early), codes)
    extra = [parse_expr(p) for p in r.added_programs]
    exact, _ = _brute_force(config, obs, r.actions, policy, 2, extra)
    assert r.kl_nats == pytest.approx(exact, rel=1e-9, abs=1e-12)
    assert r.bound_promised and r.held and r.bound_nats == pytest.approx(expr_bits(parse_expr(r.construction)) * LN2)
    assert any("shortest equivalent event" in n for n in r.notes)


def test_a_joint_class_of_plain_p_switch_rows_is_named_and_not_promised() -> None:
    """A joint-mode class whose enumerated SWITCH rows hold a plain P' (switch_act False) is not the class the
    joint bound assumes: the result says so (plain_switch_rows, a note) and does not promise the bound, even where
    the observation check passes (parts of 3 tokens: no such row predicts a window observation here). The same caps
    with ACT(P') rows promise it; in policy mode plain-P rows are the class the bound assumes."""
    from aitheory.bounds import PLAIN_SWITCH_ROWS_NOTE

    obs, demonstrator, event, policy = (0, 1), "...+.]", "+[,.+]]", "+[.]]"
    plain, act = (switch_cost(obs, event, policy, horizon=2, demonstrator=demonstrator, mode="joint",
                              class_config=default_class(class_bits=9, switch_bits=9, act=a)) for a in (False, True))
    assert plain.plain_switch_rows and plain.observations_from_mix and plain.unprecedented
    assert plain.posterior_ratio >= 1 and not plain.bound_promised and PLAIN_SWITCH_ROWS_NOTE in plain.notes
    assert act.bound_promised and not act.plain_switch_rows and PLAIN_SWITCH_ROWS_NOTE not in act.notes
    policy_mode = switch_cost(obs, event, policy, horizon=2, demonstrator=demonstrator,
                              class_config=default_class(class_bits=9, switch_bits=9))
    assert not policy_mode.plain_switch_rows and PLAIN_SWITCH_ROWS_NOTE not in policy_mode.notes
