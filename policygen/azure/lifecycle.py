"""What a plan says about the lifecycle of a pack: exemptions that lapse soon (or have lapsed), the definition
version each assignment runs before and after apply, and the rollout stage each staged assignment is in.

Sources: exemption structure ("Expiration": an expired exemption stays until deleted but no longer exempts),
https://learn.microsoft.com/azure/governance/policy/concepts/exemption-structure; assignment structure
("Policy definition ID and version": an assignment without a pin runs the latest version of its major),
https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from policygen.arm.exemptions import expires_at, is_expired
from policygen.arm.scopes import key, name_of_id
from policygen.artefacts import SourceRef
from policygen.render.versions import check


def _when(body: dict[str, Any]) -> datetime | None:
    return expires_at(body.get("properties") or {})


def expired(body: dict[str, Any], now: datetime | None = None) -> bool:
    return is_expired(body.get("properties") or {}, now)


def expiry(body: dict[str, Any]) -> str:
    when = _when(body)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if when else "never"


def _version(body: dict[str, Any] | None) -> str | None:
    if not body:
        return None
    props = body.get("properties") or {}
    return props.get("version") or (props.get("metadata") or {}).get("version")


def plan_notes(desired: Any, remote: Any, changes: dict[str, Any], expiry_days: int,
               now: datetime | None = None) -> dict[str, Any]:
    """{"expiring": [...], "versions": [...], "rollouts": [...]}: plain data for the plan file and views."""
    now = now or datetime.now(UTC)
    horizon = now + timedelta(days=expiry_days)
    expiring = []
    for obj in sorted(desired.exemptions.values(), key=lambda o: o.name):
        when = _when(obj.body)
        if when is not None and when <= horizon:
            props = obj.body.get("properties") or {}
            expiring.append({"exemption": obj.name, "assignment": name_of_id(props.get("policyAssignmentId", "")),
                             "scope": obj.scope, "expiresOn": expiry(obj.body),
                             "days": max(0, (when - now).days)})
    versions = []
    local = {**desired.definitions, **desired.initiatives}
    for k, a in sorted(desired.assignments.items(), key=lambda kv: kv[1].name):
        props = a.body.get("properties") or {}
        target = str(props.get("policyDefinitionId") or "")
        after = _version(local[key(target)].body) if key(target) in local else _version(
            remote.definition_body(target))
        before_obj = remote.definitions.get(key(target)) or remote.initiatives.get(key(target))
        before = _version(before_obj.body) if before_obj else _version(remote.builtins.get(key(target)))
        deployed = remote.assignments.get(k)
        pin_before = (deployed.props.get("definitionVersion") if deployed else None)
        pin = props.get("definitionVersion")
        if deployed is None or before != after or (pin and pin != pin_before):
            versions.append({"assignment": a.label or a.name, "definition": name_of_id(target), "pin": pin,
                             "before": before if deployed is not None else None, "after": after,
                             "replaced": bool(changes.get(key(target)) and changes[key(target)].is_replace)})
    rollouts = []
    for k, info in sorted(desired.rollouts.items(), key=lambda kv: desired.assignments[kv[0]].name):
        change = changes.get(k)
        rollouts.append({"assignment": desired.assignments[k].label or desired.assignments[k].name, **info,
                         "changes": bool(change and change.actions != ["no-op"])})
    bumps = []
    for k, c in sorted(changes.items(), key=lambda kv: kv[1].address):
        if c.kind in ("definition", "initiative") and c.before and c.actions in (["update"], ["delete", "create"]):
            obj = local.get(k)
            problem = check(c.kind, c.name, c.before, c.after or {}, SourceRef(obj.source if obj else ""))
            if problem:
                bumps.append({"address": c.address, "source": obj.source if obj else "", "message": problem.message})
    return {"expiring": expiring, "versions": versions, "rollouts": rollouts, "versionBumps": bumps,
            "expiryWarningDays": expiry_days}


def warnings(notes: dict[str, Any]) -> list[str]:
    """One line per exemption that lapses within the warning window and per change to a deployed definition
    whose version bump is missing or too small (compared with what is deployed)."""
    return [f"exemption.{e['exemption']} ({e['assignment']} at {e['scope']}) expires {e['expiresOn']}, in "
            f"{e['days']} day(s): renew it or let it lapse" for e in notes.get("expiring") or []] + \
        [f"{b['source']}: {b['message']} (compared with what is deployed)" for b in notes.get("versionBumps") or []]


def rollout_impact(build: Any, assignment: str, inventory: str, members: list[str]) -> dict[str, int]:
    """What the rolled-out members would deny (of the pairs evaluated) on an inventory at the stage in force,
    offline: the evaluation `impact --assignment` runs (selectors, overrides and exemptions honoured)."""
    from pathlib import Path

    from policygen.evaluate import evaluate_inventory, load_inventory
    from policygen.evaluate.assignment_gate import Gate
    from policygen.evaluate.sources import policies_from_build

    gate = Gate({})
    policies, _ = policies_from_build(build, {}, None, assignment, gate)
    path = Path(inventory)
    if not path.is_absolute():
        path = Path(build.pack.root) / path
    resources = load_inventory(path)
    by_id = {r.get("id"): r for r in resources if isinstance(r, dict)}
    evaluated = denied = 0
    wanted = {m.lower() for m in members}
    for row in evaluate_inventory(policies, resources):
        ref = (gate.labels.get(row.policy) or (None, None))[0]
        if wanted and (ref or "").lower() not in wanted:
            continue
        if gate.keep(row.policy, by_id.get(row.resource_id) or {}):
            evaluated += 1
            denied += bool(row.denied)
    return {"evaluated": evaluated, "denied": denied}
