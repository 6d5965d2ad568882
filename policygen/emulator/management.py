"""ARM handlers for management groups, subscriptions and resource groups.

Management-group create and delete are long-running operations answered with 202 + Azure-AsyncOperation,
because the SDK's ARMPolling insists on that shape. The tree itself is `hierarchy`.
"""

from __future__ import annotations

import re

from policygen.emulator import inventory
from policygen.emulator.context import Context
from policygen.emulator.core import ArmError, Match, Request, Response, bad_request, key, paged
from policygen.emulator.hierarchy import (
    MG_PREFIX,
    MG_TYPE,
    child_mgs,
    mg_chain,
    mg_id,
    put_mg,
    put_resource_group,
    put_subscription,
    require_scope,
    root_name,
    subscriptions_under,
)
from policygen.emulator.store import public

# --------------------------------------------------------------------------- management groups


def _mg_view(emu: Context, mg: dict, req: Request | None = None, full: bool = False) -> dict:
    body = public(mg)
    body["properties"] = dict(body["properties"])
    if not full:
        return body
    parent = mg["_meta"].get("parent")
    chain = mg_chain(emu, mg["name"])[1:]
    details = {
        "version": mg["_meta"].get("version", 1),
        "updatedTime": mg["_meta"].get("updated"),
        "updatedBy": "policygen-emulator",
        "parent": (
            {
                "id": mg_id(parent),
                "name": parent,
                "displayName": emu.store.get("managementGroups", parent)["properties"]["displayName"],
            }
            if parent
            else None
        ),
        "managementGroupAncestors": chain,
        "managementGroupAncestorsChain": [
            {"name": n, "displayName": emu.store.get("managementGroups", n)["properties"]["displayName"]} for n in chain
        ],
    }
    expand = (req.q("$expand") or "").lower() if req else ""
    if "path" in expand or "ancestors" in expand:
        details["path"] = [
            {"name": n, "displayName": emu.store.get("managementGroups", n)["properties"]["displayName"]}
            for n in reversed(mg_chain(emu, mg["name"]))
        ]
    body["properties"]["details"] = details
    if "children" in expand:
        recurse = (req.q("$recurse") or "").lower() == "true" if req else False
        body["properties"]["children"] = _children(emu, mg["name"], recurse)
    return body


def _children(emu: Context, mg: str, recurse: bool) -> list[dict]:
    out = []
    for g in sorted(child_mgs(emu, mg), key=lambda g: g["name"].lower()):
        out.append(
            {
                "type": MG_TYPE,
                "id": g["id"],
                "name": g["name"],
                "displayName": g["properties"]["displayName"],
                "children": _children(emu, g["name"], True) if recurse else None,
            }
        )
    for s in sorted(subscriptions_under(emu, mg), key=lambda s: s["subscriptionId"]):
        out.append(
            {
                "type": "/subscriptions",
                "id": s["id"],
                "name": s["subscriptionId"],
                "displayName": s["displayName"],
                "children": None,
            }
        )
    return out


def _get_mg(emu: Context, name: str) -> dict:
    mg = emu.store.get("managementGroups", name)
    if not mg:
        raise ArmError(404, "ManagementGroupNotFound", f"The management group '{name}' could not be found.")
    return mg


def _async_headers(emu: Context, req: Request, op: str, name: str) -> dict[str, str]:
    url = (
        f"{req.base_url}{MG_PREFIX.replace('/managementGroups/', '/operationResults/')}{op}/managementGroups/"
        f"{name}?api-version={req.api_version}"
    )
    return {"Azure-AsyncOperation": url, "Location": url, "retry-after-ms": str(emu.config.lro_poll_ms)}


