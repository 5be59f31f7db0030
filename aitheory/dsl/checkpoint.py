"""Behaviour tables of long enumerations, checkpointed by block and resumable.

:func:`checkpointed_table` computes the same table as :func:`aitheory.dsl.behaviour.behaviour_table`, and every
``every_seconds`` saves the merged rows of the finished blocks and the list of those blocks to a ``.npz``
checkpoint (written atomically, so a kill never leaves a broken one). Run again with the same configuration,
it loads the checkpoint and runs only the blocks not yet in it; a checkpoint of another configuration (another
:func:`aitheory.results.fingerprint`) is refused with a ``ValueError``. Blocks finish in any order (a process
pool or a Dask cluster), so the checkpoint lists block indices, not a prefix. Workers return partial tables;
only this process writes the checkpoint.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from aitheory.dsl.behaviour import (
    BehaviourTable,
    EnumConfig,
    PartialTable,
    _block_size,
    _empty,
    finish_table,
    merge_partials,
    tabulate_in_worker,
)
from aitheory.dsl.enumerate import Block, blocks
from aitheory.parallel import parallel_map
from aitheory.progress import progress
from aitheory.results import atomic_write_bytes, fingerprint

__all__ = ["checkpointed_table", "load_checkpoint", "save_checkpoint"]

_KIND = "dsl-enumerate"


def save_checkpoint(path: str | os.PathLike[str], config: EnumConfig, table: PartialTable, done: set[int]) -> Path:
    """Write the merged rows of the finished blocks ``done`` (indices into the block list) atomically."""
    buf = io.BytesIO()
    np.savez(buf, keys=table.keys, weight=table.weight, count=table.count, first=table.first,
             done=np.array(sorted(done), dtype=np.int64),
             meta=np.array(json.dumps({"fingerprint": fingerprint(_KIND, config), "total_steps": table.total_steps,
                                       "programs": table.programs})))
    return atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: str | os.PathLike[str], config: EnumConfig) -> tuple[PartialTable, set[int]] | None:
    """The saved rows and finished blocks, or None if there is no checkpoint at ``path``; ``ValueError`` if it
    belongs to another configuration."""
    if not Path(path).is_file():
        return None
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        if meta["fingerprint"] != fingerprint(_KIND, config):
            raise ValueError(f"argument checkpoint: {str(path)!r} is the checkpoint of another enumeration "
                             "(other options); remove it or give another --checkpoint")
        table = PartialTable(data["keys"], data["weight"], data["count"], data["first"],
                             total_steps=int(meta["total_steps"]), programs=int(meta["programs"]))
        return table, {int(i) for i in data["done"]}


def _task(args: tuple[int, Block, EnumConfig]) -> tuple[int, PartialTable]:
    index, block, config = args
    return index, tabulate_in_worker(block, config)


def checkpointed_table(config: EnumConfig, checkpoint: str | os.PathLike[str], every_seconds: float = 60.0,
                       workers: int | None = 1, scheduler: Any = None,
                       show_progress: bool = False, merge_rows: int = 1 << 20) -> BehaviourTable:
    """:func:`aitheory.dsl.behaviour.behaviour_table`, checkpointed to ``checkpoint`` (module docstring).

    Finished blocks' rows are merged whenever ``merge_rows`` of them are pending (bounded memory, as in
    :func:`aitheory.dsl.behaviour.collect`) and at each checkpoint. The checkpoint is left in place (the caller
    removes it once the table is saved).
    """
    start = time.perf_counter()
    block_list = list(blocks(config.max_bits, _block_size(config)))
    loaded = load_checkpoint(checkpoint, config)
    merged, done = loaded if loaded is not None else (_empty(config), set())
    todo = [(i, b, config) for i, b in enumerate(block_list) if i not in done]
    results: Iterable[tuple[int, PartialTable]] = parallel_map(_task, todo, workers=workers, scheduler=scheduler)
    if show_progress:
        results = progress(results, total=len(todo), unit="block", desc=f"{config.max_bits} bits")
    pending: list[PartialTable] = []
    rows = 0
    last = time.monotonic()
    for index, part in results:
        pending.append(part)
        rows += len(part.weight)
        done.add(index)
        due = time.monotonic() - last >= every_seconds
        if due or rows >= merge_rows:
            merged = merge_partials([merged, *pending])
            pending, rows = [], 0
        if due:
            save_checkpoint(checkpoint, config, merged, done)
            last = time.monotonic()
    merged = merge_partials([merged, *pending])
    save_checkpoint(checkpoint, config, merged, done)
    table = finish_table(config, merged, time.perf_counter() - start)
    return replace(table, seconds=time.perf_counter() - start)
