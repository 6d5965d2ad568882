"""Diff the desired state against Azure: a Plan of Changes, terraform-style.

Each Change has an `actions` list: ["no-op"], ["create"], ["update"], ["delete"] or, when Azure cannot
update in place, ["delete", "create"] (a replace, which cascades: initiatives referencing a replaced
definition and assignments referencing a replaced definition or initiative are replaced too, and a replaced
assignment's role assignments move to its new identity). Deletes only touch objects carrying our owner
marker, unless the strategy is `full` (then also objects with no marker; another owner's never).

A plan also lists the role assignments each identity needs, the remediation tasks apply will start, and
objects left alone. Saved as JSON (`format_version` 1.x) it is the approval for `apply --plan`, which
refuses it when any object it saw has changed since (`ensure_not_stale`).
"""

from __future__ import annotations

import calendar
import json
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from policygen import __version__
from policygen.arm.scopes import key, name_of_id, parse_scope
from policygen.azure import diff as diffing
from policygen.azure import lifecycle
from policygen.azure.desired import Desired, RoleNeed
from policygen.azure.remote import RemoteObject, RemoteState, role_description
from policygen.azure.target import Target
from policygen.errors import ExitCode, PolicygenError

FORMAT_VERSION = "1.0"
KIND_ORDER = {"definition": 0, "initiative": 1, "assignment": 2, "role_assignment": 3, "exemption": 4}
EXPIRY_WARNING_DAYS = 30
ROLE_NAMESPACE = uuid.UUID("6f1a3a8e-64c1-4f0c-9a43-2b8c1c7d9e55")
ROLE_NAMES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "4d97b98b-1d4f-4787-a291-c67834d212e7": "Network Contributor",
    "17d1049b-9a84-46fb-8f53-869881c3d3ab": "Storage Account Contributor",
    "f25e0fa2-a7c8-4377-a976-54943a77a395": "Key Vault Contributor",
    "4a9ae827-6dc8-4573-8ac7-8239d42aa03f": "Tag Contributor",
    "fb1c8493-542b-48eb-b624-b4c8fea62acd": "Security Admin",
}


class PlanError(PolicygenError):
    """The plan cannot be made or used (conflicting ownership, unreadable plan file)."""

    exit_code = ExitCode.UNUSABLE


class StalePlanError(PlanError):
    """Azure changed since the plan was saved: applying it would act on state nobody approved."""

    def __init__(self, addresses: list[str]):
        self.addresses = addresses
        shown = ", ".join(addresses[:5]) + (f" and {len(addresses) - 5} more" if len(addresses) > 5 else "")
        super().__init__(f"Saved plan is stale: {shown} changed since it was made; run `policygen plan` again.")


def role_assignment_name(scope: str, principal_id: str, role_guid: str) -> str:
    """Deterministic GUID, so a re-run after an interruption PUTs the same name instead of a duplicate."""
    return str(uuid.uuid5(ROLE_NAMESPACE, f"{key(scope)}|{principal_id.lower()}|{role_guid.lower()}"))


def role_label(role_guid: str) -> str:
    return ROLE_NAMES.get(role_guid.lower(), role_guid.lower()).replace(" ", "")


def role_definition_for_scope(role_definition_id: str, scope: str) -> str:
    """The role definition id ARM expects at a scope: subscription form below a subscription."""
    guid = name_of_id(role_definition_id)
    sub = parse_scope(scope).subscription
    if sub:
        return f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
    return f"/providers/Microsoft.Authorization/roleDefinitions/{guid}"


@dataclass
class Change:
    address: str
    kind: str
    name: str
    id: str
    scope: str
    actions: list[str]
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    before_etag: str | None = None
    reason: str | None = None
    action_reason: str | None = None
    diff: list[diffing.FieldDiff] = field(default_factory=list)
    owner: str | None = None  # owner class of the remote object
    assignment: str | None = None  # role assignments: the policy assignment id they serve
    role_definition_id: str | None = None

    @property
    def is_replace(self) -> bool:
        return self.actions == ["delete", "create"]

    @property
    def action(self) -> str:
        """One word: no-op, create, update, delete or replace."""
        return "replace" if self.is_replace else self.actions[0]

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "diff"}
        out["diff"] = [d.as_dict() for d in self.diff]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        known = {f for f in cls.__dataclass_fields__}
        kw = {k: v for k, v in data.items() if k in known and k != "diff"}
        kw["diff"] = [diffing.FieldDiff(d["path"], d.get("before"), d.get("after")) for d in data.get("diff") or []]
        return cls(**kw)


