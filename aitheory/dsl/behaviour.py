"""Behaviour tables: all plain programs up to L bits, run on given histories, collapsed by behaviour.

Two programs have the same *behaviour* on a list of observation sequences (histories) if, on each of them,
they emit the same actions (``~`` counted as its own symbol) up to the horizon H and stop with the same
status. Such programs give the same predictive semimeasure on those histories, so the mixture needs only one
row per behaviour with its total prior weight. Weights are exact integers in units of ``2^-L`` (``L = max_bits``): a
program of ``3n`` bits weighs ``2^(L - 3n)``; the weights of all rows sum to ``2^L`` times the Kraft mass of
the programs up to L bits (``kraft_mass_bits(L)``), and no lost mass is ever renormalised.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import numba
import numpy as np

from aitheory.dsl.enumerate import (
    DEFAULT_BLOCK_SIZE,
    Block,
    blocks,
    check_enumeration_size,
    enumerate_block,
    index_bits,
)
from aitheory.dsl.fast import run_batch
from aitheory.dsl.fast_tree import all_sequences, run_batch_all
from aitheory.dsl.reference import DEFAULT_STEPS, DEFAULT_TAPE_BOUND, check_run_args
from aitheory.dsl.status import STATUSES, emission_probs
from aitheory.dsl.workspace import Workspace, thread_workspace
from aitheory.parallel import parallel_map
from aitheory.progress import progress
from aitheory.results import atomic_write_bytes, to_jsonable, write_csv

__all__ = [
    "BehaviourTable",
    "EnumConfig",
    "PartialTable",
    "behaviour_table",
    "block_workspace",
    "collect",
    "finish_table",
    "group_rows",
    "load_table",
    "merge_partials",
    "save_table",
    "table_summary",
    "tabulate_block",
    "tabulate_in_worker",
]


@dataclass(frozen=True)
class EnumConfig:
    """What to enumerate and how to run it."""

    max_bits: int = 24
    """Enumerate every plain program of at most this many bits (3 per token)."""
    k: int = 2
    """Alphabet size K of actions and observations."""
    horizon: int = 16
    """H: stop each run after H emitted actions."""
    steps: int = DEFAULT_STEPS
    """T: step budget per emission (counted from the previous emission)."""
    tape_bound: int = DEFAULT_TAPE_BOUND
    """The head may visit cells -tape_bound..tape_bound; leaving them is status out_of_tape."""
    histories: tuple[tuple[int, ...], ...] | None = None
    """Observation sequences (each of length >= H-1) to run on; None: one history of all-0 observations. A
    table in BF-8's joint mode is the same computation on interleaved histories ``a_1 o_1 a_2 ..``, with H
    counting emissions of both roles (``,`` reads input n after n emissions in both modes)."""
    all_histories: bool = False
    """Run on every observation sequence o_1..o_{H-1} (K^(H-1) histories in index order, sharing common
    prefixes); replaces ``histories``."""
    detect_cycles: bool = True
    """Brent cycle check at backward jumps (status proven_silent)."""
    block_size: int = DEFAULT_BLOCK_SIZE
    """Target number of programs per block."""

    def __post_init__(self) -> None:
        if self.max_bits < 3:
            raise ValueError(f"max_bits must be >= 3 (one token), got {self.max_bits}")
        if self.max_bits > 60:
            raise ValueError(f"max_bits must be <= 60 (int64 weights), got {self.max_bits}")
        check_enumeration_size(self.max_bits)  # refused before any block is listed or allocated
        if self.all_histories and self.k ** (self.horizon - 1) > 1 << 16:
            raise ValueError(f"all_histories: K^(H-1) = {self.k ** (self.horizon - 1)} sequences is too many")
        for obs in self.obs_list():
            check_run_args(self.k, self.horizon, self.steps, self.tape_bound, obs)

    def obs_list(self) -> list[tuple[int, ...] | None]:
        """The histories, one observation sequence each (None: all observations 0)."""
        if self.all_histories:
            return [tuple(int(o) for o in row) for row in all_sequences(self.k, self.horizon)]
        return [None] if self.histories is None else list(self.histories)


@dataclass
class PartialTable:
    """Behaviour rows of one or more blocks (before the final merge); ``keys`` are bytes rows."""

    keys: np.ndarray  # (R, n_hist * (H + 1)) int8: per history H actions then the status
    weight: np.ndarray  # (R,) int64, units 2^-max_bits
    count: np.ndarray  # (R,) int64
    first: np.ndarray  # (R,) int64, canonical index of the first program with this behaviour
    total_steps: int = 0
    programs: int = 0


def _hash_slots(n: int) -> int:
    """Slots of the open-addressing table that groups ``n`` rows: the least power of 2 >= 2n + 2."""
    size = 1
    while size < 2 * n + 2:
        size *= 2
    return size


@numba.njit(cache=True)
def _group_rows_into(
    keys: np.ndarray, table: np.ndarray, first: np.ndarray, inv: np.ndarray, slots: np.ndarray
) -> int:
    """Exact grouping of equal byte rows with an open-addressing hash table (O(n) expected).

    ``table``: a power-of-2 number (>= 2n + 2) of slots, all -1 on entry and again on return (only the slots
    used are cleared, via ``slots``, so a reused table costs no refill). Writes the index of the first row of
    each group (in order of first occurrence) to ``first[:groups]`` and the group id of every row to ``inv``;
    returns ``groups``.
    """
    n, width = keys.shape
    mask = table.shape[0] - 1
    groups = 0
    for i in range(n):
        h = np.uint64(14695981039346656037)
        for j in range(width):
            h = (h ^ np.uint64(np.uint8(keys[i, j]))) * np.uint64(1099511628211)
        slot = np.int64(h & np.uint64(mask))
        while True:
            g = table[slot]
            if g < 0:
                table[slot] = groups
                slots[groups] = slot
                first[groups] = i
                inv[i] = groups
                groups += 1
                break
            r = first[g]
            same = True
            for j in range(width):
                if keys[r, j] != keys[i, j]:
                    same = False
                    break
            if same:
                inv[i] = g
                break
            slot = (slot + 1) & mask
    for g in range(groups):
        table[slots[g]] = -1
    return groups


def _group_rows(keys: np.ndarray, workspace: Workspace | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(index of the first row of each group, in order of first occurrence; group id of every row). With a
    ``workspace`` the group ids are a view of its buffer ``"inverse"`` (valid until its next use)."""
    ws = Workspace() if workspace is None else workspace
    n = keys.shape[0]
    table = ws.kept("hash_table", (_hash_slots(n),), -1, np.int64)
    first, inv, slots = (ws.array(name, (n,), np.int64) for name in ("group_first", "inverse", "hash_slots"))
    groups = _group_rows_into(keys, table, first, inv, slots)
    return first[:groups].copy(), inv


