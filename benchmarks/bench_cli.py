"""Start-up cost of the command line: ``aitheory --help`` and ``--version`` against ``python -c "import aitheory"``.

Usage::

    PYTHONPATH=. python benchmarks/bench_cli.py [--repeat 5]

Each command runs ``--repeat`` times in a fresh interpreter; the report gives the median CPU seconds (user +
system of the child, from ``os.wait4``) and wall seconds of each, and the ratio of CPU seconds to the baseline
``import aitheory`` in the same run. The goal (issue 15) is under 0.5 CPU s for ``--help`` and ``--version``: the
lazy command registry (``aitheory/cli/__init__.py``) imports only the group named on the command line.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

COMMANDS: dict[str, list[str]] = {
    "import aitheory (baseline)": [sys.executable, "-c", "import aitheory"],
    "aitheory --version": [sys.executable, "-m", "aitheory", "--version"],
    "aitheory --help": [sys.executable, "-m", "aitheory", "--help"],
    "aitheory dsl --help": [sys.executable, "-m", "aitheory", "dsl", "--help"],
}


def _measure(cmd: list[str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run of ``cmd`` in a child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}")
    return usage.ru_utime + usage.ru_stime, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (default 5)")
    args = parser.parse_args()
    rows = {}
    for name, cmd in COMMANDS.items():
        runs = [_measure(cmd) for _ in range(args.repeat)]
        rows[name] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
    base = rows["import aitheory (baseline)"][0]
    print(f"{'command':30s} {'CPU s':>7s} {'wall s':>7s} {'CPU / baseline':>15s}")
    for name, (cpu, wall) in rows.items():
        print(f"{name:30s} {cpu:7.3f} {wall:7.3f} {cpu / base:15.2f}")


if __name__ == "__main__":
    main()
