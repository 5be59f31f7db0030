"""``ACT(P)``, the policy-only P of SWITCH: its code in the prefix-free grammar, its text form, and its semantics in
the mixture engine in both modes, exactly against the brute-force Fraction mixture.

Claims: (1) ``ACT(P)`` is coded ``11`` + code(P) in SWITCH's P position only, so ``len(SWITCH(E, ACT(P), MIX)) =
6 + len(E) + len(P)``, text and bits round-trip, and malformed text or bits name the position and the reason;
(2) in policy mode ``SWITCH(E, ACT(P), Q)`` predicts exactly as ``SWITCH(E, P, Q)``; (3) in joint mode, after E,
its action positions are P's policy reading (emission s on ``o_1 .. o_{s-1}``) and its observation positions are
MIX; (4) the engine's predictions with such rows equal the Fraction reference's in both modes; controls: the
joint-mode rows differ from the plain-P SWITCH's, so (3) and (4) would fail if ACT were read as P.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aitheory.dsl import (
    Act,
    Mix,
    ParseError,
    Switch,
    decode_bits,
    encode_bits,
    event_holds,
    expr_bits,
    format_expr,
    parse,
    parse_expr,
    predict,
    run_reference,
    split_history,
)
from aitheory.dsl.parser import SWITCH_ACT_MIX_BITS
from aitheory.mixture import BUCKETS, ClassConfig, OnlineMixture, build_class, predict_batch
from aitheory.mixture.classes import CODE_MIX, add_programs, program_codes
from aitheory.mixture.reference import reference_predictions

# E = "+.]" holds at t = 1; E = "+[,.+]]" when o_{t-1} = 1 for the first time. The last row's P stops after one
# action: its mass is lost from then on.
ROWS = ["SWITCH(+.], ACT(+[.]]), MIX)", "SWITCH(+[,.+]], ACT(+[>,.<]]), MIX)", "SWITCH(+[,.+]], ACT(+[~]]), +[.]])",
        "SWITCH(+.], ACT(.]), MIX)"]


# ----- code and text -----


def test_length_formula_codes_and_round_trip() -> None:
    """len(SWITCH(E, ACT(P), MIX)) = c + len(E) + len(P) with c = 6 (SWITCH 2, ACT 2, MIX 2), full-grammar lengths."""
    assert SWITCH_ACT_MIX_BITS == 6
    for e_text, p_text in [("+[,.+]]", "+[.]]"), ("]", ",.]"), (",.]", "+[~]]")]:
        e, p = parse(e_text), parse(p_text)
        text = f"SWITCH({e_text}, ACT({p_text}), MIX)"
        expr = parse_expr(text)
        assert expr == Switch(e, Act(p), Mix()) and str(expr) == text
        assert expr_bits(expr) == len(encode_bits(expr)) == 6 + expr_bits(e) + expr_bits(p)
        assert expr_bits(Act(p)) == 2 + expr_bits(p)
        assert encode_bits(expr) == "10" + encode_bits(e) + "11" + encode_bits(p) + "11"
        assert decode_bits(encode_bits(expr)) == expr
    assert parse_expr("SWITCH(]  ,  ACT(  +.]  ) , MIX)") == Switch(parse("]"), Act(parse("+.]")), Mix())
    # the issue example: K(E) 21 + K(P) 15 + d 8 = 44 bits
    assert expr_bits(parse_expr("SWITCH(+[,.+]], ACT(+[.]]), MIX)")) == 44


@pytest.mark.parametrize(("text", "position", "reason"), [
    ("ACT(+.])", 0, "only as argument P of SWITCH"),
    ("SWITCH(+.], +.], ACT(+.]))", 17, "argument Q of SWITCH must be a plain program"),
    ("SWITCH(ACT(+.]), +.], MIX)", 7, "argument E of SWITCH must be a plain program"),
    ("SWITCH(+.], ACT(MIX), MIX)", 16, "argument P of ACT must be a plain program"),
    ("SWITCH(+.], ACT(+.] MIX)", 20, r"expected '\)'"),
    ("SWITCH(+.], ACT(+.x]), MIX)", 18, "unknown character"),
    ("OPT(ACT(+.]), 1)", 4, "argument U of OPT must be a plain program"),
])
def test_bad_act_text_names_position_and_reason(text: str, position: int, reason: str) -> None:
    with pytest.raises(ParseError, match=reason) as info:
        parse_expr(text)
    assert info.value.position == position


FRAGMENTS = ["SWITCH(", "ACT(", "OPT(", "MIX", ", ", ",", ")", "+.]", "]", ",.]", " ", "1/4", "+[", "."]


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join))
def test_parser_never_crashes_on_combinator_fragments(text: str) -> None:
    """Text assembled from combinator fragments (ACT included) parses and round-trips, or raises ParseError at a
    position inside the text."""
    try:
        e = parse_expr(text)
    except ParseError as err:
        assert 0 <= err.position <= len(text)
        return
    assert parse_expr(format_expr(e)) == e and decode_bits(encode_bits(e)) == e


def test_bad_act_bits_name_position_and_reason() -> None:
    e, p = encode_bits(parse(",.]")), encode_bits(parse("+.]"))
    with pytest.raises(ParseError, match="argument P of ACT has the wrong kind") as info:
        decode_bits("10" + e + "11" + "11" + p + "11")  # ACT(MIX)
    assert info.value.position == 2 + len(e) + 2
    with pytest.raises(ParseError, match="left over"):
        decode_bits("11" + p)  # at the top, 11 is MIX: ACT has no code there
    with pytest.raises(ParseError, match="bits end"):
        decode_bits("10" + e + "11")


# ----- semantics -----


def test_policy_mode_act_is_p() -> None:
    """In policy mode ACT(P) is P: the same codes on every observation sequence, and the same predictions."""
    config = ClassConfig(max_bits=9, k=2, horizon=4, switch=False)
    histories = build_class(config, all_histories=True).histories
    for text in ROWS:
        act = parse_expr(text)
        assert isinstance(act, Switch) and isinstance(act.after, Act)
        plain = Switch(act.event, act.after.policy, act.before)
        assert np.array_equal(program_codes(config, histories, act), program_codes(config, histories, plain))
        for obs in ([0, 1, 1], [1, 0, 0]):
            np.testing.assert_array_equal(predict(act, 2, 4, obs, mix=lambda t, o: np.full(2, 0.5)),
                                          predict(plain, 2, 4, obs, mix=lambda t, o: np.full(2, 0.5)))


def test_joint_mode_act_takes_p_actions_and_mix_observations() -> None:
    """After E first holds at t: position 2s-1 is P's s-th emission in policy reading on o_1 .. o_{s-1}, position 2s
    is MIX; before t, Q's codes. Control: the plain-P SWITCH gives other codes on the same histories."""
    config = ClassConfig(max_bits=9, k=2, horizon=3, switch=False, mode="joint")
    histories = build_class(config, all_histories=True).histories
    expr = parse_expr("SWITCH(+[,.+]], ACT(+[>,.<]]), MIX)")  # E: o_{t-1} = 1 for the first time
    assert isinstance(expr, Switch) and isinstance(expr.after, Act)
    codes = program_codes(config, histories, expr)
    switched = 0
    for g, x in enumerate(histories):
        obs = [int(o) for o in x[1::2]]
        holds = event_holds(expr.event, 2, 3, obs)
        t = int(np.flatnonzero(holds)[0]) + 1 if holds.any() else 4
        run = run_reference(expr.after.policy, 2, 3, obs)
        assert (codes[g, : 2 * t - 2] == CODE_MIX).all()  # before E: MIX in both roles
        assert list(codes[g, 2 * t - 2 :: 2]) == list(run.actions)[t - 1 :]  # P's actions in policy reading
        assert (codes[g, 2 * t - 1 :: 2] == CODE_MIX).all()  # and MIX's observations
        switched += t <= 3
    assert switched
    plain = program_codes(config, histories, Switch(expr.event, expr.after.policy, Mix()))
    assert not np.array_equal(codes, plain)


