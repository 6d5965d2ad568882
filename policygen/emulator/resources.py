"""Generic ARM resources under subscriptions and resource groups: the inventory policies evaluate and
remediation changes.

Any provider namespace and type is accepted and stored as sent (plus id/name/type), so an exported inventory
can be loaded as is. A PUT through the API passes Azure Policy's admission first: enforced `deny`
assignments answer 403 RequestDisallowedByPolicy, enforced `modify`/`append` change the request.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from policygen.emulator import hierarchy, sideeffects
from policygen.emulator.core import (
    ArmError,
    Request,
    Response,
    bad_request,
    copy_json,
    key,
    paged,
    resource_type_of,
    system_data,
)
from policygen.emulator.store import public

if TYPE_CHECKING:
    from policygen.emulator.app import Emulator

# Properties whose changes ARM ignores or manages itself.
READ_ONLY = ("id", "name", "type", "systemData", "_meta")


def handle(emu: Emulator, req: Request, m: dict) -> Response:
    sub, rg, rest = m["sub"], m.get("rg"), m["rest"].strip("/")
    parts = rest.split("/")
    base = f"/subscriptions/{sub}" + (f"/resourceGroups/{rg}" if rg else "")
    hierarchy.require_scope(emu, base)
    if len(parts) % 2 == 0:  # a collection: {ns}/{type}[/{name}/{type}]
        if req.method != "GET":
            raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on a collection.")
        rtype = resource_type_of(f"{base}/providers/{rest}/x")
        prefix = key(f"{base}/providers/{rest}/")
        items = [
            public(r)
            for k, r in emu.store.items("resources")
            if k.startswith(prefix) and r["type"].lower() == rtype.lower()
        ]
        return paged(req, sorted(items, key=lambda r: r["id"].lower()), default_top=emu.config.page_size)
    rid = f"{base}/providers/{rest}"
    with emu.store.lock:
        existing = emu.store.get("resources", rid)
        if req.method == "HEAD":
            return Response(204 if existing else 404, None)
        if req.method == "GET":
            if not existing:
                raise _missing(rid)
            return Response(200, public(existing))
        if req.method == "DELETE":
            if not existing:
                return Response(204, None)
            delete_under(emu, rid)
            return Response(200, None)
        if req.method in ("PUT", "PATCH"):
            body = req.json()
            if req.method == "PATCH":
                if not existing:
                    raise _missing(rid)
                body = merge_patch(public(existing), body)
            parents = hierarchy.resource_parents(rid)[1:]
            if parents and not emu.store.get("resources", parents[0]):
                raise ArmError(
                    404,
                    "ParentResourceNotFound",
                    f"Can not perform requested operation on nested resource. Parent resource "
                    f"'{parents[0].rsplit('/', 1)[-1]}' not found.",
                )
            candidate = build(emu, rid, body, existing)
            candidate = admit(emu, candidate, existing)
            emu.store.put("resources", rid, candidate)
            after_write(emu, candidate, policy=True)
            return Response(200 if existing or req.method == "PATCH" else 201, public(candidate))
    raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on resources.")


def _missing(rid: str) -> ArmError:
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{resource_type_of(rid)}/{rid.rsplit('/', 1)[-1]}' "
        f"under resource group '{_rg_of(rid) or '-'}' was not found. For more details please go to "
        "https://aka.ms/ARMResourceNotFoundFix",
    )


def _rg_of(rid: str) -> str | None:
    m = re.match(r"^/subscriptions/[^/]+/resourcegroups/([^/]+)", rid, re.I)
    return m.group(1) if m else None


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict) or not isinstance(target, dict):
        return copy_json(patch)
    out = dict(target)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(target.get(k), v)
    return out


def build(emu: Emulator, rid: str, body: dict, existing: dict | None) -> dict:
    """The stored form of a resource: the body as sent plus id/name/type and a system-assigned principal."""
    obj = {k: copy_json(v) for k, v in body.items() if k not in READ_ONLY}
    obj["id"] = existing["id"] if existing else rid
    obj["name"] = rid.rsplit("/", 1)[-1]
    obj["type"] = resource_type_of(rid)
    if isinstance(obj.get("properties"), dict):
        obj["properties"].setdefault("provisioningState", "Succeeded")
    identity = obj.get("identity")
    if isinstance(identity, dict) and "systemassigned" in str(identity.get("type", "")).lower():
        old = (existing or {}).get("identity") or {}
        if old.get("principalId"):
            identity["principalId"] = old["principalId"]
        else:
            from policygen.emulator.assignments import new_principal

            identity["principalId"] = new_principal(emu, rid)
        identity["tenantId"] = emu.tenant_id
    obj["systemData"] = system_data(existing)
    return obj


def admit(emu: Emulator, candidate: dict, existing: dict | None) -> dict:
    """Azure Policy's request-time effects: deny (403) and modify/append, for enforced assignments."""
    from policygen.emulator import compliance

    return compliance.admission(emu, candidate)


def after_write(emu: Emulator, resource: dict, *, policy: bool) -> None:
    """Provider side effects, then (for requests, not seeds) deployIfNotExists for the new resource."""
    sideeffects.after_put(emu, resource)
    if policy:
        from policygen.emulator import remediation

        remediation.auto_deploy(emu, resource)


def put_raw(emu: Emulator, resource: dict, *, policy: bool = False) -> dict:
    """Store a resource. Seeds and inventories skip Azure Policy; deployments (`policy=True`) go through
    request-time effects (deny → ArmError, modify/append) and trigger deployIfNotExists like any PUT."""
    rid = resource.get("id")
    if not rid or not re.match(r"^/subscriptions/[^/]+(/resourcegroups/[^/]+)?/providers/", rid, re.I):
        raise bad_request("InvalidResourceId", f"'{rid}' is not a full ARM resource id.")
    existing = emu.store.get("resources", rid)
    candidate = build(emu, rid, resource, existing)
    if policy:
        candidate = admit(emu, candidate, existing)
    stored = emu.store.put("resources", rid, candidate)
    after_write(emu, stored, policy=policy)
    return stored


def delete_under(emu: Emulator, prefix_id: str) -> None:
    """Delete a resource (or resource group's content) and everything scoped to it."""
    k = key(prefix_id)
    for kind in ("resources", "policyAssignments", "policyExemptions", "roleAssignments", "remediations"):
        for item_key, _ in emu.store.items(kind):
            if item_key == k or item_key.startswith(k + "/"):
                emu.store.delete(kind, item_key)


def resources_under(emu: Emulator, scope_id: str) -> list[dict]:
    """Every resource at or below a scope (management groups followed through the hierarchy)."""
    scope = hierarchy.parse_scope(scope_id)
    if scope.level in ("mg", "tenant"):
        return [r for r in emu.store.values("resources") if hierarchy.in_scope(emu, scope_id, r["id"])]
    k = key(scope.id)
    return [r for rk, r in emu.store.items("resources") if rk == k or rk.startswith(k + "/")]


def list_resources(emu: Emulator, req: Request, m: dict) -> Response:
    sub, rg = m["sub"], m.get("rg")
    base = f"/subscriptions/{sub}" + (f"/resourceGroups/{rg}" if rg else "")
    hierarchy.require_scope(emu, base)
    items = [public(r) for r in resources_under(emu, base)]
    flt = req.q("$filter") or ""
    if mm := re.search(r"resourceType\s+eq\s+'([^']*)'", flt, re.I):
        items = [r for r in items if r["type"].lower() == mm.group(1).lower()]
    return paged(req, sorted(items, key=lambda r: r["id"].lower()), default_top=emu.config.page_size)
