"""Enumeration blocks on a local process pool and on a local Dask cluster give the same table."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aitheory.cli import main
from aitheory.dsl.behaviour import BehaviourTable, EnumConfig, behaviour_table
from aitheory.parallel import parallel_map

CONFIG = EnumConfig(max_bits=18, k=2, horizon=8, steps=300, block_size=500)


def _same(a: BehaviourTable, b: BehaviourTable) -> None:
    for name in ("actions", "status", "weight", "count", "first"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.total_steps == b.total_steps


def _square(x: int) -> int:
    return x * x


def test_parallel_map_in_process_and_pool() -> None:
    assert sorted(parallel_map(_square, range(10), workers=1)) == [x * x for x in range(10)]
    assert sorted(parallel_map(_square, range(10), workers=2)) == [x * x for x in range(10)]
    with pytest.raises(ValueError, match="workers"):
        list(parallel_map(_square, range(3), workers=0))


def test_process_pool_gives_the_same_table() -> None:
    serial = behaviour_table(CONFIG, workers=1)
    assert serial.programs > 10_000
    _same(serial, behaviour_table(CONFIG, workers=2))


def test_dask_local_cluster_gives_the_same_table(capsys: pytest.CaptureFixture[str]) -> None:
    distributed = pytest.importorskip("distributed")
    serial = behaviour_table(CONFIG, workers=1)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        _same(serial, behaviour_table(CONFIG, scheduler=cluster.scheduler_address))
        argv = ["dsl", "enumerate", "--max-bits", "15", "--horizon", "4", "--scheduler", cluster.scheduler_address]
        assert main(argv) == 0
    via_dask = json.loads(capsys.readouterr().out)
    assert main(["dsl", "enumerate", "--max-bits", "15", "--horizon", "4"]) == 0
    local = json.loads(capsys.readouterr().out)
    assert via_dask["mass_exact"] == local["mass_exact"] and via_dask["programs"] == local["programs"]
