"""What `policygen demo` prints: one numbered rule per step and the deploy views for its data."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape

from policygen.artefacts import Build
from policygen.errors import PolicygenError
from policygen.tasks.demo import DemoResult
from policygen.views.console import count
from policygen.views.deploy import (
    ApplyProgress,
    remediation_update_printer,
    render_apply_result,
    render_plan,
    render_remediation,
    render_status,
)


class DemoView:
    """A `tasks.demo.DemoReporter` printing to a console; `verbose=False` drops per-write lines."""

    def __init__(self, console: Console, *, verbose: bool = True):
        self.console = console
        self.verbose = verbose

    def started(self) -> None:
        self.console.print("[bold]policygen demo[/]: intents -> policies -> validated -> tested -> planned -> "
                           "applied -> remediated, against a local Azure emulator (no Azure account needed).")

    def step(self, n: int, title: str) -> None:
        self.console.print()
        self.console.rule(f"[bold]{n}. {escape(title)}", align="left", style="blue")

    def emulator(self, url: str, seed: str) -> None:
        self.console.print(f"Emulator listening on {escape(url)}, seeded from {escape(seed)}.")

    def built(self, build: Build, owner_id: str) -> None:
        self.console.print(f"{count(len(build.definitions), 'definition')}, "
                           f"{count(len(build.initiatives), 'initiative')}, "
                           f"{count(len(build.assignments), 'assignment')}, {count(len(build.tests), 'policy test')} "
                           f"(owner marker {escape(owner_id)}).")

    def validated(self, findings: list[Any] | None, errors: list[Any]) -> None:
        if findings is None:
            self.console.print("[yellow]validator not available in this installation; skipped[/]")
            return
        self.console.print(f"{len(findings)} finding(s), {len(errors)} error(s).")
        for f in errors[:10]:
            self.console.print(f"  [red]{escape(str(f))}[/]")

    def tested(self, run: Any | None) -> None:
        if run is None:
            self.console.print("[yellow]policy test runner not available in this installation; skipped[/]")
            return
        self.console.print(f"{len(run.results) - len(run.failed)}/{len(run.results)} passed in {run.seconds:.2f} s.")
        for r in run.failed[:10]:
            self.console.print(f"  [red]FAILED {escape(r.case.definition)}::{escape(r.case.name)}: "
                               f"{escape('; '.join(r.failures))}[/]")

    def stopping(self) -> None:
        self.console.print("[red]Stopping: fix the findings above first.[/]")

    def planned(self, plan: Any) -> None:
        render_plan(plan, self.console)
        if plan.remediations:
            self.console.print("[dim](The demo applies without them and starts remediation in step 8, after "
                               "showing compliance; a plain `policygen apply` starts them at the end.)[/]")

    def applying(self) -> contextlib.AbstractContextManager[Any]:
        return ApplyProgress(self.console, verbose=self.verbose)

    def applied(self, result: Any) -> None:
        render_apply_result(result, self.console)

    def compliance(self, rows: list[Any], title: str) -> None:
        render_status(rows, self.console, title=title, members=True)

    def remediation_updates(self) -> Callable[[Any], None] | None:
        return remediation_update_printer(self.console) if self.verbose else None

    def remediated(self, run: Any) -> None:
        render_remediation(run, self.console)

    def compared(self, before: dict[str, int], after: dict[str, int], deployments: int) -> None:
        self.console.print(f"Non-compliant resources: {before['noncompliant_resources']} before -> "
                           f"{after['noncompliant_resources']} after ({deployments} remediation deployment(s)). "
                           "What is left needs a deny at creation time or a fix by the owner: remediation only "
                           "modifies or deploys.")

    def replanned(self, plan: Any) -> None:
        if plan.has_changes:
            render_plan(plan, self.console)
            self.console.print("[red]The second plan is not empty: apply did not converge.[/]")
        else:
            self.console.print(f"[green]No changes.[/] Azure matches the pack ({len(plan.changes)} objects); "
                               "re-running apply would make no writes.")

    def failed(self, error: PolicygenError) -> None:
        self.console.print(f"[red bold]demo failed:[/] {escape(str(error))}")

    def finished(self, result: DemoResult) -> None:
        seed = escape(result.seed)
        if result.ok:
            self.console.print(f"\n[green bold]Demo complete[/] in {result.seconds:.1f} s ({result.requests} ARM "
                               "requests served by the emulator). Next: `policygen plan --env local` against "
                               f"`policygen emulator --seed {seed}`, or point an environment at Azure "
                               "(docs/deploy.md).")
        else:
            self.console.print(f"\n[red bold]Demo failed[/] after {result.seconds:.1f} s.")
