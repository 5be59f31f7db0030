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


# ---------------------------------------------------------------------------------------------------------------
# Every `aitheory ...` command quoted in README.md and docs/ parses (argparse only: nothing is run).

#: Placeholders the prose uses, and a value of the right kind for each. A command with an ellipsis
#: (`aitheory kl ... --joint`) is an abbreviation, not a command, and is skipped.
_PLACEHOLDERS = {"NAME": "prop1", "RUN_DIR": "runs/x", "C": "cpu"}
_SUBSTITUTIONS = {
    "[--quick]": "--quick",
    "$(python -c \"print('0' * 59 + '1')\")": "0" * 59 + "1",
}


def _quoted_commands() -> list[tuple[str, str]]:
    """(where, command) for each ``aitheory ...`` line of a fenced or indented block and each inline code span."""
    import re

    found: list[tuple[str, str]] = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = page.read_text()
        where = page.relative_to(ROOT).as_posix()
        for block in re.finditer(r"^```[^\n]*\n(.*?)^```", text, re.S | re.M):
            for line in block.group(1).replace("\\\n", " ").splitlines():
                for part in re.split(r"&&|;", line):
                    part = re.sub(r"^(\$ |nice -n \d+ |time )", "", part.strip())
                    if part.startswith("aitheory "):
                        found.append((where, part))
        for indented in re.finditer(r"^ {4,}\$ (aitheory .*)$", text, re.M):  # an indented code block's prompt
            found.append((where, indented.group(1).strip()))
        for span in re.finditer(r"`(aitheory [^`]+)`", text):
            found.append((where, " ".join(span.group(1).split())))
    return found


def _argv(command: str) -> list[str] | None:
    """The words after ``aitheory``, placeholders filled in and the comment dropped; None for an abbreviation."""
    import shlex

    for old, new in _SUBSTITUTIONS.items():
        command = command.replace(old, new)
    if "..." in command or "$(" in command:
        return None
    words = shlex.split(command, comments=True)[1:]
    return [_PLACEHOLDERS.get(w, w) for w in words]


def _parse(argv: list[str]) -> tuple[int, str]:
    """Exit code of parsing ``argv`` with the real parser (0 if it parses; nothing is run) and argparse's message.

    A bare command (``aitheory kl``, ``aitheory llm exploits``) is a mention: its ``--help`` must print."""
    import contextlib
    import io

    from aitheory.cli import build_parser

    if len(argv) <= 2 and not any(w.startswith("-") for w in argv):
        argv = [*argv, "--help"]
    err = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            build_parser(argv).parse_args(argv)
    except SystemExit as exc:
        return (exc.code if isinstance(exc.code, int) else 2), err.getvalue().strip()
    return 0, ""


def test_quoted_commands_are_found() -> None:
    commands = _quoted_commands()
    assert len(commands) > 50 and any(c.startswith("aitheory reproduce") for _, c in commands)
    assert any(c.startswith("aitheory dsl run") for w, c in commands if w == "docs/language.md")  # indented block


def test_a_wrong_command_does_not_parse() -> None:
    """The check can fail: an unknown option, a bad choice and bad values are each refused (values a config
    validates after parsing, such as `--mode both`, are beyond a parse-only check)."""
    for command in ("aitheory kl --history 01 --no-such-option", "aitheory check theorem3",
                    "aitheory mixture predict --max-bits x", "aitheory reproduce --workers 0"):
        argv = _argv(command)
        assert argv is not None and _parse(argv)[0] == 2, command


@pytest.mark.parametrize(("where", "command"), _quoted_commands())
def test_quoted_command_parses(where: str, command: str) -> None:
    """The command's words are accepted by the parser (command names, options, choices, value types)."""
    from aitheory.cli import GROUPS

    argv = _argv(command)
    if argv is None:
        pytest.skip("an abbreviated command (ellipsis)")
    assert argv[0] in GROUPS or argv == ["--help"], f"{where}: `{command}` names no command"
    code, message = _parse(argv)
    assert code == 0, f"{where}: `{command}` does not parse: {message}"
