"""OPT(U, u) (issue 10 item 4): its code in the prefix-free grammar, the canonical order, the search, and its
rows in a joint-mode class."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

from aitheory.dsl import (
    Act,
    Dyadic,
    Mix,
    Opt,
    ParseError,
    Plain,
    Switch,
    decode_bits,
    encode_bits,
    expr_bits,
    parse,
    parse_expr,
)
from aitheory.dsl.codes import elias_delta, elias_delta_bits, read_elias_delta
from aitheory.dsl.parser import ACT_MARKER_BITS, OPT_MARKER_BITS, SWITCH_OPT_MIX_BITS
from aitheory.mixture import ClassConfig, OnlineMixture, build_class
from aitheory.mixture.classes import CODE_MIX
from aitheory.planning.opt import CODE_NO_POLICY, add_opt_programs, node_order, opt_choice, opt_codes, policy_table
from aitheory.planning.reference import exact_tree, opt_choice_exact
from aitheory.planning.xi import prediction_tree, xi_problem

U_ACT = ".+[>,..<]]"  # U = mean of a_t
U_OBS = "+[>,.<]]"  # U = mean of o_t


# ----- codes -----


def test_elias_delta_is_prefix_free_and_complete():
    codes = [elias_delta(n) for n in range(1, 2**10)]
    assert [len(c) for c in codes] == [elias_delta_bits(n) for n in range(1, 2**10)]
    assert all(read_elias_delta(c + "1011", 0) == (n, len(c)) for n, c in enumerate(codes, 1))
    ordered = sorted(codes)
    assert not any(b.startswith(a) for a, b in itertools.pairwise(ordered))
    # complete: the codes of at most 10 bits are exactly those of n < 2^L with L + 2 floor(log2 L) <= 10
    assert sum(Fraction(1, 2 ** len(c)) for c in codes if len(c) <= 10) == sum(
        Fraction(2 ** (length - 1), 2 ** (length + 2 * (length.bit_length() - 1)))
        for length in range(1, 11) if length + 2 * (length.bit_length() - 1) <= 10)


def test_dyadic_text_code_and_value():
    assert Dyadic.of(Fraction(3, 8)) == Dyadic(3, 3) and Dyadic.of(0) == Dyadic(0, 0)
    assert Dyadic(6, 4).value == Fraction(3, 8) and Dyadic(6, 4) != Dyadic(3, 3)
    assert Dyadic(6, 4).bits >= Dyadic(3, 3).bits
    assert Dyadic(3, 3).bits == elias_delta_bits(4) + elias_delta_bits(4) == 10
    with pytest.raises(ValueError, match="dyadic"):
        Dyadic.of(Fraction(1, 3))
    with pytest.raises(ValueError, match="numerator"):
        Dyadic(-1, 0)


def test_shortest_dyadic_in_an_interval():
    """Dyadic.shortest_in(lo, hi) is the shortest code in [lo, hi), checked against the 64 smallest numerators
    n >= lo 2^e of every exponent e <= 24."""
    for lo, hi in [(Fraction(1, 3), Fraction(1, 2)), (Fraction(0), Fraction(1, 1000)), (Fraction(3, 8), Fraction(3, 7)),
                   (Fraction(5, 2**20), Fraction(6, 2**20)), (Fraction(1), Fraction(2))]:
        got = Dyadic.shortest_in(lo, hi)
        assert lo <= got.value < hi
        brute = min((Dyadic(n, e) for e in range(25) for n in range(int(lo * 2**e), int(lo * 2**e) + 64)
                     if lo <= Fraction(n, 2**e) < hi), key=lambda d: (d.bits, d.exponent))
        assert got.bits == brute.bits
    with pytest.raises(ValueError, match="lo < hi"):
        Dyadic.shortest_in(Fraction(1, 2), Fraction(1, 2))


def test_opt_text_round_trip_and_length_formula():
    """len(SWITCH(E, OPT(U, u), MIX)) = c + len(E) + len(U) + len(u), c = 7 (full-grammar lengths, 1 + 3n)."""
    assert SWITCH_OPT_MIX_BITS == 7
    for e_text, u_text, u in itertools.product(["+[,.]]", "]", ",.]"], [U_ACT, "+[.]]"], ["0", "1", "3/8", "6/16",
                                                                                      "1/1024"]):
        text = f"SWITCH({e_text}, OPT({u_text}, {u}), MIX)"
        expr = parse_expr(text)
        assert str(expr) == text and decode_bits(encode_bits(expr)) == expr
        e, util = parse(e_text), parse(u_text)
        assert isinstance(expr, Switch) and isinstance(expr.after, Opt)
        length = expr_bits(expr)
        assert length == len(encode_bits(expr)) == 7 + expr_bits(e) + expr_bits(util) + expr.after.threshold.bits
        assert expr_bits(expr.after) == 3 + expr_bits(util) + expr.after.threshold.bits
        assert encode_bits(expr).startswith("100") and encode_bits(expr.after).startswith("101")
    assert parse_expr("OPT( +[.]] , 3/8 )") == Opt(parse("+[.]]"), Dyadic(3, 3))


def test_existing_codes_are_unchanged():
    """Plain programs, SWITCH and MIX keep their codes and lengths (0 + 3 bits a token, 10 + parts, 11)."""
    p, e = parse("+[.]]"), parse(",.]")
    assert encode_bits(p) == "0" + "000110011111111" and expr_bits(p) == 16
    assert encode_bits(Mix()) == "11"
    s = Switch(e, p, Mix())
    assert encode_bits(s) == "10" + encode_bits(e) + encode_bits(p) + "11"
    assert expr_bits(s) == 2 + expr_bits(e) + expr_bits(p) + 2


@pytest.mark.parametrize("text,where", [
    ("OPT(+[.]], 1/3)", "power of 2"),
    ("OPT(MIX, 1)", "argument U"),
    ("OPT(+[.]] 1)", "expected ','"),
    ("OPT(+[.]], x)", "threshold"),
    ("SWITCH(+.], MIX, MIX)", "plain program, OPT or ACT"),
    ("SWITCH(+.], +.], OPT(+.], 1))", "argument Q"),
])
def test_bad_opt_text_names_position_and_reason(text, where):
    with pytest.raises(ParseError, match=where):
        parse_expr(text)


def _all_short_codes(max_len: int) -> list[str]:
    found = []
    for length in range(1, max_len + 1):
        for bits in itertools.product("01", repeat=length):
            code = "".join(bits)
            try:
                decode_bits(code)
            except ParseError:
                continue
            found.append(code)
    return found


def grammar_total() -> Fraction:
    """The grammar's total prior from its code table: each kind ``2^-marker`` times the masses of its parts (a plain
    part ``1/2``: its ``0`` and a complete plain code; Elias delta complete). SWITCH's P is plain, OPT or ACT."""
    plain, mix = Fraction(1, 2), Fraction(1, 4)
    opt = Fraction(1, 2**OPT_MARKER_BITS) * plain  # U plain, u complete
    act = Fraction(1, 2**ACT_MARKER_BITS) * plain  # in SWITCH's P position only
    switch = Fraction(1, 4) * plain * (plain + opt + act) * (plain + mix)
    return plain + mix + opt + switch


