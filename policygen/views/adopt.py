"""What `policygen import` prints: counts, lifted definitions per kind, and everything not reproduced exactly."""

from __future__ import annotations

from policygen.adopt.pack import Report
from policygen.views.console import echo


def render_import(report: Report, *, limit: int = 50) -> None:
    defs = report.definitions
    share = f"{100 * sum(report.lifted.values()) / defs:.0f}%" if defs else "0%"
    echo(f"import from {report.source}: pack written to {report.out}")
    echo(f"  {defs} definitions ({sum(report.lifted.values())} lifted to kinds = {share}, {report.custom} custom), "
         f"{report.counts['initiative']} initiatives, {report.counts['assignment']} assignments, "
         f"{report.counts['exemption']} exemptions")
    for kind, n in sorted(report.lifted.items(), key=lambda kv: (-kv[1], kv[0])):
        echo(f"    {kind}: {n}")
    total = sum(report.counts.values())
    echo(f"  {sum(report.exact.values())} of {total} objects build exactly as read")
    for title, lines in (("adopted (policygen becomes the owner on the next apply)", report.adopted),
                         ("not exact", report.inexact), ("not imported", report.skipped), ("notes", report.notes)):
        if lines:
            echo(f"  {title}: {len(lines)}")
            for line in lines[:limit]:
                echo(f"    {line}")
            if len(lines) > limit:
                echo(f"    … and {len(lines) - limit} more")
