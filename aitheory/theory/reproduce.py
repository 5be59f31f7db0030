"""``aitheory reproduce``: every check at its default (or quick) scale, in parallel, with one report.

Each check has its own run folder ``OUT/<name>/`` (see :func:`aitheory.theory.common.run_check`); checks run
on a local process pool (or a Dask cluster at ``scheduler``). Workers run a check in a temporary folder of their
own and return its files as data; the client writes them under ``OUT`` (resolved to an absolute path on the
client), so results land in the user's folder whatever the workers' working directory or file system. Every
check folder's identity is checked before anything runs: a folder holding another configuration (for example a
``--quick`` run when the default scale is asked for) is refused, unless ``overwrite`` clears it, so a report never
mixes scales. A check whose folder already holds a ``summary.json`` for the same configuration is not run again,
so an interrupted reproduction resumes where it stopped. The report (``report.md`` and a self-contained
``report.html`` with the figures embedded) has one row per result: the statement, the measured value, the bound,
the verdict; every number in it is read from the run folders, none is typed in.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aitheory.parallel import parallel_map
from aitheory.progress import progress
from aitheory.results import (
    RunFolder,
    RunFolderError,
    atomic_write_bytes,
    atomic_write_text,
    clean_temporary_files,
    provenance,
    read_json,
    to_jsonable,
    write_json,
)
from aitheory.theory.common import CHECKS, check_module, run_check

__all__ = ["ReproduceResult", "reproduce", "write_report"]


@dataclass(frozen=True)
class ReproduceResult:
    """Summaries of every check (as written to their run folders) and where the report is."""

    out: Path
    summaries: dict[str, dict[str, Any]]
    seconds: float
    resumed: tuple[str, ...]

    @property
    def held(self) -> bool:
        return all(s.get("held") is True for s in self.summaries.values())


def _config(name: str, quick: bool) -> Any:
    module = check_module(name)
    return module.Config.quick() if quick else module.Config()


def _cached(folder: RunFolder) -> dict[str, Any] | None:
    """The summary of the finished run in ``folder`` (its identity already checked), if there is one."""
    try:
        summary = read_json(folder.file("summary.json"))
    except (OSError, ValueError):
        return None
    return summary if isinstance(summary, dict) else None


#: The files a check writes, as (path relative to its run folder, bytes); ``summary.json`` comes last.
Files = list[tuple[str, bytes]]


def _run_one(task: tuple[str, bool]) -> tuple[str, Files]:
    """Run check ``name`` in a temporary folder of this worker; return its files as data (the client writes)."""
    name, quick = task
    with tempfile.TemporaryDirectory(prefix=f"aitheory-{name}-") as tmp:
        folder = Path(tmp) / name
        run_check(name, _config(name, quick), folder)
        paths = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "config.json")
        paths.sort(key=lambda p: p.name == "summary.json")
        return name, [(p.relative_to(folder).as_posix(), p.read_bytes()) for p in paths]


def _write_files(folder: RunFolder, files: Files) -> dict[str, Any]:
    """Write a check's returned files into ``folder`` (``summary.json`` last, its ``run_folder`` set to
    ``folder``); return the summary."""
    summary: dict[str, Any] = {}
    for rel, data in files:
        if rel == "summary.json":
            summary = json.loads(data) | {"run_folder": str(folder.path)}
            write_json(folder.file(rel), summary)
        else:
            atomic_write_bytes(folder.file(rel), data)
    return summary


def reproduce(out: str | Path, quick: bool = False, only: tuple[str, ...] = (), workers: int | None = None,
              scheduler: Any = None, force: bool = False, show_progress: bool = False,
              overwrite: bool = False) -> ReproduceResult:
    """Run the checks (all, or ``only``) into ``out`` and write the report there.

    ``RunFolderError`` (before anything runs) if a check's folder holds another configuration and not
    ``overwrite``; ``force`` reruns checks that have finished results of the same configuration.
    """
    names = list(only) if only else list(CHECKS)
    for name in names:
        check_module(name)  # clear error for an unknown name, before anything runs
    root = Path(out).resolve()
    if str(out) == "" or (root.exists() and not root.is_dir()):
        raise RunFolderError(f"reproduce folder {str(out)!r}: " + ("empty path" if str(out) == "" else
                                                                   "exists and is not a folder"))
    root.mkdir(parents=True, exist_ok=True)
    clean_temporary_files(root)
    folders = {name: RunFolder.open(root / name, name, _config(name, quick), overwrite=overwrite)
               for name in names}
    start = time.perf_counter()
    summaries: dict[str, dict[str, Any]] = {}
    resumed = []
    todo = []
    for name in names:
        cached = None if force else _cached(folders[name])
        if cached is not None:
            summaries[name] = cached
            resumed.append(name)
        else:
            todo.append((name, quick))
    done = parallel_map(_run_one, todo, workers=workers, scheduler=scheduler)
    for name, files in progress(done, total=len(todo), desc="reproduce", unit="check", disable=not show_progress):
        summaries[name] = _write_files(folders[name], files)
    ordered = {name: summaries[name] for name in names}
    result = ReproduceResult(root, ordered, time.perf_counter() - start, tuple(resumed))
    write_report(result, quick)
    return result


def _fmt(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float) and (math.isinf(value) or math.isnan(value)):
        return str(value)
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _rows(result: ReproduceResult) -> list[dict[str, str]]:
    rows = []
    for name, s in result.summaries.items():
        rows.append({
            "result": name, "statement": str(s.get("statement", "")),
            "measured": f"{_fmt(s.get('measured'))} {s.get('units', '')}".strip(),
            "bound": f"{s.get('relation', '')} {_fmt(s.get('bound'))}".strip(),
            "verdict": "held" if s.get("held") is True else "NOT held",
            "seconds": _fmt(s.get("seconds")),
        })
    return rows


def write_report(result: ReproduceResult, quick: bool) -> tuple[Path, Path]:
    """``report.md`` (figures linked) and ``report.html`` (figures embedded), written atomically."""
    rows = _rows(result)
    header = ["result", "statement", "measured", "bound", "verdict", "seconds"]
    stamp = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    scale = "quick" if quick else "default"
    md = [f"# aitheory reproduction ({scale} scale)", "",
          f"{stamp}; {result.seconds:.1f} s; all held: **{result.held}**"
          + (f"; resumed from earlier runs: {', '.join(result.resumed)}" if result.resumed else ""), "",
          "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(r[h].replace("|", "\\|") for h in header) + " |" for r in rows]
    for name, s in result.summaries.items():
        md += ["", f"## {name}", "", s.get("verdict") or "", ""]
        for stem in s.get("figures", []):
            md.append(f"![{stem}]({name}/{stem}.png)")
    md_path = atomic_write_text(result.out / "report.md", "\n".join(md) + "\n")
    html_path = atomic_write_text(result.out / "report.html", _html(result, rows, header, stamp, scale))
    atomic_write_text(result.out / "report.json", json.dumps(
        {"scale": scale, "seconds": result.seconds, "held": result.held, "results": to_jsonable(result.summaries),
         "provenance": provenance()}, indent=2, allow_nan=False) + "\n")
    return md_path, html_path


def _html(result: ReproduceResult, rows: list[dict[str, str]], header: list[str], stamp: str, scale: str) -> str:
    esc = html.escape
    table = "".join(
        "<tr class='{}'>".format("ok" if r["verdict"] == "held" else "bad")
        + "".join(f"<td>{esc(r[h])}</td>" for h in header) + "</tr>" for r in rows
    )
    sections = []
    for name, s in result.summaries.items():
        images = ""
        for stem in s.get("figures", []):
            png = result.out / name / f"{stem}.png"
            if png.is_file():
                data = base64.b64encode(png.read_bytes()).decode("ascii")
                images += f"<img alt='{esc(stem)}' src='data:image/png;base64,{data}'>"
        sections.append(f"<h2>{esc(name)}</h2><p>{esc(str(s.get('verdict', '')))}</p>{images}")
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>aitheory reproduction</title><style>"
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}tr.ok td:nth-child(5){color:#070}"
        "tr.bad td:nth-child(5){color:#b00;font-weight:bold}img{max-width:48%;margin:4px}</style></head><body>"
        f"<h1>aitheory reproduction ({scale} scale)</h1><p>{esc(stamp)}; {result.seconds:.1f} s; all held: "
        f"<b>{result.held}</b></p><table><tr>{''.join(f'<th>{h}</th>' for h in header)}</tr>{table}</table>"
        + "".join(sections) + "</body></html>\n"
    )
