"""Code hygiene enforced by the test suite: ruff is clean over the whole repository."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean() -> None:
    """``ruff check`` (configured in pyproject.toml) reports nothing. ruff is part of the ``test`` extra."""
    assert importlib.util.find_spec("ruff") is not None, (
        "ruff is missing; it is in the test extra: pip install -e '.[test]'"
    )
    cmd = [sys.executable, "-m", "ruff", "check", "--no-cache", "."]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
