"""What `policygen impact` prints: warnings and progress on stderr; a table, JSON or CSV on stdout."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

from rich.markup import escape as rich_escape

from policygen.tasks.impact import TABLE_ROWS, ImpactInputs, ImpactResult
from policygen.views.console import make_console
from policygen.views.encoding import VisibleFile, echo_json, echo_visible, shown


def render_warnings(inputs: ImpactInputs) -> None:
    err = make_console(stderr=True)
    err.file = VisibleFile(err.file)
    for s in inputs.skipped:
        err.print(f"[yellow]skipped[/] {rich_escape(shown(s, err.encoding))}")
    bare = inputs.bare
    if bare:
        err.print(
            f"[yellow]warning:[/] {bare} of {len(inputs.inventory)} resources carry no properties (`az resource list` "
            "omits them): conditions on aliases see missing values. Export with Azure Resource Graph "
            '(`az graph query -q "Resources"`) or `az resource show` for faithful results.'
        )


@contextlib.contextmanager
def progress_bar(total: int, show: bool | None) -> Iterator[Callable[[int], None] | None]:
    """A bar on stderr (default: on for 10,000+ resources on a terminal); yields the advance callback."""
    if not (show if show is not None else (total >= 10_000 and sys.stderr.isatty())):
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("evaluating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=make_console(stderr=True)) as bar:
        task = bar.add_task("resources", total=total)
        yield lambda n: bar.advance(task, n)


def render(result: ImpactResult, fmt: str, *, why: bool = False) -> None:
    if fmt == "json":
        echo_json(json.dumps({"resources": result.resources, "policies": result.summary,
                         "results": [r.to_json() for r in result.rows]}, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        echo_visible(_csv(result.rows, why), nl=False)
    else:
        render_table(result.summary, result.rows, result.resources)


def _csv(rows: list[Any], why: bool) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    header = ["policy", "effect", "resourceId", "resourceType", "matched", "compliant", "denied", "error"]
    w.writerow(header + (["reason"] if why else []))
    for r in rows:
        w.writerow([r.policy, r.effect, r.resource_id, r.resource_type, r.matched,
                    "" if r.compliant is None else r.compliant, r.denied, r.error or ""]
                   + ([r.reason or ""] if why else []))
    return buf.getvalue()


def render_table(summary: list[dict[str, Any]], rows: list[Any], n_resources: int) -> None:
    from rich.table import Table

    console = make_console(plain_width=120)
    console.file = VisibleFile(console.file)  # what stdout cannot carry (a lone surrogate, € in latin-1) escaped
    enc = console.encoding

    def escape(text: str) -> str:  # shown as itself, measured as shown
        return rich_escape(shown(text, enc))

    table = Table(title=f"Impact on {n_resources} resources", title_justify="left")
    for col, just in (("policy", "left"), ("effect", "left"), ("evaluated", "right"), ("non-compliant", "right"),
                      ("denied", "right"), ("errors", "right")):
        table.add_column(col, justify=just, no_wrap=True)  # type: ignore[arg-type]
    for s in summary:
        if not s["evaluated"]:
            continue
        style = "red" if s["nonCompliant"] or s["denied"] else None
        name = s["displayName"] if len(s["displayName"]) <= 48 else s["displayName"][:47] + "…"
        table.add_row(escape(name), s["effect"], str(s["evaluated"]), str(s["nonCompliant"]), str(s["denied"]),
                      str(s["errors"]), style=style)
    console.print(table)
    not_applicable = [s["policy"] for s in summary if not s["evaluated"]]
    if not_applicable:
        console.print(f"[dim]{len(not_applicable)} policies matched no resource type in the inventory[/]")
    by_policy: dict[str, list] = {}
    for r in rows:
        by_policy.setdefault(r.policy, []).append(r)
    names = {s["policy"]: s["displayName"] for s in summary}
    flagged: dict[str, int] = {}
    for s in summary:
        flagged.setdefault(s["policy"], s["flagged"])
    for name, items in by_policy.items():
        title = names.get(name, name)
        # one print per policy: rich lays out each line of the text on its own, as it would line by line,
        # at a fraction of the cost of a print per line (a 100,000-resource run lists ~5,000 lines)
        lines = [f"[bold]{escape(title)}[/]" + (f" ({escape(name)})" if title != name else "")]
        for r in items[:TABLE_ROWS]:
            what = ("error: " + r.error if r.error
                    else ("denied" if r.denied else "non-compliant" if r.compliant is False else "compliant"))
            lines.append(f"  {escape(r.resource_id)}  [red]{escape(what)}[/]")
            if r.reason:
                lines.append(f"    [dim]why: {escape(r.reason)}[/]")
        total = flagged.get(name, len(items))
        if total > TABLE_ROWS:
            lines.append(f"  … and {total - TABLE_ROWS} more (use --format json or csv for all)")
        console.print("\n".join(lines))
