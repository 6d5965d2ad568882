"""Execute a plan: a dependency graph of ARM writes run by a bounded thread pool.

Order (ARM contract, section 10): definitions -> initiatives -> assignments -> role assignments and exemptions ->
remediation; deletes in reverse, and a replace is a delete followed by a create. Rather than waiting for a
whole level to finish, each write starts as soon as the writes it depends on are done, and the ready
writes with the longest chain behind them go first, so the wall time approaches the critical path.

Every write is idempotent (PUT of the full body, DELETE tolerating 404, deterministic role-assignment
names, 409 RoleAssignmentExists treated as done), so an apply interrupted at any point converges when run
again. A failed write skips only what depends on it.
"""

from __future__ import annotations

import heapq
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from policygen.arm.scopes import key, name_of_id
from policygen.azure.plan import Change, Plan, RemediationTask, role_assignment_name
from policygen.azure.retry import error_code

DEFAULT_CONCURRENCY = 32
KIND_PHASE = {"definition": 0, "initiative": 1, "assignment": 2, "role_assignment": 3, "exemption": 3,
              "remediation": 4}


@dataclass
class Op:
    id: str
    verb: str  # put | delete | remediate
    address: str
    kind: str
    change: Change | None = None
    task: RemediationTask | None = None
    deps: set[str] = field(default_factory=set)
    dependants: set[str] = field(default_factory=set)
    height: int = 0  # longest chain of ops that wait for this one

    @property
    def label(self) -> str:
        if self.verb == "remediate":
            return f"start remediation {self.address}"
        if self.change is not None and self.change.is_replace:
            return f"{'delete (replace)' if self.verb == 'delete' else 'create (replace)'} {self.address}"
        if self.change is not None:
            return f"{self.change.actions[0] if self.verb == 'put' else 'delete'} {self.address}"
        return f"{self.verb} {self.address}"


@dataclass
class OpResult:
    op: str
    address: str
    verb: str
    status: str  # done | exists | gone | failed | skipped
    seconds: float = 0.0
    error: str | None = None
    retries: int = 0
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in ("done", "exists", "gone")


@dataclass
class ApplyResult:
    results: list[OpResult] = field(default_factory=list)
    seconds: float = 0.0
    stats: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False
    remediations: list[dict[str, Any]] = field(default_factory=list)  # tasks started: {address, id, name}

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(r.ok for r in self.results)

    def counts(self) -> dict[str, int]:
        out = {"created": 0, "updated": 0, "replaced": 0, "deleted": 0, "remediations": 0, "failed": 0, "skipped": 0}
        for r in self.results:
            if r.status == "failed":
                out["failed"] += 1
            elif r.status == "skipped":
                out["skipped"] += 1
            elif r.verb == "remediate":
                out["remediations"] += 1
            else:
                action = r.detail.get("action")
                if action == "replace":
                    if r.verb == "put":
                        out["replaced"] += 1
                elif action == "create":
                    out["created"] += 1
                elif action == "update":
                    out["updated"] += 1
                elif action == "delete":
                    out["deleted"] += 1
        return out


class Reporter(Protocol):
    def start(self, total: int) -> None: ...
    def op_started(self, op: Op) -> None: ...
    def op_retrying(self, op: Op, reason: str, attempt: int, delay: float) -> None: ...
    def op_finished(self, op: Op, result: OpResult) -> None: ...


class NullReporter:
    def start(self, total: int) -> None:
        pass

    def op_started(self, op: Op) -> None:
        pass

    def op_retrying(self, op: Op, reason: str, attempt: int, delay: float) -> None:
        pass

    def op_finished(self, op: Op, result: OpResult) -> None:
        pass


class ApplyInterrupted(KeyboardInterrupt):
    """Ctrl-C during apply: in-flight writes were allowed to finish; `result` says what was done."""

    def __init__(self, result: ApplyResult):
        super().__init__("apply interrupted")
        self.result = result


# --------------------------------------------------------------------------- graph


def _refs_after(change: Change) -> set[str]:
    body = change.after or {}
    props = body.get("properties") or {}
    if change.kind == "initiative":
        return {key(r.get("policyDefinitionId")) for r in props.get("policyDefinitions") or []}
    if change.kind == "assignment":
        return {key(props.get("policyDefinitionId"))}
    if change.kind == "exemption":
        return {key(props.get("policyAssignmentId"))}
    return set()


