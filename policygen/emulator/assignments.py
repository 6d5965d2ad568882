"""Policy assignments at management-group, subscription, resource-group and resource scope.

Besides CRUD this is where Azure's assignment-time validation lives: the definition must be visible from the
scope, parameters must match it, DINE/modify need an identity, an identity needs a location, and that
location never changes. A system-assigned identity gets a fresh principal, recorded with its creation time
so role assignments can see the replication window.
"""

from __future__ import annotations

import re

from policygen.arm.scopes import Scope
from policygen.emulator import checks, envelope, hierarchy, policy
from policygen.emulator.collection import Collection, Item
from policygen.emulator.context import Context
from policygen.emulator.core import (
    ArmError,
    Match,
    Request,
    Response,
    bad_request,
    copy_json,
    guid,
    key,
    now_iso,
    parse_scope,
    system_data,
)
from policygen.emulator.inventory import new_principal
from policygen.emulator.store import public

TYPE = "Microsoft.Authorization/policyAssignments"
SEGMENT = "/providers/Microsoft.Authorization/policyAssignments/"


def _missing(name: str) -> ArmError:
    return ArmError(404, "PolicyAssignmentNotFound", f"The policy assignment '{name}' is not found.")


def _put(item: Item) -> Response:
    obj = put_assignment(item.emu, item.scope, item.name, envelope.body(item.req), item.match.scope)
    return Response(201, public(obj))


def _patch(item: Item) -> Response:
    return Response(200, public(patch_assignment(item.emu, item.existing, envelope.body(item.req))))


def _list(emu: Context, m: Match, flt: str | None) -> list[dict]:
    return list_for_scope(emu, m.scope, flt)


def list_for_scope(emu: Context, scope: Scope, flt: str | None) -> list[dict]:
    """ARM's list semantics: unfiltered = ancestors + scope + descendants; atScope() = ancestors + scope."""
    chain = {key(s) for s in hierarchy.scope_chain(emu, scope)}
    flt = (flt or "").strip()
    out = []
    for a in emu.store.values("policyAssignments"):
        a_scope = key(a["properties"]["scope"])
        above = a_scope in chain
        below = not above and hierarchy.in_scope(emu, scope, a["properties"]["scope"])
        if not flt:
            keep = above or below
        elif flt.lower() == "atscope()":
            keep = above
        elif flt.lower() == "atexactscope()":
            keep = a_scope == key(scope.id)
        elif mm := re.fullmatch(r"policyDefinitionId\s+eq\s+'([^']*)'", flt, re.I):
            keep = (above or below) and key(a["properties"].get("policyDefinitionId", "")) == key(mm.group(1))
        else:
            raise bad_request("InvalidFilterInQueryString", f"The filter '{flt}' is not supported.")
        if keep:
            out.append(public(a))
    return sorted(out, key=lambda a: a["id"].lower())


def _same_location(a: str | None, b: str | None) -> bool:
    return (a or "").replace(" ", "").lower() == (b or "").replace(" ", "").lower()


def _identity(emu: Context, rid: str, requested: dict | None, existing: dict | None) -> dict | None:
    if not requested:
        return None
    itype = str(requested.get("type", "None"))
    if itype.lower() == "none":
        return {"type": "None"}
    if itype.lower() == "systemassigned":
        old = (existing or {}).get("identity") or {}
        pid = old.get("principalId") if str(old.get("type", "")).lower() == "systemassigned" else None
        return {"type": "SystemAssigned", "principalId": pid or new_principal(emu, rid), "tenantId": emu.tenant_id}
    if itype.lower() == "userassigned":
        uamis = requested.get("userAssignedIdentities") or {}
        if len(uamis) != 1:
            raise bad_request(
                "InvalidPolicyAssignmentIdentity", "A policy assignment supports exactly one user-assigned identity."
            )
        out = {}
        for uid in uamis:
            pid = guid("uami-principal", uid)
            if not emu.store.get("principals", pid):
                emu.store.put(
                    "principals",
                    pid,
                    {"principalId": pid, "owner": uid, "type": "UserAssigned", "createdAt": 0.0, "failures": 0},
                )
            out[uid] = {"principalId": pid, "clientId": guid("uami-client", uid)}
        return {"type": "UserAssigned", "userAssignedIdentities": out}
    raise bad_request("InvalidPolicyAssignmentIdentity", f"Identity type '{itype}' is not supported.")


