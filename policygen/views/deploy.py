"""Human views for plan, apply, remediate and status (rich); the JSON plan view is `Plan.to_json`.

Both plan views take their numbers from `Plan.summary()`, so they can never disagree.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from policygen.arm.scopes import ScopeError, parse_scope
from policygen.azure.apply import ApplyResult, Op, OpResult
from policygen.azure.diff import MISSING
from policygen.azure.plan import Change, Plan
from policygen.azure.remediate import RemediationRun, TaskState
from policygen.azure.status import AssignmentCompliance

SYMBOLS = {"create": ("+", "green", "create"), "update": ("~", "yellow", "update in-place"),
           "replace": ("-/+", "magenta", "destroy and then create replacement"), "delete": ("-", "red", "destroy")}
ORDER = ("create", "update", "replace", "delete")


def _short(scope: str) -> str:
    try:
        return parse_scope(scope).short
    except ScopeError:
        return scope


def _value(v: Any, width: int = 90) -> str:
    if v == MISSING:
        return "(absent)"
    text = json.dumps(v, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def _pair(before: Any, after: Any, width: int = 60) -> tuple[str, str]:
    """Both sides of a change, cut to `width` around where they first differ (long strings often differ at
    the end, and two identical-looking prefixes would hide the change)."""
    b, a = _value(before, 10_000), _value(after, 10_000)
    if len(b) <= width and len(a) <= width:
        return b, a
    same = 0
    while same < min(len(a), len(b)) and a[same] == b[same]:
        same += 1
    start = max(0, same - width // 3)

    def cut(text: str) -> str:
        part = text[start:start + width]
        return ("…" if start else "") + part + ("…" if start + width < len(text) else "")

    return cut(b), cut(a)


def target_line(plan: Plan) -> str:
    t = plan.target
    where = f"emulator {t.endpoint}" if t.is_local else f"{t.cloud} tenant {t.tenant_id or '(default)'}"
    return (f"environment [bold]{escape(t.env)}[/] ({escape(where)}) · owner {escape(t.owner_id)} · "
            f"strategy {t.strategy}")


def render_plan(plan: Plan, console: Console, *, read_seconds: float | None = None) -> None:
    console.print(f"policygen plan: {target_line(plan)}")
    counts = plan.prior.get("counts") or {}
    took = f" in {read_seconds:.1f} s" if read_seconds is not None else ""
    console.print(f"Read {plan.prior.get('list_calls', 0)} lists{took}: "
                  + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items()), style="dim")
    for w in plan.warnings:
        console.print(f"[yellow]warning:[/] {escape(w)}")
    _lifecycle(plan, console)
    pending = plan.pending()
    if not pending and not plan.remediations:
        console.print(f"\n[green]No changes.[/] Azure matches the pack ({len(plan.changes)} objects).")
        _unmanaged(plan, console)
        return
    present = [a for a in ORDER if any(c.action == a for c in pending)]
    if present:
        console.print("\nActions are indicated with the following symbols:")
        for a in present:
            sym, color, text = SYMBOLS[a]
            console.print(f"  [{color}]{sym:>3}[/] {text}")
        console.print("\npolicygen will perform the following actions:")
        console.print(_counts_table(plan))
        for c in pending:
            sym, color, _ = SYMBOLS[c.action]
            why = c.reason or ("principal known after apply" if c.kind == "role_assignment" and c.action == "create"
                               and not (c.after or {}).get("properties", {}).get("principalId") else "")
            console.print(f"  [{color}]{sym:>3}[/] {escape(c.address)} [dim]{escape(_short(c.scope))}"
                          + (f" · {escape(why)}" if why else "") + "[/]")
        detailed = [c for c in pending if c.diff and c.action in ("update", "replace")]
        for c in detailed:
            sym, color, _ = SYMBOLS[c.action]
            console.print(f"\n  [{color}]{sym}[/] [bold]{escape(c.address)}[/]"
                          + (f" [dim]({escape(c.reason)})[/]" if c.reason else ""))
            for d in c.diff:
                if d.before == MISSING:
                    console.print(f"      [green]+[/] {escape(d.path)} = {escape(_value(d.after))}")
                elif d.after == MISSING:
                    console.print(f"      [red]-[/] {escape(d.path)} = {escape(_value(d.before))}")
                else:
                    before, after = _pair(d.before, d.after)
                    console.print(f"      [yellow]~[/] {escape(d.path)}: {escape(before)} [dim]->[/] {escape(after)}")
    if plan.remediations:
        console.print("\nRemediation tasks apply will start:")
        for t in plan.remediations:
            console.print(f"  [cyan]»[/] {escape(t.assignment)} / {escape(t.reference_id or t.definition_id)} "
                          f"[dim]({escape(t.effect)}; {escape(t.reason)})[/]")
    _unmanaged(plan, console)
    console.print("\n" + plan_summary_line(plan))


def _lifecycle(plan: Plan, console: Console) -> None:
    """Rollout stage in force and definition versions each assignment runs (plan.lifecycle)."""
    notes = plan.lifecycle or {}
    for r in notes.get("rollouts") or []:
        locs = r.get("locations")
        where = "every region" if locs is None else ", ".join(locs) or "no region yet"
        nxt = f"; next: {r['next']}" if r.get("next") else "; final stage"
        console.print(f"rollout: {escape(r['assignment'])} stage {r['index'] + 1}/{len(r['stages'])} "
                      f"[bold]{escape(r['stage'])}[/]: {escape(r['effect'])} in {escape(where)}, "
                      f"{escape(r['from'])} elsewhere ({escape(', '.join(r.get('members') or []) or 'all members')})"
                      f"{escape(nxt)}", soft_wrap=True)
        if r.get("impact") is not None:
            console.print(f"  on the inventory this stage denies {r['impact']['denied']} of "
                          f"{r['impact']['evaluated']} resource(s) it evaluates", style="dim")
    for v in notes.get("versions") or []:
        if v.get("before") and v["before"] != v.get("after"):
            pin = f" (pinned {v['pin']})" if v.get("pin") else ""
            replaced = " - replaced" if v.get("replaced") else ""
            console.print(f"version: {escape(v['assignment'])} runs {escape(v['definition'])} "
                          f"{escape(str(v['before']))} -> {escape(str(v.get('after')))}{escape(pin + replaced)}",
                          soft_wrap=True)


def _counts_table(plan: Plan) -> Table:
    """Kinds x actions, the numbers behind the closing `Plan:` line."""
    kinds = ("definition", "initiative", "assignment", "role_assignment", "exemption")
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("")
    for a in (*ORDER, "no-op"):
        table.add_column(a, justify="right")
    for kind in kinds:
        row = [sum(1 for c in plan.changes if c.kind == kind and c.action == a) for a in (*ORDER, "no-op")]
        if any(row):
            table.add_row(kind.replace("_", " "), *(str(n) if n else "·" for n in row))
    return table


def _unmanaged(plan: Plan, console: Console) -> None:
    if not plan.unmanaged:
        return
    console.print(f"\nLeft alone ({len(plan.unmanaged)} not owned by this pack):", style="dim")
    for u in plan.unmanaged[:20]:
        console.print(f"  [dim]{u.kind} {escape(u.id)} — {escape(u.note)}[/]")
    if len(plan.unmanaged) > 20:
        console.print(f"  [dim]… and {len(plan.unmanaged) - 20} more[/]")


def plan_summary_line(plan: Plan) -> str:
    s = plan.summary()
    line = f"[bold]Plan:[/] {s['add']} to add, {s['change']} to change, {s['destroy']} to destroy."
    if s["remediate"]:
        line += f" {s['remediate']} remediation task{'s' if s['remediate'] != 1 else ''} to start."
    return line


class ApplyProgress:
    """Live progress for apply: a bar plus one line per finished write (and per retry)."""

    def __init__(self, console: Console, verbose: bool = True):
        self.console = console
        self.verbose = verbose
        self.lock = threading.Lock()
        self.progress = Progress(TextColumn("[bold]Applying"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TextColumn("{task.description}"), console=console,
                                 transient=True)
        self.task: Any = None

    def __enter__(self) -> ApplyProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

    def start(self, total: int) -> None:
        with self.lock:
            self.task = self.progress.add_task("", total=total)

    def op_started(self, op: Op) -> None:
        with self.lock:
            self.progress.update(self.task, description=escape(op.address))

    def op_retrying(self, op: Op, reason: str, attempt: int, delay: float) -> None:
        if not self.verbose:  # --quiet: the summary line counts retries and throttling
            return
        with self.lock:
            self.progress.console.print(f"  [dim]{escape(op.address)}: retry {attempt} in {delay:.1f} s "
                                        f"({escape(reason)})[/]")

    def op_finished(self, op: Op, result: OpResult) -> None:
        with self.lock:
            self.progress.advance(self.task)
            if result.status == "failed":
                self.progress.console.print(f"  [red]✗[/] {escape(op.label)}: {escape(result.error or '')}")
            elif result.status == "skipped":
                self.progress.console.print(f"  [yellow]·[/] {escape(op.label)} [dim]({escape(result.error or '')})[/]")
            elif self.verbose:
                note = {"exists": " (already granted)", "gone": " (already gone)"}.get(result.status, "")
                self.progress.console.print(f"  [green]✓[/] {escape(op.label)}{note} [dim]{result.seconds:.2f} s[/]")


def render_apply_result(result: ApplyResult, console: Console) -> None:
    c = result.counts()
    s = result.stats
    traffic = (f"{s.get('requests', 0)} requests ({s.get('writes', 0)} writes, {s.get('retries', 0)} retries"
               + (f", {s.get('throttled', 0)} throttled" if s.get("throttled") else "")
               + (f", {s.get('principal_waits', 0)} identity-replication waits" if s.get("principal_waits") else "")
               + f") in {result.seconds:.1f} s")
    body = (f"Resources: {c['created'] + c['replaced']} added, {c['updated']} changed, "
            f"{c['deleted'] + c['replaced']} destroyed.")
    if c["remediations"]:
        body += f" {c['remediations']} remediation task{'s' if c['remediations'] != 1 else ''} started."
    if result.interrupted:
        console.print(f"\n[red bold]Apply interrupted.[/] {body} Run `policygen apply` again to converge.")
    elif c["failed"] or c["skipped"]:
        console.print(f"\n[red bold]Apply failed:[/] {c['failed']} failed, {c['skipped']} skipped. {body}")
        for r in result.results:
            if r.status == "failed":
                console.print(f"  [red]✗[/] {escape(r.address)}: {escape(r.error or '')}")
    else:
        console.print(f"\n[green bold]Apply complete![/] {body}")
    console.print(traffic, style="dim")
    if result.remediations:
        console.print("Follow the remediation tasks with `policygen remediate --wait` or `policygen status`.",
                      style="dim")


def render_remediation(run: RemediationRun, console: Console) -> None:
    for note in run.skipped:
        console.print(f"[dim]{escape(note)}[/]")
    if run.evaluated:
        console.print(f"[dim]On-demand evaluation of {len(run.evaluated)} subscription(s) finished.[/]")
    if not run.tasks:
        console.print("No remediation tasks to run.")
        return
    table = Table(header_style="bold", box=None)
    # Azure's statusMessage on a success ("Every remediation deployment succeeded.") says what State says.
    notes = {t.address: t.error or (t.message if t.failed else "")
             or ("" if t.started_here else "already running; not started again") for t in run.tasks}
    table.add_column("Assignment", no_wrap=True)
    table.add_column("Member", no_wrap=True)
    table.add_column("State", no_wrap=True)
    table.add_column("Deployments", justify="right", no_wrap=True)
    if any(notes.values()):
        table.add_column("Note", overflow="fold", min_width=24)
    for t in run.tasks:
        color = "red" if t.failed else ("green" if t.done else "yellow")
        dep = t.deployments
        deployments = f"{dep.get('successful', 0)}/{dep.get('total', 0)}" + (
            f" ({dep['failed']} failed)" if dep.get("failed") else "") if dep else "-"
        assignment, _, member = t.address.removeprefix("remediation.").partition(".")
        row = [escape(assignment), escape(member), f"[{color}]{escape(t.state)}[/]", deployments]
        table.add_row(*row, *([escape(notes[t.address])] if any(notes.values()) else []))
    console.print(table)
    failed = sum(1 for t in run.tasks if t.failed)
    started = sum(1 for t in run.tasks if t.started_here)
    if failed:
        console.print(f"[red bold]{failed} remediation task(s) failed.[/]")
    elif run.waited:
        console.print(f"[green bold]Remediation complete:[/] {len(run.tasks)} task(s) finished "
                      f"({started} started now).")
    else:
        console.print(f"{started} remediation task(s) started; `policygen remediate --wait` follows them to the end.")


class RemediationProgress:
    """Live view of remediation tasks: a bar of finished tasks plus one line per state change."""

    def __init__(self, console: Console):
        self.lock = threading.Lock()
        self.states: dict[str, TaskState] = {}
        self.progress = Progress(TextColumn("[bold]Remediating"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=console, transient=True)
        self.task = self.progress.add_task("", total=None)

    def __enter__(self) -> RemediationProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

    def __call__(self, t: TaskState) -> None:
        with self.lock:
            self.states[t.address] = t
            done = sum(1 for s in self.states.values() if s.done)
            self.progress.update(self.task, total=len(self.states), completed=done)
            color = "red" if t.failed else ("green" if t.done else "dim")
            self.progress.console.print(f"  [{color}]{escape(t.address.removeprefix('remediation.'))}: "
                                        f"{escape(t.state)}" + (f" — {escape(t.error)}" if t.error else "") + "[/]")


def remediation_update_printer(console: Console) -> Any:
    """State lines without a bar (the demo's quiet runs, logs)."""
    lock = threading.Lock()

    def on_update(t: TaskState) -> None:
        with lock:
            console.print(f"  [dim]{escape(t.address.removeprefix('remediation.'))}: {escape(t.state)}"
                          + (f" — {escape(t.error)}" if t.error else "") + "[/]")

    return on_update


def render_status(rows: list[AssignmentCompliance], console: Console, title: str = "Compliance",
                  members: bool = False) -> None:
    if not rows:
        console.print("No assignments of this pack are deployed in this environment.")
        return
    table = Table(title=f"{title} (resources failing/passing; policies failing/total)", header_style="bold",
                  title_justify="left")
    table.add_column("Assignment", no_wrap=True)
    table.add_column("Scope", no_wrap=True)
    table.add_column("Failing", justify="right")  # non-compliant resources
    table.add_column("Passing", justify="right")
    table.add_column("%", justify="right")
    table.add_column("Policies", justify="right")  # failing / evaluated
    for r in rows:
        pct = "-" if r.percent is None else f"{r.percent:.0f}%"
        color = "green" if r.noncompliant_resources == 0 else "red"
        table.add_row(escape(r.name), escape(_short(r.scope)), f"[{color}]{r.noncompliant_resources}[/]",
                      str(r.compliant_resources), pct, f"{r.noncompliant_policies}/{r.policies}")
    console.print(table)
    if members:
        for r in rows:
            bad = [m for m in r.members if m.noncompliant_resources]
            if bad:
                shown = ", ".join(f"{escape(m.reference_id or m.definition)} ({m.noncompliant_resources})"
                                  for m in bad[:8])
                more = f" and {len(bad) - 8} more" if len(bad) > 8 else ""
                console.print(f"  [bold]{escape(r.name)}[/] failing: {shown}{more}", soft_wrap=True)
            exempt = [m for m in r.members if m.exempt_resources]
            if exempt:
                shown = ", ".join(f"{escape(m.reference_id or m.definition)} ({m.exempt_resources})" for m in exempt)
                console.print(f"  [bold]{escape(r.name)}[/] exempt: {shown}", soft_wrap=True)


def change_line(c: Change) -> str:
    sym, color, _ = SYMBOLS.get(c.action, ("", "white", ""))
    return f"[{color}]{sym}[/] {escape(c.address)}"