def _refs_before(change: Change) -> set[str]:
    body = change.before or {}
    props = body.get("properties") or {}
    if change.kind == "initiative":
        return {key(r.get("policyDefinitionId")) for r in props.get("policyDefinitions") or []}
    if change.kind == "assignment":
        return {key(props.get("policyDefinitionId"))}
    if change.kind == "exemption":
        return {key(props.get("policyAssignmentId"))}
    return set()


def build_graph(plan: Plan, remediate: bool = True) -> dict[str, Op]:
    """The ops of a plan with their dependencies (see the module docstring for the rules)."""
    ops: dict[str, Op] = {}
    put_of: dict[str, str] = {}  # key(object id) -> put op id
    delete_of: dict[str, str] = {}
    role_puts: dict[str, list[str]] = {}  # key(assignment id) -> role put op ids
    role_deletes: dict[str, list[str]] = {}
    for c in plan.pending():
        if "delete" in c.actions:
            op = Op(f"delete:{c.address}", "delete", c.address, c.kind, change=c)
            ops[op.id] = op
            target_id = (c.before or {}).get("id") or c.id
            if c.kind == "role_assignment":
                role_deletes.setdefault(key(c.assignment), []).append(op.id)
            else:
                delete_of[key(target_id)] = op.id
        if "create" in c.actions or "update" in c.actions:
            op = Op(f"put:{c.address}", "put", c.address, c.kind, change=c)
            ops[op.id] = op
            if c.is_replace:
                op.deps.add(f"delete:{c.address}")
            if c.kind == "role_assignment":
                role_puts.setdefault(key(c.assignment), []).append(op.id)
            else:
                put_of[key(c.id)] = op.id

    for op in list(ops.values()):
        c = op.change
        assert c is not None
        if op.verb == "put" and c.kind in ("initiative", "assignment", "exemption"):
            op.deps |= {put_of[r] for r in _refs_after(c) if r in put_of}
        if op.verb == "put" and c.kind == "role_assignment" and key(c.assignment) in put_of:
            op.deps.add(put_of[key(c.assignment)])
        if op.verb == "delete" and c.kind == "assignment":
            op.deps |= set(role_deletes.get(key((c.before or {}).get("id") or c.id), []))
    # a definition or initiative can only be deleted once nothing references it any more
    for c in plan.changes:
        for ref in _refs_before(c):
            if ref not in delete_of:
                continue
            blocker = ops.get(f"delete:{c.address}") or (ops.get(f"put:{c.address}")
                                                          if ref not in _refs_after(c) else None)
            if blocker is not None:
                ops[delete_of[ref]].deps.add(blocker.id)

    if remediate:
        for t in plan.remediations:
            op = Op(f"remediate:{t.address}", "remediate", t.address, "remediation", task=t)
            if key(t.assignment_id) in put_of:
                op.deps.add(put_of[key(t.assignment_id)])
            op.deps |= set(role_puts.get(key(t.assignment_id), []))
            ops[op.id] = op

    for op in ops.values():
        op.deps = {d for d in op.deps if d in ops}  # (a set of all ops per op was quadratic: 1 s for an estate)
        for d in op.deps:
            ops[d].dependants.add(op.id)
    _heights(ops)
    return ops


def _heights(ops: dict[str, Op]) -> None:
    order: list[str] = []
    pending = {o: len(op.dependants) for o, op in ops.items()}
    stack = [o for o, n in pending.items() if n == 0]
    while stack:
        o = stack.pop()
        order.append(o)
        for d in ops[o].deps:
            pending[d] -= 1
            if pending[d] == 0:
                stack.append(d)
    if len(order) != len(ops):
        cyclic = sorted(set(ops) - set(order))
        raise ValueError(f"dependency cycle among: {', '.join(cyclic[:5])}")
    for o in order:  # sinks first
        op = ops[o]
        op.height = 1 + max((ops[d].height for d in op.dependants), default=0)


def critical_path(ops: dict[str, Op]) -> int:
    """Length (in requests) of the longest dependency chain: the floor on wall time in round trips."""
    return max((op.height for op in ops.values()), default=0)