def management_groups(emu: Context, req: Request, m: Match) -> Response:
    name = m.get("mg")
    with emu.store.lock:
        if not name:
            if req.method != "GET":
                raise ArmError(405, "MethodNotAllowed", "Use PUT on a named management group.")
            items = sorted(emu.store.values("managementGroups"), key=lambda g: g["name"].lower())
            return paged(req, [_mg_view(emu, g) for g in items], default_top=emu.config.page_size)
        if req.method == "GET":
            return Response(200, _mg_view(emu, _get_mg(emu, name), req, full=True))
        if req.method == "PUT":
            body = req.json()
            props = body.get("properties") or {}
            parent_id = ((props.get("details") or {}).get("parent") or {}).get("id")
            parent = parent_id.rstrip("/").rsplit("/", 1)[-1] if parent_id else None
            _check_parent(emu, name, parent)
            put_mg(emu, name, props.get("displayName"), parent)
            return Response(
                202,
                {"id": mg_id(name), "type": MG_TYPE, "name": name, "status": "Running"},
                _async_headers(emu, req, "create", name),
            )
        if req.method == "PATCH":
            mg = _get_mg(emu, name)
            body = req.json()
            parent_id = body.get("parentGroupId")
            parent = parent_id.rstrip("/").rsplit("/", 1)[-1] if parent_id else None
            _check_parent(emu, name, parent)
            mg = put_mg(emu, mg["name"], body.get("displayName"), parent)
            return Response(200, _mg_view(emu, mg, req, full=True))
        if req.method == "DELETE":
            mg = _get_mg(emu, name)
            if key(name) == key(root_name(emu)):
                raise bad_request("BadRequest", "The tenant root management group cannot be deleted.")
            if child_mgs(emu, name) or subscriptions_under(emu, name):
                raise bad_request("BadRequest", f"Management group '{name}' has children; move or delete them first.")
            emu.store.delete("managementGroups", name)
            return Response(
                202,
                {"id": mg["id"], "type": MG_TYPE, "name": mg["name"], "status": "Running"},
                _async_headers(emu, req, "delete", name),
            )
    raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on management groups.")


def _check_parent(emu: Context, name: str, parent: str | None) -> None:
    if parent is None:
        return
    if not emu.store.get("managementGroups", parent):
        raise bad_request("ParentNotFound", f"The parent management group '{parent}' could not be found.")
    if key(name) in {key(n) for n in mg_chain(emu, parent)}:
        raise bad_request("BadRequest", f"Moving '{name}' under '{parent}' would create a cycle.")


def mg_operation(emu: Context, req: Request, m: Match) -> Response:
    name, op = m["mg"], m["op"].lower()
    mg = emu.store.get("managementGroups", name)
    body = {
        "id": f"/providers/Microsoft.Management/operationResults/{op}/managementGroups/{name}",
        "type": "Microsoft.Management/operationResults",
        "name": name,
        "status": "Succeeded",
    }
    if op == "create" and mg:
        body["properties"] = _mg_view(emu, mg, None, full=True)["properties"]
    return Response(200, body)


def mg_descendants(emu: Context, req: Request, m: Match) -> Response:
    _get_mg(emu, m["mg"])
    out: list[dict] = []

    def walk(name: str) -> None:
        for g in sorted(child_mgs(emu, name), key=lambda g: g["name"].lower()):
            out.append(
                {
                    "id": g["id"],
                    "type": MG_TYPE,
                    "name": g["name"],
                    "properties": {"displayName": g["properties"]["displayName"], "parent": {"id": mg_id(name)}},
                }
            )
            walk(g["name"])
        for s in sorted(subscriptions_under(emu, name), key=lambda s: s["subscriptionId"]):
            out.append(
                {
                    "id": s["id"],
                    "type": "Microsoft.Management/managementGroups/subscriptions",
                    "name": s["subscriptionId"],
                    "properties": {"displayName": s["displayName"], "parent": {"id": mg_id(name)}},
                }
            )

    walk(m["mg"])
    return paged(req, out, default_top=emu.config.page_size)


