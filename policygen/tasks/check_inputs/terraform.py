"""`terraform show -json` plans: `azapi_resource` changes become the ARM bodies the azapi provider would PUT.

Plan format (https://developer.hashicorp.com/terraform/internals/json-format): `resource_changes[]` with
`change.actions` and the planned `change.after`; a value known only after apply is null in `after` and `true` at
the same path of `change.after_unknown`. azapi_resource (https://registry.terraform.io/providers/Azure/azapi/
latest/docs/resources/resource): `type` is `Namespace/type@api-version`, the resource sits under `parent_id`
(a child type under its parent resource, any other type under `<parent_id>/providers/`), `body` is the ARM
body (an object; a JSON string in azapi 1.x), `location`, `tags` and the `identity` block are its top-level
fields. azurerm resources map their arguments to ARM inside the provider, so they are reported as not
checkable rather than passed. `no-op`, `read` and delete-only changes send no body.
"""

from __future__ import annotations

import json
from typing import Any

from policygen.arm.scopes import MG_PREFIX, ScopeError, ScopeKind, key, parse_scope
from policygen.errors import Diagnostic
from policygen.tasks.check_inputs.jsondoc import Document
from policygen.tasks.check_inputs.placed import Placed, placeholder, unplaced

SENDS_BODY = ("create", "update")


def is_plan(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("resource_changes"), list) and (
        "format_version" in data or "terraform_version" in data or "planned_values" in data)


def from_plan(doc: Document, data: dict, problems: list[Diagnostic]) -> list[Placed]:
    out = []
    for rc in data["resource_changes"]:
        if not isinstance(rc, dict) or rc.get("mode", "managed") != "managed":
            continue
        change = rc.get("change") if isinstance(rc.get("change"), dict) else {}
        actions = change.get("actions") if isinstance(change.get("actions"), list) else []
        if not any(a in SENDS_BODY for a in actions):
            continue
        rtype, address, line = str(rc.get("type", "")), str(rc.get("address", "")), doc.line(rc)
        if rtype == "azapi_resource":
            placed = _azapi(doc, rc, change, address, line, problems)
            if placed is not None:
                out.append(placed)
        elif rtype.startswith("azurerm_"):
            out.append(unplaced(rtype, address, doc.name, line, f"{address} is an azurerm resource: the provider "
                                "builds its ARM body, which the plan does not show; check reads azapi_resource "
                                "bodies (or check the what-if of an exported template)"))
        elif rtype == "azapi_update_resource":
            out.append(unplaced(rtype, address, doc.name, line, f"{address} patches part of an existing resource; "
                                "the whole body exists only in Azure"))
    return out


def _azapi(doc: Document, rc: dict, change: dict, address: str, line: int,
           problems: list[Diagnostic]) -> Placed | None:
    after = change.get("after") if isinstance(change.get("after"), dict) else {}
    unknown = change.get("after_unknown") if isinstance(change.get("after_unknown"), dict) else {}
    later = [k for k in ("type", "name", "parent_id", "body") if unknown.get(k) is True]
    if later:
        return unplaced(after.get("type"), address, doc.name, line, f"{address}: its {', '.join(later)} "
                        "known only after apply")
    typever, name, parent_id = after.get("type"), after.get("name"), after.get("parent_id")
    if not (isinstance(typever, str) and isinstance(name, str) and name and isinstance(parent_id, str)):
        problems.append(Diagnostic(doc.name, line, 1, f"{address}: an azapi_resource needs type, name and "
                                   "parent_id strings in change.after"))
        return None
    rtype = typever.split("@", 1)[0]
    body = after.get("body")
    if isinstance(body, str):
        try:
            body = json.loads(body) if body.strip() else {}
        except ValueError as exc:
            problems.append(Diagnostic(doc.name, line, 1, f"{address}: body is not JSON ({exc})"))
            return None
    if body is not None and not isinstance(body, dict):
        problems.append(Diagnostic(doc.name, line, 1, f"{address}: body must be an object"))
        return None
    try:
        rid = resource_id(rtype, name, parent_id)
    except ValueError as exc:
        problems.append(Diagnostic(doc.name, line, 1, f"{address}: {exc}"))
        return None
    symbolic: list[str] = []
    resource: dict[str, Any] = _unknown(dict(body or {}), unknown.get("body"), "", symbolic)
    for field in ("location", "tags"):
        if unknown.get(field) is True:
            resource[field] = placeholder(f"{address}.{field} (known after apply)")
            symbolic.append(f"/{field}")
        elif after.get(field) not in (None, ""):
            resource[field] = _unknown(after[field], unknown.get(field), f"/{field}", symbolic)
    identity = _identity(after.get("identity"))
    if identity:
        resource["identity"] = identity
    resource.update(id=rid, type=rtype, name=name)
    return Placed(resource, doc.name, line, symbolic)


def resource_id(rtype: str, name: str, parent_id: str) -> str:
    """The id azapi gives a resource of `rtype` named `name` under `parent_id`."""
    segments = rtype.strip("/").split("/")
    if len(segments) < 2 or "/" in name:
        raise ValueError(f"'{rtype}' named '{name}' is not a resource type and name")
    low = rtype.lower()
    parent = parent_id.rstrip("/")
    if low == "microsoft.resources/resourcegroups":
        return f"{parent}/resourceGroups/{name}"
    if low == "microsoft.management/managementgroups":
        return MG_PREFIX + name
    try:
        scope = parse_scope(parent or "/")
    except ScopeError as exc:
        raise ValueError(f"parent_id: {exc}") from None
    if len(segments) > 2:
        if scope.kind is not ScopeKind.RESOURCE or key(scope.resource_type) != key("/".join(segments[:-1])):
            raise ValueError(f"the parent_id of a '{rtype}' must be a '{'/'.join(segments[:-1])}', not {parent_id!r}")
        return f"{parent}/{segments[-1]}/{name}"
    return f"{parent}/providers/{rtype}/{name}"


def _unknown(value: Any, unknown: Any, path: str, symbolic: list[str]) -> Any:
    """`value` with every path `after_unknown` marks replaced by a placeholder (recorded in `symbolic`)."""
    if unknown is True:
        symbolic.append(path or "/")
        return placeholder(f"{path or '/'} (known after apply)")
    if isinstance(unknown, dict) and isinstance(value, dict):
        out = dict(value)
        for k, u in unknown.items():
            if u is True or isinstance(u, (dict, list)):
                out[k] = _unknown(value.get(k), u, f"{path}/{k}", symbolic)
        return out
    if isinstance(unknown, list) and isinstance(value, list):
        return [_unknown(v, unknown[i] if i < len(unknown) else False, f"{path}/{i}", symbolic)
                for i, v in enumerate(value)]
    return value


def _identity(raw: Any) -> dict[str, Any] | None:
    """azapi's `identity` block ([{type, identity_ids}]) as ARM's `identity` object."""
    block = raw[0] if isinstance(raw, list) and raw else raw
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        return None
    out: dict[str, Any] = {"type": block["type"]}
    ids = block.get("identity_ids")
    if isinstance(ids, list) and ids:
        out["userAssignedIdentities"] = {str(i): {} for i in ids}
    return out