# --------------------------------------------------------------------------- execution


class Executor:
    """Runs one op: the ARM call(s) for it, with the principal of a freshly created identity threaded
    through to its role assignments."""

    def __init__(self, plan: Plan, arm: Any, reporter: Reporter, run_id: str):
        self.plan, self.arm, self.reporter, self.run_id = plan, arm, reporter, run_id
        self.principals: dict[str, str] = {}  # key(assignment id) -> principal id (from PUT replies)
        self.lock = threading.Lock()
        self.remediations: list[dict[str, Any]] = []

    def run(self, op: Op) -> OpResult:
        started = time.perf_counter()
        retries = [0]

        def on_retry(reason: str, attempt: int, delay: float) -> None:
            retries[0] += 1
            self.reporter.op_retrying(op, reason, attempt, delay)

        action = op.change.action if op.change else "remediate"
        result = OpResult(op.id, op.address, op.verb, "done", detail={"action": action})
        try:
            if op.verb == "remediate":
                assert op.task is not None
                result.detail.update(self._remediate(op.task, on_retry))
            elif op.verb == "delete":
                result.status = self._delete(op.change, on_retry)  # type: ignore[arg-type]
            else:
                result.status = self._put(op.change, on_retry)  # type: ignore[arg-type]
        except HttpResponseError as exc:
            result.status = "failed"
            code = error_code(exc)
            message = getattr(getattr(exc, "error", None), "message", None) or str(exc).splitlines()[0]
            result.error = f"{exc.status_code} {code}: {message}" if code else f"{exc.status_code}: {message}"
        except Exception as exc:  # a transport failure after all retries, or a bug: report, do not hang
            result.status = "failed"
            result.error = f"{type(exc).__name__}: {exc}"
        result.seconds = time.perf_counter() - started
        result.retries = retries[0]
        return result

    def _put(self, c: Change, on_retry: Callable[[str, int, float], None]) -> str:
        body = c.after or {}
        if c.kind in ("definition", "initiative"):
            self.arm.put_definition(c.kind, c.scope, c.name, body, on_retry=on_retry)
            return "done"
        if c.kind == "exemption":
            self.arm.put_exemption(c.scope, c.name, body, on_retry=on_retry)
            return "done"
        if c.kind == "assignment":
            reply = self.arm.put_assignment(c.scope, c.name, body, on_retry=on_retry)
            ident = reply.get("identity") or {}
            pid = ident.get("principalId")
            if not pid:
                for v in (ident.get("userAssignedIdentities") or {}).values():
                    pid = (v or {}).get("principalId")
            if pid:
                with self.lock:
                    self.principals[key(c.id)] = pid
            return "done"
        # role assignment
        props = dict(body.get("properties") or {})
        principal = props.get("principalId") or self.principals.get(key(c.assignment))
        if not principal:
            raise RuntimeError(f"the identity of {c.assignment} has no principal id; cannot grant its roles")
        props["principalId"] = principal
        guid = name_of_id(str(props["roleDefinitionId"]))
        name = c.name or role_assignment_name(c.scope, principal, guid)
        try:
            self.arm.put_role_assignment(c.scope, name, {"properties": props}, on_retry=on_retry)
        except ResourceExistsError:
            return "exists"  # same principal, role and scope under another name: already granted
        return "done"

    def _delete(self, c: Change, on_retry: Callable[[str, int, float], None]) -> str:
        before = c.before or {}
        target_id = before.get("id") or c.id
        name = before.get("name") or name_of_id(target_id)
        try:
            if c.kind in ("definition", "initiative"):
                self.arm.delete_definition(c.kind, c.scope, name, on_retry=on_retry)
            elif c.kind == "assignment":
                self.arm.delete_assignment(c.scope, name, on_retry=on_retry)
            elif c.kind == "exemption":
                self.arm.delete_exemption(c.scope, name, on_retry=on_retry)
            else:
                scope = (before.get("properties") or {}).get("scope") or c.scope
                self.arm.delete_role_assignment(scope, name, on_retry=on_retry)
        except ResourceNotFoundError:
            return "gone"
        return "done"

    def _remediate(self, t: RemediationTask, on_retry: Callable[[str, int, float], None]) -> dict[str, Any]:
        name = remediation_name(t, self.run_id)
        reply = self.arm.put_remediation(t.scope, name, t.body(), on_retry=on_retry)
        info = {"address": t.address, "name": name, "id": reply.get("id") or
                f"{t.scope}/providers/Microsoft.PolicyInsights/remediations/{name}", "scope": t.scope,
                "state": (reply.get("properties") or {}).get("provisioningState")}
        with self.lock:
            self.remediations.append(info)
        return info


