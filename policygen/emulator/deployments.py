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
from typing import TYPE_CHECKING, Any

from policygen.emulator import assignments, exemptions, hierarchy, policy, rbac, templates
from policygen.emulator.core import ArmError, Request, Response, bad_request, copy_json, now_iso
from policygen.emulator.store import public

if TYPE_CHECKING:
    from policygen.emulator.app import Emulator

SEGMENT = "/providers/Microsoft.Resources/deployments/"


def handle(emu: Emulator, req: Request, m: dict) -> Response:
    scope, name = m["scope"].rstrip("/"), m["name"]
    level = hierarchy.require_scope(emu, scope).level if scope else "tenant"
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
    if level not in ("mg", "sub", "rg"):
        raise bad_request(
            "InvalidDeployment",
            "The emulator runs deployments at management group, subscription or resource group scope.",
        )
    body = req.json()
    props = body.get("properties") or {}
    template = props.get("template")
    if not isinstance(template, dict):
        raise bad_request("InvalidTemplate", "An inline 'template' is required (templateLink is not supported).")
    location = body.get("location")
    if level in ("mg", "sub") and not location:
        raise bad_request(
            "InvalidDeploymentLocation", "The 'location' property must be specified for the template deployment."
        )
    s = hierarchy.parse_scope(scope)
    if level == "rg":
        rg = emu.store.get("resourceGroups", f"/subscriptions/{s.sub}/resourceGroups/{s.rg}")
        location = location or (rg or {}).get("location", "westeurope")
    record: dict[str, Any] = {
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
    with emu.store.lock:
        try:
            result = templates.deploy(
                emu,
                template,
                props.get("parameters") or {},
                subscription_id=s.sub or "",
                resource_group=s.rg,
                management_group=s.mg,
                location=str(location),
                name=name,
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
        emu.store.put("deployments", rid, record)
    return Response(200 if existing else 201, record)


def put_authorization(emu: Emulator, scope: str, rtype: str, name: str, body: dict) -> str:
    """A Microsoft.Authorization resource from a template, through the same code as the REST API."""
    kind = rtype.split("/", 1)[1].lower() if "/" in rtype else ""
    if kind in ("policydefinitions", "policysetdefinitions"):
        scope = policy.definition_scope(emu, scope)
        put = policy.put_definition if kind == "policydefinitions" else policy.put_set_definition
        return put(emu, scope, name, body)["id"]
    if kind == "policyassignments":
        return assignments.put_assignment(emu, scope, name, body)["id"]
    if kind == "roleassignments":
        hierarchy.require_scope(emu, scope)
        return rbac.put_role_assignment(emu, scope, name, body)["id"]
    if kind == "policyexemptions":
        hierarchy.require_scope(emu, scope)
        rid = f"{scope}{exemptions.SEGMENT}{name}"
        return exemptions.put_exemption(emu, scope, name, rid, emu.store.get("policyExemptions", rid), body)["id"]
    raise templates.TemplateError(f"the emulator cannot deploy '{rtype}' from a template")


def lookup_any(emu: Emulator, object_id: str) -> dict | None:
    """Any emulated object by id, for `reference()`."""
    for kind in (
        "resources",
        "policyAssignments",
        "policyDefinitions",
        "policySetDefinitions",
        "roleAssignments",
        "policyExemptions",
        "deployments",
        "resourceGroups",
    ):
        found = emu.store.get(kind, object_id)
        if found is not None:
            return found
    return None
