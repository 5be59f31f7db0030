"""Executors for independent tasks: in this process, a local process pool, or a Dask cluster.

``parallel_map(func, items)`` yields ``func(item)`` for every item, in completion order (callers that need an
order sort the results). At most ``2 * workers`` tasks are in flight, so memory stays bounded when results are
consumed as they arrive. ``func`` must be picklable (a module-level function) for the pool and for Dask.

Tasks return data; they never write into the caller's folders (a Dask worker may run on another machine, in
another working directory): the caller writes what they return. Workers of the local pool exit when the
process that started them dies (:func:`_exit_with_parent`), so a killed ``aitheory`` leaves no orphans.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
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
    scheduler: Any = None,
) -> Iterator[R]:
    """Yield ``func(item)`` for each item, as they complete.

    ``scheduler`` (e.g. ``"tcp://10.0.0.5:8786"``, ``"local"``, or a ``distributed.Client``): run on that Dask
    cluster (needs ``aitheory[parallel]``).
    Otherwise ``workers == 1`` runs in this process and ``workers > 1`` (default: all cores) on a local
    process pool.
    """
    if scheduler is not None:
        yield from _dask_map(func, items, scheduler, workers)
        return
    n = default_workers() if workers is None else workers
    if n < 1:
        raise ValueError(f"workers must be >= 1, got {n}")
    if n == 1:
        for item in items:
            yield func(item)
        return
    with ProcessPoolExecutor(max_workers=n, initializer=_exit_with_parent, initargs=(os.getpid(),)) as pool:
        yield from _bounded(lambda it: pool.submit(func, it), items, 2 * n)


def _exit_with_parent(parent: int, poll_seconds: float = 0.5) -> None:
    """Worker initializer: end this worker when process ``parent`` is gone.

    On Linux the kernel sends SIGKILL on the parent's death (``prctl(PR_SET_PDEATHSIG)``); everywhere a daemon
    thread also polls ``os.getppid()`` (a dead parent's children are re-parented) and exits.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):  # pragma: no cover - no libc prctl
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        os._exit(1)

    if os.getppid() != parent:  # the parent died before this initializer ran
        os._exit(1)
    threading.Thread(target=watch, name="aitheory-parent-watch", daemon=True).start()


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


def _dask_map(func: Callable[[T], R], items: Iterable[T], scheduler: Any, workers: int | None = None) -> Iterator[R]:
    """Run on a Dask cluster; ``scheduler`` is an address string, ``"local"`` (a local cluster of ``workers``
    processes, started and closed here) or an existing ``distributed.Client``."""
    distributed = require("distributed", "parallel")
    cluster = None
    if scheduler == "local":
        cluster = distributed.LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1,
                                           processes=True, dashboard_address=None)
        scheduler = cluster
    own = not isinstance(scheduler, distributed.Client)
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
        if cluster is not None:
            cluster.close()