def test_grammar_is_prefix_free_on_all_short_codes():
    """Every bit string of up to 15 bits: the ones that decode form a prefix-free set, each re-encodes to itself,
    and their Kraft sum is at most the grammar's total 449/512 (plain 1/2, MIX 1/4, OPT 1/16, SWITCH 33/512 with
    ACT in its P position; 443/512 before ACT); codes with ACT are among them and add exactly their mass."""
    assert grammar_total() == Fraction(449, 512)
    codes = _all_short_codes(15)
    kinds = {type(decode_bits(c)).__name__ for c in codes}
    assert kinds == {"Plain", "Mix", "Switch", "Opt"}
    with_act = [c for c in codes if isinstance(getattr(decode_bits(c), "after", None), Act)]
    assert with_act and all(encode_bits(decode_bits(c)) == c for c in codes)
    as_set = set(codes)
    assert not any(c[:i] in as_set for c in codes for i in range(1, len(c)))
    kraft = sum(Fraction(1, 2 ** len(c)) for c in codes)
    assert kraft <= grammar_total() < 1
    assert kraft - sum(Fraction(1, 2 ** len(c)) for c in with_act) <= Fraction(443, 512)


# ----- the canonical order and the search -----


def test_canonical_order():
    assert node_order(2, 3) == [(), (0,), (1,), (0, 0), (0, 1), (1, 0), (1, 1)]
    assert policy_table(0, 2, 2) == (0, 0, 0) and policy_table(5, 2, 2) == (1, 0, 1)
    with pytest.raises(ValueError, match="index"):
        policy_table(8, 2, 2)


CONFIG = ClassConfig(max_bits=15, k=2, horizon=3, mode="joint", switch=False)
START = (1, 0)


@pytest.fixture(scope="module")
def case():
    mc = build_class(CONFIG, all_histories=True)
    return mc, prediction_tree(mc), exact_tree(CONFIG, START)


def _dyadics_between(values: list[Fraction]) -> list[Fraction]:
    """A dyadic strictly between each pair of consecutive distinct values (and one above the largest)."""
    distinct = sorted(set(values))
    out = []
    for lo, hi in zip([Fraction(0), *distinct], [*distinct, distinct[-1] * 2], strict=True):
        e = 0
        while Fraction(1, 2**e) >= hi - lo:
            e += 1
        out.append(Fraction((lo * 2**e).__floor__() + 1, 2**e))
    return out


