"""Remediation tasks: one per deployIfNotExists/modify member (initiative reference id) of our deployed
assignments, skipped when an equivalent task is still running, optionally after an on-demand evaluation,
and optionally waited for.

Azure remediates existing resources only through these tasks, and only with compliance data
(`ExistingNonCompliant`): `trigger_evaluation` asks for a scan of every subscription under each scope first
(Azure offers on-demand scans at subscription and resource-group scope only).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from policygen.arm.scopes import key, name_of_id
from policygen.azure.plan import RemediationTask, remediated_before_change
from policygen.azure.remote import DONE_STATES, RemoteObject

FAILED_STATES = {"failed", "canceled", "cancelled"}


@dataclass
class TaskState:
    address: str
    scope: str
    name: str
    id: str
    state: str
    started_here: bool  # False: an equivalent task was already running and we waited for it
    deployments: dict[str, int] = field(default_factory=dict)  # total / successful / failed
    message: str | None = None
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.error is not None or self.state.lower() in DONE_STATES

    @property
    def failed(self) -> bool:
        return self.error is not None or self.state.lower() in FAILED_STATES


@dataclass
class RemediationRun:
    tasks: list[TaskState] = field(default_factory=list)
    evaluated: list[str] = field(default_factory=list)  # scopes scanned on demand
    skipped: list[str] = field(default_factory=list)  # human notes (not deployed, nothing to remediate)
    waited: bool = False

    @property
    def ok(self) -> bool:
        return all(not t.failed for t in self.tasks) and (not self.waited or all(t.done for t in self.tasks))


def tasks_for(assignments: list[tuple[Any, list[Any]]], remediations: dict[str, RemoteObject],
              only: str | None = None) -> tuple[list[RemediationTask], list[RemoteObject], list[str]]:
    """(tasks to start, equivalent tasks already running, notes) for [(desired assignment, needs)]."""
    start: list[RemediationTask] = []
    running: list[RemoteObject] = []
    notes: list[str] = []
    for a, needs in assignments:
        label = a.label or a.name  # one scope's copy of a multi-scope assignment: name@scope
        if only and only.lower() not in (a.name.lower(), label.lower()):
            continue
        if not needs:
            notes.append(f"{label}: no deployIfNotExists or modify policy in force; nothing to remediate")
            continue
        for need in needs:
            same = [t for t in remediations.values()
                    if key(t.props.get("policyAssignmentId")) == key(a.id)
                    and key(t.props.get("policyDefinitionReferenceId")) == key(need.reference_id) and t.running]
            if same:
                running.extend(same)
                continue
            start.append(RemediationTask(label, a.id, a.scope, need.reference_id, need.definition_id, need.effect,
                                         "requested", {k: v for k, v in a.remediation.items() if k != "enabled"}))
    return start, running, notes


def _state_of(body: dict[str, Any]) -> tuple[str, dict[str, int], str | None]:
    props = body.get("properties") or {}
    ds = props.get("deploymentStatus") or {}
    deployments = {"total": int(ds.get("totalDeployments") or 0),
                   "successful": int(ds.get("successfulDeployments") or 0),
                   "failed": int(ds.get("failedDeployments") or 0)}
    return str(props.get("provisioningState") or "Accepted"), deployments, props.get("statusMessage")


def run_remediation(arm: Any, start: list[RemediationTask], running: list[RemoteObject], *,
                    evaluate_scopes: list[str] = (), wait: bool = False, poll_s: float = 5.0,
                    timeout_s: float = 3600.0, concurrency: int = 8,
                    on_update: Callable[[TaskState], None] | None = None,
                    remote: Any = None) -> RemediationRun:
    """Trigger evaluations, create tasks, and (with `wait`) poll them until they end.

    Given the `remote` state, a member that already has a finished task since its assignment and roles were
    last written, and that the latest compliance data shows with no non-compliant resource, gets no new task:
    it would deploy nothing (e.g. `remediate` right after apply's own task fixed everything). Its note goes to
    `run.skipped`. A member never remediated still gets its task, so plan's convergence check is met."""
    run = RemediationRun(waited=wait)
    if evaluate_scopes:
        subs = sorted({s for scope in evaluate_scopes for s in arm.subscriptions_under(scope)})
        with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(subs) or 1))) as pool:
            list(pool.map(lambda s: arm.trigger_evaluation(f"/subscriptions/{s}"), subs))
        run.evaluated = [f"/subscriptions/{s}" for s in subs]
    if remote is not None and start:
        start, run.skipped = _with_noncompliant(arm, start, remote, concurrency)
    run_id = uuid.uuid4().hex[:8]

    def create(t: RemediationTask) -> TaskState:
        from policygen.azure.apply import remediation_name

        name = remediation_name(t, run_id)
        rid = f"{t.scope}/providers/Microsoft.PolicyInsights/remediations/{name}"
        try:
            reply = arm.put_remediation(t.scope, name, t.body())
        except Exception as exc:  # noqa: BLE001 - one failed task must not stop the others
            return TaskState(t.address, t.scope, name, rid, "Failed", True, error=_message(exc))
        state, deployments, message = _state_of(reply)
        return TaskState(t.address, t.scope, name, reply.get("id") or rid, state, True, deployments, message)

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(start) or 1))) as pool:
        run.tasks = list(pool.map(create, start))
    for r in running:
        state, deployments, message = _state_of(r.body)
        ref = r.props.get("policyDefinitionReferenceId") or name_of_id(str(r.props.get("policyDefinitionId") or ""))
        run.tasks.append(TaskState(f"remediation.{name_of_id(str(r.props.get('policyAssignmentId')))}.{ref}",
                                   r.scope, r.name, r.id, state, False, deployments, message))
    run.tasks.sort(key=lambda t: t.address)
    for t in run.tasks:
        if on_update:
            on_update(t)
    if wait:
        deadline = time.monotonic() + timeout_s
        while not all(t.done for t in run.tasks) and time.monotonic() < deadline:
            time.sleep(poll_s)
            pending = [t for t in run.tasks if not t.done]
            with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(pending)))) as pool:
                replies = list(pool.map(lambda t: _poll(arm, t), pending))
            for t, reply in zip(pending, replies, strict=True):
                if isinstance(reply, str):
                    t.error = reply
                else:
                    old = t.state
                    t.state, t.deployments, t.message = _state_of(reply)
                    if t.state == old:
                        continue
                if on_update:
                    on_update(t)
        for t in run.tasks:
            if not t.done:
                t.error = f"still {t.state} after {timeout_s:.0f} s"
    return run


