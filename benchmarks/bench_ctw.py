"""Benchmark of :mod:`aitheory.ctw`: the numba CTW against the plain-Python ReferenceCTW, in the same run.

Usage::

    PYTHONPATH=. python benchmarks/bench_ctw.py [--depth 16] [--n 1000000] [--n-online 100000] \
        [--n-ref 20000] [--source random|markov|both] [--seed 0] [--json out.json]

Reports binary symbols per second for

* ``batch``: :meth:`CTW.update_many` over ``n`` symbols (undo log kept; and ``revertible=False``);
* ``online``: one :meth:`CTW.update` call per symbol from Python;
* ``online+predict``: :meth:`CTW.predict` then :meth:`CTW.update` per symbol (what an agent does);
* ``reference``: :class:`ReferenceCTW` update (and predict + update) on the first ``n_ref`` symbols,

and the speed-up ratios over the reference (wall-clock; CPU-time rates are printed too, as the machine may
be shared). Compilation is excluded (a warm-up call runs first). Sources:
``random`` = fair coin flips (every context is new: the worst case for nodes), ``markov`` = an order-3 binary
Markov chain with random transition probabilities. The fast and reference log-losses on the first ``n_ref``
symbols are compared as a sanity check.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from aitheory.ctw import CTW, ReferenceCTW


@dataclass(frozen=True)
class Row:
    """One measurement: ``symbols`` processed in ``seconds`` of wall-clock time (``cpu_seconds`` of CPU)."""

    source: str
    what: str
    symbols: int
    seconds: float
    cpu_seconds: float

    @property
    def rate(self) -> float:
        """Symbols per wall-clock second."""
        return self.symbols / self.seconds

    @property
    def cpu_rate(self) -> float:
        """Symbols per CPU second of this process (less sensitive to other jobs on a shared machine)."""
        return self.symbols / self.cpu_seconds


def make_source(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` binary symbols: fair coin flips, or an order-3 Markov chain with random transition rows."""
    if name == "random":
        return rng.integers(0, 2, n).astype(np.int32)
    p_one = rng.random(8)
    out = np.zeros(n, dtype=np.int32)
    u = rng.random(n)
    state = 0
    for t in range(n):
        out[t] = int(u[t] < p_one[state])
        state = ((state << 1) | int(out[t])) & 7
    return out


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds) of one call."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - cpu


def bench_source(source: str, args: argparse.Namespace, rng: np.random.Generator) -> list[Row]:
    seq = make_source(source, args.n, rng)
    depth = args.depth
    CTW(depth).update_many(seq[:100])  # compile / load the numba cache outside the timings
    rows = [
        Row(source, "batch update_many", args.n, *timed(lambda: CTW(depth).update_many(seq))),
        Row(
            source,
            "batch update_many (revertible=False)",
            args.n,
            *timed(lambda: CTW(depth, revertible=False).update_many(seq)),
        ),
    ]
    online = [int(x) for x in seq[: args.n_online]]

    def run_online() -> None:
        model = CTW(depth)
        for x in online:
            model.update(x)

    def run_online_predict() -> None:
        model = CTW(depth)
        for x in online:
            model.predict()
            model.update(x)

    rows.append(Row(source, "online update", len(online), *timed(run_online)))
    rows.append(Row(source, "online predict+update", len(online), *timed(run_online_predict)))

    ref_seq = [int(x) for x in seq[: args.n_ref]]

    def run_ref() -> None:
        model = ReferenceCTW(depth)
        for x in ref_seq:
            model.update(x)

    def run_ref_predict() -> None:
        model = ReferenceCTW(depth)
        for x in ref_seq[: max(1, args.n_ref // 4)]:
            model.predict()
            model.update(x)

    rows.append(Row(source, "reference update", len(ref_seq), *timed(run_ref)))
    n_ref_predict = max(1, args.n_ref // 4)
    rows.append(Row(source, "reference predict+update", n_ref_predict, *timed(run_ref_predict)))

    fast, ref = CTW(depth), ReferenceCTW(depth)
    fast_loss = -fast.update_many(ref_seq).sum()
    ref_loss = -sum(ref.update(x) for x in ref_seq)
    print(
        f"[{source}] log-loss of the first {len(ref_seq)} symbols: fast {fast_loss:.9f} nats, "
        f"reference {ref_loss:.9f} nats, |difference| {abs(fast_loss - ref_loss):.2e}"
    )
    return rows


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--depth", type=int, default=16, help="context depth D")
    parser.add_argument("--n", type=int, default=1_000_000, help="symbols for the batch timings")
    parser.add_argument("--n-online", type=int, default=100_000, help="symbols for the online timings")
    parser.add_argument("--n-ref", type=int, default=20_000, help="symbols for the plain-Python reference")
    parser.add_argument("--source", choices=["random", "markov", "both"], default="both")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    sources = ["random", "markov"] if args.source == "both" else [args.source]
    rows = [row for source in sources for row in bench_source(source, args, rng)]

    print(f"\nCTW, binary, depth {args.depth} (symbols per second; ratio = rate / reference rate)")
    print(
        f"{'source':8} {'what':38} {'symbols':>9} {'seconds':>8} {'symbols/s':>11} {'cpu sym/s':>11} "
        f"{'ratio':>6}"
    )
    summary: dict = {"depth": args.depth, "seed": args.seed, "rows": []}
    for row in rows:
        ref_name = "reference predict+update" if "predict" in row.what else "reference update"
        ref = next(r for r in rows if r.source == row.source and r.what == ref_name)
        ratio = row.rate / ref.rate
        print(
            f"{row.source:8} {row.what:38} {row.symbols:9d} {row.seconds:8.3f} {row.rate:11,.0f} "
            f"{row.cpu_rate:11,.0f} {ratio:6.1f}"
        )
        summary["rows"].append(
            {**asdict(row), "rate": row.rate, "cpu_rate": row.cpu_rate, "ratio_vs_reference": ratio}
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(summary, fh, indent=2)
    return summary


if __name__ == "__main__":
    main()
