"""Proposition 2: first-hold times of detectors (fast == reference), f as a suffix minimum, the time-n counters,
and the check's run folder."""

from __future__ import annotations

import argparse
import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest

from aitheory.dsl import blocks, enumerate_block, event_holds, parse, unprecedented_at
from aitheory.dsl.codes import codes_to_text
from aitheory.dsl.events import EVENT_STATUSES, NEVER, first_hold_times
from aitheory.results import RunFolder
from aitheory.theory import prop2
from aitheory.theory.common import CHECKS, run_check


def _reference_first(text: str, horizon: int, obs: list[int] | None, steps: int, k: int = 2) -> int:
    return unprecedented_at(event_holds(text, k, horizon, obs, steps)) or NEVER


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("periodic", [True, False])
def test_first_hold_equals_reference_on_every_program_up_to_15_bits(k: int, seed: int, periodic: bool) -> None:
    """For every detector of <= 15 bits (1,792 programs) and a random stream over K symbols: the fast first-hold
    time is the reference interpreter's ``unprecedented_at(event_holds(...))``, with and without the
    periodicity shortcut, under small step budgets (so some runs time out)."""
    rng = np.random.default_rng(seed)
    horizon = 40
    obs = rng.integers(0, k, horizon - 1)
    steps = [50, 1000, 7][seed]
    checked = 0
    for block in blocks(15):
        codes = enumerate_block(block)
        fast = first_hold_times(codes, None, k, horizon, obs, steps, detect_periodic=periodic)
        for row, got in zip(codes, fast.first, strict=True):
            text = codes_to_text(list(row))
            assert got == _reference_first(text, horizon, obs.tolist(), steps, k), text
            checked += 1
    assert checked == 1792


def test_first_hold_equals_reference_on_sampled_longer_programs() -> None:
    """600 random detectors of 24-27 bits on a random stream, horizon 300 (the periodic shortcut fires on some)."""
    rng = np.random.default_rng(5)
    horizon = 300
    obs = rng.integers(0, 2, horizon - 1)
    sample = []
    for block in list(blocks(27, min_bits=21))[::2]:
        codes = enumerate_block(block)
        sample.extend(codes[rng.choice(codes.shape[0], size=min(40, codes.shape[0]), replace=False)])
    sample = sample[:600]
    from aitheory.dsl.fast import pack_programs

    codes, lengths = pack_programs([list(r) for r in sample])
    fast = first_hold_times(codes, lengths, 2, horizon, obs)
    slow = first_hold_times(codes, lengths, 2, horizon, obs, detect_periodic=False)
    statuses = set(fast.status_names())
    for row, n, got in zip(codes, lengths, fast.first, strict=True):
        text = codes_to_text(list(row[:n]))
        assert got == _reference_first(text, horizon, obs.tolist(), 1000), text
    assert (fast.first == slow.first).all()
    assert len(sample) == 600 and {"halted", "emitted", "periodic"} <= statuses