@dataclass
class RemediationTask:
    """A remediation task apply (or `remediate`) will start for one DINE/modify member of an assignment."""

    assignment: str
    assignment_id: str
    scope: str
    reference_id: str | None
    definition_id: str
    effect: str
    reason: str
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"remediation.{self.assignment}.{self.reference_id or name_of_id(self.definition_id)}"

    def body(self) -> dict[str, Any]:
        """REST body (api-version 2021-10-01, which knows failureThreshold and parallelDeployments)."""
        props: dict[str, Any] = {"policyAssignmentId": self.assignment_id,
                                 "resourceDiscoveryMode": self.settings.get("resourceDiscoveryMode",
                                                                            "ExistingNonCompliant")}
        if self.reference_id:
            props["policyDefinitionReferenceId"] = self.reference_id
        if self.settings.get("locations"):
            props["filters"] = {"locations": list(self.settings["locations"])}
        if self.settings.get("failureThreshold") is not None:
            props["failureThreshold"] = {"percentage": self.settings["failureThreshold"]}
        for k in ("parallelDeployments", "resourceCount"):
            if self.settings.get(k) is not None:
                props[k] = self.settings[k]
        return {"properties": props}

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Unmanaged:
    kind: str
    id: str
    owner: str  # owner class
    owner_id: str | None
    note: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Plan:
    target: Target
    pack: dict[str, Any]
    changes: list[Change] = field(default_factory=list)
    remediations: list[RemediationTask] = field(default_factory=list)
    unmanaged: list[Unmanaged] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    prior: dict[str, Any] = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)
    lifecycle: dict[str, Any] = field(default_factory=dict)  # lifecycle.plan_notes: expiring, versions, rollouts

    @property
    def owner_id(self) -> str:
        return self.target.owner_id

    def summary(self) -> dict[str, int]:
        """terraform's counting: a replace is one add and one destroy."""
        out = {"add": 0, "change": 0, "destroy": 0, "replace": 0, "no_op": 0, "remediate": len(self.remediations)}
        for c in self.changes:
            if c.is_replace:
                out["add"] += 1
                out["destroy"] += 1
                out["replace"] += 1
            elif c.actions == ["create"]:
                out["add"] += 1
            elif c.actions == ["update"]:
                out["change"] += 1
            elif c.actions == ["delete"]:
                out["destroy"] += 1
            else:
                out["no_op"] += 1
        return out

    @property
    def has_changes(self) -> bool:
        return bool(self.remediations) or any(c.actions != ["no-op"] for c in self.changes)

    def pending(self) -> list[Change]:
        return [c for c in self.changes if c.actions != ["no-op"]]

    def by_address(self) -> dict[str, Change]:
        return {c.address: c for c in self.changes}

    # ------------------------------------------------------------------ plan file

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "policygen_version": __version__,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.created_at)),
            "target": self.target.describe(),
            "pack": self.pack,
            "summary": self.summary(),
            "resource_changes": [c.as_dict() for c in self.changes],
            "remediations": [r.as_dict() for r in self.remediations],
            "unmanaged": [u.as_dict() for u in self.unmanaged],
            "warnings": self.warnings,
            "lifecycle": self.lifecycle,
            "prior_state": self.prior,
        }

    def write(self, path: Path | str) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2, sort_keys=False) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, data: dict[str, Any], where: str = "plan") -> Plan:
        version = str(data.get("format_version", ""))
        major = version.split(".", 1)[0]
        if major != FORMAT_VERSION.split(".", 1)[0]:
            raise PlanError(f"{where}: unsupported plan format_version {version!r}; this policygen reads "
                            f"{FORMAT_VERSION.split('.')[0]}.x")
        try:
            created = float(calendar.timegm(time.strptime(data.get("created_at", ""), "%Y-%m-%dT%H:%M:%SZ")))
        except ValueError:
            created = time.time()
        return cls(
            target=Target.from_description(data["target"]),
            pack=dict(data.get("pack") or {}),
            changes=[Change.from_dict(c) for c in data.get("resource_changes") or []],
            remediations=[RemediationTask(**r) for r in data.get("remediations") or []],
            unmanaged=[Unmanaged(**u) for u in data.get("unmanaged") or []],
            warnings=list(data.get("warnings") or []),
            prior=dict(data.get("prior_state") or {}),
            created_at=created,
            lifecycle=dict(data.get("lifecycle") or {}),
        )

    @classmethod
    def read(cls, path: Path | str) -> Plan:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise PlanError(f"{path}: cannot read plan file: {exc.strerror}") from exc
        except ValueError as exc:
            raise PlanError(f"{path}: not a policygen plan file (invalid JSON: {exc})") from exc
        if not isinstance(data, dict) or "resource_changes" not in data:
            raise PlanError(f"{path}: not a policygen plan file")
        try:
            return cls.from_json(data, str(path))
        except (KeyError, TypeError) as exc:
            raise PlanError(f"{path}: malformed plan file ({exc})") from exc