def _sample(mc, rng: np.random.Generator, symbols: int) -> list[int]:
    """A history drawn from the mixture's own normalised predictions (so the reference never meets xi(h) = 0)."""
    online = OnlineMixture(mc)
    for _ in range(symbols):
        x = int(rng.choice(mc.config.k, p=online.predict().normalised))
        online.update(x) if online.role == "action" else online.observe(x)
    return list(online.history)


@pytest.mark.parametrize("mode", ["joint", "policy"])
@pytest.mark.parametrize("seed", range(3))
def test_engine_with_act_rows_equals_the_exact_fraction_mixture(mode: str, seed: int) -> None:
    """Raw predictions, every missing-mass bucket and the evidence of a class with SWITCH(E, ACT(P), Q) rows added
    equal the brute-force Fraction mixture over the same programs (ACT read there by its own reference plan)."""
    config = ClassConfig(max_bits=15, k=2, horizon=3, switch=False, mode=mode)  # type: ignore[arg-type]
    extra = [parse_expr(t) for t in ROWS]
    mc, added = add_programs(build_class(config, all_histories=True), extra)
    assert len(added) == len(ROWS)
    rng = np.random.default_rng(seed)
    if mode == "joint":
        actions, observations = split_history(_sample(mc, rng, mc.positions - 1))
    else:
        actions, observations = [int(a) for a in rng.integers(0, 2, 2)], [int(o) for o in rng.integers(0, 2, 2)]
    ref = reference_predictions(config, actions, observations, extra=extra)
    trace = predict_batch(mc, actions, observations)
    assert len(ref) == trace.raw.shape[0]
    for n, r in enumerate(ref):
        np.testing.assert_allclose(trace.raw[n], [float(x) for x in r.raw], rtol=1e-10, atol=1e-14)
        for b, name in enumerate(BUCKETS):
            assert trace.missing[n, b] == pytest.approx(float(r.missing.get(name, 0)), rel=1e-10, abs=1e-14)
        assert math.exp(trace.log_evidence[n]) == pytest.approx(float(r.evidence), rel=1e-10)


def test_reference_would_see_act_read_as_p() -> None:
    """Control for the comparison above: in joint mode the Fraction mixture with the plain-P rows instead of the
    ACT rows predicts differently, so the equality could fail."""
    config = ClassConfig(max_bits=15, k=2, horizon=3, switch=False, mode="joint")
    acts = [parse_expr(t) for t in ROWS]
    plains = [Switch(e.event, e.after.policy, e.before) for e in acts
              if isinstance(e, Switch) and isinstance(e.after, Act)]
    history = [0, 0, 1, 1, 1]
    a, o = split_history(history)
    with_act = reference_predictions(config, a, o, extra=acts)
    with_plain = reference_predictions(config, a, o, extra=plains)
    assert any(x.raw != y.raw for x, y in zip(with_act, with_plain, strict=True))