@pytest.mark.parametrize(
    ("k", "steps", "tape_bound", "detect_cycles"),
    [(2, 300, 5, True), (3, 100, 4096, False), (2, 1000, 4096, True)],
)
@pytest.mark.parametrize("periodic", [False, True])
def test_first_hold_run_equals_reference_on_every_program_up_to_18_bits(
    k: int, steps: int, tape_bound: int, detect_cycles: bool, periodic: bool
) -> None:
    """Every detector of <= 18 bits (11,788 programs) on a random stream: the whole first-hold run is the
    reference run cut right after its first non-zero ``.`` emission (time, status, symbols emitted, machine
    steps), also with a small tape (runs end ``out_of_tape``) and without cycle detection; ``reads`` is the
    batch interpreter's on the same cut run. With the periodicity shortcut a run may instead end ``periodic``
    earlier, and then the reference run never holds."""
    from aitheory.dsl.fast import pack_programs, run_batch
    from aitheory.dsl.reference import run_reference

    rng = np.random.default_rng(k + steps)
    horizon = 12
    obs = rng.integers(0, k, horizon - 1).tolist()
    progs = [tuple(r) for b in blocks(18) for r in enumerate_block(b)]
    codes, lengths = pack_programs(progs)
    kw = dict(k=k, obs=obs, steps=steps, tape_bound=tape_bound, detect_cycles=detect_cycles)
    fast = first_hold_times(codes, lengths, horizon=horizon, detect_periodic=periodic, **kw)  # type: ignore[arg-type]
    seen = dict.fromkeys(EVENT_STATUSES, 0)
    for i, p in enumerate(progs):
        ref = run_reference(p, horizon=horizon, **kw)  # type: ignore[arg-type]
        first = next((t + 1 for t, a in enumerate(ref.actions) if a > 0), NEVER)
        status = EVENT_STATUSES[fast.status[i]]
        seen[status] += 1
        assert fast.first[i] == first, codes_to_text(list(p))
        if status == "periodic":
            assert periodic and first == NEVER and fast.n_emitted[i] < len(ref.actions)
            continue
        n = first or len(ref.actions)
        want = ("emitted" if first else ref.status, n, ref.steps[first - 1] if first else ref.total_steps)
        assert (status, fast.n_emitted[i], fast.total_steps[i]) == want, codes_to_text(list(p))
        cut = run_batch(codes[i : i + 1], lengths[i : i + 1], horizon=first or horizon, **kw)  # type: ignore[arg-type]
        assert fast.reads[i] == cut.reads[0], codes_to_text(list(p))
    assert len(progs) == 11788 and seen["emitted"] > 0 and seen["halted"] > 0
    assert seen["out_of_tape"] > 0 or tape_bound > 100
    assert seen["proven_silent"] > 0 if detect_cycles else seen["proven_silent"] == 0
    assert seen["periodic"] > 0 if periodic else seen["periodic"] == 0


def test_periodic_shortcut_is_sound_on_a_hand_case() -> None:
    """``+[>.<]]`` emits 0 forever without reading: the shortcut ends it early as ``periodic``, never holding;
    without the shortcut it runs to the horizon (status ``emitted``) with the same answer."""
    codes, lengths = np.array([parse("+[>.<]]").codes], dtype=np.uint8), None
    on = first_hold_times(codes, lengths, 2, 5000, None)
    off = first_hold_times(codes, lengths, 2, 5000, None, detect_periodic=False)
    assert on.first[0] == off.first[0] == NEVER
    assert on.status_names() == ["periodic"] and off.status_names() == ["emitted"]
    assert on.total_steps[0] < 100 < off.total_steps[0]
    assert EVENT_STATUSES[-1] == "periodic"


def test_hand_checkable_detectors_fire_at_four() -> None:
    """With all-zero observations ``+~~~.]`` holds first at t = 4 (``~`` never counts as holding), and it is the
    shortest such detector: 18 bits. ``+[>,.<]]`` emits o_{t-1}; on a stream whose first 1 is o_3 it first holds
    at t = 4 and reads observations; the counter ``C_4`` fires at 4 on any stream."""
    zeros = np.zeros(99, dtype=np.int8)
    enum = prop2.enumerate_first_holds(18, 100, zeros)
    assert enum.g[4] == 18 and enum.g[1] == 9 and enum.g[2] == 12 and enum.g[3] == 15
    assert math.isinf(enum.g[5]) and math.isinf(enum.g[100])
    from aitheory.dsl import program_at

    assert program_at(int(enum.first_index[4])) == "+~~~.]" and enum.blind[4]
    obs = np.array([0, 0, 1, 0, 1] + [0] * 94, dtype=np.int8)
    reader = first_hold_times(np.array([parse("+[>,.<]]").codes], dtype=np.uint8), None, 2, 100, obs)
    assert reader.first[0] == 4 and reader.reads[0]
    assert _reference_first("+[>,.<]]", 100, obs.tolist(), 1000) == 4
    c4 = prop2.counter_detector(4)
    for stream in (zeros, obs):
        assert _reference_first(c4, 100, stream.tolist(), 1000) == 4


