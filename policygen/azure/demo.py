"""`policygen demo`: the newcomer's first command. Composes the stage APIs and views end to end against
an in-process emulator seeded from the pack's `local` environment, so nothing needs configuring.

Steps: start emulator -> build -> validate -> policy tests -> plan -> apply -> compliance before ->
remediate (wait) -> compliance after -> re-plan (no changes). Returns False if any step fails.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from policygen.errors import Diagnostic, InputError, PolicygenError

DEMO_ENV = "local"


@contextlib.contextmanager
def _endpoint(url: str) -> Iterator[None]:
    from policygen.azure.target import ENDPOINT_ENV

    old = os.environ.get(ENDPOINT_ENV)
    os.environ[ENDPOINT_ENV] = url
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(ENDPOINT_ENV, None)
        else:
            os.environ[ENDPOINT_ENV] = old


def _step(console: Console, n: int, title: str) -> None:
    console.print()
    console.rule(f"[bold]{n}. {title}", align="left", style="blue")


def run_demo(pack: Path, console: Console, *, verbose: bool = True) -> bool:
    from policygen.render import compile_pack

    started = time.perf_counter()
    console.print("[bold]policygen demo[/]: intents -> policies -> validated -> tested -> planned -> applied -> "
                  "remediated, against a local Azure emulator (no Azure account needed).")
    if not (pack / "policygen.yaml").is_file():
        raise InputError(Diagnostic(str(pack.resolve()), 0, 0, "no policygen.yaml here; run `policygen demo` in the "
                                    "repository root or pass the pack folder"))
    build = compile_pack(pack, env=DEMO_ENV)
    spec = build.pack.environments.get(DEMO_ENV) or {}
    seed = spec.get("seed")
    seed_path = (pack / seed) if seed else None
    if seed_path is None or not seed_path.is_file():
        raise InputError(f"{pack}/policygen.yaml: environment {DEMO_ENV!r} needs a `seed` file for the emulator "
                         f"(found {seed!r})")
    from policygen.emulator.server import running_emulator

    _step(console, 1, "Start the emulator")
    with running_emulator(seed=str(seed_path)) as url, _endpoint(url):
        console.print(f"Emulator listening on {url}, seeded from {escape(str(seed))}.")
        try:
            ok = _run(pack, build, console, verbose)
        except PolicygenError as exc:
            console.print(f"[red bold]demo failed:[/] {escape(str(exc))}")
            ok = False
        requests = len(url.requests)
    took = time.perf_counter() - started
    if ok:
        console.print(f"\n[green bold]Demo complete[/] in {took:.1f} s ({requests} ARM requests served by the "
                      "emulator). Next: `policygen plan --env local` against `policygen emulator --seed "
                      f"{escape(str(seed))}`, or point an environment at Azure (docs/deploy.md).")
    else:
        console.print(f"\n[red bold]Demo failed[/] after {took:.1f} s.")
    return ok


def _run(pack: Path, build: object, console: Console, verbose: bool) -> bool:
    from policygen.azure.apply import ApplyInterrupted, execute
    from policygen.azure.remediate import run_remediation, tasks_for
    from policygen.azure.status import compliance, totals
    from policygen.azure.target import resolve_target
    from policygen.azure.views import (
        ApplyProgress,
        remediation_update_printer,
        render_apply_result,
        render_plan,
        render_remediation,
        render_status,
    )
    from policygen.azure.workflow import connect, deployed_assignments, plan_build, remediation_setup

    target = resolve_target(build, DEMO_ENV)  # type: ignore[arg-type]
    ok = True

    _step(console, 2, "Build the pack")
    console.print(f"{len(build.definitions)} definitions, {len(build.initiatives)} initiatives, "  # type: ignore[attr-defined]
                  f"{len(build.assignments)} assignments, {len(build.tests)} policy tests "  # type: ignore[attr-defined]
                  f"(owner marker {escape(target.owner_id)}).")

    _step(console, 3, "Validate")
    try:
        from policygen.rules import has_errors, validate_paths
    except ImportError:
        console.print("[yellow]validator not available in this installation; skipped[/]")
    else:
        findings = validate_paths([pack])
        errors = [f for f in findings if has_errors([f])]
        console.print(f"{len(findings)} finding(s), {len(errors)} error(s).")
        for f in errors[:10]:
            console.print(f"  [red]{escape(str(f))}[/]")
        ok = ok and not errors

    _step(console, 4, "Run the policy unit tests")
    try:
        from policygen.evaluate.testing import run_tests
    except ImportError:
        console.print("[yellow]policy test runner not available in this installation; skipped[/]")
    else:
        run = run_tests(build.definitions, build.tests)  # type: ignore[attr-defined]
        console.print(f"{len(run.results) - len(run.failed)}/{len(run.results)} passed in {run.seconds:.2f} s.")
        for r in run.failed[:10]:
            console.print(f"  [red]FAILED {escape(r.case.definition)}::{escape(r.case.name)}: "
                          f"{escape('; '.join(r.failures))}[/]")
        ok = ok and not run.failed
    if not ok:
        console.print("[red]Stopping: fix the findings above first.[/]")
        return False

    arm = connect(target)
    _step(console, 5, "Plan")
    planned = plan_build(build, target, arm).plan  # type: ignore[arg-type]
    render_plan(planned, console)
    if planned.remediations:
        console.print("[dim](The demo applies without them and starts remediation in step 8, after showing "
                      "compliance; a plain `policygen apply` starts them at the end.)[/]")

    _step(console, 6, "Apply")
    try:
        with ApplyProgress(console, verbose=verbose) as progress:
            applied = execute(planned, arm, remediate=False, reporter=progress)
    except ApplyInterrupted as stop:
        render_apply_result(stop.result, console)
        return False
    render_apply_result(applied, console)
    ok = ok and applied.ok

    _step(console, 7, "Compliance before remediation")
    before = compliance(arm, deployed_assignments(build, target, arm))  # type: ignore[arg-type]
    render_status(before, console, title="Compliance before remediation", members=True)

    _step(console, 8, "Remediate (deployIfNotExists and modify members)")
    setup = remediation_setup(build, target, arm)  # type: ignore[arg-type]
    start, running, notes = tasks_for(setup.pairs, setup.remote.remediations)
    scopes = sorted({a.scope for a, needs in setup.pairs if needs})
    remediation = run_remediation(arm, start, running, evaluate_scopes=scopes, wait=True, poll_s=0.1,
                                  timeout_s=120, on_update=remediation_update_printer(console) if verbose else None)
    remediation.skipped = setup.notes + notes
    render_remediation(remediation, console)
    ok = ok and remediation.ok

    _step(console, 9, "Compliance after remediation")
    after = compliance(arm, deployed_assignments(build, target, arm))  # type: ignore[arg-type]
    render_status(after, console, title="Compliance after remediation", members=True)
    b, a = totals(before), totals(after)
    deployments = sum(t.deployments.get("successful", 0) for t in remediation.tasks)
    console.print(f"Non-compliant resources: {b['noncompliant_resources']} before -> {a['noncompliant_resources']} "
                  f"after ({deployments} remediation deployment(s)). What is left needs a deny at creation time "
                  "or a fix by the owner: remediation only modifies or deploys.")

    _step(console, 10, "Plan again")
    again = plan_build(build, target, arm).plan  # type: ignore[arg-type]
    if again.has_changes:
        render_plan(again, console)
        console.print("[red]The second plan is not empty: apply did not converge.[/]")
        ok = False
    else:
        console.print(f"[green]No changes.[/] Azure matches the pack ({len(again.changes)} objects); "
                      "re-running apply would make no writes.")
    return ok
