"""`policygen demo`: the newcomer's first command, every stage end to end against an in-process emulator
seeded from the pack's `local` environment, so nothing needs configuring.

Steps: start emulator -> build -> validate -> policy tests -> plan -> apply -> compliance before ->
remediate (wait) -> compliance after -> re-plan (no changes). The task prints nothing: it hands each
step's data to a `DemoReporter` (views/demo.py) as it goes, and returns whether every step passed.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from policygen.artefacts import Build
from policygen.errors import Diagnostic, InputError, PolicygenError
from policygen.intents.pack import is_pack

DEMO_ENV = "local"


class DemoReporter(Protocol):
    """What the demo tells its view, step by step (a Protocol so tasks never import views)."""

    def started(self) -> None: ...
    def step(self, n: int, title: str) -> None: ...
    def emulator(self, url: str, seed: str) -> None: ...
    def built(self, build: Build, owner_id: str) -> None: ...
    def validated(self, findings: list[Any] | None, errors: list[Any]) -> None: ...
    def tested(self, run: Any | None) -> None: ...
    def stopping(self) -> None: ...
    def planned(self, plan: Any) -> None: ...
    def applying(self) -> contextlib.AbstractContextManager[Any]: ...
    def applied(self, result: Any) -> None: ...
    def compliance(self, rows: list[Any], title: str) -> None: ...
    def remediation_updates(self) -> Callable[[Any], None] | None: ...
    def remediated(self, run: Any) -> None: ...
    def compared(self, before: dict[str, int], after: dict[str, int], deployments: int) -> None: ...
    def replanned(self, plan: Any) -> None: ...
    def failed(self, error: PolicygenError) -> None: ...
    def finished(self, result: DemoResult) -> None: ...


@dataclass
class DemoResult:
    ok: bool
    seconds: float
    requests: int  # ARM requests the emulator served
    seed: str


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


def run_demo(pack: Path, report: DemoReporter) -> DemoResult:
    """Compile the pack once for `local`, start the emulator from its seed and run every step."""
    from policygen.emulator.server import running_emulator
    from policygen.render import compile_pack

    started = time.perf_counter()
    report.started()
    if not is_pack(pack):
        raise InputError(Diagnostic(str(pack.resolve()), 0, 0, "no policygen.yaml here; run `policygen demo` in the "
                                    "repository root or pass the pack folder"))
    build = compile_pack(pack, env=DEMO_ENV)
    seed = (build.pack.environments.get(DEMO_ENV) or {}).get("seed")
    seed_path = (pack / seed) if seed else None
    if seed_path is None or not seed_path.is_file():
        found = f"{seed_path} does not exist" if seed_path else "it sets no `seed:`"
        raise InputError(f"{pack}/policygen.yaml: environment {DEMO_ENV!r} needs a `seed` file for the emulator "
                         f"({found})")
    report.step(1, "Start the emulator")
    with running_emulator(seed=str(seed_path)) as url, _endpoint(url):
        report.emulator(url, str(seed))
        try:
            ok = _steps(pack, build, report)
        except PolicygenError as exc:
            report.failed(exc)
            ok = False
        requests = len(url.requests)
    result = DemoResult(ok, time.perf_counter() - started, requests, str(seed))
    report.finished(result)
    return result


def _steps(pack: Path, build: Build, report: DemoReporter) -> bool:
    from policygen.azure.target import resolve_target
    from policygen.azure.workflow import connect, plan_build

    target = resolve_target(build, DEMO_ENV)
    report.step(2, "Build the pack")
    report.built(build, target.owner_id)
    report.step(3, "Validate")
    ok = _validate(build, report)
    report.step(4, "Run the policy unit tests")
    ok = _test(build, report) and ok
    if not ok:
        report.stopping()
        return False
    arm = connect(target)
    report.step(5, "Plan")
    planned = plan_build(build, target, arm).plan
    report.planned(planned)
    report.step(6, "Apply")
    ok = _apply(planned, arm, report)
    if ok is None:
        return False
    ok = _remediate(build, target, arm, report) and ok
    report.step(10, "Plan again")
    again = plan_build(build, target, arm).plan
    report.replanned(again)
    return ok and not again.has_changes


def _validate(build: Build, report: DemoReporter) -> bool:
    try:
        from policygen.rules import has_errors, validate_build
    except ImportError:
        report.validated(None, [])
        return True
    findings = validate_build(build)
    errors = [f for f in findings if has_errors([f])]
    report.validated(findings, errors)
    return not errors


def _test(build: Build, report: DemoReporter) -> bool:
    try:
        from policygen.evaluate.testing import run_tests
    except ImportError:
        report.tested(None)
        return True
    run = run_tests(build.definitions, build.tests)
    report.tested(run)
    return not run.failed


def _apply(planned: Any, arm: Any, report: DemoReporter) -> bool | None:
    """True/False: apply ran (and succeeded or not); None: interrupted, the demo stops."""
    from policygen.azure.apply import ApplyInterrupted, execute

    try:
        with report.applying() as progress:
            applied = execute(planned, arm, remediate=False, reporter=progress)
    except ApplyInterrupted as stop:
        report.applied(stop.result)
        return None
    report.applied(applied)
    return bool(applied.ok)


def _remediate(build: Build, target: Any, arm: Any, report: DemoReporter) -> bool:
    """Compliance before, remediation of the deployIfNotExists/modify members (waited for), compliance after."""
    from policygen.azure.remediate import run_remediation, tasks_for
    from policygen.azure.status import compliance, totals
    from policygen.azure.workflow import deployed_assignments, remediation_setup

    report.step(7, "Compliance before remediation")
    before = compliance(arm, deployed_assignments(build, target, arm))
    report.compliance(before, "Compliance before remediation")
    report.step(8, "Remediate (deployIfNotExists and modify members)")
    setup = remediation_setup(build, target, arm)
    start, running, notes = tasks_for(setup.pairs, setup.remote.remediations)
    scopes = sorted({a.scope for a, needs in setup.pairs if needs})
    remediation = run_remediation(arm, start, running, evaluate_scopes=scopes, wait=True, poll_s=0.1,
                                  timeout_s=120, on_update=report.remediation_updates())
    remediation.skipped = setup.notes + notes + remediation.skipped
    report.remediated(remediation)
    report.step(9, "Compliance after remediation")
    after = compliance(arm, deployed_assignments(build, target, arm))
    report.compliance(after, "Compliance after remediation")
    deployments = sum(t.deployments.get("successful", 0) for t in remediation.tasks)
    report.compared(totals(before), totals(after), deployments)
    return bool(remediation.ok)
