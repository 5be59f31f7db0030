"""The multi-stream first-hold search equals the one-stream kernel per detector, and the reference interpreter."""

from __future__ import annotations

import numpy as np
import pytest

from aitheory.dsl import blocks, enumerate_block, event_holds, unprecedented_at
from aitheory.dsl.codes import codes_to_text, text_to_codes
from aitheory.dsl.events import NEVER, first_hold_times
from aitheory.dsl.first_hold_search import constant_from, first_hold_block, stream_set


def _streams(k: int, horizon: int, seed: int) -> list[np.ndarray]:
    """A random stream, all zeros, all (k - 1)s, sparse non-zeros, and a random stream that turns constant."""
    rng = np.random.default_rng(seed)
    tail = rng.integers(0, k, horizon - 1)
    tail[horizon // 3:] = 1
    return [rng.integers(0, k, horizon - 1), np.zeros(horizon - 1, dtype=np.int64),
            np.full(horizon - 1, k - 1), (rng.random(horizon - 1) < 0.05).astype(np.int64), tail]


@pytest.mark.parametrize(("max_bits", "k", "horizon", "steps", "tape_bound"),
                         [(21, 2, 300, 200, 64), (18, 2, 200, 1000, 4096), (18, 3, 120, 60, 9),
                          (21, 2, 2000, 1000, 400)])
@pytest.mark.parametrize("constant_tail", [False, True])
def test_every_detector_equals_the_one_stream_kernel(max_bits: int, k: int, horizon: int, steps: int,
                                                     tape_bound: int, constant_tail: bool) -> None:
    """Every detector of <= 18 or 21 bits (13,580 or 92,549 programs) on five streams: the first-hold time and
    ``reads`` equal :func:`first_hold_times`'s; without the constant-tail rule the status and the step count do
    too (the O(1) repeat checks and the translated-cycle fast-forward are exact); with it, only ``periodic``
    runs are added."""
    streams = _streams(k, horizon, seed=k + horizon)
    packed = stream_set(streams, horizon, k, constant_tail=constant_tail)
    fast_forwarded = 0
    for block in blocks(max_bits):
        codes = enumerate_block(block)
        got = first_hold_block(codes, packed, steps, tape_bound, per_row=True)
        fast_forwarded += got.fast_forwards
        assert got.rows is not None
        for s, obs in enumerate(streams):
            want = first_hold_times(codes, None, k, horizon, obs, steps, tape_bound)
            rows = got.rows[s]
            assert (rows[:, 0] == want.first).all(), block
            assert (rows[:, 3].astype(bool) == want.reads).all(), block
            if constant_tail:
                changed = rows[:, 1] != want.status
                assert (rows[changed, 1] == 5).all(), block  # periodic (status code 5) instead
            else:
                assert (rows[:, 1] == want.status).all(), block
                assert (rows[:, 2] == want.total_steps).all(), block
            assert (got.count[s] == np.bincount(want.first[want.first > 0], minlength=horizon + 1)).all()
    assert fast_forwarded > 0 or max_bits < 21  # 21 bits: some runs walk off the tape emitting (+[~<+]])


def test_brute_force_on_every_program_up_to_12_bits() -> None:
    """Against the reference interpreter (``unprecedented_at(event_holds(...))``), every detector of <= 12 bits
    on two streams, with a tape bound small enough that runs go out of tape."""
    horizon, steps, bound = 30, 100, 6
    streams = [np.array([0, 1] * 15)[: horizon - 1], np.zeros(horizon - 1, dtype=np.int64)]
    packed = stream_set(streams, horizon)
    checked = 0
    for block in blocks(12):
        codes = enumerate_block(block)
        got = first_hold_block(codes, packed, steps, bound, per_row=True)
        assert got.rows is not None
        for i, row in enumerate(codes):
            text = codes_to_text(list(row))
            for s, obs in enumerate(streams):
                ref = unprecedented_at(event_holds(text, 2, horizon, obs.tolist(), steps, bound)) or NEVER
                assert got.rows[s, i, 0] == ref, (text, s)
                checked += 1
    assert checked == 2 * sum(b.size for b in blocks(12))


def test_translated_cycle_is_fast_forwarded_to_the_same_end() -> None:
    """``+[~<+]+]`` walks left one cell per emission: the fast-forward reaches the same out-of-tape stop after the
    same emissions and steps as the step-by-step kernel, on a wide tape and a long horizon."""
    codes = np.array([text_to_codes("+[~<+]+]")], dtype=np.uint8)
    for horizon, bound in [(10_000, 4096), (3000, 4096), (50, 8)]:
        packed = stream_set([np.zeros(horizon - 1, dtype=np.int64)], horizon)
        got = first_hold_block(codes, packed, tape_bound=bound, per_row=True)
        want = first_hold_times(codes, None, 2, horizon, None, tape_bound=bound)
        assert got.rows is not None
        assert tuple(got.rows[0, 0, :3]) == (int(want.first[0]), int(want.status[0]), int(want.total_steps[0]))
        assert got.fast_forwards >= 1 or bound <= 8


def test_constant_from_and_sharing() -> None:
    """``constant_from`` is the start of the constant tail; a detector that reads nothing runs once for all
    streams, one that reads runs on each."""
    assert constant_from(np.array([1, 0, 1, 1, 1])) == 3
    assert constant_from(np.zeros(5)) == 1
    packed = stream_set([np.zeros(9), np.ones(9), np.zeros(9)], 10)
    blind = first_hold_block(np.array([text_to_codes("+~~.]")], dtype=np.uint8), packed)
    reader = first_hold_block(np.array([text_to_codes("+[~,.+]]")], dtype=np.uint8), packed)
    assert blind.runs == 1 and (blind.count[:, 3] == 1).all()  # ~ ~ then 1: first holds at t = 3
    assert reader.runs == 3 and reader.count[1, 2] == 1 and reader.count[0].sum() == reader.count[2].sum() == 0
    with pytest.raises(ValueError, match="argument streams"):
        stream_set([np.zeros(3)], 10)
    with pytest.raises(ValueError, match="argument streams"):
        stream_set([np.full(9, 2)], 10)
    with pytest.raises(ValueError, match="argument codes: row 0 is not a plain program"):
        first_hold_block(np.array([text_to_codes("+]+")], dtype=np.uint8), packed)