# --------------------------------------------------------------------------- diffing


def _referenced(obj: RemoteObject) -> set[str]:
    """Definition ids an initiative or assignment (as deployed) references."""
    if obj.kind == "initiative":
        return {key(r.get("policyDefinitionId")) for r in obj.props.get("policyDefinitions") or []}
    if obj.kind == "assignment":
        return {key(obj.props.get("policyDefinitionId"))}
    return set()


def make_plan(desired: Desired, remote: RemoteState, warnings: list[str] | None = None,
              pack: dict[str, Any] | None = None, *, expiry_days: int = EXPIRY_WARNING_DAYS,
              now: datetime | None = None) -> Plan:
    """The changes that take `remote` to `desired` under the target's ownership strategy.

    Exemptions follow the same ownership rules; one of ours that has expired and is no longer in the pack is
    deleted (reason `expired`), and those expiring within `expiry_days` are warned about."""
    target = desired.target
    owner = target.owner_id
    plan = Plan(target=target, pack=pack or {}, warnings=list(warnings or []))
    changes: dict[str, Change] = {}  # key(id) -> change, for definitions, initiatives, assignments
    conflicts: list[str] = []

    for kind, want, have in (("definition", desired.definitions, remote.definitions),
                             ("initiative", desired.initiatives, remote.initiatives),
                             ("assignment", desired.assignments, remote.assignments),
                             ("exemption", desired.exemptions, remote.exemptions)):
        for k, d in want.items():
            r = have.get(k)
            change = Change(address=d.address, kind=kind, name=d.name, id=d.id, scope=d.scope, actions=["create"],
                            after=d.body)
            if r is not None:
                change.before, change.before_etag = r.body, r.etag
                change.owner = r.owner_class(owner)
                meta = d.body.get("properties", {}).get("metadata") or {}
                adopts = change.owner == "otherPaC" and meta.get("adoptedFrom") == r.owner
                kept = change.owner == "otherPaC" and meta.get("pacOwnerId") == r.owner  # imported, marker kept
                if change.owner == "otherPaC" and not adopts and not kept:
                    conflicts.append(f"{d.address}: {r.id} belongs to another owner ({r.owner}); "
                                     "rename the object or remove it from that pack first")
                reasons = diffing.replace_reasons(kind, r.body, d.body)
                change.diff = diffing.compare(kind, r.body, d.body)
                if reasons:
                    change.actions = ["delete", "create"]
                    change.action_reason = f"replace_because_{reasons[0][0]}"
                    change.reason = "; ".join(text for _, text in reasons)
                elif change.diff:
                    change.actions = ["update"]
                    if change.owner == "unknownOwner":
                        change.action_reason = "update_adopts_unowned"
                        change.reason = "adopts an object with no owner marker"
                    elif adopts:  # `policygen import --adopt`: never silent
                        change.action_reason = "update_adopts_from_other_owner"
                        change.reason = f"adopts an object owned by {r.owner}"
                else:
                    change.actions = ["no-op"]
            changes[k] = change
        named = Counter(r.name.lower() for r in have.values())  # one name at several scopes: address by scope
        for k, r in have.items():
            if k in want:
                continue
            cls = r.owner_class(owner)
            if cls == "thisPaC" or (cls == "unknownOwner" and target.strategy == "full"):
                lapsed = kind == "exemption" and lifecycle.expired(r.body, now)
                address = f"{kind}.{r.name}" + (f"@{parse_scope(r.scope).short}" if named[r.name.lower()] > 1 else "")
                changes[k] = Change(address=address, kind=kind, name=r.name, id=r.id, scope=r.scope,
                                    actions=["delete"], before=r.body, before_etag=r.etag, owner=cls,
                                    action_reason="delete_because_expired" if lapsed else
                                    "delete_because_not_in_pack",
                                    reason=("expired " + lifecycle.expiry(r.body) + "; " if lapsed else "") +
                                    ("no longer in the pack" if cls == "thisPaC" else
                                     "no owner marker (strategy full)"))
            else:
                note = f"owned by {r.owner}" if cls == "otherPaC" else "no owner marker; kept (strategy ownedOnly)"
                plan.unmanaged.append(Unmanaged(kind, r.id, cls, r.owner, note))

    _keep_referenced(changes, remote, plan)
    _cascade_replacements(changes, remote, conflicts)
    if conflicts:
        raise PlanError("cannot plan:\n  " + "\n  ".join(conflicts))

    role_changes = _role_changes(desired, remote, changes, owner)
    plan.changes = sorted([*changes.values(), *role_changes],
                          key=lambda c: (KIND_ORDER.get(c.kind, 9), c.address))
    plan.remediations = _remediation_tasks(desired, remote, changes, role_changes)
    plan.prior = {
        "counts": remote.counts(),
        "scopes_read": remote.scopes_read,
        "list_calls": remote.list_calls,
        "etags": {o.id: o.etag for g in ("definition", "initiative", "assignment", "role_assignment", "exemption")
                  for o in remote.group(g).values()},
    }
    plan.lifecycle = lifecycle.plan_notes(desired, remote, changes, expiry_days, now)
    plan.warnings.extend(lifecycle.warnings(plan.lifecycle))
    plan.unmanaged.sort(key=lambda u: (KIND_ORDER.get(u.kind, 9), u.id.lower()))
    return plan


