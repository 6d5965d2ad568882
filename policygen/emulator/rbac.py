"""Role assignments, role definitions and the system-assigned identity read endpoint.

Role definitions: a handful of well-known built-in roles by GUID, every role GUID that a policy definition
names in `details.roleDefinitionIds` (those are Azure built-in roles), and custom roles created through
the API. Role assignments mirror ARM's rules: GUID names, RoleAssignmentExists for a duplicate under another
name, RoleAssignmentUpdateNotPermitted, and PrincipalNotFound while a new identity "replicates".
"""

from __future__ import annotations

import re
import time
import uuid

from policygen.emulator import envelope, hierarchy
from policygen.emulator.collection import Collection, Item
from policygen.emulator.context import Context
from policygen.emulator.core import ArmError, Match, Request, Response, bad_request, key, now_iso, paged
from policygen.emulator.store import public

RA_TYPE = "Microsoft.Authorization/roleAssignments"
RD_SEGMENT = "/providers/Microsoft.Authorization/roleDefinitions/"
BUILTIN_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": ("Owner", ["*"]),
    "b24988ac-6180-42a0-ab88-20f7382dd24c": ("Contributor", ["*"]),
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": ("Reader", ["*/read"]),
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": ("User Access Administrator", ["Microsoft.Authorization/*"]),
    "4d97b98b-1d4f-4787-a291-c67834d212e7": ("Network Contributor", ["Microsoft.Network/*"]),
    "17d1049b-9a84-46fb-8f53-869881c3d3ab": ("Storage Account Contributor", ["Microsoft.Storage/storageAccounts/*"]),
    "4a9ae827-6dc8-4573-8ac7-8239d42aa03f": ("Tag Contributor", ["Microsoft.Resources/tags/*"]),
    "92aaf0da-9dab-42b6-94a3-d43ce8d16293": ("Log Analytics Contributor", ["Microsoft.OperationalInsights/*"]),
    "749f88d5-cbae-40b8-bcfc-e573ddc772fa": ("Monitoring Contributor", ["Microsoft.Insights/*"]),
    "9980e02c-c2be-4d73-94e8-173b1dc7cf3c": ("Virtual Machine Contributor", ["Microsoft.Compute/virtualMachines/*"]),
    "f25e0fa2-a7c8-4377-a976-54943a77a395": ("Key Vault Contributor", ["Microsoft.KeyVault/*"]),
    "fb1c8493-542b-48eb-b624-b4c8fea62acd": ("Security Admin", ["Microsoft.Security/*"]),
    "6d8ee4ec-f05a-4a1d-8b00-a9b17e38b437": ("SQL Server Contributor", ["Microsoft.Sql/servers/*"]),
}
_ROLE_GUID = re.compile(r"/providers/Microsoft\.Authorization/roleDefinitions/([0-9a-fA-F-]{36})")


def role_guid(role_definition_id: str) -> str:
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


def _policy_roles(emu: Context) -> set[str]:
    """Role GUIDs named by policy definitions in the store or the built-in catalogue (all Azure built-ins)."""
    found: set[str] = set()
    for kind in ("policyDefinitions", "policyDefinitionVersions"):
        for d in emu.store.values(kind):
            for rid in (
                ((d["properties"].get("policyRule") or {}).get("then", {}).get("details") or {}).get(
                    "roleDefinitionIds", []
                )
                if isinstance(d["properties"].get("policyRule"), dict)
                else []
            ):
                found.add(role_guid(str(rid)))
    return found | emu.builtins.role_guids()


def role_definition(emu: Context, guid_: str, scope: str = "") -> dict | None:
    g = guid_.lower()
    custom = emu.store.get("roleDefinitions", g)
    if custom:
        out = public(custom)
        return out
    if g in BUILTIN_ROLES or g in _policy_roles(emu):
        name, actions = BUILTIN_ROLES.get(g, (f"Built-in role {g}", ["*"]))
        return {
            "id": f"{scope}{RD_SEGMENT}{g}",
            "name": g,
            "type": "Microsoft.Authorization/roleDefinitions",
            "properties": {
                "roleName": name,
                "description": f"{name} (emulated built-in role).",
                "type": "BuiltInRole",
                "permissions": [{"actions": actions, "notActions": [], "dataActions": [], "notDataActions": []}],
                "assignableScopes": ["/"],
            },
        }
    return None


def role_definitions(emu: Context, req: Request, m: Match) -> Response:
    scope, name = m.scope_text, m.get("name")
    if scope:
        hierarchy.require_scope(emu, m.scope)
    if not name:
        items = [role_definition(emu, g, scope) for g in sorted(set(BUILTIN_ROLES) | _policy_roles(emu))]
        items += [public(r) for r in emu.store.values("roleDefinitions")]
        flt = req.q("$filter") or ""
        if mm := re.search(r"roleName\s+eq\s+'([^']*)'", flt, re.I):
            items = [r for r in items if r["properties"]["roleName"].lower() == mm.group(1).lower()]
        if mm := re.search(r"type\s+eq\s+'([^']*)'", flt, re.I):
            items = [r for r in items if r["properties"]["type"].lower() == mm.group(1).lower()]
        return paged(req, items, default_top=emu.config.page_size)
    with emu.store.lock:
        if req.method == "GET":
            found = role_definition(emu, name, scope)
            if not found:
                raise ArmError(
                    404, "RoleDefinitionDoesNotExist", f"The specified role definition with ID '{name}' does not exist."
                )
            return Response(200, found)
        if req.method == "PUT":
            body = envelope.body(req)
            props = dict(body.get("properties") or {})
            if not props.get("roleName"):
                raise bad_request("InvalidRoleDefinition", "roleName is required.")
            props["type"] = "CustomRole"
            props.setdefault("assignableScopes", [scope or "/"])
            obj = {
                "id": f"{scope}{RD_SEGMENT}{name}",
                "name": name.lower(),
                "type": "Microsoft.Authorization/roleDefinitions",
                "properties": props,
            }
            emu.store.put("roleDefinitions", name, obj)
            return Response(201, obj)
        if req.method == "DELETE":
            found = emu.store.delete("roleDefinitions", name)
            return Response(200, public(found)) if found else Response(204, None)
    raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on role definitions.")


# --------------------------------------------------------------------------- role assignments


def _principal_check(emu: Context, principal_id: str) -> None:
    """PrincipalNotFound while a newly created identity has not 'replicated' (fault knobs)."""
    rec = emu.store.get("principals", principal_id)
    if not rec:
        return
    cfg = emu.faults.config
    young = cfg.principal_delay_s and time.time() - rec["createdAt"] < cfg.principal_delay_s
    counted = rec.get("failures", 0) < cfg.principal_failures
    if counted:
        rec = {**rec, "failures": rec.get("failures", 0) + 1}
        emu.store.put("principals", principal_id, rec)
    if young or counted:
        raise bad_request(
            "PrincipalNotFound",
            f"Principal {principal_id.replace('-', '')} does not exist in the directory "
            f"{emu.tenant_id}. Check that you have the correct principal ID. If you are creating this "
            "principal and then immediately assigning a role, this error might be related to a "
            "replication delay. In this case, set the role assignment principalType property to a "
            "value, such as ServicePrincipal, User, or Group. See https://aka.ms/docs-principaltype",
        )


def _put(item: Item) -> Response:
    obj = put_role_assignment(item.emu, item.scope, item.name, envelope.body(item.req))
    return Response(201 if item.existing is None else 200, public(obj))


def put_role_assignment(emu: Context, scope: str, name: str, body: dict) -> dict:
    """Create (or re-PUT unchanged) a role assignment with ARM's checks; raises ArmError."""
    rid = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
    existing = emu.store.get("roleAssignments", rid)
    try:
        uuid.UUID(name)
    except ValueError:
        raise bad_request(
            "InvalidRoleAssignmentId",
            f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.",
        ) from None
    props = body.get("properties") or {}
    role_id, principal = props.get("roleDefinitionId"), props.get("principalId")
    if not role_id or not principal:
        raise bad_request("InvalidRequestContent", "roleDefinitionId and principalId are required.")
    if not role_definition(emu, role_guid(role_id)):
        raise bad_request(
            "RoleDefinitionDoesNotExist",
            f"The specified role definition with ID '{role_guid(role_id)}' does not exist.",
        )
    if existing:
        ep = existing["properties"]
        if key(ep["principalId"]) != key(principal) or role_guid(ep["roleDefinitionId"]) != role_guid(role_id):
            raise bad_request(
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
            )
        return existing
    _check_not_duplicate(emu, scope, principal, role_id)
    _principal_check(emu, principal)
    known = emu.store.get("principals", principal)
    stamp = now_iso()
    obj = {
        "id": rid,
        "name": name,
        "type": RA_TYPE,
        "properties": {
            "scope": scope or "/",
            "roleDefinitionId": role_id,
            "principalId": principal,
            "principalType": props.get("principalType") or ("ServicePrincipal" if known else "User"),
            "description": props.get("description"),
            "condition": props.get("condition"),
            "conditionVersion": props.get("conditionVersion"),
            "createdOn": stamp,
            "updatedOn": stamp,
            "createdBy": "policygen-emulator",
            "updatedBy": "policygen-emulator",
            "delegatedManagedIdentityResourceId": props.get("delegatedManagedIdentityResourceId"),
        },
    }
    emu.store.put("roleAssignments", rid, obj)
    return obj


def _check_not_duplicate(emu: Context, scope: str, principal: str, role_id: str) -> None:
    """RoleAssignmentExists: the same principal and role at the same scope under another name."""
    for ra in emu.store.values("roleAssignments"):
        rp = ra["properties"]
        if (
            key(rp["scope"]) == key(scope or "/")
            and key(rp["principalId"]) == key(principal)
            and role_guid(rp["roleDefinitionId"]) == role_guid(role_id)
        ):
            raise ArmError(
                409,
                "RoleAssignmentExists",
                "The role assignment already exists.",
                details=[{"code": "RoleAssignmentExists", "message": ra["name"]}],
            )


def _list(emu: Context, m: Match, flt: str | None) -> list[dict]:
    scope = m.scope_text
    chain = {key(s) for s in hierarchy.scope_chain(emu, m.scope)} if scope else {""}
    flt = (flt or "").strip()
    principal = None
    if mm := re.search(r"(?:assignedTo\(\s*'([^']*)'\s*\)|principalId\s+eq\s+'([^']*)')", flt, re.I):
        principal = (mm.group(1) or mm.group(2)).lower()
    at_scope = "atscope()" in flt.lower()
    out = []
    for ra in emu.store.values("roleAssignments"):
        rs = ra["properties"]["scope"]
        rs_key = "" if rs == "/" else key(rs)
        above = rs_key in chain
        below = not above and scope and hierarchy.in_scope(emu, m.scope, rs) if rs != "/" else False
        if not (above or (below and not at_scope) or not scope):
            continue
        if principal and ra["properties"]["principalId"].lower() != principal:
            continue
        out.append(public(ra))
    return sorted(out, key=lambda r: r["id"].lower())


def has_permission(emu: Context, principal_id: str, target_id: str, roles: set[str] | None) -> bool:
    """True when `principal_id` holds, at or above `target_id`, one of `roles` (GUIDs) or Owner/Contributor."""
    chain = {key(s) for s in hierarchy.scope_chain(emu, target_id)}
    wanted = (roles or set()) | {"8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "b24988ac-6180-42a0-ab88-20f7382dd24c"}
    for ra in emu.store.values("roleAssignments"):
        rp = ra["properties"]
        rs_key = "" if rp["scope"] == "/" else key(rp["scope"])
        if (
            rs_key in chain
            and key(rp["principalId"]) == key(principal_id)
            and role_guid(rp["roleDefinitionId"]) in wanted
        ):
            return True
    return False


# --------------------------------------------------------------------------- identity read


def system_identity(emu: Context, req: Request, m: Match) -> Response:
    scope = m.scope_text
    owner = emu.store.get("policyAssignments", scope) or emu.store.get("resources", scope)
    identity = (owner or {}).get("identity") or {}
    if str(identity.get("type", "")).lower() not in ("systemassigned", "systemassigned,userassigned"):
        raise ArmError(404, "ResourceNotFound", f"No system-assigned identity exists for '{scope}'.")
    return Response(
        200,
        {
            "id": f"{scope}/providers/Microsoft.ManagedIdentity/identities/default",
            "name": "default",
            "type": "Microsoft.ManagedIdentity/identities",
            "location": owner.get("location"),
            "properties": {
                "tenantId": emu.tenant_id,
                "principalId": identity["principalId"],
                "clientId": str(uuid.uuid5(uuid.NAMESPACE_URL, identity["principalId"])),
            },
        },
    )


role_assignments = Collection(
    "roleAssignments",
    "/providers/Microsoft.Authorization/roleAssignments/",
    "role assignments",
    lambda name: ArmError(404, "RoleAssignmentNotFound", f"The role assignment '{name}' is not found."),
    _list,
    _put,
)
