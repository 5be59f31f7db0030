"""The documentation site builds without warnings, and every page it lists exists (mkdocs, ``docs`` extra)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_mkdocs_builds_strict(tmp_path: Path) -> None:
    """Strict build (offline: MathJax is only a script URL), typeset maths, API pages from the docstrings."""
    for module in ("mkdocs", "mkdocstrings", "mkdocstrings_handlers.python", "pymdownx.arithmatex"):
        pytest.importorskip(module, reason="the docs extra (installed by aitheory[all])")
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    site = tmp_path / "site"
    assert (site / "index.html").is_file()
    for page in ("measures", "planning"):
        assert 'class="arithmatex"' in (site / page / "index.html").read_text(), f"{page}: maths not typeset"
    api = (site / "api" / "measures" / "index.html").read_text()
    assert "tree_divergence" in api and "TreeShape" in api, "the API page lacks the docstrings"


def test_every_docs_page_is_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = sorted(p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md"))
    missing = [p for p in pages if p not in nav]
    assert not missing, f"pages not in mkdocs.yml's nav: {missing}"