def _keep_referenced(changes: dict[str, Change], remote: RemoteState, plan: Plan) -> None:
    """Azure refuses to delete a definition or initiative that something we do not manage still
    references: keep it (with a warning) instead of planning a delete that is bound to fail."""
    for k, c in list(changes.items()):
        if c.actions != ["delete"] or c.kind not in ("definition", "initiative"):
            continue
        users = [r.id for group in (remote.initiatives, remote.assignments) for rk, r in group.items()
                 if k in _referenced(r) and rk not in changes]
        if users:
            del changes[k]
            plan.warnings.append(f"{c.address} is no longer in the pack but {users[0]}"
                                 + (f" and {len(users) - 1} more" if len(users) > 1 else "")
                                 + " (not managed by this pack) still references it; kept")
            plan.unmanaged.append(Unmanaged(c.kind, c.id, c.owner or "thisPaC", plan.owner_id,
                                            "ours, but still referenced by objects this pack does not manage"))


def _cascade_replacements(changes: dict[str, Change], remote: RemoteState, conflicts: list[str]) -> None:
    """Replacing a definition means deleting it, which Azure refuses while anything references it: replace
    the initiatives and assignments that reference it too (and what references those, transitively)."""
    replaced = {k for k, c in changes.items() if c.is_replace}
    frontier = set(replaced)
    while frontier:
        nxt: set[str] = set()
        for group in (remote.initiatives, remote.assignments):
            for k, r in group.items():
                hit = _referenced(r) & frontier
                if not hit:
                    continue
                c = changes.get(k)
                names = ", ".join(sorted(name_of_id(h) for h in hit))
                if c is None:  # an unmanaged object references what we must delete
                    conflicts.append(f"{r.id} (not managed by this pack) references {names}, which must be "
                                     "replaced; it would block the delete")
                    continue
                if c.actions in (["delete"],) or c.is_replace:
                    continue
                if c.actions == ["create"]:
                    continue
                c.actions = ["delete", "create"]
                c.action_reason = "replace_because_dependency_replaced"
                c.reason = f"references {names}, which is replaced"
                nxt.add(k)
        frontier = nxt - replaced
        replaced |= nxt


def _assignment_principal(change: Change | None, remote_obj: RemoteObject | None) -> str | None:
    """The identity principal the role assignments go to, when it is already known (no create/replace)."""
    if change is None or remote_obj is None or change.actions not in (["no-op"], ["update"]):
        return None
    ident = remote_obj.body.get("identity") or {}
    itype = str(ident.get("type", "")).lower()
    if itype == "systemassigned":
        return ident.get("principalId")
    if itype == "userassigned":
        uamis = ident.get("userAssignedIdentities") or {}
        for v in uamis.values():
            return (v or {}).get("principalId")
    return None


