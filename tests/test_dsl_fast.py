"""The fast interpreter equals the reference interpreter; enumeration and behaviour tables are exact."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aitheory.dsl.behaviour import EnumConfig, behaviour_table
from aitheory.dsl.codes import is_program_codes, kraft_mass_bits, program_count_bits
from aitheory.dsl.enumerate import all_programs, blocks, enumerate_block
from aitheory.dsl.fast import pack_programs, run_batch
from aitheory.dsl.parser import Plain
from aitheory.dsl.reference import STATUSES, run_reference

from .dsl_strategies import programs

PROGRAMS_18 = list(all_programs(18))


def _compare(progs: list[tuple[int, ...]], **kw: object) -> dict[str, int]:
    """Assert fast == reference on every program; return the count per status (to check coverage)."""
    codes, lengths = pack_programs(progs)
    fast = run_batch(codes, lengths, **kw)  # type: ignore[arg-type]
    seen = dict.fromkeys(STATUSES, 0)
    for i, p in enumerate(progs):
        ref = run_reference(p, **kw)  # type: ignore[arg-type]
        e = int(fast.n_emitted[i])
        got = (tuple(int(a) for a in fast.actions[i, :e]), tuple(int(s) for s in fast.steps[i, :e]),
               STATUSES[fast.status[i]], int(fast.total_steps[i]))
        assert got == (ref.actions, ref.steps, ref.status, ref.total_steps), (Plain(p), kw)
        assert (fast.actions[i, e:] == -2).all()
        seen[ref.status] += 1
    return seen


def test_enumeration_is_canonical_and_complete() -> None:
    """all_programs(15) = every program of <= 5 tokens, sorted by length then code value, by brute force."""
    brute = sorted(
        (s for n in range(1, 6) for s in itertools.product(range(8), repeat=n) if is_program_codes(s)),
        key=lambda s: (len(s), s),
    )
    assert list(all_programs(15)) == brute
    assert len(PROGRAMS_18) == program_count_bits(18)


def test_small_blocks_concatenate_to_the_same_order() -> None:
    big = [tuple(r) for b in blocks(21) for r in enumerate_block(b)]
    small = [tuple(r) for b in blocks(21, block_size=50) for r in enumerate_block(b)]
    assert big == small
    starts = [b.start for b in blocks(21, block_size=50)]
    assert starts == sorted(starts) and starts[0] == 0


@pytest.mark.parametrize(
    "kw",
    [
        dict(k=2, horizon=12, steps=300),
        dict(k=2, horizon=12, steps=300, obs=[0, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1], tape_bound=5),
        dict(k=3, horizon=12, steps=300, tape_bound=3),
        dict(k=3, horizon=12, steps=300, obs=[2, 1, 0, 2, 2, 1, 0, 1, 2, 0, 1]),
    ],
    ids=["K2", "K2-obs-tape5", "K3-tape3", "K3-obs"],
)
def test_fast_equals_reference_on_every_program_up_to_18_bits(kw: dict[str, object]) -> None:
    seen = _compare(PROGRAMS_18, **kw)
    for status in ("emitted", "halted", "proven_silent"):
        assert seen[status] > 0, seen
    assert seen["out_of_tape" if "tape_bound" in kw else "timed_out"] > 0, seen


@pytest.mark.parametrize(
    "kw",
    [
        dict(k=2, horizon=12, steps=300, history=[1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 1]),
        dict(k=2, horizon=12, steps=300, history=[0, 1, 1, 1, 0, 0, 1, 0, 1, 1, 0], tape_bound=5),
        dict(k=3, horizon=12, steps=300, history=[2, 0, 1, 2, 1, 1, 0, 2, 2, 0, 1], tape_bound=3),
        dict(k=2, horizon=9, steps=300),
    ],
    ids=["K2", "K2-tape5", "K3-tape3", "K2-zeros"],
)
def test_joint_mode_fast_equals_reference_on_every_program_up_to_18_bits(kw: dict[str, object]) -> None:
    """Joint mode (',' reads x_n, emissions of both roles count against one budget): kernel == reference."""
    seen = _compare(PROGRAMS_18, mode="joint", **kw)
    for status in ("emitted", "halted", "proven_silent"):
        assert seen[status] > 0, seen
    assert seen["out_of_tape" if "tape_bound" in kw else "timed_out"] > 0, seen


def test_joint_mode_reads_the_actual_symbols() -> None:
    """',' after n emissions loads x_n, whatever the program emitted there (after a '~' the symbol that came)."""
    # '~,.': emission 1 is '~'; the ',' after it loads x_1 (here 1); emission 2 repeats it.
    assert run_reference("~,.]", mode="joint", history=[1], horizon=2).actions == (-1, 1)
    # '.' emits 0 as a_1, but the actual a_1 was 1: ',' reads the actual symbol, not the emission.
    assert run_reference(".,.]", mode="joint", history=[1], horizon=2).actions == (0, 1)
    # one program, emissions a_1 o_1 a_2 o_2: each ',' reads the latest symbol of either role
    x = [1, 0, 1, 1]
    assert run_reference("+[>,.<]]", mode="joint", history=x, horizon=5).actions == (0, 1, 0, 1, 1)
    # the step budget counts from the previous emission of either role, the emitting token included
    assert run_reference(".++.]", mode="joint", steps=3, horizon=3).status == "halted"
    assert run_reference(".+++.]", mode="joint", steps=3, horizon=3).status == "timed_out"
    # policy mode reads observations: after 1 action, o_1
    assert run_reference("~,.]", obs=[1], horizon=2).actions == (-1, 1)


def test_modes_name_their_inputs() -> None:
    with pytest.raises(ValueError, match="argument obs"):
        run_reference("+.]", mode="joint", obs=[0])
    with pytest.raises(ValueError, match="argument history"):
        run_reference("+.]", history=[0])
    with pytest.raises(ValueError, match="argument mode"):
        run_batch(*pack_programs([(3, 7)]), mode="both")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="history has 1 symbols"):
        run_reference("+.]", mode="joint", history=[0], horizon=4)


def test_fast_equals_reference_without_cycle_detection() -> None:
    seen = _compare(PROGRAMS_18[:3000], k=2, horizon=6, steps=100, detect_cycles=False)
    assert seen["proven_silent"] == 0 and seen["timed_out"] > 0


@settings(max_examples=150, deadline=None)
@given(
    st.lists(programs(max_tokens=24), min_size=1, max_size=8),
    st.integers(2, 4),
    st.integers(1, 10),
    st.integers(1, 400),
    st.integers(0, 20),
    st.data(),
)
def test_fast_equals_reference_hypothesis(
    progs: list[Plain], k: int, horizon: int, steps: int, tape: int, data: st.DataObject
) -> None:
    obs = data.draw(st.one_of(st.none(), st.lists(st.integers(0, k - 1), min_size=horizon, max_size=horizon)))
    _compare([p.codes for p in progs], k=k, horizon=horizon, steps=steps, tape_bound=tape, obs=obs)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(programs(max_tokens=24), min_size=1, max_size=8),
    st.integers(2, 4),
    st.integers(1, 14),
    st.integers(1, 400),
    st.integers(0, 20),
    st.data(),
)
def test_joint_mode_fast_equals_reference_hypothesis(
    progs: list[Plain], k: int, horizon: int, steps: int, tape: int, data: st.DataObject
) -> None:
    history = data.draw(st.one_of(st.none(), st.lists(st.integers(0, k - 1), min_size=horizon - 1,
                                                      max_size=horizon + 2)))
    _compare([p.codes for p in progs], k=k, horizon=horizon, steps=steps, tape_bound=tape, mode="joint",
             history=history)


def test_issue_example() -> None:
    r = run_reference("+[,.+]]", obs=[0, 1, 1, 0], horizon=5)
    assert (r.actions, r.status, r.steps) == ((0, 0, 1), "halted", (4, 8, 12))


def test_semantics_by_hand() -> None:
    assert run_reference("+[]]").status == "proven_silent"
    assert run_reference("+[>+]]", steps=50).status == "timed_out"  # walks right: no repeated state
    assert run_reference("+[>+]]", tape_bound=10).status == "out_of_tape"
    assert run_reference("~.]", k=3).actions == (-1, 0)
    assert run_reference("+[.]]", horizon=3).status == "emitted"
    assert run_reference("+.+.+.]", k=3).actions == (1, 2, 0)
    # the step budget counts from the previous emission: 4 steps then an emission is fine with T = 4
    assert run_reference("+++.]", steps=4).status == "halted"
    assert run_reference("+++.]", steps=3).status == "timed_out"


def test_behaviour_table_partitions_the_prior_exactly() -> None:
    cfg = EnumConfig(max_bits=18, k=2, horizon=8, steps=200, tape_bound=6)
    table = behaviour_table(cfg)
    assert table.programs == program_count_bits(18)
    assert table.kraft_mass() == kraft_mass_bits(18)
    assert sum(table.mass_by_status().values()) == kraft_mass_bits(18)
    # rebuild the table naively from the reference interpreter
    naive: dict[tuple[tuple[int, ...], str], int] = {}
    for p in PROGRAMS_18:
        r = run_reference(p, k=2, horizon=8, steps=200, tape_bound=6)
        key = (r.actions, r.status)
        naive[key] = naive.get(key, 0) + (1 << (18 - 3 * len(p)))
    got = {
        (tuple(int(a) for a in row[0] if a != -2), STATUSES[s[0]]): int(w)
        for row, s, w in zip(table.actions, table.status, table.weight, strict=True)
    }
    assert got == naive
    assert np.all(np.diff(table.first) > 0)


def test_behaviour_table_on_several_histories() -> None:
    hs = ((0, 0, 0), (1, 0, 1))
    cfg = EnumConfig(max_bits=15, k=2, horizon=4, steps=100, histories=hs)
    table = behaviour_table(cfg)
    assert table.actions.shape[1:] == (2, 4)
    progs = list(all_programs(15))
    keys = {
        tuple((run_reference(p, k=2, horizon=4, steps=100, obs=h).actions,
               run_reference(p, k=2, horizon=4, steps=100, obs=h).status) for h in hs)
        for p in progs
    }
    assert len(keys) == len(table.weight)


def test_action_probs_match_predict() -> None:
    """Each row's action probabilities equal the plain-program predictions of its first program."""
    from aitheory.dsl.combinators import predict
    from aitheory.dsl.enumerate import program_at

    table = behaviour_table(EnumConfig(max_bits=15, k=3, horizon=4, steps=100))
    probs = table.action_probs()
    assert probs.shape == (len(table.weight), 4, 3)
    for r in range(len(table.weight)):
        assert np.array_equal(probs[r], predict(program_at(int(table.first[r])), k=3, horizon=4, steps=100))
    assert set(np.round(probs.sum(axis=2), 12).ravel()) <= {0.0, 1.0}


