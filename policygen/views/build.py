"""What `policygen build` and `policygen schema` print."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rich.markup import escape

from policygen.artefacts import Build
from policygen.render import WriteSummary
from policygen.views.console import count, echo, make_console


def render_build(build: Build, summary: WriteSummary, out: Path) -> None:
    console = make_console()
    console.print(
        f"Built {count(len(build.definitions), 'definition')}, {count(len(build.initiatives), 'initiative')}, "
        f"{count(len(build.assignments), 'assignment')}, {count(len(build.tests), 'policy test')} into "
        f"{escape(str(out))}/ "
        f"({len(summary.written)} written, {len(summary.unchanged)} unchanged, {len(summary.removed)} removed)."
    )
    for path in summary.removed:
        console.print(f"  removed stale {path}", markup=False)


def render_schemas(paths: Iterable[Path]) -> None:
    for path in paths:
        echo(f"wrote {path}")
