"""Executors for independent tasks: in this process, a local process pool, or a Dask cluster.

``parallel_map(func, items)`` yields ``func(item)`` for every item, in completion order (callers that need an
order sort the results). At most ``2 * workers`` tasks are in flight, so memory stays bounded when results are
consumed as they arrive. ``func`` must be picklable (a module-level function) for the pool and for Dask.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, TypeVar

from aitheory._optional import require

T = TypeVar("T")
R = TypeVar("R")

__all__ = ["default_workers", "parallel_map"]


def default_workers() -> int:
    """Number of usable cores (CPU affinity if known)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def parallel_map(
    func: Callable[[T], R],
    items: Iterable[T],
    workers: int | None = None,
    scheduler: str | None = None,
) -> Iterator[R]:
    """Yield ``func(item)`` for each item, as they complete.

    ``scheduler`` (e.g. ``"tcp://10.0.0.5:8786"``): run on that Dask cluster (needs ``aitheory[parallel]``).
    Otherwise ``workers == 1`` runs in this process and ``workers > 1`` (default: all cores) on a local
    process pool.
    """
    if scheduler is not None:
        yield from _dask_map(func, items, scheduler)
        return
    n = default_workers() if workers is None else workers
    if n < 1:
        raise ValueError(f"workers must be >= 1, got {n}")
    if n == 1:
        for item in items:
            yield func(item)
        return
    with ProcessPoolExecutor(max_workers=n) as pool:
        yield from _bounded(lambda it: pool.submit(func, it), items, 2 * n)


def _bounded(submit: Callable[[T], Future[R]], items: Iterable[T], limit: int) -> Iterator[R]:
    pending: set[Future[R]] = set()
    for item in items:
        pending.add(submit(item))
        if len(pending) >= limit:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        for fut in done:
            yield fut.result()


def _dask_map(func: Callable[[T], R], items: Iterable[T], scheduler: Any) -> Iterator[R]:
    """Run on a Dask cluster; ``scheduler`` is an address string or an existing ``distributed.Client``."""
    distributed = require("distributed", "parallel")
    own = isinstance(scheduler, str)
    client = distributed.Client(scheduler) if own else scheduler
    try:
        limit = 2 * max(1, sum(client.nthreads().values()))
        queue = distributed.as_completed()
        in_flight = 0
        for item in items:
            queue.add(client.submit(func, item, pure=False))
            in_flight += 1
            if in_flight >= limit:
                yield next(queue).result()
                in_flight -= 1
        for fut in queue:
            yield fut.result()
    finally:
        if own:
            client.close()
