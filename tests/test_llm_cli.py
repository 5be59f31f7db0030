"""``aitheory llm``: train, evaluate, figures and diagnose on the smoke configuration; bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("vaderSentiment")
pytest.importorskip("matplotlib")

from aitheory.cli import main  # noqa: E402

pytestmark = pytest.mark.usefixtures("restore_torch_threads")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["llm", "train", "--config", "smoke", "--budget", "4", "--set", "n_envs=3", "--out", str(out)]) == 0
    return out


def test_train_writes_the_run_folder(run_dir: Path) -> None:
    config = json.loads((run_dir / "config.json").read_text())["config"]
    assert config["budget"] == 4.0 and config["n_envs"] == 3
    assert (run_dir / "metrics.csv").exists() and (run_dir / "checkpoints" / "latest.pt").exists()
    assert list((run_dir / "transcripts").glob("*.jsonl"))


def test_train_resume_from_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["llm", "train", "--config", "smoke", "--set", "n_envs=2", "--out", str(out)]
    assert main([*args, "--max-iterations", "1"]) == 0
    assert len((out / "metrics.csv").read_text().splitlines()) == 2
    assert main(["llm", "train", "--resume", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["finished"] is True and summary["iterations"] >= 2
    assert json.loads((out / "config.json").read_text())["config"]["n_envs"] == 2


def test_evaluate_prints_and_writes_summary(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["llm", "evaluate", str(run_dir)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["episodes"] == json.loads((run_dir / "evaluation.json").read_text())["episodes"] > 0
    assert printed["reward_mean"] >= 0.0


def test_figures_writes_figures_2_to_4(run_dir: Path, tmp_path: Path) -> None:
    assert main(["llm", "figures", str(run_dir), "--out", str(tmp_path)]) == 0
    for stem in ("figure3_kl_per_empty_response", "figure4_empty_fraction", f"figure2_transcript_{run_dir.name}"):
        assert (tmp_path / f"{stem}.png").stat().st_size > 1000, stem
    html = (tmp_path / f"figure2_transcript_{run_dir.name}.html").read_text()
    assert html.count("<span") > 50
    assert (tmp_path / "training_curves.png").stat().st_size > 1000


def test_training_curves_read_metrics_and_skip_control_runs(run_dir: Path, tmp_path: Path) -> None:
    from aitheory.llm.figures import read_metrics

    rows = read_metrics(run_dir)
    assert rows is not None and len(rows) >= 1
    assert all(r["agent_tokens"] > 0 and r["budget"] >= 0 for r in rows)
    control = tmp_path / "control"
    assert main(["llm", "control", "--config", "smoke", "--set", "n_envs=2", "--out", str(control)]) == 0
    assert read_metrics(control) is None
    out = tmp_path / "figs"
    assert main(["llm", "figures", str(control), "--out", str(out)]) == 0
    assert not (out / "training_curves.png").exists()


def test_control_and_comparison(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "control"
    assert main(["llm", "control", "--config", "smoke", "--set", "n_envs=2", "--out", str(out)]) == 0
    episodes = [json.loads(x) for x in (out / "transcripts" / "iter_00001.jsonl").read_text().splitlines()]
    assert len(episodes) == 2 and all(e["kl_spent"] == 0.0 and e["budget"] == 0.0 for e in episodes)
    saved = json.loads((out / "config.json").read_text())
    assert saved["kind"] == "llm-control" and saved["fingerprint"].startswith("sha256:") and saved["code_version"]
    capsys.readouterr()
    assert main(["llm", "evaluate", str(run_dir), "--control", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    # the smoke schedule: budget 0 (the base model), the ramp, full budget at 96 tokens, then 112-token episodes
    assert list(printed["phases"]) == ["base/96", "ramp/96", "full/96", "full/112"]
    table = printed["comparison"]
    assert set(table) == set(printed["phases"])
    assert set(table["full/96"]) == {"agent", "control", "control_episodes"}
    assert table["full/96"]["control"]["kl_spent_mean"] == 0.0 and table["full/96"]["control_episodes"] == 2
    assert table["full/96"]["agent"]["teacher_nll_nats_per_token"] > 0
    # the control has 96-token episodes only: the 112-token phase is not compared with them
    assert table["full/112"]["control"] is None and "no control episodes of 112 tokens" in table["full/112"]["note"]
    long_control = tmp_path / "control112"
    args = ["llm", "control", "--config", "smoke", "--set", "n_envs=2", "--episode-tokens", "112"]
    assert main([*args, "--out", str(long_control)]) == 0
    capsys.readouterr()
    assert main(["llm", "evaluate", str(run_dir), "--control", str(out), "--control", str(long_control)]) == 0
    table = json.loads(capsys.readouterr().out)["comparison"]
    assert table["full/112"]["control_episodes"] == 2 and table["full/96"]["control_episodes"] == 2


def test_figures_by_phase(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from aitheory.llm.figures import _length_changes, read_metrics, run_label

    rows = read_metrics(run_dir)
    assert rows is not None
    starts = _length_changes(rows)
    assert len(starts) == 1 and starts[0] > 300  # the 112-token phase starts after the ramp and the full phase
    assert run_label([{"budget": 1.5, "episode_tokens": 96}, {"budget": 2.25, "episode_tokens": 96}], "r") == (
        "r: B=1.50-2.25 nats, L=96"
    )
    control = tmp_path / "control"
    assert main(["llm", "control", "--config", "smoke", "--set", "n_envs=2", "--out", str(control)]) == 0
    out = tmp_path / "figs"
    assert main(["llm", "figures", str(run_dir), str(control), "--phases", "full", "--out", str(out)]) == 0
    svg = (out / "figure4_empty_fraction.svg").read_text()
    for label in (f"{run_dir.name} full/96", f"{run_dir.name} full/112", "control base/96"):
        assert label in svg, label
    assert f"{run_dir.name} ramp/96" not in svg
    capsys.readouterr()
    assert main(["llm", "figures", str(run_dir), "--phases", "full,silence", "--out", str(out)]) == 2
    assert "unknown stage silence" in capsys.readouterr().err


def test_paper_config_without_gpu_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert main(["llm", "train", "--config", "paper", "--out", str(tmp_path / "paper")]) == 2
    assert "needs a CUDA GPU" in capsys.readouterr().err
    assert not (tmp_path / "paper").exists()  # nothing written before the model loads


def test_diagnose_tiny_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["llm", "diagnose", "--model", "tiny-gpt2", "--exchanges", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 + 3 + 1
    costs = [float(line.split()[1]) for line in lines[1:4]]
    assert all(c > 0 for c in costs)


@pytest.mark.parametrize(
    "argv",
    [
        ["llm", "train", "--config", "huge"],
        ["llm", "train", "--set", "n_envs=lots"],
        ["llm", "train", "--set", "nope=1"],
        ["llm", "train", "--resume"],
        ["llm", "evaluate", "/nonexistent/run"],
    ],
)
def test_bad_input_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("aitheory: error:") and err.count("\n") == 1


def test_results_table_script(run_dir: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "table.json"
    proc = subprocess.run(
        [sys.executable, str(root / "experiments" / "llm_results_table.py"), str(run_dir), "--json", str(out)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.strip().splitlines()
    assert lines[0].startswith("| run | B |") and len(lines) == 3 and lines[2].startswith(f"| {run_dir.name} |")
    rows = json.loads(out.read_text())["rows"]
    episodes = [json.loads(x) for x in sorted((run_dir / "transcripts").glob("*.jsonl"))[-1].read_text().splitlines()]
    assert rows[0]["episodes"] == len(episodes)
    assert rows[0]["kl_spent"] == pytest.approx(sum(e["kl_spent"] for e in episodes) / len(episodes))
    proc = subprocess.run(
        [sys.executable, str(root / "experiments" / "llm_results_table.py"), str(run_dir), "--phases", "ramp,full",
         "--json", str(out)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(out.read_text())
    assert [r["run"] for r in data["rows"]] == [f"{run_dir.name} {p}" for p in ("ramp/96", "full/96", "full/112")]
    kinds = {c["kind"] for c in data["trends"]["contrasts"]}
    assert "length" in kinds  # full/112 against full/96 of the same run
    assert "| run | KL spent | quarters 1/2/3/4 |" in proc.stdout
    assert "after an empty teacher turn" in proc.stdout and "| contrast | a | b |" in proc.stdout


def test_train_logs_a_line_per_iteration_without_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AITHEORY_PROGRESS", "0")
    out = tmp_path / "run"
    args = ["llm", "train", "--config", "smoke", "--set", "n_envs=2", "--max-iterations", "2", "--out", str(out)]
    assert main(args) == 0
    captured = capsys.readouterr()
    lines = [x for x in captured.err.splitlines() if x.startswith("iteration ")]
    assert [x.split(":")[0] for x in lines] == ["iteration 1", "iteration 2"]
    assert "reward=" in lines[0] and "kl=" in lines[0] and "empty=" in lines[0]
    assert captured.out.strip().splitlines()[-1] == str(out)