def _mg_sub_view(emu: Context, mg: str, sub: dict) -> dict:
    return {
        "id": f"{mg_id(mg)}/subscriptions/{sub['subscriptionId']}",
        "type": "Microsoft.Management/managementGroups/subscriptions",
        "name": sub["subscriptionId"],
        "properties": {
            "tenant": emu.tenant_id,
            "displayName": sub["displayName"],
            "parent": {"id": mg_id(sub["_meta"]["parent"])},
            "state": "Active",
        },
    }


def mg_subscriptions(emu: Context, req: Request, m: Match) -> Response:
    mg = _get_mg(emu, m["mg"])["name"]
    sub_id = m.get("sub")
    with emu.store.lock:
        if not sub_id:
            subs = sorted(subscriptions_under(emu, mg), key=lambda s: s["subscriptionId"])
            return paged(req, [_mg_sub_view(emu, mg, s) for s in subs], default_top=emu.config.page_size)
        if req.method == "PUT":
            return Response(200, _mg_sub_view(emu, mg, put_subscription(emu, sub_id, parent=mg)))
        sub = emu.store.get("subscriptions", sub_id)
        if not sub or key(sub["_meta"]["parent"]) != key(mg):
            raise ArmError(404, "SubscriptionNotFound", f"Subscription '{sub_id}' is not under '{mg}'.")
        if req.method == "GET":
            return Response(200, _mg_sub_view(emu, mg, sub))
        if req.method == "DELETE":
            put_subscription(emu, sub_id, parent=root_name(emu))
            return Response(200, None)
    raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported here.")


def mg_settings(emu: Context, req: Request, m: Match) -> Response:
    mg = _get_mg(emu, m["mg"])["name"]
    stored = emu.store.get("meta", f"settings:{mg}") or {}
    if req.method in ("PUT", "PATCH"):
        stored = {**stored, **req.json(required=False)}
        emu.store.put("meta", f"settings:{mg}", stored)
    elif req.method == "DELETE":
        emu.store.delete("meta", f"settings:{mg}")
        return Response(200, None)
    body = {
        "id": f"{mg_id(mg)}/settings/default",
        "type": "Microsoft.Management/managementGroups/settings",
        "name": "default",
        "properties": {
            "tenantId": emu.tenant_id,
            "requireAuthorizationForGroupCreation": stored.get("requireAuthorizationForGroupCreation", False),
            "defaultManagementGroup": stored.get("defaultManagementGroup", mg_id(root_name(emu))),
        },
    }
    if req.path.lower().endswith("/settings"):
        return Response(200, {"value": [body]})
    return Response(200, body)


def _display(emu: Context, name: str) -> str:
    return emu.store.get("managementGroups", name)["properties"]["displayName"]


def _counts(emu: Context, name: str) -> dict[str, int]:
    """getEntities' counts: direct children (groups and subscriptions), child groups, and all descendants."""
    groups, subs = child_mgs(emu, name), subscriptions_under(emu, name)
    below = len(groups) + len(subs) + sum(_counts(emu, g["name"])["numberOfDescendants"] for g in groups)
    return {
        "numberOfDescendants": below,
        "numberOfChildren": len(groups) + len(subs),
        "numberOfChildGroups": len(groups),
    }


def check_name_availability(emu: Context, req: Request, m: Match) -> Response:
    """POST /providers/Microsoft.Management/checkNameAvailability: is a management group name free?"""
    if req.method != "POST":
        raise ArmError(405, "MethodNotAllowed", "checkNameAvailability is a POST.")
    name = str(req.json().get("name") or "")
    if not re.fullmatch(r"[\w\-().]{1,90}", name) or name.endswith("."):
        return Response(
            200,
            {
                "nameAvailable": False,
                "reason": "Invalid",
                "message": f"The name '{name}' is not a valid management group name: use up to 90 letters, digits, "
                "'-', '_', '(', ')' and '.', not ending with a period.",
            },
        )
    if emu.store.get("managementGroups", name):
        return Response(
            200,
            {
                "nameAvailable": False,
                "reason": "AlreadyExists",
                "message": f"The group with the specified name '{name}' already exists.",
            },
        )
    return Response(200, {"nameAvailable": True})