@pytest.mark.parametrize("utility", [U_ACT, U_OBS])
def test_opt_chooses_the_exact_first_policy_above_u(case, utility):
    """OPT's policy is the first of all policies (enumerated in the canonical order, exact values) whose
    nu_MIX(h) V exceeds u, for u between every two consecutive exact values; above the largest, none."""
    _, tree, exact = case
    xp = xi_problem(tree, utility, START, CONFIG.horizon, model="mix")
    _, values = opt_choice_exact(exact, utility, Fraction(0))
    evidence = exact.model_evidence("mix")
    thresholds = _dyadics_between([evidence * v for v in values])
    for u in thresholds:
        want, _ = opt_choice_exact(exact, utility, u)
        got = opt_choice(xp, Dyadic.of(u))
        assert got.index == want, u
        if want is not None:
            assert got.margin > 0 and got.table == policy_table(want, 2, 2)
            assert xp.value(got.policy()) == pytest.approx(float(values[want]), rel=1e-12)
            assert xp.value(got.plan()) == pytest.approx(got.value, rel=1e-12)
    assert opt_choice(xp, thresholds[-1]).index is None  # negative control: nothing exceeds the maximum


@pytest.mark.parametrize("steps", [3, 4])
def test_opt_search_equals_enumerating_every_policy(steps):
    """With n = 3 steps (all 128 policies) and n = 4 (the first 256 of 32768; the thresholds are quantiles of their
    values, so the first policy above each lies among them) the greedy search equals evaluating the policies (the
    float values of aitheory.planning) one by one in the canonical order."""
    config = ClassConfig(max_bits=15, k=2, horizon=steps, mode="joint", switch=False)
    tree = prediction_tree(build_class(config, all_histories=True))
    xp = xi_problem(tree, U_ACT, (), steps, model="mix")
    nodes = node_order(2, steps)
    count = 2 ** len(nodes) if steps == 3 else 2**8  # n = 4: the first 256 of 32768 (the answer is among them)
    values = np.array([xp.value(_plan(policy_table(i, 2, steps), nodes)) for i in range(count)])
    for q in (0.2, 0.5, 0.8, 0.95):
        u = Fraction(float(np.quantile(values, q))).limit_denominator(2**40)
        u = Fraction(int(u * 2**40), 2**40)
        want = next((i for i, v in enumerate(values) if xp.evidence * v > u), None)
        assert opt_choice(xp, u).index == want


def _plan(table, nodes):
    position = {o: j for j, o in enumerate(nodes)}
    return lambda h: np.eye(2)[table[position[tuple(h)[1::2]]]]


# ----- OPT rows in the class -----


def test_opt_rows_act_by_the_chosen_policy_and_take_observations_from_mix(case):
    """SWITCH(E, OPT(U, u), MIX): MIX before E; from the step t where E first holds, OPT's choice from x_{<2t} at
    the action positions and MIX at the observation positions; prior 2^-len; OPT(U, u) above every value halts."""
    mc, tree, _ = case
    switch = parse_expr(f"SWITCH({U_OBS}, OPT({U_ACT}, 1/4096), MIX)")
    alone = parse_expr(f"OPT({U_ACT}, 1/64)")
    never = parse_expr(f"OPT({U_ACT}, 1)")
    grown = add_opt_programs(mc, [switch, alone, never], tree=tree)
    assert grown.rows == mc.rows + 3
    assert list(grown.rep_bits[-3:]) == [expr_bits(e) for e in (switch, alone, never)]
    np.testing.assert_allclose(grown.prior()[-3:], [2.0 ** -expr_bits(e) for e in (switch, alone, never)])
    codes = grown.codes[-3:]
    assert (codes[2] == CODE_NO_POLICY).all()
    assert (codes[1, :, 1::2] == CODE_MIX).all()
    choice = opt_choice(xi_problem(tree, U_ACT, (), CONFIG.horizon, model="mix"), Fraction(1, 64))
    assert choice.found
    for g, x in enumerate(mc.histories):
        x = tuple(int(s) for s in x)
        for s in range(1, CONFIG.horizon + 1):
            assert codes[1, g, 2 * s - 2] == choice.action(x[: 2 * s - 2])
        o = x[1::2]
        t = next((i + 1 for i in range(CONFIG.horizon) if i >= 1 and o[i - 1] != 0), None)
        # the event +[>,.<]] emits o_{t-1} as its t-th emission: it first holds at the first t >= 2 with o_{t-1} = 1
        if t is None:
            assert (codes[0, g] == CODE_MIX).all()
        else:
            assert (codes[0, g, : 2 * t - 2] == CODE_MIX).all()
            start_choice = opt_choice(xi_problem(tree, U_ACT, x[: 2 * t - 2], CONFIG.horizon, model="mix"),
                                      Fraction(1, 4096))
            if not start_choice.found:  # nu_MIX(x_{<2t}) V* <= u: the search ends without a policy, OPT halts
                assert (codes[0, g, 2 * t - 2:] == CODE_NO_POLICY).all()
                continue
            assert (codes[0, g, 2 * t - 1:: 2] == CODE_MIX).all()
            for s in range(t, CONFIG.horizon + 1):
                assert codes[0, g, 2 * s - 2] == start_choice.action(x[: 2 * s - 2])
    halted = [g for g in range(len(mc.histories)) if codes[0, g, -1] == CODE_NO_POLICY]
    acted = [g for g in range(len(mc.histories)) if (codes[0, g, ::2] >= 0).any()]
    assert halted and acted  # both outcomes occur: some switch histories are too improbable for u
    # the grown class is a valid mixture: predictions are semimeasures and the OPT row's mass is lost when it halts
    state = OnlineMixture(grown)
    step = state.predict()
    assert step.raw.sum() <= 1 + 1e-12 and step.missing["halted"] >= 2.0 ** -expr_bits(never) - 1e-15
    np.testing.assert_array_equal(opt_codes(mc, alone, tree), codes[1])


