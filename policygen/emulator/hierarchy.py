"""The scope tree every other family hangs off: management groups, subscriptions, resource groups, resources.

The tenant root group is named after the tenant id (as in Azure) and always exists; a subscription that is not
placed anywhere sits under the root. `scope_chain` (a scope and everything above it) is what inheritance,
visibility and "in force" are computed from. The ARM handlers for these objects are in `management`.
"""

from __future__ import annotations

from policygen.arm.scopes import MG_PREFIX, Scope, ScopeKind
from policygen.emulator.context import Context
from policygen.emulator.core import ArmError, key, now_iso, parse_scope

MG_TYPE = "Microsoft.Management/managementGroups"


def mg_id(name: str) -> str:
    return MG_PREFIX + name


# --------------------------------------------------------------------------- model helpers


def root_name(emu: Context) -> str:
    return emu.tenant_id


def put_mg(emu: Context, name: str, display: str | None = None, parent: str | None = None) -> dict:
    """Create or update a management group (parent defaults to the tenant root)."""
    existing = emu.store.get("managementGroups", name)
    is_root = name.lower() == root_name(emu).lower()
    parent_name = None if is_root else (parent or (existing or {}).get("_meta", {}).get("parent") or root_name(emu))
    body = {
        "id": mg_id(existing["name"] if existing else name),
        "type": MG_TYPE,
        "name": existing["name"] if existing else name,
        "properties": {
            "tenantId": emu.tenant_id,
            "displayName": display
            or (existing or {}).get("properties", {}).get("displayName")
            or ("Tenant Root Group" if is_root else name),
        },
        "_meta": {
            "parent": parent_name,
            "version": ((existing or {}).get("_meta", {}).get("version", 0) + 1),
            "updated": now_iso(),
        },
    }
    return emu.store.put("managementGroups", name, body)


def put_subscription(emu: Context, sub: str, display: str | None = None, parent: str | None = None) -> dict:
    existing = emu.store.get("subscriptions", sub)
    body = {
        "id": f"/subscriptions/{sub}",
        "subscriptionId": sub,
        "tenantId": emu.tenant_id,
        "displayName": display or (existing or {}).get("displayName") or sub,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
        "authorizationSource": "RoleBased",
        "_meta": {"parent": parent or (existing or {}).get("_meta", {}).get("parent") or root_name(emu)},
    }
    return emu.store.put("subscriptions", sub, body)


def put_resource_group(
    emu: Context, sub: str, rg: str, location: str, tags: dict | None = None, managed_by: str | None = None
) -> dict:
    rid = f"/subscriptions/{sub}/resourceGroups/{rg}"
    existing = emu.store.get("resourceGroups", rid)
    body = {
        "id": existing["id"] if existing else rid,
        "name": existing["name"] if existing else rg,
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "properties": {"provisioningState": "Succeeded"},
    }
    if tags is not None:
        body["tags"] = tags
    if managed_by:
        body["managedBy"] = managed_by
    return emu.store.put("resourceGroups", rid, body)


def mg_parent(emu: Context, name: str) -> str | None:
    mg = emu.store.get("managementGroups", name)
    return mg["_meta"].get("parent") if mg else None


def mg_chain(emu: Context, name: str) -> list[str]:
    """The MG and its ancestors up to the root, by name."""
    out, seen = [], set()
    cur: str | None = name
    while cur and cur.lower() not in seen:
        mg = emu.store.get("managementGroups", cur)
        if not mg:
            break
        seen.add(cur.lower())
        out.append(mg["name"])
        cur = mg["_meta"].get("parent")
    return out


def scope_chain(emu: Context, scope: Scope | str) -> list[str]:
    """`scope` and every scope above it (parent resources, RG, subscription, MGs, tenant ''), as ids."""
    scope = scope if isinstance(scope, Scope) else parse_scope(scope)
    if scope.kind is ScopeKind.TENANT:
        return [""]
    chain = [s.id for s in scope.chain() if s.kind not in (ScopeKind.TENANT, ScopeKind.MANAGEMENT_GROUP)]
    if scope.management_group:
        top = scope.management_group
    else:
        sub = emu.store.get("subscriptions", scope.subscription or "")
        top = sub["_meta"]["parent"] if sub else root_name(emu)
    return chain + [mg_id(n) for n in mg_chain(emu, top)] + [""]


def management_group_ids(emu: Context, scope_id: Scope | str) -> list[str]:
    return [s.rsplit("/", 1)[-1] for s in scope_chain(emu, scope_id) if s.lower().startswith(MG_PREFIX.lower())]


def in_scope(emu: Context, scope_id: Scope | str, target_id: Scope | str) -> bool:
    """True when `target_id` (any scope or resource) is `scope_id` or below it, following the MG tree."""
    k = key(str(scope_id))
    return any(key(s) == k for s in scope_chain(emu, target_id))


def require_scope(emu: Context, scope: Scope, as_requested: str | None = None) -> Scope:
    """Insist that a parsed scope exists, with the error codes ARM uses for each level."""
    if scope.management_group and not emu.store.get("managementGroups", scope.management_group):
        raise ArmError(
            404, "ManagementGroupNotFound", f"The management group '{scope.management_group}' could not be found."
        )
    sub, rg = scope.subscription, scope.resource_group
    if sub and not emu.store.get("subscriptions", sub):
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
    if rg and not emu.store.get("resourceGroups", f"/subscriptions/{sub}/resourceGroups/{rg}"):
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
    if scope.kind is ScopeKind.RESOURCE and not emu.store.get("resources", scope.id):
        shown = "/" + as_requested.strip("/") if as_requested else scope.id
        raise ArmError(404, "ResourceNotFound", f"The Resource '{shown}' was not found.")
    return scope


def subscriptions_under(emu: Context, mg: str) -> list[dict]:
    return [s for s in emu.store.values("subscriptions") if key(s["_meta"]["parent"]) == key(mg)]


def child_mgs(emu: Context, mg: str) -> list[dict]:
    return [g for g in emu.store.values("managementGroups") if key(g["_meta"].get("parent") or "") == key(mg)]
