"""Read the current state of an environment with list calls per scope and kind (never a GET per object).

One parallel round of list calls: custom definitions and initiatives at the definition scope, assignments
and role assignments at every scope the pack or its environment uses, exemptions where the pack makes them
and those of each of its assignments, remediation tasks where remediation may be planned, plus a GET for
each built-in definition the pack references (their bodies are needed to derive roles). Every object gets
a fingerprint (`etag`) so a saved plan can be checked for staleness.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from policygen.arm.scopes import key, name_of_id, scope_of_id

MARKER_RE = re.compile(r"pacOwnerId (\S+) for policy assignment (\S+)")
ASSIGNMENT_SEGMENT = "/providers/microsoft.authorization/policyassignments/"
DONE_STATES = {"succeeded", "complete", "failed", "canceled", "cancelled"}


def fingerprint(obj: dict[str, Any]) -> str:
    """A stable digest of an object as served: ARM policy objects have no etag, so we make one."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def role_description(owner_id: str, assignment_id: str) -> str:
    """Role assignments carry no metadata: the description records who made them and for which assignment."""
    return f"Managed by policygen: pacOwnerId {owner_id} for policy assignment {assignment_id}"


@dataclass
class RemoteObject:
    kind: str  # definition | initiative | assignment | role_assignment | remediation | exemption
    body: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.body.get("id", ""))

    @property
    def name(self) -> str:
        return str(self.body.get("name") or name_of_id(self.id))

    @property
    def props(self) -> dict[str, Any]:
        return self.body.get("properties") or {}

    @functools.cached_property
    def etag(self) -> str:
        return fingerprint(self.body)

    @property
    def owner(self) -> str | None:
        """The pacOwnerId written on the object (role assignments: from their description)."""
        if self.kind == "role_assignment":
            m = MARKER_RE.search(str(self.props.get("description") or ""))
            return m.group(1) if m else None
        meta = self.props.get("metadata") or {}
        return str(meta["pacOwnerId"]) if isinstance(meta, dict) and meta.get("pacOwnerId") else None

    def owner_class(self, owner_id: str) -> str:
        """EPAC's owner classes: thisPaC, otherPaC, unknownOwner."""
        mine = self.owner
        if mine is None:
            return "unknownOwner"
        return "thisPaC" if mine == owner_id else "otherPaC"

    # role assignments
    @property
    def principal_id(self) -> str:
        return str(self.props.get("principalId") or "")

    @property
    def role_guid(self) -> str:
        return name_of_id(str(self.props.get("roleDefinitionId") or "")).lower()

    @property
    def scope(self) -> str:
        if self.kind in ("assignment", "role_assignment"):
            return str(self.props.get("scope") or "")
        home = scope_of_id(self.id)
        return "" if home in (None, "/") else home

    @property
    def marked_assignment(self) -> str | None:
        m = MARKER_RE.search(str(self.props.get("description") or ""))
        return m.group(2) if m else None

    # assignments
    @property
    def principal(self) -> str | None:
        ident = self.body.get("identity") or {}
        if str(ident.get("type", "")).lower() == "systemassigned":
            return ident.get("principalId")
        return None

    # remediations
    @property
    def running(self) -> bool:
        return str(self.props.get("provisioningState") or "").lower() not in DONE_STATES


@dataclass
class RemoteState:
    """Everything read, keyed by lower-cased ARM id."""

    definitions: dict[str, RemoteObject] = field(default_factory=dict)
    initiatives: dict[str, RemoteObject] = field(default_factory=dict)
    assignments: dict[str, RemoteObject] = field(default_factory=dict)
    role_assignments: dict[str, RemoteObject] = field(default_factory=dict)
    remediations: dict[str, RemoteObject] = field(default_factory=dict)
    exemptions: dict[str, RemoteObject] = field(default_factory=dict)
    builtins: dict[str, dict[str, Any]] = field(default_factory=dict)  # key(id) -> body (None when missing)
    scopes_read: dict[str, list[str]] = field(default_factory=dict)  # kind -> scopes listed
    list_calls: int = 0

    def group(self, kind: str) -> dict[str, RemoteObject]:
        return {"definition": self.definitions, "initiative": self.initiatives, "assignment": self.assignments,
                "role_assignment": self.role_assignments, "remediation": self.remediations,
                "exemption": self.exemptions}[kind]

    def find(self, object_id: str) -> RemoteObject | None:
        k = key(object_id)
        for group in (self.definitions, self.initiatives, self.assignments, self.role_assignments, self.exemptions):
            if k in group:
                return group[k]
        return None

    def etag(self, object_id: str) -> str | None:
        obj = self.find(object_id)
        return obj.etag if obj else None

    def definition_body(self, object_id: str) -> dict[str, Any] | None:
        k = key(object_id)
        obj = self.definitions.get(k) or self.initiatives.get(k)
        return obj.body if obj else self.builtins.get(k)

    def counts(self) -> dict[str, int]:
        return {"definitions": len(self.definitions), "initiatives": len(self.initiatives),
                "assignments": len(self.assignments), "role_assignments": len(self.role_assignments),
                "remediations": len(self.remediations), "exemptions": len(self.exemptions)}