def test_proven_silent_is_sound() -> None:
    """Every program proven silent never emits, halts or leaves the tape again, even with 10x the budget."""
    codes, lengths = pack_programs(PROGRAMS_18)
    cycles = run_batch(codes, lengths, k=2, horizon=6, steps=300, tape_bound=50)
    silent = np.flatnonzero(cycles.status == STATUSES.index("proven_silent"))
    assert len(silent) > 100
    long = run_batch(codes[silent], lengths[silent], k=2, horizon=6, steps=3000, tape_bound=50, detect_cycles=False)
    assert (long.status == STATUSES.index("timed_out")).all()
    assert np.array_equal(long.actions, cycles.actions[silent])


def test_larger_budget_only_moves_mass_out_of_timed_out() -> None:
    """halted / proven_silent / emitted runs are unchanged by a larger T; emissions only extend."""
    codes, lengths = pack_programs(PROGRAMS_18)
    small = run_batch(codes, lengths, k=2, horizon=8, steps=4)
    big = run_batch(codes, lengths, k=2, horizon=8, steps=400)
    fixed = small.status != STATUSES.index("timed_out")
    assert np.array_equal(small.status[fixed], big.status[fixed])
    assert np.array_equal(small.actions[fixed], big.actions[fixed])
    moved = ~fixed & (big.status != STATUSES.index("timed_out"))
    assert moved.any()
    for i in np.flatnonzero(~fixed):
        e = small.n_emitted[i]
        assert np.array_equal(small.actions[i, :e], big.actions[i, :e])


def test_programs_that_do_not_read_ignore_observations() -> None:
    """reads[i] False => the same run on any observations; the flag is set for real readers only."""
    codes, lengths = pack_programs(PROGRAMS_18)
    zeros = run_batch(codes, lengths, k=3, horizon=6, steps=200)
    rng = np.random.default_rng(0)
    for _ in range(3):
        obs = rng.integers(0, 3, size=5).tolist()
        other = run_batch(codes, lengths, k=3, horizon=6, obs=obs, steps=200)
        quiet = ~zeros.reads
        assert np.array_equal(zeros.actions[quiet], other.actions[quiet])
        assert np.array_equal(zeros.status[quiet], other.status[quiet])
    assert zeros.reads.any() and not zeros.reads.all()
    # a reader: ',' after the first emission
    one = run_batch(*pack_programs([(3, 4, 3, 7), (4, 3, 3, 7)]), k=2, horizon=3)
    assert one.reads.tolist() == [True, False]
