"""Run folders, atomic JSON/CSV writing and provenance.

Every run writes a folder with ``config.json``, ``summary.json``, ``metrics.csv`` and figures. Writes are
atomic (write to a temporary file in the same folder, flush, fsync, then ``os.replace``), so an interrupted
run never leaves a half-written file behind and never destroys a previous complete one.

JSON conventions: an infinite value is written as the string ``"inf"`` (``"-inf"``, ``"nan"`` likewise),
never clipped to a large number; :func:`parse_float` reads those strings back. ``fractions.Fraction`` values
are written as floats, dataclasses as objects, numpy scalars and arrays as numbers and lists.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as _dt
import enum
import io
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "RunFolder",
    "atomic_write_bytes",
    "atomic_write_text",
    "parse_float",
    "provenance",
    "read_json",
    "to_jsonable",
    "write_csv",
    "write_json",
]


def _float_to_json(x: float) -> float | str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def to_jsonable(obj: Any) -> Any:
    """Convert ``obj`` to plain JSON types; infinities become the strings ``"inf"``/``"-inf"``."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int) and not isinstance(obj, bool):
        return obj
    if isinstance(obj, float):
        return _float_to_json(obj)
    if isinstance(obj, Fraction):
        return _float_to_json(float(obj))
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, enum.Enum):
        return to_jsonable(obj.value)
    if isinstance(obj, Path):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in obj]
    raise TypeError(f"cannot write an object of type {type(obj).__name__} to JSON: {obj!r}")


def parse_float(value: float | int | str) -> float:
    """Inverse of the JSON convention: ``"inf"``, ``"-inf"``, ``"nan"`` or a number -> float."""
    if isinstance(value, str):
        if value in ("inf", "-inf", "nan"):
            return float(value)
        raise ValueError(f"expected a number or 'inf'/'-inf'/'nan', got the string {value!r}")
    return float(value)


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: The process's umask, read once at import (reading it means setting it, which is not thread-safe).
_UMASK = _read_umask()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, fsync, rename).

    The file gets the usual permissions of a new file (``0o666`` less the umask), not the private ``0o600``
    of the temporary file.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write ``obj`` as indented JSON, atomically, with the conventions of :func:`to_jsonable`."""
    text = json.dumps(to_jsonable(obj), indent=2, sort_keys=False, allow_nan=False)
    return atomic_write_text(path, text + "\n")


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file written by :func:`write_json` (strings ``"inf"`` stay strings: see :func:`parse_float`)."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def write_csv(
    path: str | os.PathLike[str], rows: Iterable[Mapping[str, Any]], fieldnames: Sequence[str] | None = None
) -> Path:
    """Write ``rows`` (dicts) as CSV, atomically; infinities as ``inf``.

    Columns: ``fieldnames``, or every key of every row in first-seen order (a row without a column leaves it empty).
    """
    rows = list(rows)
    if fieldnames is None:
        fieldnames = list(dict.fromkeys(key for row in rows for key in row))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(fieldnames), lineterminator="\n", restval="")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: to_jsonable(v) for k, v in row.items()})
    return atomic_write_text(path, buf.getvalue())


def _git_sha() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and sha else None


def provenance(seed: int | None = None) -> dict[str, Any]:
    """Versions, platform, time, git commit and seed: enough to re-run and compare a result."""
    from aitheory import __version__

    versions: dict[str, str] = {"python": sys.version.split()[0], "aitheory": __version__, "numpy": np.__version__}
    for name in ("scipy", "numba", "torch", "transformers"):
        module = sys.modules.get(name)
        if module is not None:
            versions[name] = str(getattr(module, "__version__", "?"))
    return {
        "versions": versions,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "git_sha": _git_sha(),
        "argv": sys.argv,
        "seed": seed,
    }


@dataclasses.dataclass(frozen=True)
class RunFolder:
    """A run's output folder: ``config.json``, ``summary.json``, ``metrics.csv``, figures, checkpoints."""

    path: Path

    @classmethod
    def create(cls, out: str | os.PathLike[str] | None, name: str, root: str | os.PathLike[str] = "runs") -> RunFolder:
        """Use ``out`` if given, else ``root/name-YYYYmmdd-HHMMSS`` (a new folder, never an old one reused)."""
        if out is not None:
            path = Path(out)
        else:
            stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            path = Path(root) / f"{name}-{stamp}"
            n = 1
            while path.exists():
                n += 1
                path = Path(root) / f"{name}-{stamp}-{n}"
        path.mkdir(parents=True, exist_ok=True)
        return cls(path)

    def file(self, name: str) -> Path:
        return self.path / name

    def write_config(self, config: Any, seed: int | None = None) -> Path:
        return write_json(self.file("config.json"), {"config": config, "provenance": provenance(seed)})

    def write_summary(self, summary: Any) -> Path:
        return write_json(self.file("summary.json"), summary)

    def write_metrics(self, rows: Iterable[Mapping[str, Any]], fieldnames: Sequence[str] | None = None) -> Path:
        return write_csv(self.file("metrics.csv"), rows, fieldnames)