@dataclass(frozen=True)
class ReadPlan:
    """Which scopes to list for which kind."""

    definition_scopes: tuple[str, ...]
    assignment_scopes: tuple[str, ...]
    role_scopes: tuple[str, ...]
    remediation_scopes: tuple[str, ...] = ()
    builtin_ids: tuple[str, ...] = ()
    exemption_scopes: tuple[str, ...] = ()


def _uniq(items: list[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for s in items:
        if s and key(s) not in seen:
            seen[key(s)] = s.rstrip("/")
    return tuple(seen[k] for k in sorted(seen))


def read_plan_for(desired: Any) -> ReadPlan:
    """The scopes a desired state touches (plus the environment's declared scopes, where orphans may sit)."""
    target = desired.target
    def_scopes = [target.definition_scope] + [o.scope for o in desired.definitions.values()] + \
        [o.scope for o in desired.initiatives.values()]
    asg_scopes = [o.scope for o in desired.assignments.values()] + list(target.scopes.values())
    role_scopes = asg_scopes + [n.scope for needs in desired.roles.values() for n in needs]
    rem_scopes = [desired.assignments[k].scope for k, needs in desired.remediations.items()
                  if needs and desired.assignments[k].remediation.get("enabled")]
    # exemptions: exactly where the pack puts them, and every exemption of each of its assignments (so one
    # removed from the pack is found wherever it was made)
    ours = {key(o.id) for o in desired.assignments.values()}
    exemption_scopes = [o.scope for o in getattr(desired, "exemptions", {}).values()
                        if key(o.body["properties"].get("policyAssignmentId")) not in ours] + \
        [o.id for o in desired.assignments.values()]
    return ReadPlan(_uniq(def_scopes), _uniq(asg_scopes), _uniq(role_scopes), _uniq(rem_scopes),
                    _uniq(sorted(desired.builtin_references())), _uniq(exemption_scopes))


def _exemption_reads(entries: tuple[str, ...]) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    """Exemption reads: scopes listed exactly, and assignment ids grouped by the scope they are made at, so
    2,000 assignments over 50 management groups cost 50 listings instead of 2,000."""
    exact: list[str] = []
    by_scope: dict[str, tuple[str, list[str]]] = {}
    for entry in entries:
        home = scope_of_id(entry) if ASSIGNMENT_SEGMENT in entry.lower() else None
        if home:
            by_scope.setdefault(key(home), (home, []))[1].append(entry)
        else:
            exact.append(entry)
    return exact, {scope: tuple(ids) for scope, ids in by_scope.values()}


def read_remote(arm: Any, plan: ReadPlan, concurrency: int = 16,
                on_call: Callable[[str, str], None] | None = None) -> RemoteState:
    """List everything in `plan` in parallel and index it."""
    state = RemoteState()
    jobs: list[tuple[str, str, Callable[[], Any]]] = []
    for scope in plan.definition_scopes:
        jobs.append(("definition", scope, lambda s=scope: arm.list_definitions("definition", s)))
        jobs.append(("initiative", scope, lambda s=scope: arm.list_definitions("initiative", s)))
    for scope in plan.assignment_scopes:
        jobs.append(("assignment", scope, lambda s=scope: arm.list_assignments(s)))
    for scope in plan.role_scopes:
        jobs.append(("role_assignment", scope, lambda s=scope: arm.list_role_assignments(s)))
    for scope in plan.remediation_scopes:
        jobs.append(("remediation", scope, lambda s=scope: arm.list_remediations(s)))
    exact, of_assignments = _exemption_reads(plan.exemption_scopes)
    for scope in exact:
        jobs.append(("exemption", scope, lambda s=scope: arm.list_exemptions(s)))
    for scope, ids in of_assignments.items():
        jobs.append(("exemptions_of", scope, lambda s=scope, i=ids: arm.list_exemptions_of(s, i)))
    for bid in plan.builtin_ids:
        jobs.append(("builtin", bid, lambda b=bid: arm.get_definition(b)))

    def run(job: tuple[str, str, Callable[[], Any]]) -> tuple[str, str, Any]:
        kind, scope, fn = job
        result = fn()
        if on_call:
            on_call(kind, scope)
        return kind, scope, result

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(jobs) or 1)),
                            thread_name_prefix="policygen-read") as pool:
        results = list(pool.map(run, jobs))
    for kind, scope, result in results:
        state.list_calls += 1
        if kind == "builtin":
            if result:
                state.builtins[key(scope)] = result
            continue
        if kind == "exemptions_of":  # recorded as the assignment ids it stands for, as a saved plan lists them
            kind = "exemption"
            state.scopes_read.setdefault(kind, []).extend(of_assignments[scope])
        else:
            state.scopes_read.setdefault(kind, []).append(scope)
        group = state.group(kind)
        for item in result:
            obj = RemoteObject(kind, item)
            group[key(obj.id)] = obj
    return state
