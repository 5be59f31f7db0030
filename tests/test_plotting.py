"""Figures never touch pyplot's global state or the user's backend (a notebook keeps its inline figures)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_figures_are_drawn_without_pyplot_or_a_backend_change(tmp_path: Path) -> None:
    code = (
        "import sys, matplotlib\n"
        "matplotlib.use('svg')\n"
        "from aitheory.plotting import pyplot, save_figure\n"
        "plt = pyplot()\n"
        "fig, (a, b) = plt.subplots(1, 2, figsize=(4, 2), sharey=True)\n"
        "a.plot([0, 1], [1, 0]); b.xaxis.set_major_locator(plt.MaxNLocator(integer=True))\n"
        "a.imshow([[0, 1]], cmap=plt.get_cmap('Reds'))\n"
        f"png, svg = save_figure(fig, {str(tmp_path / 'f')!r})\n"
        "assert png.stat().st_size > 1000 and svg.stat().st_size > 1000\n"
        "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
