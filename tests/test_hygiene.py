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


def test_mypy_is_clean() -> None:
    """``mypy`` (configured in pyproject.toml: the ``aitheory`` package) finds no type errors."""
    assert importlib.util.find_spec("mypy") is not None, "mypy is missing; it is in the test extra"
    out = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental"], cwd=ROOT, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_readme_quickstart_runs() -> None:
    """The README's Python quickstart runs as written and prints what its comments say."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("0.1438")
    assert lines[1] == "inf"
    assert lines[2] == "1/4"
    assert lines[3].split() == ["0.0", lines[3].split()[1], "inf", "True"]
    assert lines[3].split()[1].startswith("0.00501")
