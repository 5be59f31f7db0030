"""``aitheory kl``: JSON with the KL beside the bound, a one-line summary, sweeps as run folders, bad input exit 2;
and ``aitheory mixture predict`` refusing an oversized class before enumerating."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from aitheory.cli import main

ONE_LINER = ["kl", "--history", "0000000001", "--event", "+[,.+]]", "--policy", "+[.]]", "--horizon", "3"]


def test_one_liner_prints_the_kl_and_the_bound(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(ONE_LINER) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    for key in ("kl_nats", "bound_nats", "event_bits", "policy_bits", "d_bits", "unprecedented",
                "worst_observations", "posterior_ratio", "switch_mass", "carriers"):
        assert key in out
    assert out["kl_nats"] <= out["bound_nats"]
    assert (out["event_bits"], out["policy_bits"], out["d_bits"]) == (21, 15, 6)
    assert out["bound_nats"] == pytest.approx(42 * math.log(2))
    assert out["unprecedented"] is True and len(out["worst_observations"]) == 2
    assert captured.err.count("\n") == 1 and captured.err.startswith("KL ")


def test_event_longer_than_64_bits(capsys: pytest.CaptureFixture[str]) -> None:
    event = "><" * 11 + "+[,.+]]"
    argv = [*ONE_LINER]
    argv[argv.index("+[,.+]]")] = event
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["event_bits"] == 87 and out["kl_nats"] <= out["bound_nats"]
    assert event in out["added_programs"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("--event", "+[,.+]"), "--event: cannot parse '+[,.+]' at position 6"),
        (("--policy", "+[.]]x"), "--policy: cannot parse"),
        (("--history", "0020"), "--history: symbol 3"),
        (("--history", "0000"), "--event: +[,.+]] never holds"),
        (("--horizon", "30"), "--horizon: 30 steps"),
        (("--horizon", "3 --switch-bits 36"), "--switch-bits: must be a multiple of 3"),
    ],
)
def test_bad_input_is_one_line_exit_2(change: tuple[str, str], message: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    argv = [*ONE_LINER]
    argv[argv.index(change[0]) + 1 : argv.index(change[0]) + 2] = change[1].split(" ")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_sweep_writes_a_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sweep = tmp_path / "pairs.txt"
    sweep.write_text("# event policy\n- -\n><+[,.+]] -\n><><+[,.+]] +[.]]\n", encoding="utf-8")
    out = tmp_path / "run"
    assert main(["kl", "--history", "001", "--event", "+[,.+]]", "--policy", "+[.]]", "--horizon", "2",
                 "--sweep", str(sweep), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["points"] == 3 and summary["held"] is True
    rows = (out / "metrics.csv").read_text().splitlines()
    assert len(rows) == 4 and rows[0].startswith("line,event,policy,event_bits")
    assert (out / "config.json").exists()
    assert summary["figures"] == ["kl_vs_bits"] and (out / "kl_vs_bits.png").exists()
    control = summary["controls"]["no_construction"]
    assert set(control) >= {"kl_nats", "bound_nats", "held"} and control["line"] == 2
    assert json.loads(capsys.readouterr().out)["run_folder"] == str(out)


def test_sweep_bad_line_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sweep = tmp_path / "pairs.txt"
    sweep.write_text("+[,.+]] +[.]]\n+[,.+]] +[.\n", encoding="utf-8")
    assert main(["kl", "--history", "001", "--sweep", str(sweep), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "position" in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_mixture_predict_refuses_oversized_switch_parts(capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import aitheory.mixture

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the class was built: the size was not refused first")

    monkeypatch.setattr(aitheory.mixture, "build_class", never)  # refused from the estimate, nothing enumerated
    assert main(["mixture", "predict", "--max-bits", "24", "--switch-max-bits", "42", "--actions", "1111"]) == 2
    err = capsys.readouterr().err
    assert "--switch-max-bits" in err and "182,944,367" in err and err.count("\n") == 1


def test_joint_one_liner_and_the_interleaved_history(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*ONE_LINER, "--joint"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["mode"] == "joint" and out["kl_nats"] <= out["bound_nats"] and out["held"] is True
    assert (out["event_bits"], out["policy_bits"], out["d_bits"]) == (21, 15, 8)
    assert out["construction"] == "SWITCH(+[,.+]], ACT(+[.]]), MIX)"
    assert out["bound_promised"] is True and out["observations_from_mix"] is True and "(promised)" in captured.err
    interleaved = ["kl", "--interleaved", "0" * 19 + "1", *ONE_LINER[3:], "--joint"]
    assert main(interleaved) == 0
    assert json.loads(capsys.readouterr().out) == out


def test_joint_plain_policy_is_the_control(capsys: pytest.CaptureFixture[str]) -> None:
    """--plain-policy: the old construction SWITCH(E, P, MIX) (P plain, both roles); on a history where only the
    construction predicts P's actions, its KL exceeds its bound (exit 0: never promised), while ACT's holds."""
    argv = ["kl", "--history", "0" * 59 + "1", "--event", "+[,.+]]", "--policy", "+[.]]", "--horizon", "2",
            "--demonstrator", "+[>.<~]]", "--joint"]
    assert main(argv) == 0
    act = json.loads(capsys.readouterr().out)
    assert act["bound_promised"] is True and act["held"] is True
    assert main([*argv, "--plain-policy"]) == 0
    captured = capsys.readouterr()
    plain = json.loads(captured.out)
    assert plain["construction"] == "SWITCH(+[,.+]], +[.]], MIX)" and plain["d_bits"] == 6
    assert plain["held"] is False and plain["bound_promised"] is False and plain["kl_nats"] > plain["bound_nats"]
    assert "not promised (plain P in joint mode)" in captured.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["kl", "--interleaved", "001", "--event", "+[,.+]]", "--policy", "+[.]]"], "--interleaved: a_1 o_1"),
        (["kl", "--interleaved", "0001", "--history", "01", "--event", "+[,.+]]", "--policy", "+[.]]"],
         "--interleaved: give it instead"),
        (["kl", "--event", "+[,.+]]", "--policy", "+[.]]"], "--history: required"),
        ([*ONE_LINER, "--joint", "--plain-policy", "--shortest"], "--shortest: not with plain_policy"),
        ([*ONE_LINER, "--plain-policy"], "--plain-policy: only with --joint"),
    ],
)
def test_joint_and_interleaved_bad_input_exit_2(argv: list[str], message: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


ENUMERATED = ["kl", "--history", "01", "--event", "+[,.+]]", "--policy", "+[.]]", "--horizon", "2",
              "--demonstrator", "...+.]", "--class-bits", "9", "--switch-bits", "15", "--joint"]


def test_joint_switch_bits_enumerates_act_rows_and_keeps_the_bound_promised(
        capsys: pytest.CaptureFixture[str]) -> None:
    """--joint --switch-bits enumerates SWITCH(E', ACT(P'), MIX): the bound stays promised (the plain-P rows of
    these caps include SWITCH(+.], +[~]], MIX), which predicts window observations itself; tests/test_bounds_joint)."""
    assert main(ENUMERATED) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["bound_promised"] is True and out["observations_from_mix"] is True and out["held"] is True
    switches = [c["program"] for c in out["carriers"] if c["kind"] == "switch"]
    assert switches and all("ACT(" in p for p in switches)


def test_a_joint_sweep_records_the_act_rows_and_refuses_an_older_plain_rows_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """config.json of a joint sweep with --switch-bits records switch_act; a folder of the same options written
    before (plain-P rows, no switch_act) is refused (exit 2, one line), never mixed; a policy-mode folder is
    unchanged (no switch_act key: folders written before keep their fingerprint and resume)."""
    from aitheory.results import fingerprint

    sweep = tmp_path / "pairs.txt"
    sweep.write_text("- -\n", encoding="utf-8")
    out = tmp_path / "joint"
    argv = [*ENUMERATED, "--sweep", str(sweep), "--out", str(out)]
    assert main(argv) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["config"]["switch_act"] is True
    del saved["config"]["switch_act"]  # what the same command wrote before ACT rows were enumerated
    saved["fingerprint"] = fingerprint("kl-sweep", saved["config"])
    (out / "config.json").write_text(json.dumps(saved), encoding="utf-8")
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "another configuration (switch_act" in err and err.count("\n") == 1
    policy = tmp_path / "policy"
    policy_argv = [*ENUMERATED[:-1], "--sweep", str(sweep), "--out", str(policy)]
    assert main(policy_argv) == 0
    assert "switch_act" not in json.loads((policy / "config.json").read_text())["config"]
    assert main(policy_argv) == 0  # the same folder reopens


def test_joint_shortest_prices_the_shortest_equivalent_event(capsys: pytest.CaptureFixture[str]) -> None:
    """--joint --shortest: the 15-bit clock +~~.] first holds at t = 3 on every observation stream, like the given
    27-bit event, so the construction is priced with it (bound promised and held)."""
    argv = ["kl", "--history", "01", "--event", "><+[,.+]]", "--policy", "+[.]]", "--horizon", "2",
            "--demonstrator", "...+.]", "--joint", "--shortest"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["event"] == "+~~.]" and out["event_bits"] == 15
    assert out["construction"] == "SWITCH(+~~.], ACT(+[.]]), MIX)"
    assert out["bound_promised"] is True and out["held"] is True


def test_joint_plain_p_switch_rows_print_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--joint --plain-policy --switch-bits enumerates plain-P SWITCH rows: one warning line on stderr (once per
    sweep too) and plain_switch_rows in the JSON; --joint --switch-bits (ACT rows) prints none. A joint result of
    such a class with the ACT construction (Python API) names the reason in the summary line."""
    from aitheory.bounds import default_class, switch_cost
    from aitheory.cli.kl import _summary_line

    argv = [*ENUMERATED[:ENUMERATED.index("--switch-bits")], "--switch-bits", "9", "--joint"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["plain_switch_rows"] is False and "warning" not in captured.err
    assert main([*argv, "--plain-policy"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["plain_switch_rows"] is True
    lines = captured.err.splitlines()
    assert len(lines) == 2 and lines[0].startswith("warning: joint mode with enumerated SWITCH(E', P', MIX) rows")
    sweep = tmp_path / "pairs.txt"
    sweep.write_text("- -\n- +[~]]\n", encoding="utf-8")
    assert main([*argv, "--plain-policy", "--sweep", str(sweep), "--out", str(tmp_path / "run")]) == 0
    assert capsys.readouterr().err.count("warning: ") == 1
    r = switch_cost((0, 1), "+[,.+]]", "+[.]]", horizon=2, demonstrator="...+.]", mode="joint",
                    class_config=default_class(class_bits=9, switch_bits=9, act=False))
    assert "(not promised (plain-P SWITCH rows in the class))" in _summary_line(r)
