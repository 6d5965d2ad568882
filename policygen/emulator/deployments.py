"""ARM template deployments (`Microsoft.Resources/deployments`) at management-group, subscription and
resource-group scope, run by the template engine; and the Microsoft.Authorization resources templates carry.

`ResourceManagementClient.deployments.begin_create_or_update*` works against the emulator, so a template
policygen exports (definitions, initiatives, assignments and their role assignments, nested per management
group) can be deployed and compared with what `policygen apply` writes. Policy objects inside a template go
through exactly the same validation as the REST API (same functions).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from policygen.arm.scopes import Scope, ScopeKind
from policygen.emulator import hierarchy, templates
from policygen.emulator.context import Context
from policygen.emulator.core import ArmError, Match, Request, Response, bad_request, copy_json, now_iso
from policygen.emulator.store import public

SEGMENT = "/providers/Microsoft.Resources/deployments/"


def handle(emu: Context, req: Request, m: Match) -> Response:
    scope, name = m.scope_text, m["name"]
    s = hierarchy.require_scope(emu, m.scope)
    rid = f"{scope}{SEGMENT}{name}"
    existing = emu.store.get("deployments", rid)
    if req.method == "GET":
        if not existing:
            raise ArmError(404, "DeploymentNotFound", f"Deployment '{name}' could not be found.")
        return Response(200, public(existing))
    if req.method == "HEAD":
        return Response(204 if existing else 404, None)
    if req.method == "DELETE":
        if not existing:
            return Response(204, None)
        emu.store.delete("deployments", rid)
        return Response(200, None)
    if req.method != "PUT":
        raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on deployments.")
    body = req.json()
    record = _accepted(emu, s, rid, name, body)
    with emu.store.lock:
        _run(emu, s, record, body["properties"])
        emu.store.put("deployments", rid, record)
    return Response(200 if existing else 201, record)


def _accepted(emu: Context, s: Scope, rid: str, name: str, body: dict) -> dict[str, Any]:
    """The deployment record ARM accepts (before it runs), or ARM's 400 for what it refuses."""
    if s.kind not in (ScopeKind.MANAGEMENT_GROUP, ScopeKind.SUBSCRIPTION, ScopeKind.RESOURCE_GROUP):
        raise bad_request(
            "InvalidDeployment",
            "The emulator runs deployments at management group, subscription or resource group scope.",
        )
    props = body.get("properties") or {}
    template = props.get("template")
    if not isinstance(template, dict):
        raise bad_request("InvalidTemplate", "An inline 'template' is required (templateLink is not supported).")
    location = body.get("location")
    if s.kind in (ScopeKind.MANAGEMENT_GROUP, ScopeKind.SUBSCRIPTION) and not location:
        raise bad_request(
            "InvalidDeploymentLocation", "The 'location' property must be specified for the template deployment."
        )
    if s.kind is ScopeKind.RESOURCE_GROUP:
        rg = emu.store.get("resourceGroups", f"/subscriptions/{s.subscription}/resourceGroups/{s.resource_group}")
        location = location or (rg or {}).get("location", "westeurope")
    return {
        "id": rid,
        "name": name,
        "type": "Microsoft.Resources/deployments",
        "location": location,
        "properties": {
            "mode": props.get("mode", "Incremental"),
            "timestamp": now_iso(),
            "correlationId": str(uuid.uuid4()),
            "parameters": copy_json(props.get("parameters") or {}),
            "templateHash": hashlib.sha1(json.dumps(template, sort_keys=True).encode()).hexdigest()[:20],
        },
    }


def _run(emu: Context, s: Scope, record: dict[str, Any], props: dict) -> None:
    """Deploy the template; a resource ARM refuses fails the deployment (recorded), a bad template is a 400."""
    try:
        result = templates.deploy(
            emu,
            props["template"],
            props.get("parameters") or {},
            subscription_id=s.subscription or "",
            resource_group=s.resource_group,
            management_group=s.management_group,
            location=str(record["location"]),
            name=record["name"],
        )
    except templates.TemplateError as exc:
        raise bad_request("InvalidTemplate", f"Deployment template validation failed: {exc}") from exc
    except ArmError as err:
        record["properties"].update(
            provisioningState="Failed",
            error={
                "code": "DeploymentFailed",
                "message": "At least one resource deployment operation failed.",
                "details": [{"code": err.code, "message": err.message}],
            },
        )
    else:
        record["properties"].update(
            provisioningState="Succeeded",
            outputs=result.outputs,
            outputResources=[{"id": r} for r in result.resources],
        )
