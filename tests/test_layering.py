"""The import graph of ``aitheory`` points one way: lower layers never import higher ones.

Layers (design notes, section 1), bottom to top::

    0  infrastructure: aitheory (root), _optional, results, progress, plotting, parallel, configs
    1  measures, dsl
    2  mixture, ctw
    3  imitators, planning
    4  bounds
    5  theory
    6  llm
    7  cli
    8  __main__ (the entry point)

A module may import from its own top-level package and from strictly lower layers (infrastructure from
anywhere). Imports inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "aitheory"

LAYERS: dict[str, int] = {
    "": 0, "_optional": 0, "results": 0, "progress": 0, "plotting": 0, "parallel": 0, "configs": 0,
    "measures": 1, "dsl": 1,
    "mixture": 2, "ctw": 2,
    "imitators": 3, "planning": 3,
    "bounds": 4,
    "theory": 5,
    "llm": 6,
    "cli": 7,
    "__main__": 8,
}


def _top(module: str) -> str:
    """``aitheory.dsl.fast`` -> ``dsl``; ``aitheory`` -> ``''``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
    return [(line, name) for line, name in found if name == "aitheory" or name.startswith("aitheory.")]


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_top_level_module_has_a_layer() -> None:
    tops = {_top(_module_name(p)) for p in _modules()}
    unknown = sorted(t for t in tops if t not in LAYERS)
    assert not unknown, f"add these modules to LAYERS in {__file__}: {unknown}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_imports_point_down(path: Path) -> None:
    source = _top(_module_name(path))
    bad = []
    for line, target in _imports(path):
        dest = _top(target)
        if dest == source or LAYERS.get(dest, 99) == 0:
            continue
        if LAYERS.get(dest, 99) >= LAYERS.get(source, -1):
            bad.append(f"line {line}: {target} (layer {LAYERS.get(dest)}) from layer {LAYERS.get(source)}")
    assert not bad, f"{path.name} imports upward or sideways: " + "; ".join(bad)


def test_core_import_pulls_in_no_optional_extra() -> None:
    """Importing the core (and the CLI) loads none of torch, transformers, matplotlib, sympy, hypothesis."""
    core = [m for m in (_module_name(p) for p in _modules()) if _top(m) not in ("llm", "plotting")]
    code = (
        "import importlib, sys\n"
        f"for m in {core!r}:\n"
        "    if m.endswith('__main__'): continue\n"
        "    importlib.import_module(m)\n"
        "heavy = sorted({'torch', 'transformers', 'matplotlib', 'sympy', 'hypothesis', 'cvxpy'} & set(sys.modules))\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PACKAGE.parent)
    assert out.stdout.strip() == "", f"core modules import optional extras: {out.stdout.strip()}"
