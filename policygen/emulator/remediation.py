"""Remediation tasks: find non-compliant resources of a modify / deployIfNotExists assignment and fix them.

A task runs on a background thread through Azure's provisioning states (Accepted → Evaluating → Running →
Succeeded | Failed, or Cancelling → Canceled). Each resource is one "deployment": the assignment's managed
identity must hold one of the definition's `roleDefinitionIds` (or Owner/Contributor) at the resource, as
in Azure, otherwise that deployment fails with AuthorizationFailed. Modify applies the evaluator's
remediated resource; deployIfNotExists deploys `details.deployment` through the template engine.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from policygen.arm import effects
from policygen.emulator import (
    assignments,
    compliance,
    effective,
    envelope,
    exemptions,
    hierarchy,
    inventory,
    rbac,
    templates,
)
from policygen.emulator.collection import Collection, Item
from policygen.emulator.context import Context
from policygen.emulator.core import (
    ArmError,
    Match,
    Response,
    bad_request,
    copy_json,
    guid,
    key,
    now_iso,
    paged,
    parse_scope,
    system_data,
)
from policygen.emulator.store import public

TYPE = "Microsoft.PolicyInsights/remediations"
SEGMENT = "/providers/Microsoft.PolicyInsights/remediations/"
TERMINAL = {"succeeded", "failed", "canceled", "complete"}
_AUTO = threading.local()  # nesting depth of automatic deployIfNotExists (deployments creating resources)
AUTO_DEPTH = 3
REMEDIABLE = effects.REMEDIATING


def _missing(name: str) -> ArmError:
    return ArmError(404, "RemediationNotFound", f"The remediation '{name}' could not be found.")


def _list_deployments(item: Item) -> Response:
    return paged(item.req, list(item.existing["_meta"]["deployments"]), default_top=item.emu.config.page_size)


def _cancel(item: Item) -> Response:
    state = item.existing["properties"]["provisioningState"]
    if state.lower() in TERMINAL:
        raise bad_request(
            "InvalidCancelRemediationRequest",
            f"The remediation '{item.name}' is in state '{state}' and cannot be canceled.",
        )
    _set_state(item.emu, item.rid, "Cancelling")
    return Response(200, public(item.emu.store.get("remediations", item.rid)))


def _on_delete(item: Item) -> None:
    if item.existing["properties"]["provisioningState"].lower() not in TERMINAL:
        _set_state(item.emu, item.rid, "Cancelling")


def _put(item: Item) -> Response:
    body, existing = envelope.body(item.req), item.existing
    if existing:
        wanted = (body.get("properties") or {}).get("policyAssignmentId", "")
        if key(existing["properties"]["policyAssignmentId"]) != key(wanted):
            raise bad_request(
                "InvalidRemediationUpdate", "The policy assignment of an existing remediation cannot be changed."
            )
        return Response(200, public(existing))
    obj = _create(item.emu, item.scope, item.name, item.rid, body)
    item.emu.spawn(_run, item.emu, item.rid)
    return Response(201, public(obj))


def _list(emu: Context, m: Match, flt: str | None) -> list[dict]:
    out = [
        public(r)
        for r in emu.store.values("remediations")
        if hierarchy.in_scope(emu, m.scope, r["id"].rsplit(SEGMENT, 1)[0])
    ]
    for fld, val in re.findall(r"(\w+)\s+eq\s+'([^']*)'", flt or ""):
        out = [r for r in out if key(str(r["properties"].get(fld[0].lower() + fld[1:], ""))) == key(val)]
    return sorted(out, key=lambda r: r["id"].lower())


def _create(emu: Context, scope: str, name: str, rid: str, body: dict) -> dict:
    props = copy_json(body.get("properties") or {})
    aid = props.get("policyAssignmentId")
    if not aid:
        raise bad_request("InvalidCreateRemediationRequest", "The policyAssignmentId property is required.")
    assignment = emu.store.get("policyAssignments", aid)
    if not assignment:
        raise ArmError(404, "PolicyAssignmentNotFound", f"The policy assignment '{aid}' is not found.")
    members = effective.members(emu, assignment["properties"])
    is_set = bool(members and members[0].set_definition)
    ref = props.get("policyDefinitionReferenceId")
    if is_set and not ref:
        raise bad_request(
            "InvalidCreateRemediationRequest",
            "The policyDefinitionReferenceId property is required when the assignment assigns a policy set definition.",
        )
    chosen = [mm for mm in members if not is_set or (mm.reference_id or "").lower() == str(ref).lower()]
    if not chosen:
        raise bad_request(
            "InvalidCreateRemediationRequest",
            f"The policy definition reference id '{ref}' is not part of the assigned initiative.",
        )
    if chosen[0].effect.lower() not in REMEDIABLE:
        raise bad_request(
            "InvalidCreateRemediationRequest",
            f"Remediation is supported only for 'deployIfNotExists' and 'modify' policies; the effect "
            f"is '{chosen[0].effect}'.",
        )
    props.setdefault("resourceDiscoveryMode", "ExistingNonCompliant")
    stamp = now_iso()
    props.update(
        provisioningState="Accepted",
        createdOn=stamp,
        lastUpdatedOn=stamp,
        deploymentStatus={"totalDeployments": 0, "successfulDeployments": 0, "failedDeployments": 0},
        correlationId=guid("remediation", rid, stamp),
        statusMessage=STATUS["Accepted"],
    )
    obj = {
        "id": rid,
        "name": name,
        "type": TYPE,
        "systemData": system_data(None),
        "properties": props,
        "_meta": {"deployments": []},
    }
    return emu.store.put("remediations", rid, obj)


# statusMessage per state, unless a state change says more (failures say what failed).
STATUS = {
    "Accepted": "The remediation task was accepted and will start shortly.",
    "Evaluating": "Finding the non-compliant resources to remediate.",
    "Running": "Remediating the non-compliant resources.",
    "Succeeded": "Every remediation deployment succeeded.",
    "Complete": "The remediation task completed.",
    "Cancelling": "The remediation task is being canceled.",
    "Canceled": "The remediation task was canceled.",
    "Failed": "The remediation task failed.",
}


def _set_state(emu: Context, rid: str, state: str, **extra: Any) -> dict | None:
    extra.setdefault("statusMessage", STATUS.get(state, state))
    with emu.store.lock:
        obj = emu.store.get("remediations", rid)
        if not obj:
            return None
        obj = copy_json(obj)
        current = obj["properties"]["provisioningState"].lower()
        if current in TERMINAL or (current == "cancelling" and state != "Canceled"):
            return obj
        obj["properties"]["provisioningState"] = state
        obj["properties"]["lastUpdatedOn"] = now_iso()
        obj["properties"].update(extra)
        return emu.store.put("remediations", rid, obj)


def _cancelled(emu: Context, rid: str) -> bool:
    obj = emu.store.get("remediations", rid)
    if not obj or obj["properties"]["provisioningState"] == "Cancelling":
        _set_state(emu, rid, "Canceled")
        return True
    return emu.stopping.is_set()


def _run(emu: Context, rid: str) -> None:
    step = emu.config.remediation_step_s
    try:
        for state in ("Evaluating", "Running"):
            time.sleep(step)
            if _cancelled(emu, rid):
                return
            _set_state(emu, rid, state)
        obj = emu.store.get("remediations", rid)
        props = obj["properties"]
        assignment = emu.store.get("policyAssignments", props["policyAssignmentId"])
        if not assignment:
            _set_state(emu, rid, "Failed", statusMessage="The policy assignment no longer exists.")
            return
        targets = _targets(emu, rid, props, assignment)
        ok = failed = 0
        for st in targets:
            time.sleep(step / 5)
            if _cancelled(emu, rid):
                return
            deployment = _remediate(emu, public(assignment), st)
            ok += deployment["status"] == "Succeeded"
            failed += deployment["status"] == "Failed"
            with emu.store.lock:
                cur = emu.store.get("remediations", rid)
                if not cur:
                    return
                cur = copy_json(cur)
                cur["_meta"]["deployments"].append(deployment)
                cur["properties"]["deploymentStatus"] = {
                    "totalDeployments": len(targets),
                    "successfulDeployments": ok,
                    "failedDeployments": failed,
                }
                emu.store.put("remediations", rid, cur)
        _finish(emu, rid, props, len(targets), failed)
    except Exception as exc:  # never leave a task Running forever
        _set_state(emu, rid, "Failed", statusMessage=f"emulator error: {exc!r}")


def _targets(emu: Context, rid: str, props: dict, assignment: dict) -> list[compliance.State]:
    """The non-compliant resources the task remediates: its filters applied, at most `resourceCount`."""
    scope = rid.rsplit(SEGMENT, 1)[0]
    states = compliance.compute(
        emu, scope, assignment_id=assignment["id"], reference_id=props.get("policyDefinitionReferenceId")
    )
    targets = [st for st in states if not st.compliant and st.outcome.effect in REMEDIABLE]
    targets = [st for st in targets if _passes_filters(st.resource, props)]
    return targets[: int(props.get("resourceCount") or 500)]


def _finish(emu: Context, rid: str, props: dict, total: int, failed: int) -> None:
    """Succeeded, or Failed when the share of failed deployments reaches the failure threshold."""
    threshold = float(((props.get("failureThreshold") or {}).get("percentage")) or 1.0)
    failed_ratio = failed / total if total else 0.0
    if failed and failed_ratio >= min(threshold, 1.0):
        _set_state(emu, rid, "Failed", statusMessage=f"{failed} of {total} deployments failed.")
    elif failed:
        _set_state(
            emu,
            rid,
            "Succeeded",
            statusMessage=f"{failed} of {total} deployments failed (below the failure threshold).",
        )
    else:
        _set_state(emu, rid, "Succeeded")


def _passes_filters(resource: dict, props: dict) -> bool:
    filters = props.get("filters") or {}
    locs = {str(x).replace(" ", "").lower() for x in filters.get("locations") or []}
    if locs and str(resource.get("location", "")).replace(" ", "").lower() not in locs:
        return False
    ids = {key(x) for x in filters.get("resourceIds") or []}
    return not ids or key(resource["id"]) in ids


def _principal(assignment: dict) -> str | None:
    identity = assignment.get("identity") or {}
    if identity.get("principalId"):
        return identity["principalId"]
    for v in (identity.get("userAssignedIdentities") or {}).values():
        return v.get("principalId")
    return None


def _details(member: effective.Member) -> dict:
    then = (member.definition["properties"].get("policyRule") or {}).get("then") or {}
    return {k.lower(): v for k, v in (then.get("details") or {}).items()} if isinstance(then, dict) else {}


def _remediate(emu: Context, assignment: dict, st: compliance.State) -> dict:
    resource = st.resource
    scope = parse_scope(resource["id"])
    details = _details(st.member)
    roles = {rbac.role_guid(str(r)) for r in details.get("roledefinitionids") or []}
    principal = _principal(assignment)
    effect = st.outcome.effect
    stamp = now_iso()
    rg = scope.resource_group or (
        resource["name"] if resource.get("type", "").lower() == "microsoft.resources/resourcegroups" else None
    )
    base = f"/subscriptions/{scope.subscription}" + (f"/resourceGroups/{rg}" if rg else "")
    dep_name = f"PolicyDeployment_{guid('deployment', assignment['id'], resource['id'], stamp)[:18]}"
    deployment = {
        "remediatedResourceId": resource["id"],
        "deploymentId": f"{base}/providers/Microsoft.Resources/deployments/{dep_name}",
        "status": "Succeeded",
        "resourceLocation": resource.get("location"),
        "error": None,
        "createdOn": stamp,
        "lastUpdatedOn": stamp,
    }
    try:
        if not principal:
            raise ArmError(403, "ResourceIdentityRequired", "The policy assignment has no managed identity.")
        deploy_scope = (
            base
            if effect == "deployifnotexists" and str(details.get("deploymentscope", "")).lower() != "subscription"
            else (f"/subscriptions/{scope.subscription}" if effect == "deployifnotexists" else resource["id"])
        )
        if not rbac.has_permission(emu, principal, deploy_scope, roles):
            raise ArmError(
                403,
                "AuthorizationFailed",
                f"The client '{principal}' with object id '{principal}' does not have authorization to "
                f"perform the remediation over scope '{deploy_scope}' or the scope is invalid. Grant one "
                "of the policy's roleDefinitionIds to the assignment's identity.",
            )
        if effect == "modify":
            _apply_modify(emu, assignment, st)
        else:
            _apply_dine(emu, assignment, st, details, rg, dep_name)
    except Exception as exc:  # one failed deployment never stops the task (or the request that caused it)
        code, message = (exc.code, exc.message) if isinstance(exc, ArmError) else ("DeploymentFailed", str(exc))
        deployment.update(status="Failed", error={"code": code, "message": message})
    deployment["lastUpdatedOn"] = now_iso()
    return deployment


def _apply_modify(emu: Context, assignment: dict, st: compliance.State) -> None:
    current = emu.store.get("resources", st.resource["id"])
    if current is None:
        raise ArmError(404, "ResourceNotFound", f"The resource '{st.resource['id']}' no longer exists.")
    outcome = compliance.evaluate_one(emu, public(current), assignment, st.member)
    if outcome is None or outcome.compliant:
        return
    if outcome.modified is None:
        raise ArmError(
            409, "ModifyConflict", "The modify operations could not be applied: " + "; ".join(outcome.reasons[-2:])
        )
    inventory.put_raw(emu, {**outcome.modified, "id": current["id"]})


def _apply_dine(
    emu: Context, assignment: dict, st: compliance.State, details: dict, rg: str | None, dep_name: str
) -> None:
    from policygen.arm.aliases import default_catalogue
    from policygen.evaluate.expr import CompileCtx, compile_value
    from policygen.evaluate.runtime import Scope

    deployment = details.get("deployment") or {}
    dprops = deployment.get("properties") or {}
    template = dprops.get("template")
    if not isinstance(template, dict):
        raise templates.TemplateError("details.deployment.properties.template is missing")
    declared = st.member.definition["properties"].get("parameters") or {}
    values = {k.lower(): v for k, v in st.member.parameters.items()}
    cc = CompileCtx(values, {k.lower(): k for k in declared}, default_catalogue(), region="details")
    ctx = compliance.context(emu, st.resource, assignment, st.member)
    params = compile_value(dprops.get("parameters") or {}, cc).fn(Scope(st.resource, ctx))
    scope = parse_scope(st.resource["id"])
    at_subscription = str(details.get("deploymentscope", "")).lower() == "subscription"
    location = deployment.get("location") or st.resource.get("location") or "westeurope"
    result = templates.deploy(
        emu,
        template,
        params,
        subscription_id=scope.subscription or "",
        resource_group=None if at_subscription else rg,
        location=str(location),
        name=dep_name,
    )
    base = f"/subscriptions/{scope.subscription}" + ("" if at_subscription or not rg else f"/resourceGroups/{rg}")
    emu.store.put(
        "deployments",
        f"{base}/providers/Microsoft.Resources/deployments/{dep_name}",
        {
            "id": f"{base}/providers/Microsoft.Resources/deployments/{dep_name}",
            "name": dep_name,
            "type": "Microsoft.Resources/deployments",
            "properties": {
                "provisioningState": "Succeeded",
                "mode": dprops.get("mode", "incremental"),
                "parameters": {k: {"value": v} for k, v in (params or {}).items()},
                "outputs": result.outputs,
                "outputResources": [{"id": r} for r in result.resources],
                "timestamp": now_iso(),
            },
        },
    )


def auto_deploy(emu: Context, resource: dict) -> None:
    """Azure runs deployIfNotExists for a resource created or updated under an enforced assignment (after a
    delay in Azure; at once here). Failures (no role, template errors) leave the resource non-compliant."""
    depth = getattr(_AUTO, "depth", 0)
    if depth >= AUTO_DEPTH:
        return
    _AUTO.depth = depth + 1
    try:
        for a in assignments.in_force(emu, resource["id"]):
            if str(a["properties"].get("enforcementMode", "Default")).lower() != "default":
                continue
            for member in effective.members(emu, a["properties"]):
                if not compliance.may_have_effect(a, member, {"deployifnotexists"}):
                    continue
                if exemptions.exempting(emu, resource["id"], a["id"], member.reference_id, resource):
                    continue
                outcome = compliance.evaluate_one(emu, public(resource), a, member)
                if outcome is not None and outcome.compliant is False and outcome.effect == "deployifnotexists":
                    _remediate(emu, public(a), compliance.State(public(resource), public(a), member, outcome))
    finally:
        _AUTO.depth = depth


handle = Collection(
    "remediations",
    SEGMENT,
    "remediations",
    _missing,
    _list,
    _put,
    on_delete=_on_delete,
    actions={"listdeployments": _list_deployments, "cancel": _cancel},
)
