"""ARM requests on generic resources under subscriptions and resource groups (stored by `inventory`).

A PUT through the API passes Azure Policy's admission first: enforced `deny` assignments answer 403
RequestDisallowedByPolicy, enforced `modify`/`append` change the request; then deployIfNotExists runs for
the new resource. Template deployments write through the same path (`Context.write_resource`).
"""

from __future__ import annotations

import re

from policygen.arm.scopes import Scope, ScopeKind
from policygen.emulator import compliance, envelope, events, hierarchy, inventory, remediation
from policygen.emulator.context import Context
from policygen.emulator.core import ArmError, Match, Request, Response, key, paged, parse_scope, resource_type_of
from policygen.emulator.store import public


def handle(emu: Context, req: Request, m: Match) -> Response:
    rest = m["rest"].strip("/")
    base = m.scope
    hierarchy.require_scope(emu, base)
    if len(rest.split("/")) % 2 == 0:  # a collection: {ns}/{type}[/{name}/{type}]
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
    rid = f"{base.id}/providers/{rest}"
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
            inventory.delete_under(emu, rid)
            return Response(200, None)
        if req.method in ("PUT", "PATCH"):
            body = envelope.body(req)
            if req.method == "PATCH":
                if not existing:
                    raise _missing(rid)
                body = inventory.merge_patch(public(existing), body)
            parent = parse_scope(rid).parent
            if parent is not None and parent.kind is ScopeKind.RESOURCE and not emu.store.get("resources", parent.id):
                raise ArmError(
                    404,
                    "ParentResourceNotFound",
                    f"Can not perform requested operation on nested resource. Parent resource "
                    f"'{parent.name}' not found.",
                )
            candidate = admitted(emu, rid, body, existing)
            return Response(200 if existing or req.method == "PATCH" else 201, public(candidate))
    raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on resources.")


def _missing(rid: str) -> ArmError:
    rg = parse_scope(rid).resource_group
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{resource_type_of(rid)}/{rid.rsplit('/', 1)[-1]}' "
        f"under resource group '{rg or '-'}' was not found. For more details please go to "
        "https://aka.ms/ARMResourceNotFoundFix",
    )


def admitted(emu: Context, rid: str, body: dict, existing: dict | None) -> dict:
    """Build, pass request-time policy (deny raises; modify/append change it), store, then deployIfNotExists."""
    built = inventory.build(emu, rid, body, existing)
    try:
        candidate = compliance.admission(emu, built)
    except ArmError as err:
        if denial := getattr(err, "denial", None):
            events.denied(emu, built, *denial)
        raise
    stored = inventory.store(emu, rid, candidate)
    events.after_write(emu, stored)
    remediation.auto_deploy(emu, stored)
    return stored


def put_raw(emu: Context, resource: dict, *, policy: bool = False) -> dict:
    """Store a resource. Seeds and inventories skip Azure Policy; deployments (`policy=True`) go through
    request-time effects (deny → ArmError, modify/append) and trigger deployIfNotExists like any PUT."""
    if not policy:
        return inventory.put_raw(emu, resource)
    rid = inventory.checked_id(resource)
    return admitted(emu, rid, resource, emu.store.get("resources", rid))


def list_resources(emu: Context, req: Request, m: Match) -> Response:
    base: Scope = m.scope
    hierarchy.require_scope(emu, base)
    items = [public(r) for r in inventory.resources_under(emu, base.id)]
    flt = req.q("$filter") or ""
    if mm := re.search(r"resourceType\s+eq\s+'([^']*)'", flt, re.I):
        items = [r for r in items if r["type"].lower() == mm.group(1).lower()]
    return paged(req, sorted(items, key=lambda r: r["id"].lower()), default_top=emu.config.page_size)
