"""Run folders, atomic JSON/CSV writing and provenance.

Every run writes a folder with ``config.json``, ``summary.json``, ``metrics.csv`` and figures. Writes are
atomic (write to a temporary file in the same folder, flush, fsync, then ``os.replace``), so an interrupted
run never leaves a half-written file behind and never destroys a previous complete one; the temporary files
a killed run leaves behind are removed when the folder is next opened.

Identity: ``config.json`` records the run's *kind* (``"theorem1"``, ``"llm-train"``, ...), the configuration and
its :func:`fingerprint` (SHA-256 of the kind and the canonical JSON of the configuration), and the code version.
:meth:`RunFolder.open` refuses to write into a folder whose fingerprint differs (:class:`RunFolderError`), unless
asked to ``overwrite`` it, which clears it first; a code-version difference alone is never refused (long runs are
resumed across commits).

JSON conventions: an infinite value is written as the string ``"inf"`` (``"-inf"``, ``"nan"`` likewise),
never clipped to a large number; :func:`parse_float` reads those strings back. ``fractions.Fraction`` values
are written as floats, dataclasses as objects, numpy scalars and arrays as numbers and lists.
:func:`from_jsonable` is the inverse for a given type (a configuration from ``config.json``, a typed summary
from ``summary.json``).

Reading a finished run back (``aitheory plot RUN_DIR`` redraws its figures from these):
:meth:`RunFolder.existing` (a folder that must hold a run), :attr:`RunFolder.kind`, :meth:`RunFolder.read_config`,
:meth:`RunFolder.read_summary` and :meth:`RunFolder.read_rows` (a CSV file written by :func:`write_csv`, its
cells as strings); each refuses a missing or malformed file with a one-line :class:`RunFolderError`.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as _dt
import enum
import hashlib
import io
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "RunFolder",
    "RunFolderError",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_out_path",
    "claim_new_run_folder",
    "clean_temporary_files",
    "code_version",
    "describe_differences",
    "fingerprint",
    "from_jsonable",
    "parse_float",
    "provenance",
    "read_csv",
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


def from_jsonable(tp: Any, value: Any, where: str = "value") -> Any:
    """``value`` read from JSON (:func:`to_jsonable`'s output) as type ``tp``: ``"inf"`` strings back to floats,
    lists to tuples, objects to dataclasses (field by field, by their type hints; absent fields keep their
    defaults). Supported: ``Any``, ``float``, ``int``, ``bool``, ``str``, ``Literal``, ``X | None``,
    ``tuple[X, ...]``, ``tuple[X, Y]``, ``list[X]``, ``dict``/``Mapping[str, X]`` and dataclasses of those (a
    union of several types other than ``None`` is returned as read). ``ValueError`` naming ``where`` (the path of
    the value) if it does not fit."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any or tp is object:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return from_jsonable(inner[0], value, where) if len(inner) == 1 else value
    if origin is typing.Literal:
        if value not in args:
            raise ValueError(f"{where}: expected one of {args}, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(f"{where}: expected a number, got {value!r}")
        return parse_float(value)
    if tp in (int, bool, str):
        if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
            raise ValueError(f"{where}: expected {tp.__name__}, got {value!r}")
        return value
    if origin in (tuple, list) or origin is Sequence:
        if not isinstance(value, list):
            raise ValueError(f"{where}: expected a list, got {value!r}")
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(args) != len(value):
                raise ValueError(f"{where}: expected {len(args)} items, got {len(value)}")
            return tuple(from_jsonable(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True)))
        items = [from_jsonable(args[0] if args else Any, v, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin in (dict, Mapping) or tp is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected an object, got {value!r}")
        item = args[1] if len(args) == 2 else Any
        return {k: from_jsonable(item, v, f"{where}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected an object, got {value!r}")
        hints = typing.get_type_hints(tp)
        kwargs = {f.name: from_jsonable(hints[f.name], value[f.name], f"{where}.{f.name}")
                  for f in dataclasses.fields(tp) if f.init and f.name in value}
        try:
            return tp(**kwargs)
        except TypeError as exc:
            raise ValueError(f"{where}: {exc}") from None
    raise TypeError(f"{where}: cannot read type {tp!r} from JSON")


def read_csv(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """The rows of a CSV file written by :func:`write_csv`, as dicts of strings (``"inf"``, ``"True"``, ``""``
    as written; :func:`aitheory.plotting.column` turns a column into floats)."""
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _csv_header(path: Path) -> list[str]:
    with open(path, encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh), [])


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: The process's umask, read once at import (reading it means setting it, which is not thread-safe).
_UMASK = _read_umask()


#: Suffix of the temporary files of :func:`atomic_write_bytes` (``.<name>.<random>.tmp``).
_TMP_SUFFIX = ".tmp"


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, fsync, rename).

    The file gets the usual permissions of a new file (``0o666`` less the umask), not the private ``0o600``
    of the temporary file.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=_TMP_SUFFIX, dir=target.parent)
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


def _is_temporary(path: Path) -> bool:
    return path.name.startswith(".") and path.name.endswith(_TMP_SUFFIX) and path.is_file()


def clean_temporary_files(folder: str | os.PathLike[str], target: str | None = None) -> list[Path]:
    """Remove the temporary files that interrupted atomic writes left in ``folder`` (and below), or only those
    of the file named ``target`` directly in ``folder``; return them."""
    root = Path(folder)
    if not root.is_dir():
        return []
    found = root.glob(f".{target}.*{_TMP_SUFFIX}") if target else root.rglob(f".*{_TMP_SUFFIX}")
    stale = [p for p in found if _is_temporary(p)]
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


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


def code_version() -> str:
    """``git describe --always --dirty`` of the package's checkout, else the package version."""
    from aitheory import __version__

    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--tags"], cwd=here, capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return __version__
    described = out.stdout.strip()
    return f"{__version__}+g{described}" if out.returncode == 0 and described else __version__


def fingerprint(kind: str, config: Any) -> str:
    """``"sha256:<hex>"`` of the kind and the canonical JSON of ``config`` (sorted keys, :func:`to_jsonable`).

    A configuration and its JSON read back from ``config.json`` have the same fingerprint.
    """
    canonical = json.dumps({"kind": kind, "config": to_jsonable(config)}, sort_keys=True, separators=(",", ":"),
                           allow_nan=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


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
        "code_version": code_version(),
        "argv": sys.argv,
        "seed": seed,
    }


class RunFolderError(ValueError):
    """A folder that cannot hold this run (another configuration, not a folder, not a run folder); one line."""


def describe_differences(saved: Any, new: Any, limit: int = 3) -> str:
    """``"max_bits 18 there, 24 here; ..."``: the first top-level fields of two JSON configurations that differ."""
    if not isinstance(saved, Mapping) or not isinstance(new, Mapping):
        return "another configuration"
    keys = [k for k in dict.fromkeys([*new, *saved]) if saved.get(k, "<unset>") != new.get(k, "<unset>")]
    parts = [f"{k} {json.dumps(saved.get(k, '<unset>'))} there, {json.dumps(new.get(k, '<unset>'))} here"
             for k in keys[:limit]]
    more = f"; and {len(keys) - limit} more" if len(keys) > limit else ""
    return "; ".join(parts) + more if parts else "another configuration"


def _read_identity(path: Path) -> dict[str, Any] | None:
    """``config.json`` of a run folder (``None`` if absent or unreadable)."""
    try:
        saved = read_json(path / "config.json")
    except (OSError, ValueError):
        return None
    return saved if isinstance(saved, dict) and "config" in saved else None


def check_out_path(text: str) -> str:
    """argparse ``type=`` for ``--out``: a non-empty path that is not an existing file (a folder is created)."""
    import argparse

    if not text.strip():
        raise argparse.ArgumentTypeError("empty path; give a folder name (it would write into the working directory)")
    if Path(text).exists() and not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} exists and is not a folder")
    return text


def claim_new_run_folder(out: str | os.PathLike[str] | None, overwrite: bool = False) -> None:
    """Make sure ``out`` may receive a *new* run (one that writes from scratch, e.g. ``llm train``): absent or
    empty, or a run folder cleared here because ``overwrite``. ``RunFolderError`` otherwise, so a finished run
    is never overwritten silently. ``None`` (a new timestamped folder) is always fine."""
    if out is None:
        return
    path = Path(out)
    if str(out) == "" or (path.exists() and not path.is_dir()):
        raise RunFolderError(f"run folder {str(out)!r}: " + ("empty path" if str(out) == "" else
                                                             "exists and is not a folder"))
    if not path.is_dir():
        return
    clean_temporary_files(path)
    if not any(path.iterdir()):
        return
    if _read_identity(path) is None:
        raise RunFolderError(f"run folder {str(path)!r} is not empty and holds no config.json (not a run folder); "
                             "give a new or empty folder")
    if not overwrite:
        raise RunFolderError(f"run folder {str(path)!r} already holds a run; give another folder, --resume to "
                             "continue it, or --overwrite to clear it")
    RunFolder._clear(path)


@dataclasses.dataclass(frozen=True)
class RunFolder:
    """A run's output folder: ``config.json``, ``summary.json``, ``metrics.csv``, figures, checkpoints."""

    path: Path

    @staticmethod
    def _new_path(name: str, root: str | os.PathLike[str]) -> Path:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = Path(root) / f"{name}-{stamp}"
        n = 1
        while path.exists():
            n += 1
            path = Path(root) / f"{name}-{stamp}-{n}"
        return path

    @classmethod
    def create(cls, out: str | os.PathLike[str] | None, name: str, root: str | os.PathLike[str] = "runs") -> RunFolder:
        """Use ``out`` if given, else ``root/name-YYYYmmdd-HHMMSS`` (a new folder, never an old one reused).

        No identity check: prefer :meth:`open`, which refuses a folder holding another configuration.
        """
        path = cls._new_path(name, root) if out is None else Path(out)
        if path.exists() and not path.is_dir():
            raise RunFolderError(f"run folder {str(path)!r} exists and is not a folder")
        path.mkdir(parents=True, exist_ok=True)
        clean_temporary_files(path)
        return cls(path)

    @classmethod
    def open(cls, out: str | os.PathLike[str] | None, kind: str, config: Any, *, overwrite: bool = False,
             root: str | os.PathLike[str] = "runs", seed: int | None = None, name: str | None = None) -> RunFolder:
        """The run folder for a run of ``kind`` with ``config``, its identity checked and recorded.

        ``out`` None: a new ``root/<name or kind>-<timestamp>`` folder. An existing non-empty ``out`` must be a
        run folder of the same :func:`fingerprint` (then it is reused: resume), else :class:`RunFolderError`;
        with ``overwrite`` a run folder is cleared first (a non-empty folder that is not a run folder, i.e. has
        no ``config.json``, is never cleared). ``config.json`` is written if the folder has none.
        """
        path = cls._new_path(name or kind, root) if out is None else Path(out)
        if str(out) == "" or (path.exists() and not path.is_dir()):
            raise RunFolderError(f"run folder {str(out)!r}: " + ("empty path" if str(out) == "" else
                                                                 "exists and is not a folder"))
        new = fingerprint(kind, config)
        if path.is_dir():
            clean_temporary_files(path)
        if path.is_dir() and any(path.iterdir()):
            saved = _read_identity(path)
            if saved is None:
                raise RunFolderError(f"run folder {str(path)!r} is not empty and holds no config.json (not a run "
                                     "folder); give a new or empty folder")
            old = saved.get("fingerprint") or fingerprint(saved.get("kind", kind), saved["config"])
            if overwrite:
                cls._clear(path)
            elif old != new:
                what = saved.get("kind", kind)  # a folder written before kinds: compared as one of this kind
                diff = describe_differences(saved["config"], to_jsonable(config)) if what == kind else f"a {what} run"
                raise RunFolderError(f"run folder {str(path)!r} holds a run of another configuration ({diff}); "
                                     "give another folder, or --overwrite to clear it")
        path.mkdir(parents=True, exist_ok=True)
        folder = cls(path)
        if _read_identity(path) is None:
            write_json(folder.file("config.json"), {"kind": kind, "fingerprint": new, "code_version": code_version(),
                                                    "config": config, "provenance": provenance(seed)})
        return folder

    @staticmethod
    def _clear(path: Path) -> None:
        """Remove everything inside run folder ``path`` (the folder itself stays)."""
        for child in path.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()

    @property
    def fingerprint(self) -> str | None:
        """The recorded fingerprint (``None`` for a folder without identity)."""
        saved = _read_identity(self.path)
        if saved is None:
            return None
        return str(saved.get("fingerprint") or fingerprint(saved.get("kind", ""), saved["config"]))

    def file(self, name: str) -> Path:
        return self.path / name

    @classmethod
    def existing(cls, path: str | os.PathLike[str]) -> RunFolder:
        """A folder that holds a run (a ``config.json`` with a configuration), to read back; else
        :class:`RunFolderError` saying why."""
        where = Path(path)
        if not where.is_dir():
            why = "not a folder" if where.exists() else "no such folder"
            raise RunFolderError(f"run folder {str(path)!r}: {why}")
        if _read_identity(where) is None:
            raise RunFolderError(f"run folder {str(path)!r}: no readable config.json (not a run folder)")
        return cls(where)

    @property
    def kind(self) -> str | None:
        """The kind recorded in ``config.json`` (``"prop1"``, ``"llm-train"``, ...), ``None`` if none."""
        saved = _read_identity(self.path)
        kind = saved.get("kind") if saved else None
        return kind if isinstance(kind, str) else None

    def read_config(self, cls: type[Any]) -> Any:
        """The configuration recorded in ``config.json``, as dataclass ``cls`` (:func:`from_jsonable`; its
        ``__post_init__`` validates it); :class:`RunFolderError` if it does not fit ``cls``."""
        saved = _read_identity(self.path)
        if saved is None:
            raise RunFolderError(f"run folder {str(self.path)!r}: no readable config.json (not a run folder)")
        try:
            return from_jsonable(cls, saved["config"], "config")
        except (TypeError, ValueError) as exc:
            raise RunFolderError(f"{self.file('config.json')}: not a {cls.__qualname__} ({exc})") from None

    def read_summary(self) -> dict[str, Any]:
        """``summary.json`` of a finished run; :class:`RunFolderError` if absent (the run did not finish) or
        unreadable."""
        path = self.file("summary.json")
        try:
            summary = read_json(path)
        except FileNotFoundError:
            raise RunFolderError(f"{path}: missing (the run did not finish)") from None
        except (OSError, ValueError) as exc:
            raise RunFolderError(f"{path}: unreadable ({exc})") from None
        if not isinstance(summary, dict):
            raise RunFolderError(f"{path}: not a JSON object")
        return summary

    def read_rows(self, name: str, columns: Sequence[str] = ()) -> list[dict[str, str]]:
        """The rows of the CSV file ``name`` (:func:`read_csv`), which must have ``columns``;
        :class:`RunFolderError` naming the file if it is absent or lacks one."""
        path = self.file(name)
        try:
            rows = read_csv(path)
            header = rows[0].keys() if rows else _csv_header(path)
        except FileNotFoundError:
            raise RunFolderError(f"{path}: missing (the rows the figures are drawn from)") from None
        except (OSError, ValueError, csv.Error) as exc:
            raise RunFolderError(f"{path}: unreadable ({exc})") from None
        missing = [c for c in columns if c not in header]
        if missing:
            raise RunFolderError(f"{path}: no column {', '.join(map(repr, missing))} (not the rows of this check)")
        return rows

    def write_config(self, config: Any, seed: int | None = None, kind: str | None = None) -> Path:
        record: dict[str, Any] = {"config": config, "provenance": provenance(seed)}
        if kind is not None:
            record = {"kind": kind, "fingerprint": fingerprint(kind, config), "code_version": code_version(),
                      **record}
        return write_json(self.file("config.json"), record)

    def write_summary(self, summary: Any) -> Path:
        return write_json(self.file("summary.json"), summary)

    def write_metrics(self, rows: Iterable[Mapping[str, Any]], fieldnames: Sequence[str] | None = None) -> Path:
        return write_csv(self.file("metrics.csv"), rows, fieldnames)