def remediation_name(t: RemediationTask, run_id: str) -> str:
    ref = (t.reference_id or name_of_id(t.definition_id)).lower()
    return f"{t.assignment}-{ref}"[:70].rstrip("-") + f"-{run_id}"


def execute(plan: Plan, arm: Any, *, concurrency: int = DEFAULT_CONCURRENCY, remediate: bool = True,
            reporter: Reporter | None = None, ops: dict[str, Op] | None = None) -> ApplyResult:
    """Run the plan's writes; returns per-op results. Raises ApplyInterrupted on Ctrl-C (after in-flight
    writes finish), so the caller can report what was done."""
    reporter = reporter or NullReporter()
    ops = ops if ops is not None else build_graph(plan, remediate=remediate)
    executor = Executor(plan, arm, reporter, uuid.uuid4().hex[:8])
    result = ApplyResult()
    started = time.perf_counter()
    reporter.start(len(ops))
    waiting = {o: len(op.deps) for o, op in ops.items()}
    ready: list[tuple[int, int, str]] = [(-op.height, KIND_PHASE.get(op.kind, 9), o)
                                         for o, op in ops.items() if not op.deps]
    heapq.heapify(ready)
    done: set[str] = set()
    failed: set[str] = set()
    running: dict[Future[OpResult], Op] = {}
    stats_before = arm.stats.as_dict()

    def skip(o: str, because: str) -> None:
        """Mark everything downstream of a failed op as skipped."""
        stack = [o]
        while stack:
            cur = stack.pop()
            for d in ops[cur].dependants:
                if d in done or d in failed:
                    continue
                failed.add(d)
                res = OpResult(d, ops[d].address, ops[d].verb, "skipped", error=f"skipped: {because} failed")
                result.results.append(res)
                reporter.op_finished(ops[d], res)
                stack.append(d)

    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="policygen-apply")
    try:
        while ready or running:
            while ready and len(running) < concurrency:
                _, _, o = heapq.heappop(ready)
                if o in failed:
                    continue
                reporter.op_started(ops[o])
                running[pool.submit(executor.run, ops[o])] = ops[o]
            if not running:
                break
            finished, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
            for fut in finished:
                op = running.pop(fut)
                res = fut.result()
                result.results.append(res)
                reporter.op_finished(op, res)
                if res.ok:
                    done.add(op.id)
                    for d in op.dependants:
                        waiting[d] -= 1
                        if waiting[d] == 0 and d not in failed:
                            heapq.heappush(ready, (-ops[d].height, KIND_PHASE.get(ops[d].kind, 9), d))
                else:
                    failed.add(op.id)
                    skip(op.id, op.address)
    except KeyboardInterrupt:
        result.interrupted = True
        for fut, op in list(running.items()):
            try:
                res = fut.result()
            except Exception as exc:  # noqa: BLE001 - report and keep unwinding
                res = OpResult(op.id, op.address, op.verb, "failed", error=str(exc))
            result.results.append(res)
            reporter.op_finished(op, res)
        running.clear()
        pool.shutdown(wait=True, cancel_futures=True)
        _finish(result, arm, stats_before, started, executor)
        raise ApplyInterrupted(result) from None
    pool.shutdown(wait=True)
    _finish(result, arm, stats_before, started, executor)
    return result


def _finish(result: ApplyResult, arm: Any, before: dict[str, int], started: float, executor: Executor) -> None:
    now = arm.stats.as_dict()
    result.stats = {k: now[k] - before.get(k, 0) for k in now}
    result.seconds = time.perf_counter() - started
    result.remediations = sorted(executor.remediations, key=lambda r: r["address"])
