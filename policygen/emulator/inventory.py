"""Generic ARM resources as stored: the inventory policies evaluate and remediation changes.

Any provider namespace and type is accepted and stored as sent (plus id/name/type). This module only stores,
finds and deletes; the request path that passes Azure Policy first (deny, modify, append, then
deployIfNotExists) is `resources`. Seeds, inventories and remediation's modify write here directly.
"""

from __future__ import annotations

import time
from typing import Any

from policygen.arm import scopes
from policygen.arm.scopes import ScopeKind
from policygen.emulator import hierarchy, sideeffects
from policygen.emulator.context import Context
from policygen.emulator.core import bad_request, copy_json, guid, key, parse_scope, resource_type_of, system_data

# Properties whose changes ARM ignores or manages itself.
READ_ONLY = ("id", "name", "type", "systemData", "_meta")


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


def new_principal(emu: Context, owner_id: str, kind: str = "SystemAssigned") -> str:
    """A new service principal for an identity, remembered with its creation time."""
    generation = emu.store.counter(f"principal-generation:{key(owner_id)}")
    pid = guid("principal", owner_id, str(generation))
    emu.store.put(
        "principals",
        pid,
        {"principalId": pid, "owner": owner_id, "type": kind, "createdAt": time.time(), "failures": 0},
    )
    return pid


def checked_id(resource: dict) -> str:
    """The id of a resource to store, which must be a full resource id under a subscription."""
    rid = resource.get("id")
    try:
        scope = scopes.parse_scope(rid) if isinstance(rid, str) and rid.startswith("/") else None
    except scopes.ScopeError:
        scope = None
    if scope is None or scope.kind is not ScopeKind.RESOURCE or not scope.subscription:
        raise bad_request("InvalidResourceId", f"'{rid}' is not a full ARM resource id.")
    return rid


def build(emu: Context, rid: str, body: dict, existing: dict | None) -> dict:
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
        identity["principalId"] = old.get("principalId") or new_principal(emu, rid)
        identity["tenantId"] = emu.tenant_id
    obj["systemData"] = system_data(existing)
    return obj


def store(emu: Context, rid: str, candidate: dict) -> dict:
    """Store a built resource and run its provider's side effects (private endpoint connections, ...)."""
    stored = emu.store.put("resources", rid, candidate)
    sideeffects.after_put(emu, stored)
    return stored


def put_raw(emu: Context, resource: dict) -> dict:
    """Store a resource as a seed or inventory has it: no Azure Policy."""
    rid = checked_id(resource)
    return store(emu, rid, build(emu, rid, resource, emu.store.get("resources", rid)))


def delete_under(emu: Context, prefix_id: str) -> None:
    """Delete a resource (or resource group's content) and everything scoped to it."""
    k = key(prefix_id)
    for kind in ("resources", "policyAssignments", "policyExemptions", "roleAssignments", "remediations"):
        for item_key, _ in emu.store.items(kind):
            if item_key == k or item_key.startswith(k + "/"):
                emu.store.delete(kind, item_key)


def resources_under(emu: Context, scope_id: str) -> list[dict]:
    """Every resource at or below a scope (management groups followed through the hierarchy)."""
    scope = parse_scope(scope_id)
    if scope.kind in (ScopeKind.MANAGEMENT_GROUP, ScopeKind.TENANT):
        return [r for r in emu.store.values("resources") if hierarchy.in_scope(emu, scope_id, r["id"])]
    k = scope.key
    return [r for rk, r in emu.store.items("resources") if rk == k or rk.startswith(k + "/")]