def _role_changes(desired: Desired, remote: RemoteState, changes: dict[str, Change], owner: str) -> list[Change]:
    out: dict[str, Change] = {}
    wanted: set[tuple[str, str, str]] = set()  # (scope key, principal, role guid) we keep
    # principals of assignments we own (as deployed) -> assignment; their role assignments are ours to manage
    owned_principals: dict[str, RemoteObject] = {}
    for r in remote.assignments.values():
        if r.owner == owner and r.principal:
            owned_principals[r.principal.lower()] = r

    held = _roles_held(remote)
    for akey, needs in desired.roles.items():
        a = desired.assignments[akey]
        principal = _assignment_principal(changes.get(akey), remote.assignments.get(akey))
        for need in needs:
            out_change = _role_change(a.label or a.name, a.id, a.scope, need, principal, held, owner)
            out[out_change.address] = out_change
            if principal:
                wanted.add((key(need.scope), principal.lower(), need.role_guid))

    for ra in remote.role_assignments.values():
        principal = ra.principal_id.lower()
        served = owned_principals.get(principal)
        marked = ra.owner == owner
        if not served and not marked:
            continue
        if (key(ra.scope), principal, ra.role_guid) in wanted:
            continue
        assignment_id = served.id if served else (ra.marked_assignment or "")
        asg_name = name_of_id(assignment_id) if assignment_id else "unknown"
        address = f"role_assignment.{asg_name}.{role_label(ra.role_guid)}"
        if key(ra.scope) != key(served.scope if served else ra.scope):
            address += f"@{parse_scope(ra.scope).short}"
        existing = out.get(address)
        if existing and existing.actions == ["create"] and existing.before is None:
            existing.actions = ["delete", "create"]
            existing.before, existing.before_etag, existing.owner = ra.body, ra.etag, "thisPaC"
            existing.action_reason = "replace_because_identity_replaced"
            existing.reason = "the assignment's identity is replaced"
            continue
        if existing:
            address += f"#{ra.name[:8]}"
        out[address] = Change(address=address, kind="role_assignment", name=ra.name, id=ra.id, scope=ra.scope,
                              actions=["delete"], before=ra.body, before_etag=ra.etag, owner="thisPaC",
                              assignment=assignment_id, role_definition_id=ra.props.get("roleDefinitionId"),
                              action_reason="delete_because_not_needed",
                              reason="the assignment no longer needs this role" if served and
                              key(served.id) in desired.assignments and key(served.id) not in
                              {k for k, c in changes.items() if c.is_replace or c.actions == ["delete"]}
                              else "its policy assignment is deleted or replaced")
    return list(out.values())


def _roles_held(remote: RemoteState) -> dict[tuple[str, str, str], RemoteObject]:
    """Role assignments by (scope key, principal, role guid); the first listed wins, as a scan would find it."""
    held: dict[tuple[str, str, str], RemoteObject] = {}
    for ra in remote.role_assignments.values():
        held.setdefault((key(ra.scope), ra.principal_id.lower(), ra.role_guid), ra)
    return held


def _role_change(asg_name: str, asg_id: str, asg_scope: str, need: RoleNeed, principal: str | None,
                 held: dict[tuple[str, str, str], RemoteObject], owner: str) -> Change:
    address = f"role_assignment.{asg_name}.{role_label(need.role_guid)}"
    if key(need.scope) != key(asg_scope):
        address += f"@{parse_scope(need.scope).short}"
    after = {"properties": {
        "roleDefinitionId": role_definition_for_scope(need.role_definition_id, need.scope),
        "principalId": principal,  # None: known after apply (the assignment's identity is created then)
        "principalType": "ServicePrincipal",
        "description": role_description(owner, asg_id),
    }}
    name = role_assignment_name(need.scope, principal, need.role_guid) if principal else ""
    rid = f"{need.scope}/providers/Microsoft.Authorization/roleAssignments/{name}" if name else ""
    change = Change(address=address, kind="role_assignment", name=name, id=rid, scope=need.scope, actions=["create"],
                    after=after, assignment=asg_id, role_definition_id=need.role_definition_id,
                    reason="needed by " + ", ".join(need.because) if need.because else None)
    ra = held.get((key(need.scope), principal.lower(), need.role_guid)) if principal else None
    if ra is not None:
        change.actions, change.before, change.before_etag = ["no-op"], ra.body, ra.etag
        change.name, change.id, change.owner = ra.name, ra.id, ra.owner_class(owner)
    return change