def _with_noncompliant(arm: Any, start: list[RemediationTask], remote: Any,
                       concurrency: int) -> tuple[list[RemediationTask], list[str]]:
    """`start` less the members already remediated since their last change and now without a non-compliant
    resource (no compliance row counts as unknown: kept)."""
    def remediated(t: RemediationTask) -> bool:
        done = [r for r in remote.remediations.values()
                if key(r.props.get("policyAssignmentId")) == key(t.assignment_id)
                and key(r.props.get("policyDefinitionReferenceId")) == key(t.reference_id)
                and str(r.props.get("provisioningState") or "").lower() == "succeeded"]
        return bool(done) and not remediated_before_change(done, remote, key(t.assignment_id))

    candidates = [t for t in start if remediated(t)]
    if not candidates:
        return start, []
    scopes = sorted({key(t.scope): t.scope for t in candidates}.values(), key=str.lower)

    def summarize(scope: str) -> dict[str, Any]:
        try:
            return arm.summarize(scope)
        except Exception:  # noqa: BLE001 - without a summary every task is started, as before
            return {}

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(scopes)))) as pool:
        summaries = dict(zip([key(s) for s in scopes], pool.map(summarize, scopes), strict=True))
    keep, notes = [], []
    for t in start:
        count = _noncompliant(summaries.get(key(t.scope)) or {}, t) if t in candidates else None
        if count == 0:
            member = f"{t.assignment}/{t.reference_id}" if t.reference_id else t.assignment
            notes.append(f"{member}: no non-compliant resources in the latest compliance data; nothing to "
                         "remediate (`--evaluate` rescans first)")
        else:
            keep.append(t)
    return keep, notes


def _noncompliant(summary: dict[str, Any], t: RemediationTask) -> int | None:
    """Non-compliant resources of the task's member in a summarize reply; None when the reply has no row."""
    for value in summary.get("value") or []:
        for pa in value.get("policyAssignments") or []:
            if key(pa.get("policyAssignmentId")) != key(t.assignment_id):
                continue
            if not t.reference_id:
                return int((pa.get("results") or {}).get("nonCompliantResources") or 0)
            for m in pa.get("policyDefinitions") or []:
                if key(m.get("policyDefinitionReferenceId")) == key(t.reference_id):
                    return int((m.get("results") or {}).get("nonCompliantResources") or 0)
    return None


def _poll(arm: Any, t: TaskState) -> dict[str, Any] | str:
    try:
        return arm.get_remediation(t.scope, t.name)
    except Exception as exc:  # noqa: BLE001
        return _message(exc)


def _message(exc: BaseException) -> str:
    err = getattr(exc, "error", None)
    if err is not None and getattr(err, "code", None):
        return f"{err.code}: {err.message}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