def test_blind_detectors_have_the_same_first_hold_time_on_every_stream() -> None:
    """A detector that ran no ``,`` after its first emission (``reads`` False) is observation-blind."""
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 2, 199), rng.integers(0, 2, 199)
    for block in blocks(18):
        codes = enumerate_block(block)
        ra = first_hold_times(codes, None, 2, 200, a)
        rb = first_hold_times(codes, None, 2, 200, b)
        blind = ~ra.reads
        assert (ra.first[blind] == rb.first[blind]).all()
        assert (~rb.reads == blind).all()


@pytest.mark.parametrize("seed", range(5))
def test_f_is_the_running_min_of_g_from_the_right(seed: int) -> None:
    rng = np.random.default_rng(seed)
    g = rng.integers(3, 40, 200).astype(float)
    g[rng.random(200) < 0.5] = math.inf
    f = prop2.suffix_min(g)
    naive = [min(g[i:]) for i in range(len(g))]
    assert f.tolist() == naive
    assert all(a <= b for a, b in itertools.pairwise(f))


def test_counter_detectors_fire_exactly_at_n_and_have_the_formula_length() -> None:
    """``C_n`` first holds at exactly n on random streams (reference interpreter), for n = 3..150 and some larger
    n; its length in bits is ``counter_bits(n)``; the shortest lengths are at n = 2^j + 2."""
    rng = np.random.default_rng(11)
    ns = [*range(3, 151), 257, 258, 1000, 1025]
    for n in ns:
        text = prop2.counter_detector(n)
        obs = rng.integers(0, 2, n + 9).tolist()
        assert _reference_first(text, n + 10, obs, 1000) == n, (n, text)
        assert 3 * len(parse(text).codes) == int(prop2.counter_bits(n))
    bits = prop2.counter_bits(np.arange(3, 1027))
    u = prop2.suffix_min(bits)
    # U's record setters (where U jumps just after) are n = 2^j + 2
    jumps = np.flatnonzero(np.diff(u) > 0) + 3
    assert {2**j + 2 for j in range(1, 10)} <= set(jumps.tolist())
    with pytest.raises(ValueError, match="argument n"):
        prop2.counter_detector(2)


def test_growth_fit_fails_on_super_logarithmic_growth_and_passes_on_logarithmic() -> None:
    t = np.arange(1, 10_001)
    log_growth = 30 + 9 * np.floor(np.log2(t))
    assert prop2.fit_log_envelope(t, log_growth, 100).held
    unary = 3.0 * t
    fit = prop2.fit_log_envelope(t, unary, 100)
    assert not fit.held and fit.excess > 1000 and fit.worst_t == 10_000
    with_inf = log_growth.copy()
    with_inf[5000:] = math.inf
    assert math.isinf(prop2.fit_log_envelope(t, with_inf, 100).excess)


@pytest.mark.parametrize(("field", "value"), [("horizon", 3), ("max_bits", 2), ("max_bits", 40), ("p", 1.5),
                                              ("p", math.nan), ("environment", "coin"), ("steps", 0),
                                              ("tape_bound", 0), ("reference_checks", -1),
                                              ("streams", ("coin:0.5",)), ("streams", ("bernoulli:2",)),
                                              ("stream_max_bits", 36), ("tower_levels", 4),
                                              ("control_max_bits", 9)])
def test_config_rejects_bad_values_naming_the_argument(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"argument {field}"):
        prop2.Config(**{field: value})  # type: ignore[arg-type]


def test_markov_environment_flips_at_rate_p() -> None:
    obs = prop2.observations(prop2.Config(environment="markov", p=0.1, seed=4, horizon=20_001))
    flips = np.mean(obs[1:] != obs[:-1])
    assert obs.shape == (20_000,) and 0.08 < flips < 0.12
    bern = prop2.observations(prop2.Config(p=0.2, seed=4, horizon=20_001))
    assert 0.18 < bern.mean() < 0.22