def group_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group equal rows of a 2-D ``int8``/``uint8`` array exactly, in O(n) expected time (hashing).

    Returns ``(first, inverse)``: the index of the first row of each group, in order of first occurrence, and the
    group of every row (``keys[first][inverse] == keys``). Faster than ``np.unique(keys, axis=0)``, which sorts.
    """
    arr = np.ascontiguousarray(keys)
    if arr.ndim != 2 or arr.dtype not in (np.int8, np.uint8):
        raise ValueError(f"argument keys: expected a 2-D int8 or uint8 array, got {arr.dtype} of shape {arr.shape}")
    return _group_rows(arr)


@numba.njit(cache=True)
def _sum_groups(
    inv: np.ndarray, groups: int, weight: np.ndarray, count: np.ndarray, first: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w = np.zeros(groups, dtype=np.int64)
    c = np.zeros(groups, dtype=np.int64)
    f = np.full(groups, np.iinfo(np.int64).max, dtype=np.int64)
    for i in range(inv.shape[0]):
        g = inv[i]
        w[g] += weight[i]
        c[g] += count[i]
        if first[i] < f[g]:
            f[g] = first[i]
    return w, c, f


def _reduce(
    keys: np.ndarray, weight: np.ndarray, count: np.ndarray, first: np.ndarray, workspace: Workspace | None = None
) -> PartialTable:
    """Rows with equal keys merged (weights and counts added, least ``first`` kept); the result owns its arrays
    (never a view of ``workspace``)."""
    keys = np.ascontiguousarray(keys)
    idx, inv = _group_rows(keys, workspace)
    w, c, f = _sum_groups(inv, len(idx), weight, count, first)
    return PartialTable(keys[idx], w, c, f)


def tabulate_block(block: Block, config: EnumConfig, workspace: Workspace | None = None) -> PartialTable:
    """Enumerate, run (on every history) and collapse one block.

    ``workspace``: scratch buffers reused from block to block (:mod:`aitheory.dsl.workspace`; the worker loops
    pass :func:`block_workspace`); None allocates them anew. The table is the same either way.
    """
    ws = Workspace() if workspace is None else workspace
    codes = enumerate_block(block, ws)
    if config.all_histories:
        return _tabulate_all_histories(block, config, codes, ws)
    n, h = block.size, config.horizon
    lengths = ws.full("lengths", (n,), block.n_tokens, np.int32)
    histories = config.obs_list()
    keys = ws.array("keys", (n, len(histories) * (h + 1)), np.int8)
    total = 0
    for g, obs in enumerate(histories):
        res = run_batch(
            codes, lengths, config.k, h, obs, config.steps, config.tape_bound, config.detect_cycles,
            record_steps=False, workspace=ws,
        )
        keys[:, g * (h + 1): g * (h + 1) + h] = res.actions  # per history: H actions, then the status
        keys[:, g * (h + 1) + h] = res.status
        total += int(res.total_steps.sum())
    return _block_table(block, config, keys, total, ws)


def _tabulate_all_histories(block: Block, config: EnumConfig, codes: np.ndarray, ws: Workspace) -> PartialTable:
    """Every observation sequence: programs that never read after their first emission behave the same on
    all of them, so they are run once and grouped on a short key; only the readers are run on the whole tree
    (:func:`run_batch_all`). The representatives of the short keys are then widened to full keys and merged.
    Only the first run uses the scratch buffers ``ws``; the tree run allocates its own outputs."""
    c = config
    once = run_batch(codes, None, c.k, c.horizon, None, c.steps, c.tape_bound, c.detect_cycles, record_steps=False,
                     workspace=ws)
    n_seq = c.k ** (c.horizon - 1)
    weight = np.full(block.size, 1 << (c.max_bits - block.bits), dtype=np.int64)
    first = block.start + np.arange(block.size, dtype=np.int64)
    ones = np.ones(block.size, dtype=np.int64)
    quiet = ~once.reads
    short = _reduce(
        np.concatenate([once.actions[quiet], once.status[quiet, None]], axis=1), weight[quiet], ones[quiet],
        first[quiet],
    )
    wide = [np.tile(short.keys, (1, n_seq))]
    parts = [(short.weight, short.count, short.first)]
    total = int(once.total_steps.sum())
    if (~quiet).any():
        every = run_batch_all(codes[~quiet], None, c.k, c.horizon, c.steps, c.tape_bound, c.detect_cycles)
        wide.append(every.keys())
        parts.append((weight[~quiet], ones[~quiet], first[~quiet]))
        total += int(every.total_steps.sum())
    table = _reduce(
        np.concatenate(wide),
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
    )
    table.total_steps = total
    table.programs = block.size
    return table


@numba.njit(cache=True)
def _block_columns(start: int, unit: int, weight: np.ndarray, count: np.ndarray, first: np.ndarray) -> None:
    """Fill the columns of a block's programs: each weighs ``unit``, counts 1, and ``first`` is its canonical
    index ``start + i``."""
    for i in range(weight.shape[0]):
        weight[i] = unit
        count[i] = 1
        first[i] = start + i


def _block_table(
    block: Block, config: EnumConfig, keys: np.ndarray, total: int, workspace: Workspace | None = None
) -> PartialTable:
    ws = Workspace() if workspace is None else workspace
    weight, count, first = (ws.array(name, (block.size,), np.int64) for name in ("weight", "count", "first"))
    _block_columns(block.start, 1 << (config.max_bits - block.bits), weight, count, first)
    table = _reduce(keys, weight, count, first, ws)
    table.total_steps = total
    table.programs = block.size
    return table


def merge_partials(tables: Sequence[PartialTable]) -> PartialTable:
    """Merge partial tables (rows with equal keys add their weights and counts)."""
    merged = _reduce(
        np.concatenate([t.keys for t in tables]),
        np.concatenate([t.weight for t in tables]),
        np.concatenate([t.count for t in tables]),
        np.concatenate([t.first for t in tables]),
    )
    merged.total_steps = sum(t.total_steps for t in tables)
    merged.programs = sum(t.programs for t in tables)
    return merged


@dataclass(frozen=True)
class BehaviourTable:
    """One row per distinct behaviour, rows in canonical order of their first program.

    Shapes (R rows, G histories, horizon H):

    - ``actions`` (R, G, H) int8: emitted actions, ``-1`` for ``~`` (probability 1/K each), ``-2`` after the
      run stopped;
    - ``status`` (R, G) int8: index into ``STATUSES`` of how the run on that history ended;
    - ``weight`` (R,) int64: total prior of the row's programs in units of ``2^-max_bits``;
    - ``count`` (R,) int64: number of programs; ``first`` (R,) int64: canonical index of the first program.
    """

    config: EnumConfig
    actions: np.ndarray
    status: np.ndarray
    weight: np.ndarray
    count: np.ndarray
    first: np.ndarray
    total_steps: int = 0
    seconds: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def programs(self) -> int:
        return int(self.count.sum())

    def kraft_mass(self) -> Fraction:
        """Exact total prior of the enumerated programs."""
        return Fraction(int(self.weight.sum()), 1 << self.config.max_bits)

    def mass_by_status(self, history: int = 0) -> dict[str, Fraction]:
        """Exact prior mass of the programs whose run on history ``history`` ended with each status."""
        out = {}
        for s, name in enumerate(STATUSES):
            total = int(self.weight[self.status[:, history] == s].sum())
            out[name] = Fraction(total, 1 << self.config.max_bits)
        return out

    def count_by_status(self, history: int = 0) -> dict[str, int]:
        return {name: int(self.count[self.status[:, history] == s].sum()) for s, name in enumerate(STATUSES)}

    def action_probs(self, history: int = 0) -> np.ndarray:
        """``(R, H, K)`` float: each row's probability of each action at each time on history ``history``.

        One-hot on the emitted value for a ``.``, ``1/K`` for a ``~``, all 0 once the run has stopped (the
        row's mass is lost from then on: rows of this array sum to 1 or 0, never renormalised).
        """
        return emission_probs(self.actions[:, history, :], self.config.k)

    def shortest_bits(self) -> np.ndarray:
        """``(R,)``: length in bits of each row's first program. Canonical order is by length first, so this
        is the length of a shortest program with that behaviour (a complexity within this enumeration)."""
        return index_bits(self.first)

    def prior(self) -> np.ndarray:
        """Row weights as floats (probabilities ``weight * 2^-max_bits``)."""
        return self.weight.astype(np.float64) / float(1 << self.config.max_bits)


def finish_table(config: EnumConfig, merged: PartialTable, seconds: float) -> BehaviourTable:
    """Turn the final merged partial table into a :class:`BehaviourTable` (rows sorted by first program)."""
    order = np.argsort(merged.first, kind="stable")
    g = len(config.obs_list())
    h = config.horizon
    keys = merged.keys[order].reshape(len(order), g, h + 1)
    return BehaviourTable(
        config=config,
        actions=np.ascontiguousarray(keys[:, :, :h]),
        status=np.ascontiguousarray(keys[:, :, h]),
        weight=merged.weight[order],
        count=merged.count[order],
        first=merged.first[order],
        total_steps=merged.total_steps,
        seconds=seconds,
    )


def collect(
    config: EnumConfig, results: Iterable[PartialTable], merge_rows: int = 1 << 20
) -> BehaviourTable:
    """Merge streamed partial tables in bounded memory (merging when ``merge_rows`` rows are pending)."""
    start = time.perf_counter()
    pending: list[PartialTable] = []
    rows = 0
    for part in results:
        pending.append(part)
        rows += len(part.weight)
        if rows >= merge_rows and len(pending) > 1:
            pending = [merge_partials(pending)]
            rows = len(pending[0].weight)
    merged = merge_partials(pending) if pending else merge_partials([_empty(config)])
    return finish_table(config, merged, time.perf_counter() - start)


def _empty(config: EnumConfig) -> PartialTable:
    width = len(config.obs_list()) * (config.horizon + 1)
    z = np.zeros(0, dtype=np.int64)
    return PartialTable(np.zeros((0, width), dtype=np.int8), z, z.copy(), z.copy())


def _block_size(config: EnumConfig) -> int:
    """``config.block_size``, reduced so one block's keys stay under about 64 MB."""
    width = len(config.obs_list()) * (config.horizon + 1)
    return max(256, min(config.block_size, (64 << 20) // width))


def block_workspace() -> Workspace:
    """The scratch buffers the worker loops hand to :func:`tabulate_block`: the calling thread's own
    (:func:`aitheory.dsl.workspace.thread_workspace`), so each worker process reuses one set for all its
    blocks."""
    return thread_workspace()


def tabulate_in_worker(block: Block, config: EnumConfig) -> PartialTable:
    """:func:`tabulate_block` on this worker's reused buffers (:func:`block_workspace`)."""
    return tabulate_block(block, config, block_workspace())


def _tabulate_task(args: tuple[Block, EnumConfig]) -> PartialTable:
    return tabulate_in_worker(*args)


def behaviour_table(
    config: EnumConfig,
    workers: int | None = 1,
    scheduler: str | None = None,
    show_progress: bool = False,
) -> BehaviourTable:
    """Enumerate every plain program up to ``config.max_bits`` bits and tabulate their behaviours.

    Blocks run in this process (``workers=1``, the default), on a local process pool (``workers > 1`` or
    None for all cores) or on the Dask cluster at ``scheduler``; the table is the same in every case.
    """
    start = time.perf_counter()
    block_list = list(blocks(config.max_bits, _block_size(config)))
    results: Iterable[PartialTable] = parallel_map(
        _tabulate_task, ((b, config) for b in block_list), workers=workers, scheduler=scheduler
    )
    if show_progress:
        results = progress(results, total=len(block_list), unit="block", desc=f"{config.max_bits} bits")
    table = collect(config, results)
    return replace(table, seconds=time.perf_counter() - start)


def table_summary(table: BehaviourTable) -> dict[str, object]:
    """JSON-ready summary: counts, exact and float masses per status (on the first history), number of
    behaviours and histories, machine steps, seconds and the config."""
    masses = table.mass_by_status()
    kraft = table.kraft_mass()
    return {
        "programs": table.programs,
        "kraft_mass": float(kraft),
        "kraft_mass_exact": str(kraft),
        "mass": {name: float(m) for name, m in masses.items()},
        "mass_exact": {name: str(m) for name, m in masses.items()},
        "count": table.count_by_status(),
        "behaviours": len(table.weight),
        "histories": int(table.status.shape[1]),
        "machine_steps": table.total_steps,
        "seconds": table.seconds,
        "config": asdict(table.config),
    }


def save_table(table: BehaviourTable, path: str | os.PathLike[str]) -> Path:
    """Write the table atomically: ``.npz`` (arrays, config as JSON) or ``.csv`` (one row per behaviour)."""
    path = Path(path)
    if path.suffix == ".csv":
        return write_csv(path, _csv_rows(table), fieldnames=list(_CSV_FIELDS))
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        actions=table.actions,
        status=table.status,
        weight=table.weight,
        count=table.count,
        first=table.first,
        config=np.array(json.dumps(to_jsonable(asdict(table.config)))),
        summary=np.array(json.dumps(to_jsonable(table_summary(table)))),
    )
    return atomic_write_bytes(path, buf.getvalue())


_CSV_FIELDS = ("first_program", "first_index", "count", "weight", "prior", "history", "status", "actions")


def _csv_rows(table: BehaviourTable) -> Iterator[dict[str, object]]:
    from aitheory.dsl.enumerate import program_at

    scale = 1 << table.config.max_bits
    for r in range(len(table.weight)):
        first = program_at(int(table.first[r]))
        for g in range(table.status.shape[1]):
            acts = table.actions[r, g]
            yield {
                "first_program": first,
                "first_index": int(table.first[r]),
                "count": int(table.count[r]),
                "weight": int(table.weight[r]),
                "prior": int(table.weight[r]) / scale,
                "history": g,
                "status": STATUSES[table.status[r, g]],
                "actions": " ".join("~" if a == -1 else str(int(a)) for a in acts if a != -2),
            }


def load_table(path: str | os.PathLike[str]) -> BehaviourTable:
    """Read a table written by :func:`save_table` as ``.npz``."""
    with np.load(path, allow_pickle=False) as data:
        raw = json.loads(str(data["config"]))
        hist = raw.get("histories")
        raw["histories"] = None if hist is None else tuple(tuple(h) for h in hist)
        return BehaviourTable(
            config=EnumConfig(**raw),
            actions=data["actions"],
            status=data["status"],
            weight=data["weight"],
            count=data["count"],
            first=data["first"],
        )
