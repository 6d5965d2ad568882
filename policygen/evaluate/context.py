"""The context Azure supplies to an evaluation, from a file (`--context FILE`) or a test case's `context:`.

    resourceGroup: {name: rg-app, location: westeurope, tags: {env: prod}, managedBy: ..., properties: {...}}
    subscription: {subscriptionId: ..., displayName: Prod, tags: {...}, properties: {...}}
    policy: {assignmentId: ..., definitionId: ..., setDefinitionId: ..., definitionReferenceId: ...}
    requestContext: {apiVersion: 2023-01-01, identity: {idtyp: user, appid: ..., acrs: p1}}
    utcNow: 2025-01-31T12:00:00Z

What `resourceGroup()`, `subscription()`, `policy()`, `requestContext()` and `utcNow()` return
(https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule#policy-functions);
anything not given is derived from the evaluated resource's id as before. Keys are case-insensitive.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from policygen.errors import Diagnostic, InputError
from policygen.evaluate.functions import parse_datetime
from policygen.evaluate.runtime import EvalContext

_SECTIONS = {"resourcegroup", "subscription", "policy", "requestcontext", "utcnow"}
_POLICY_KEYS = {"assignmentid": "assignment_id", "definitionid": "definition_id",
                "setdefinitionid": "set_definition_id", "definitionreferenceid": "definition_reference_id"}  # fmt: skip


class ContextError(ValueError):
    """A context that cannot be used (unknown key, wrong type); the message names the key."""


def _obj(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ContextError(f"{where} must be an object")
    return {str(k).lower(): v for k, v in value.items()}


def _dict(value: Any, where: str) -> dict[str, Any]:
    """A copy with the author's key spelling (tags, properties), after the type check."""
    _obj(value, where)
    return dict(value or {})


def _str(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ContextError(f"{where} must be a string")
    return value


def context_from_mapping(data: Any) -> EvalContext:
    """An EvalContext from the documented shape above; raises ContextError naming the bad key."""
    d = _obj(data, "the context")
    unknown = sorted(set(d) - _SECTIONS)
    if unknown:
        raise ContextError(
            f"unknown context key(s) {', '.join(unknown)} (expected resourceGroup, subscription, policy, "
            "requestContext, utcNow)"
        )
    values: dict[str, Any] = {}
    rg = _obj(d.get("resourcegroup"), "resourceGroup")
    if rg:
        values["resource_group"] = _str(rg.get("name"), "resourceGroup.name")
        values["location"] = _str(rg.get("location"), "resourceGroup.location")
        values["resource_group_tags"] = _dict(rg.get("tags"), "resourceGroup.tags")
        values["resource_group_managed_by"] = _str(rg.get("managedby"), "resourceGroup.managedBy")
        values["resource_group_properties"] = _dict(rg.get("properties"), "resourceGroup.properties")
    sub = _obj(d.get("subscription"), "subscription")
    if sub:
        values["subscription_id"] = _str(sub.get("subscriptionid"), "subscription.subscriptionId")
        values["subscription_name"] = _str(sub.get("displayname"), "subscription.displayName")
        values["subscription_tags"] = _dict(sub.get("tags"), "subscription.tags")
        if sub.get("tenantid") is not None:
            values["tenant_id"] = _str(sub.get("tenantid"), "subscription.tenantId")
        values["subscription_properties"] = _dict(sub.get("properties"), "subscription.properties")
    pol = _obj(d.get("policy"), "policy")
    for key, val in pol.items():
        if key not in _POLICY_KEYS:
            raise ContextError(f"unknown policy() field {key!r} (assignmentId, definitionId, setDefinitionId, "
                               "definitionReferenceId)")  # fmt: skip
        values[_POLICY_KEYS[key]] = _str(val, f"policy.{key}") or ""
    req = _obj(d.get("requestcontext"), "requestContext")
    if req:
        values["api_version"] = _str(req.get("apiversion"), "requestContext.apiVersion")
        if req.get("identity") is not None:
            values["identity"] = _dict(req.get("identity"), "requestContext.identity")
    now = d.get("utcnow")
    if now is not None:
        dt = parse_datetime(now) if isinstance(now, str) else None
        if dt is None:
            raise ContextError("utcNow must be an ISO 8601 date-time such as 2025-01-31T12:00:00Z")
        values["utc_now"] = dt
    return EvalContext(**{k: v for k, v in values.items() if v is not None})


def load_context(path: Path | None) -> EvalContext | None:
    """`--context FILE` (JSON or YAML); None without one. Problems are InputErrors naming the file."""
    if path is None:
        return None
    from policygen.evaluate.datafile import load_data_file

    data = load_data_file(path, "the context")
    try:
        return context_from_mapping(data)
    except ContextError as exc:
        raise InputError(Diagnostic(str(path), 1, 1, str(exc))) from None
