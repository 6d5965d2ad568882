"""`az deployment ... what-if` and `... validate` output: the bodies ARM itself expanded, checked as they are.

What-if (REST `Deployments_WhatIf`, `WhatIfOperationResult`; the CLI prints it with `--no-pretty-print` with
`changes` at the top, REST nests them under `properties`): each change has a `changeType`
(https://learn.microsoft.com/azure/azure-resource-manager/templates/deploy-what-if#change-types) and, unless
the resource is deleted or ignored, the `after` body ARM would PUT. Create, Modify, Deploy and NoChange are
PUT again, so policy evaluates them; Delete and Ignore send no body (nothing to deny); Unsupported has no
prediction (undecidable, with ARM's `unsupportedReason`). What-if leaves an expression it cannot evaluate
before deployment (reference(), list*()) as its `[...]` text: such a value is a placeholder, as in templates.

Validate (`properties.validatedResources`): older API versions list full bodies; newer ones only ids, which
are reported undecidable (no body to evaluate) rather than passed.
"""

from __future__ import annotations

from typing import Any

from policygen.arm.expressions import is_expression
from policygen.arm.scopes import ScopeError, parse_scope
from policygen.tasks.check_inputs.jsondoc import Document
from policygen.tasks.check_inputs.placed import Placed, placeholder, unplaced

PUT = ("create", "modify", "deploy", "nochange")
NOT_SENT = ("delete", "ignore")


def changes_of(data: Any) -> list | None:
    """The what-if changes list, when `data` is what-if output."""
    if not isinstance(data, dict):
        return None
    for holder in (data, data.get("properties")):
        if isinstance(holder, dict) and isinstance(holder.get("changes"), list) and (
                "status" in data or all(isinstance(c, dict) and "changeType" in c for c in holder["changes"])):
            potential = holder.get("potentialChanges")
            return list(holder["changes"]) + (list(potential) if isinstance(potential, list) else [])
    return None


def validated_of(data: Any) -> list | None:
    props = data.get("properties") if isinstance(data, dict) else None
    if isinstance(props, dict) and isinstance(props.get("validatedResources"), list):
        return props["validatedResources"]
    return None


def from_whatif(doc: Document, changes: list) -> list[Placed]:
    out = []
    for change in changes:
        if not isinstance(change, dict):
            continue
        kind = str(change.get("changeType", "")).lower()
        after = change.get("after")
        rid = change.get("resourceId") if isinstance(change.get("resourceId"), str) else ""
        if kind in NOT_SENT:
            continue
        if kind not in PUT or not isinstance(after, dict):
            why = change.get("unsupportedReason") or f"no body for changeType {change.get('changeType')!r}"
            out.append(unplaced(_type_of(rid), rid.rsplit("/", 1)[-1], doc.name, doc.line(change, "changeType"),
                                f"what-if cannot predict this resource: {why}", rid))
            continue
        out.append(_body(doc, after, rid, "what-if"))
    return out


def from_validate(doc: Document, items: list) -> list[Placed]:
    out = []
    for item in items:
        if not isinstance(item, dict):
            continue
        rid = item.get("id") if isinstance(item.get("id"), str) else ""
        if str(item.get("type") or _type_of(rid)).lower() == "microsoft.resources/deployments":
            continue  # the nested deployments themselves; their resources are listed too
        if "properties" not in item and "location" not in item:
            out.append(unplaced(_type_of(rid), rid.rsplit("/", 1)[-1], doc.name, doc.line(item, "id"),
                                "deployment-validate output lists only this resource's id (newer API versions "
                                "do); check the template or what-if output for its body", rid))
            continue
        out.append(_body(doc, item, rid, "validate"))
    return out


def _body(doc: Document, body: dict, rid: str, what: str) -> Placed:
    rid = body["id"] if isinstance(body.get("id"), str) and body["id"].startswith("/") else rid
    line = doc.line(body)
    try:
        parsed = parse_scope(rid) if rid.startswith("/") and rid.strip("/") else None
    except ScopeError:
        parsed = None
    if parsed is None:
        return unplaced(body.get("type"), body.get("name"), doc.name, line,
                        f"the {what} output gives no usable resource id ({rid!r})")
    symbolic: list[str] = []
    resource = _unevaluated({k: v for k, v in body.items() if k not in ("apiVersion", "resourceGroup")}, "",
                            symbolic)
    resource.update(id=rid, type=body.get("type") if isinstance(body.get("type"), str) else parsed.resource_type,
                    name=parsed.name)
    return Placed(resource, doc.name, line, symbolic)


def _unevaluated(value: Any, path: str, symbolic: list[str]) -> Any:
    """What-if prints an expression it could not evaluate as its text: a placeholder, not a value."""
    if isinstance(value, str) and is_expression(value):
        symbolic.append(path or "/")
        return placeholder(value)
    if isinstance(value, dict):
        return {k: _unevaluated(v, f"{path}/{k}", symbolic) for k, v in value.items()}
    if isinstance(value, list):
        return [_unevaluated(v, f"{path}/{i}", symbolic) for i, v in enumerate(value)]
    return value


def _type_of(rid: str) -> str:
    try:
        return parse_scope(rid).resource_type or ""
    except ScopeError:
        return ""
