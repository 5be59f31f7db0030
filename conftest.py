"""Test configuration shared by ``tests/`` and ``proofs_check/``.

Hypothesis: no per-example deadline (timings on a shared 2-core machine are noise, and performance is
measured by the benchmarks, not by tests). Under ``CI=true`` the examples are derandomised so that a CI run
is reproducible; locally they are random, which finds more.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