def entities(emu: Context, req: Request, m: Match) -> Response:
    out = []
    for g in sorted(emu.store.values("managementGroups"), key=lambda g: g["name"].lower()):
        chain = mg_chain(emu, g["name"])[1:]
        parent = g["_meta"].get("parent")
        out.append(
            {
                "id": g["id"],
                "type": MG_TYPE,
                "name": g["name"],
                "properties": {
                    "tenantId": emu.tenant_id,
                    "displayName": g["properties"]["displayName"],
                    "parent": {"id": mg_id(parent)} if parent else None,
                    "permissions": "edit",
                    "inheritedPermissions": "edit",
                    "parentNameChain": list(reversed(chain)),
                    "parentDisplayNameChain": [_display(emu, n) for n in reversed(chain)],
                    **_counts(emu, g["name"]),
                },
            }
        )
    for s in sorted(emu.store.values("subscriptions"), key=lambda s: s["subscriptionId"]):
        chain = mg_chain(emu, s["_meta"]["parent"])
        out.append(
            {
                "id": s["id"],
                "type": "/subscriptions",
                "name": s["subscriptionId"],
                "properties": {
                    "tenantId": emu.tenant_id,
                    "displayName": s["displayName"],
                    "parent": {"id": mg_id(s["_meta"]["parent"])},
                    "permissions": "edit",
                    "inheritedPermissions": "edit",
                    "parentNameChain": list(reversed(chain)),
                },
            }
        )
    return paged(req, out, default_top=emu.config.page_size)


# --------------------------------------------------------------------------- subscriptions and RGs


def subscriptions(emu: Context, req: Request, m: Match) -> Response:
    sub = m.get("sub")
    if req.method != "GET":
        raise ArmError(405, "MethodNotAllowed", "Subscriptions are seeded or created through a management group.")
    if not sub:
        items = sorted(emu.store.values("subscriptions"), key=lambda s: s["subscriptionId"])
        return paged(req, [public(s) for s in items], default_top=emu.config.page_size)
    found = emu.store.get("subscriptions", sub)
    if not found:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")
    return Response(200, public(found))


def resource_groups(emu: Context, req: Request, m: Match) -> Response:
    sub, rg = m["sub"], m.get("rg")
    require_scope(emu, m.scope.parent if rg else m.scope)
    with emu.store.lock:
        if not rg:
            prefix = key(f"/subscriptions/{sub}/resourceGroups/")
            items = sorted(
                (g for k, g in emu.store.items("resourceGroups") if k.startswith(prefix)),
                key=lambda g: g["name"].lower(),
            )
            return paged(req, [public(g) for g in items], default_top=emu.config.page_size)
        rid = f"/subscriptions/{sub}/resourceGroups/{rg}"
        found = emu.store.get("resourceGroups", rid)
        if req.method == "HEAD":
            return Response(204 if found else 404, None)
        if req.method == "GET":
            if not found:
                raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
            return Response(200, public(found))
        if req.method == "PUT":
            body = req.json()
            if not body.get("location"):
                raise bad_request("LocationRequired", "The location property is required for this definition.")
            if found and key(found["location"]) != key(body["location"]):
                raise ArmError(
                    409,
                    "InvalidResourceGroupLocation",
                    f"Invalid resource group location '{body['location']}'. The Resource group already "
                    f"exists in location '{found['location']}'.",
                )
            g = put_resource_group(emu, sub, rg, body["location"], body.get("tags"), body.get("managedBy"))
            return Response(200 if found else 201, public(g))
        if req.method == "PATCH":
            if not found:
                raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
            body = req.json()
            g = put_resource_group(emu, sub, found["name"], found["location"], body.get("tags", found.get("tags")))
            return Response(200, public(g))
        if req.method == "DELETE":
            if not found:
                raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
            inventory.delete_under(emu, rid)
            emu.store.delete("resourceGroups", rid)
            return Response(200, None)
    raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on resource groups.")
