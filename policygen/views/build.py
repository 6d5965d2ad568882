"""What `policygen build` and `policygen schema` print."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.markup import escape

from policygen.artefacts import Build
from policygen.render import WriteSummary
from policygen.views.console import count, echo, make_console


def render_build(build: Build, summary: WriteSummary, out: Path) -> None:
    console = make_console()
    console.print(
        f"Built {count(len(build.definitions), 'definition')}, {count(len(build.initiatives), 'initiative')}, "
        f"{count(len(build.assignments), 'assignment')}, "
        + (f"{count(len(build.exemptions), 'exemption')}, " if build.exemptions else "")
        + f"{count(len(build.tests), 'policy test')} into "
        f"{escape(str(out))}/ "
        f"({len(summary.written)} written, {len(summary.unchanged)} unchanged, {len(summary.removed)} removed)."
    )
    for path in summary.removed:
        console.print(f"  removed stale {path}", markup=False)


def render_version_problems(problems: Iterable[Any]) -> None:
    """`file:line:col: message` per definition or initiative whose version bump is missing or too small."""
    shown = list(problems)
    for p in shown:
        echo(f"{p.source.file}:{p.source.line}:{p.source.col}: {p.message}", err=True)
    echo(f"{count(len(shown), 'version problem')}: bump `version:` (major for breaking changes) "
         "or build with --no-version-check.", err=True)


def render_schemas(paths: Iterable[Path]) -> None:
    for path in paths:
        echo(f"wrote {path}")
