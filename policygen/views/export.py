"""What `policygen export`, `policygen docs` and `policygen init` print."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from policygen.export.common import SyncSummary
from policygen.views.console import echo


def render_sync(what: str, summary: SyncSummary) -> None:
    echo(f"{what}: {len(summary.files)} files in {summary.out_dir} "
         f"({len(summary.written)} written, {len(summary.unchanged)} unchanged, {len(summary.removed)} removed)")
    for rel in summary.written:
        echo(f"  wrote   {rel}")
    for rel in summary.removed:
        echo(f"  removed {rel}")


def render_scaffold(folder: Path, written: Sequence[str]) -> None:
    echo(f"created pack in {folder} ({len(written)} files):")
    for rel in written:
        echo(f"  {rel}")
    echo(f"next: `policygen demo {folder}` runs it end to end against the local emulator; then edit "
         "policygen.yaml's `azure` environment (tenant, management groups) for a real tenant.")
