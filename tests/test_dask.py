"""Dask and the local pool: results land in the user's folder (workers return data, the client writes), and
workers of a killed parent exit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aitheory.parallel import parallel_map


def _square(x: int) -> int:
    return x * x


@pytest.fixture(scope="module")
def client() -> object:
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def test_parallel_map_on_a_client(client: object) -> None:
    assert sorted(parallel_map(_square, range(7), scheduler=client)) == [x * x for x in range(7)]


def test_reproduce_on_dask_writes_under_the_relative_out(client: object, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from aitheory.theory import reproduce as rep

    real = rep._run_one

    def watched(task: tuple[str, bool]) -> tuple[str, list[tuple[str, bytes]]]:
        # on a worker: the check runs in the worker's own temporary folder and nothing is written under OUT
        before = set((tmp_path / "relative").rglob("*"))
        name, files = real(task)
        assert set((tmp_path / "relative").rglob("*")) == before
        assert files and files[-1][0] == "summary.json"
        return name, files

    monkeypatch.setattr(rep, "_run_one", watched)
    monkeypatch.chdir(tmp_path)
    result = rep.reproduce("relative/dir", quick=True, only=("prop1",), scheduler=client)
    assert result.held and result.out == tmp_path / "relative" / "dir"
    folder = tmp_path / "relative" / "dir" / "prop1"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["run_folder"] == str(folder) and summary["figures"]
    files = {p.name for p in folder.iterdir()}
    assert {"config.json", "metrics.csv"} <= files and all(f"{s}.png" in files for s in summary["figures"])
    assert "data:image/png;base64," in (tmp_path / "relative" / "dir" / "report.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["relative"]


_PARENT = """
import os, sys, time
from aitheory.parallel import parallel_map
def slow(x):
    print(os.getpid(), flush=True)
    time.sleep(600)
for _ in parallel_map(slow, range(2), workers=2):
    pass
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its (new) parent to reap it is dead too
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
def test_workers_exit_when_their_parent_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", _PARENT], stdout=subprocess.PIPE, text=True,
                              env=os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert parent.stdout is not None
    workers = [int(parent.stdout.readline()) for _ in range(2)]
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=30)
    deadline = time.monotonic() + 30
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [w for w in workers if _alive(w)]
    for w in left:  # do not leave them behind if the test fails
        os.kill(w, signal.SIGKILL)
    assert not left