def test_opt_rows_are_refused_where_they_have_no_meaning(case):
    mc, tree, _ = case
    with pytest.raises(ValueError, match="OPT rows are"):
        add_opt_programs(mc, [Switch(parse(",.]"), Opt(parse(U_ACT), Dyadic(1, 6)), parse("+.]"))], tree=tree)
    with pytest.raises(ValueError, match="joint-mode"):
        add_opt_programs(build_class(ClassConfig(max_bits=9, horizon=2, switch=False)), [parse_expr("OPT(], 0)")])
    assert isinstance(parse_expr("OPT(], 0)"), Opt) and isinstance(Plain((7,)), Plain)


def test_a_class_with_opt_rows_equals_the_exact_mixture_with_those_rows():
    """End to end, exactly: on a 15-bit class with SWITCH(E, OPT, MIX), OPT and a halting OPT row (horizon 2), the
    engine's xi(x | h) at every prefix equals the Fraction mixture xi_base(h x) + sum_r 2^-len(r) nu_r(h x) over the
    same, nu_r the product of its codes' probabilities (MIX: the exact xi_plain conditional); and the standalone
    row's actions are the exact first policy above u."""
    config = ClassConfig(max_bits=15, k=2, horizon=2, mode="joint", switch=False)
    mc = build_class(config, all_histories=True)
    tree = prediction_tree(mc)
    exact = exact_tree(config)
    u = Fraction(1, 128)
    rows = [parse_expr(f"SWITCH({U_OBS}, OPT({U_ACT}, 1/1024), MIX)"), Opt(parse(U_ACT), Dyadic.of(u)),
            parse_expr(f"OPT({U_ACT}, 1)")]
    grown = add_opt_programs(mc, rows, tree=tree)
    first, _ = opt_choice_exact(exact, U_ACT, u)
    assert first is not None
    table = policy_table(first, 2, 2)  # nodes (), (0,), (1,)
    for g, x in enumerate(mc.histories):
        assert grown.codes[-2, g, 0] == table[0] and grown.codes[-2, g, 2] == table[1 + int(x[1])]
    weights = [Fraction(1, 2 ** expr_bits(r)) for r in rows]

    def exact_joint(x: tuple[int, ...]) -> Fraction:
        base = Fraction(1)
        for n in range(len(x)):
            base *= exact.predictions(x[:n])[x[n]]
        total = base
        g = mc.history_index(list(x[:3]))
        for r, w in enumerate(weights):
            like = Fraction(1)
            for n in range(len(x)):
                code = int(grown.codes[mc.rows + r, g, n])
                like *= exact.predictions(x[:n], "mix")[x[n]] if code == CODE_MIX else Fraction(int(code == x[n]))
            total += w * like
        return total

    grown_tree = prediction_tree(grown)
    for prefix in exact.xi:
        before = exact_joint(prefix)
        for x in range(2):
            # xi(empty) = 1 (the whole prior; the mass not enumerated is lost at position 1), so at the empty
            # prefix the prediction is the joint itself
            want = exact_joint((*prefix, x)) / (before if prefix else 1)
            assert abs(grown_tree.predictions(prefix)[x] - float(want)) <= 1e-12 * max(1.0, float(want)), prefix