def _remediation_tasks(desired: Desired, remote: RemoteState, changes: dict[str, Change],
                       role_changes: list[Change]) -> list[RemediationTask]:
    """One task per DINE/modify member of each remediation-enabled assignment that changed, was never
    remediated, or was last remediated before it or its roles were written, unless an equivalent task is
    still running."""
    roles_granted = {key(c.assignment) for c in role_changes if c.actions != ["no-op"] and "create" in c.actions}
    tasks_of: dict[tuple[str, str], list[RemoteObject]] = {}
    for t in remote.remediations.values():
        tasks_of.setdefault((key(t.props.get("policyAssignmentId")), key(t.props.get("policyDefinitionReferenceId"))),
                            []).append(t)
    out: list[RemediationTask] = []
    for akey, needs in desired.remediations.items():
        a = desired.assignments[akey]
        if not a.remediation.get("enabled") or not needs:
            continue
        change = changes.get(akey)
        changed = change is not None and change.actions != ["no-op"]
        for need in needs:
            existing = tasks_of.get((akey, key(need.reference_id)), [])
            if any(t.running for t in existing) and not (change and change.is_replace):
                continue
            if changed:
                reason = f"assignment {change.action}d" if change.action != "replace" else "assignment replaced"
            elif akey in roles_granted:
                reason = "roles granted"
            elif not existing:
                reason = "never remediated"
            elif remediated_before_change(existing, remote, akey):
                reason = "not remediated since the assignment or its roles changed"
            else:
                continue
            out.append(RemediationTask(a.label or a.name, a.id, a.scope, need.reference_id, need.definition_id,
                                       need.effect, reason, {k: v for k, v in a.remediation.items() if k != "enabled"}))
    return sorted(out, key=lambda t: t.address)


CLOCK_SKEW_S = 1.0  # Policy, Authorization and PolicyInsights stamp times with their own clocks


def remediated_before_change(tasks: list[RemoteObject], remote: RemoteState, akey: str) -> bool:
    """The newest task started before the assignment or a role of its identity was last written: an apply
    stopped (or failed) after those writes and before the tasks it owed started, and nothing else will
    start them, since the objects themselves now match the pack."""
    newest_task = _latest(_stamp(t.props.get("createdOn")) for t in tasks)
    changed = _last_written(remote, akey)
    return newest_task is not None and changed is not None and newest_task + CLOCK_SKEW_S < changed


def _last_written(remote: RemoteState, akey: str) -> float | None:
    """Server time of the last write to a deployed assignment or to a role assignment of its identity."""
    asg = remote.assignments.get(akey)
    if asg is None:
        return None
    meta = asg.props.get("metadata") or {}
    stamps = [_stamp((asg.body.get("systemData") or {}).get("lastModifiedAt")), _stamp(meta.get("updatedOn")),
              _stamp(meta.get("createdOn"))]
    principals = _identity_principals(asg)
    stamps += [_stamp(ra.props.get(when)) for ra in remote.role_assignments.values()
               if ra.principal_id.lower() in principals for when in ("createdOn", "updatedOn")]
    return _latest(stamps)


def _identity_principals(asg: RemoteObject) -> set[str]:
    ident = asg.body.get("identity") or {}
    found = [ident.get("principalId")] + [(v or {}).get("principalId")
                                          for v in (ident.get("userAssignedIdentities") or {}).values()]
    return {str(p).lower() for p in found if p}


def _stamp(value: Any) -> float | None:
    """An ARM timestamp (ISO 8601, up to 7 fractional digits, `Z` or an offset) as epoch seconds."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _latest(stamps: Iterable[float | None]) -> float | None:
    return max((s for s in stamps if s is not None), default=None)


def ensure_not_stale(plan: Plan, remote: RemoteState) -> None:
    """Refuse a saved plan when any object it looked at changed (or appeared) since it was made."""
    stale: list[str] = []
    for c in plan.changes:
        if c.kind == "role_assignment" and not c.id:
            continue
        if c.kind == "exemption" and "exemption" not in (plan.prior.get("scopes_read") or {}):
            continue  # a plan saved before exemptions were read
        now = remote.etag(c.id) if c.id else None
        if now != c.before_etag:
            stale.append(c.address)
    if stale:
        raise StalePlanError(sorted(stale))