def put_assignment(emu: Context, scope_id: str, name: str, body: dict, scope: Scope | None = None) -> dict:
    """Create or replace an assignment at `scope_id` (`scope` is it parsed, when the caller has it)."""
    scope = hierarchy.require_scope(emu, scope or parse_scope(scope_id), scope_id)
    rid = f"{scope_id}{SEGMENT}{name}"
    existing = emu.store.get("policyAssignments", rid)
    props = copy_json(body.get("properties") or {})
    def_id = props.get("policyDefinitionId")
    if not def_id or not isinstance(def_id, str):
        raise bad_request("InvalidCreatePolicyAssignmentRequest", "The policyDefinitionId property is required.")
    target = policy.resolve_visible(emu, def_id, scope)
    known = {def_id: target}
    for ref in target["properties"].get("policyDefinitions") or []:
        member = policy.lookup(emu, ref.get("policyDefinitionId", ""))
        if member:
            known[ref["policyDefinitionId"]] = member
    checks.check_assignment(name, scope_id, body, known)
    for ns in props.get("notScopes") or []:
        parse_scope(ns)
    props.setdefault("enforcementMode", "Default")
    props.setdefault("definitionVersion", policy.major_pattern(target))
    requested = body.get("identity") or None
    has_identity = bool(requested) and str(requested.get("type", "None")).lower() != "none"
    location = body.get("location")
    if has_identity and not location:
        raise bad_request(
            "LocationRequired", "The policy assignment has a managed identity, so its 'location' is required."
        )
    if existing and existing.get("location") and location and not _same_location(existing["location"], location):
        raise bad_request(
            "InvalidLocationUpdate",
            f"The existing assignment location '{existing['location']}' cannot be changed to '{location}'.",
        )
    identity = _identity(emu, rid, requested, existing) if has_identity else None
    props["scope"] = scope_id
    props.setdefault("notScopes", [])
    props.setdefault("parameters", {})
    meta = dict(props.get("metadata") or {})
    old_meta = ((existing or {}).get("properties") or {}).get("metadata") or {}
    stamp = now_iso()
    meta.setdefault("createdBy", old_meta.get("createdBy", "policygen-emulator"))
    meta["createdOn"] = old_meta.get("createdOn", stamp)
    if existing:
        meta["updatedBy"], meta["updatedOn"] = "policygen-emulator", stamp
    props["metadata"] = meta
    props["instanceId"] = (existing or {}).get("properties", {}).get("instanceId") or guid("instance", rid, stamp)
    obj = {
        "id": existing["id"] if existing else rid,
        "name": existing["name"] if existing else name,
        "type": TYPE,
        "systemData": system_data(existing),
        "properties": props,
    }
    if location:
        obj["location"] = location
    if identity:
        obj["identity"] = identity
    return emu.store.put("policyAssignments", rid, obj)


def patch_assignment(emu: Context, existing: dict, body: dict) -> dict:
    obj = copy_json(existing)
    if "location" in body and obj.get("location") and not _same_location(obj["location"], body["location"]):
        raise bad_request(
            "InvalidLocationUpdate", f"The existing assignment location '{obj['location']}' cannot be changed."
        )
    if body.get("location"):
        obj["location"] = body["location"]
    if "identity" in body:
        identity = _identity(emu, obj["id"], body["identity"], existing)
        if identity and identity.get("type") != "None":
            if not obj.get("location"):
                raise bad_request("LocationRequired", "An assignment with an identity needs a location.")
            obj["identity"] = identity
        else:
            obj.pop("identity", None)
    for field in ("resourceSelectors", "overrides"):
        if field in (body.get("properties") or {}):
            obj["properties"][field] = body["properties"][field]
    obj["systemData"] = system_data(existing)
    return emu.store.put("policyAssignments", obj["id"], obj)


def in_force(emu: Context, resource_id: str) -> list[dict]:
    """Assignments whose scope covers `resource_id` and whose notScopes do not exclude it."""
    chain = {key(s) for s in hierarchy.scope_chain(emu, resource_id)}
    out = []
    for a in emu.store.values("policyAssignments"):
        props = a["properties"]
        if key(props["scope"]) not in chain:
            continue
        if any(key(ns) in chain for ns in props.get("notScopes") or []):
            continue
        out.append(a)
    return out


def shown(emu: Context, req: Request, obj: dict) -> dict:
    """`$expand=LatestDefinitionVersion, EffectiveDefinitionVersion`: the definition's newest version, and the
    newest that the assignment's `definitionVersion` allows."""
    expand = {e.strip().lower() for e in (req.q("$expand") or "").split(",")}
    if not expand & {"latestdefinitionversion", "effectivedefinitionversion"}:
        return obj
    target = policy.lookup(emu, obj["properties"].get("policyDefinitionId", ""))
    if target is None:
        return obj
    props = obj["properties"] = dict(obj["properties"])
    if "latestdefinitionversion" in expand:
        props["latestDefinitionVersion"] = policy.version_matching(target, None)
    if "effectivedefinitionversion" in expand:
        props["effectiveDefinitionVersion"] = policy.version_matching(target, props.get("definitionVersion"))
    return obj


handle = Collection(
    "policyAssignments",
    SEGMENT,
    "policy assignments",
    _missing,
    _list,
    _put,
    patch=_patch,
    scope_checked_first=False,
    shown=shown,
)