def test_quick_run_writes_summary_metrics_and_figures(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result = run_check("prop2", prop2.Config.quick(), tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["held"] is True and result.held and summary["claim_held"] is True
    assert summary["held_mechanism"] and summary["held_consistency"] and summary["held_growth"]
    assert summary["held_streams"] and summary["held_towers"] and summary["held_pi_star"]
    # every control fails, with its own numbers
    controls = summary["controls"]
    assert set(controls) == {"small_class", "unary_counters"}
    assert all(c["held"] is False for c in controls.values())
    assert controls["small_class"]["measured"] == "inf" and controls["small_class"]["bound"] == "inf"
    assert controls["small_class"]["claim_max_u_bits"] == max(summary["u_bits_at"].values())
    assert controls["unary_counters"]["measured"] > 1000 and controls["unary_counters"]["sample_fires_at_n"]
    # what is certified, in the verdict, with computed numbers
    assert summary["verdict"].startswith("f(t) <= U(t) = O(log t), with U verified to N = 600")
    assert f"{summary['growth_intercept_bits']:.1f} + {summary['growth_slope_bits_per_doubling']:.2f}" in summary[
        "verdict"]
    # ... and to how many bits f is exact, on which streams, up to which t
    exact = summary["f_exact_streams"]
    assert exact == {"bernoulli:0.5": {"bits": 18, "up_to_t": summary["f_exact_up_to_t"]},
                     "bernoulli:0": {"bits": 15, "up_to_t": 3}}
    assert (f"f exact to 18 bits on bernoulli:0.5 for t <= {summary['f_exact_up_to_t']}" in summary["verdict"]
            and "to 15 bits on bernoulli:0 for t <= 3" in summary["verdict"])
    # Theorem 1's bound (U + K(pi*) + d) ln 2 with K(pi*) = 15 (+[.]]) and d = 6
    assert summary["pi_star_bits"] == 15 and summary["switch_overhead_bits"] == 6
    for t, nats in summary["theorem1_bound_nats_at"].items():
        assert nats == pytest.approx((summary["u_bits_at"][t] + 21) * math.log(2))
    assert [s["f_exact"] for s in summary["streams"].values()] == [[9.0, 12.0, 15.0]]
    assert (tmp_path / "streams.csv").is_file() and (tmp_path / "towers.csv").is_file()
    assert summary["counter_all_fire_at_n"] and summary["counter_reference_agrees"]
    assert summary["measured"] <= 0 and summary["bound"] == 0
    records = summary["records_enum"]
    assert [r["program"] for r in records][:2] == ["+.]", "+~.]"]
    lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert len(lines) == prop2.Config.quick().horizon + 1
    header = lines[0].split(",")
    f = [float(row.split(",")[header.index("f_bits")]) for row in lines[1:]]
    assert all(a <= b for a, b in itertools.pairwise(f))
    assert (tmp_path / "records.csv").is_file()
    for stem in result.figures:
        for ext in ("png", "svg"):
            assert (tmp_path / f"{stem}.{ext}").stat().st_size > 1000


def test_check_is_registered() -> None:
    from aitheory.cli import build_parser

    assert CHECKS["prop2"] == "aitheory.theory.prop2"
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    help_text = sub.choices["check"].format_help()
    assert "prop2" in help_text


def test_run_reports_failure_when_the_counters_are_cut_off(tmp_path: Path) -> None:
    """With a tape bound too small for the counters of large n, those detectors run out of tape and never hold:
    the mechanism check reports it (held is False), rather than passing silently."""
    cfg = prop2.Config(horizon=300, max_bits=12, tape_bound=8, reference_checks=0, plot=False, streams=(),
                       tower_levels=1)
    result = prop2.run(cfg, RunFolder(tmp_path))
    assert not result.held and not result.details.held_mechanism and result.claim_held is False
    assert all(not c.held for c in result.controls)


def test_environments_experiment_quick(tmp_path: Path) -> None:
    """The experiment script runs in quick mode; with rare 1s the late records read observations."""
    pytest.importorskip("matplotlib")
    import runpy

    script = Path(__file__).resolve().parents[1] / "experiments" / "prop2_environments.py"
    module = runpy.run_path(str(script), run_name="prop2_environments")
    assert module["main"](["--quick", "--out", str(tmp_path)]) == 0
    rows = (tmp_path / "records.csv").read_text().splitlines()
    rare = [r for r in rows if r.startswith("bernoulli:0.01")]
    assert rare and rare[-1].split(",")[-1] == "False"  # the last record of the rare-1s stream reads observations
    assert (tmp_path / "prop2_environments.png").stat().st_size > 1000


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``aitheory check prop2`` exits 0 when held, 1 when not (counters cut off by the tape), 2 on bad input."""
    from aitheory.cli import main

    assert main(["check", "prop2", "--quick", "--no-plot", "--out", str(tmp_path / "ok")]) == 0
    assert "Proposition 2 HELD" in capsys.readouterr().out
    assert main(["check", "prop2", "--quick", "--no-plot", "--tape-bound", "8", "--out", str(tmp_path / "no")]) == 1
    assert "Proposition 2 FAILED" in capsys.readouterr().out
    summary = json.loads((tmp_path / "no" / "summary.json").read_text())
    assert summary["held"] is False and summary["measured"] == "inf"
    assert main(["check", "prop2", "--p", "2"]) == 2
    assert "argument p" in capsys.readouterr().err


def test_periodic_shortcut_changes_no_first_hold_time_up_to_21_bits() -> None:
    """Over all 78,969 detectors of <= 21 bits on a random stream of 3,000 steps, the first-hold times with and
    without the periodicity shortcut are identical (the shortcut only ends runs that can never hold)."""
    rng = np.random.default_rng(9)
    obs = rng.integers(0, 2, 2999)
    periodic = 0
    for block in blocks(21):
        codes = enumerate_block(block)
        on = first_hold_times(codes, None, 2, 3000, obs)
        off = first_hold_times(codes, None, 2, 3000, obs, detect_periodic=False)
        assert (on.first == off.first).all()
        ended = on.status == EVENT_STATUSES.index("periodic")
        assert (off.first[ended] == NEVER).all()
        periodic += int(ended.sum())
    assert periodic > 100


@pytest.mark.parametrize("j", [1, 2])
def test_tower_detectors_fire_at_the_predicted_time(j: int) -> None:
    """``T_j`` first holds at exactly ``n(j) = E_j + 2^W_j + 1`` on random streams (reference interpreter) and has
    ``76 + 2j`` tokens."""
    text = prop2.tower_detector(j)
    n = prop2.tower_fire_time(j)
    assert n == {1: 6, 2: 70}[j]
    rng = np.random.default_rng(j)
    assert _reference_first(text, n + 5, rng.integers(0, 2, n + 4).tolist(), 1000) == n
    assert len(parse(text).codes) == 76 + 2 * j


def test_tower_three_fires_after_a_million_steps_and_beats_the_binary_counter() -> None:
    """``T_3`` fires at n = 1,048,595 (fast kernel, 10^6 emissions): 246 bits against the binary counter's 261."""
    (t1, t2, t3) = prop2.check_towers(3)
    assert t1.verified and t2.verified and t3.verified
    assert t3.n == 18 + 2**20 + 1 and t3.first == t3.n and t3.reference_first is None
    assert t3.bits == 246 and t3.binary_bits == 261 and t3.bits < t3.binary_bits
    assert t2.bits > t2.binary_bits
    with pytest.raises(ValueError, match="argument j"):
        prop2.tower_detector(0)


def test_unary_detector_fires_at_n() -> None:
    for n in (1, 2, 7, 40):
        text = prop2.unary_detector(n)
        assert _reference_first(text, n + 3, None, 1000) == n and 3 * len(parse(text).codes) == 3 * (n + 2)


def _assert_same_enumeration(fast: prop2.Enumerated, slow: prop2.Enumerated, statuses: bool = True) -> None:
    """Every per-t table of the two enumerations is identical; the statuses differ at most by runs that the
    constant-tail rule proves ``periodic`` (fewer of another status, as many more periodic)."""
    assert fast.programs == slow.programs
    for name in ("g", "first_index", "blind", "g_blind", "count"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
    assert np.array_equal(prop2.suffix_min(fast.g[1:]), prop2.suffix_min(slow.g[1:]))
    if not statuses:
        return
    moved = {s: slow.status_count[s] - fast.status_count[s] for s in EVENT_STATUSES if s != "periodic"}
    assert all(v >= 0 for v in moved.values()) and sum(moved.values()) == (
        fast.status_count["periodic"] - slow.status_count["periodic"])


def _check_streams(max_bits: int, detect_cycles: bool = True) -> None:
    config = prop2.Config()
    specs = (f"{config.environment}:{config.p:g}", *config.streams)
    streams = [prop2.stream_observations(spec, config) for spec in specs]
    fast = prop2.enumerate_streams([max_bits] * len(streams), config.horizon, streams)
    for spec, obs, got in zip(specs, streams, fast, strict=True):
        slow = prop2.enumerate_first_holds_reference(max_bits, config.horizon, obs, detect_cycles=detect_cycles)
        _assert_same_enumeration(got, slow, statuses=detect_cycles)
        assert got.max_bits == max_bits, spec


def test_fast_enumeration_equals_the_slow_path_at_24_bits_on_every_stream() -> None:
    """The check's four streams (coin flips, all 0, all 1, sticky Markov), N = 10,000: the one-pass multi-stream
    search (:func:`prop2.enumerate_streams`) gives the same g, f, record programs, blindness and counts per t as
    the per-stream slow path over :func:`first_hold_times`, on all 537,531 detectors of <= 24 bits."""
    _check_streams(24)


@pytest.mark.slow
def test_fast_enumeration_equals_the_slow_path_at_27_bits_on_every_stream() -> None:
    """The same on all 3,710,009 detectors of <= 27 bits, against the slow path without its cycle check (same
    first-hold times, statuses aside; with it the slow path takes about 2 minutes of CPU, without about 30 s)."""
    _check_streams(27, detect_cycles=False)


def test_streams_of_different_lengths_in_one_pass() -> None:
    """``max_bits`` per stream: a stream enumerated to fewer bits gets exactly its own shorter enumeration."""
    rng = np.random.default_rng(4)
    a, b = rng.integers(0, 2, 499), np.zeros(499, dtype=np.int64)
    long_a, short_b = prop2.enumerate_streams([18, 15], 500, [a, b])
    _assert_same_enumeration(long_a, prop2.enumerate_first_holds_reference(18, 500, a))
    _assert_same_enumeration(short_b, prop2.enumerate_first_holds_reference(15, 500, b))
    with pytest.raises(ValueError, match="max_bits and streams"):
        prop2.enumerate_streams([18], 500, [a, b])


def test_enumeration_checkpoint_resumes_to_the_same_tables(tmp_path: Path) -> None:
    """A checkpoint written part-way (``every_seconds=0``: after every block) and resumed gives the same tables as
    one uninterrupted pass; a checkpoint of other arguments is refused, naming the argument."""
    rng = np.random.default_rng(7)
    streams = [rng.integers(0, 2, 299), np.ones(299, dtype=np.int64)]
    whole = prop2.enumerate_streams([18, 18], 300, streams)
    path = tmp_path / "enum.npz"
    prop2.enumerate_streams([18, 18], 300, streams, checkpoint=path, every_seconds=0.0)
    # rewind the checkpoint to a middle block: keep the tables of the first blocks only
    first = prop2.enumerate_streams([15, 15], 300, streams)
    n_done = len(list(blocks(15)))
    key = prop2._enumeration_key([18, 18], 300, streams, prop2.DEFAULT_STEPS, prop2.DEFAULT_TAPE_BOUND)
    tables = {"g": np.stack([e.g for e in first]), "g_blind": np.stack([e.g_blind for e in first]),
              "first_index": np.stack([e.first_index for e in first]), "blind": np.stack([e.blind for e in first]),
              "count": np.stack([e.count for e in first]),
              "status": np.array([[e.status_count[s] for s in EVENT_STATUSES] for e in first]),
              "programs": np.array([e.programs for e in first]), "total": np.array([e.steps for e in first])}
    prop2._save_enumeration(path, key, tables, n_done)
    resumed = prop2.enumerate_streams([18, 18], 300, streams, checkpoint=path)
    for a, b in zip(resumed, whole, strict=True):
        _assert_same_enumeration(a, b)
        assert a.status_count == b.status_count and a.steps == b.steps
    with pytest.raises(ValueError, match="argument checkpoint"):
        prop2.enumerate_streams([18, 18], 300, streams[::-1], checkpoint=path)
