"""Scratch buffers reused across blocks (aitheory.dsl.workspace) change no table and leak into no result."""

from __future__ import annotations

import numpy as np
import pytest

from aitheory.dsl.behaviour import (
    EnumConfig,
    PartialTable,
    _block_size,
    _group_rows,
    block_workspace,
    group_rows,
    tabulate_block,
)
from aitheory.dsl.enumerate import blocks
from aitheory.dsl.workspace import Workspace, thread_workspace

# several histories, small blocks of many sizes and lengths
CONFIG = EnumConfig(max_bits=18, k=2, horizon=6, steps=200, block_size=300, histories=((0, 1, 1, 0, 1), (1,) * 5))
EVERY = EnumConfig(max_bits=15, k=2, horizon=4, steps=200, block_size=300, all_histories=True)


def _same(a: PartialTable, b: PartialTable) -> bool:
    return bool(
        all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("keys", "weight", "count", "first"))
        and a.total_steps == b.total_steps and a.programs == b.programs
    )


def _owns(part: PartialTable, ws: Workspace) -> bool:
    """No array of ``part`` shares memory with a buffer of ``ws``."""
    arrays = (part.keys, part.weight, part.count, part.first)
    return not any(np.shares_memory(a, b) for a in arrays for b in ws._buffers.values())


def test_views_reuse_one_growing_buffer() -> None:
    ws = Workspace()
    a = ws.array("x", (100, 3), np.int64)
    b = ws.array("x", (7,), np.int8)  # smaller: the same memory, no new buffer
    assert np.shares_memory(a, b) and ws.nbytes == 2400
    c = ws.array("x", (1000,), np.int64)  # larger: grown
    assert ws.nbytes == 8000 and not np.shares_memory(a, c)
    assert all(v.flags.c_contiguous and v.ctypes.data % 8 == 0 for v in (a, b, c))
    assert not np.shares_memory(ws.array("y", (7,), np.int8), b)  # names are separate buffers
    assert (ws.full("x", (5, 2), -2, np.int8) == -2).all()
    assert thread_workspace() is thread_workspace() is block_workspace()


def test_kept_buffer_is_filled_only_when_created() -> None:
    ws = Workspace()
    t = ws.kept("t", (8,), -1, np.int64)
    assert (t == -1).all()
    t[3] = 5  # a caller that does not restore: the next view sees it (the contract is the caller's)
    assert ws.kept("t", (4, 2), -1, np.int64)[1, 1] == 5
    assert (ws.kept("t", (16,), -1, np.int64) == -1).all()  # grown: filled again


def test_grouping_restores_the_reused_hash_table() -> None:
    rng = np.random.default_rng(0)
    ws = Workspace()
    for n in (1000, 10, 5000, 3):
        keys = rng.integers(0, 3, size=(n, 4)).astype(np.int8)
        first, inv = _group_rows(keys, ws)
        want_first, want_inv = group_rows(keys)
        assert np.array_equal(first, want_first) and np.array_equal(inv, want_inv)
        assert np.array_equal(keys[first][inv], keys)
        table = next(b for name, b in ws._buffers.items() if name.startswith("kept:hash_table"))
        assert (table == -1).all()  # every used slot cleared: the next block starts from an empty table


@pytest.mark.parametrize("config", [CONFIG, EVERY], ids=["two-histories", "all-histories"])
def test_reused_buffers_give_the_same_partial_tables(config: EnumConfig) -> None:
    ws = Workspace()
    block_list = list(blocks(config.max_bits, _block_size(config)))
    assert len({b.size for b in block_list}) >= 5 and len({b.n_tokens for b in block_list}) == config.max_bits // 3
    earlier: list[tuple[PartialTable, PartialTable]] = []
    for block in block_list:
        fresh = tabulate_block(block, config)
        reused = tabulate_block(block, config, ws)
        assert _same(fresh, reused), block
        assert _owns(reused, ws)
        earlier.append((fresh, reused))
    # results of earlier blocks were not overwritten by later ones
    assert all(_same(a, b) for a, b in earlier)


def test_buffers_stop_growing_after_the_largest_blocks() -> None:
    ws = Workspace()
    block_list = list(blocks(CONFIG.max_bits, _block_size(CONFIG)))
    for block in block_list:
        tabulate_block(block, CONFIG, ws)
    held = ws.nbytes
    ids = {name: buf.ctypes.data for name, buf in ws._buffers.items()}
    for block in reversed(block_list):  # a second pass: every buffer is already large enough
        tabulate_block(block, CONFIG, ws)
    assert ws.nbytes == held and held < 20 * 300 * 64
    assert {name: buf.ctypes.data for name, buf in ws._buffers.items()} == ids
