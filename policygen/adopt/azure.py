"""Read an estate from Azure (or the emulator) through the same SDK clients `policygen plan` uses.

Custom definitions and initiatives at the definition scope; assignments (with their identities), exemptions
and remediation tasks at every scope of the tree: the scopes given (default: the environment's scope keys
and its definition scope) and the subscriptions below management groups. One list call per scope and kind,
as `plan` reads. A scope the credential cannot read stops the import with its name, before anything is
written.
"""

from __future__ import annotations

from typing import Any

from azure.core.exceptions import HttpResponseError

from policygen.adopt.estate import Estate, Item
from policygen.arm.scopes import key, parse_scope
from policygen.errors import AzureError

BODY_KEYS = ("name", "properties", "identity", "location")
REMEDIATION_KEYS = ("resourceDiscoveryMode", "parallelDeployments", "resourceCount")


class ScopeUnreadable(AzureError):
    """A scope of the tree could not be listed (no access, or it does not exist)."""


def _read(what: str, scope: str, fn: Any) -> list[dict[str, Any]]:
    try:
        return list(fn())
    except HttpResponseError as exc:
        code = getattr(getattr(exc, "error", None), "code", None) or exc.reason or "error"
        raise ScopeUnreadable(f"cannot read {what} at {scope}: HTTP {exc.status_code} {code}; "
                              "check the credential's access to that scope (Reader or Resource Policy "
                              "Contributor) or leave it out with --scope") from exc


def _body(item: dict[str, Any]) -> dict[str, Any]:
    out = {k: item[k] for k in BODY_KEYS if k in item and item[k] is not None}
    props = dict(out.get("properties") or {})
    props.pop("policyType", None)
    out["properties"] = props
    if "identity" in out:
        ident = {k: v for k, v in out["identity"].items() if k in ("type", "userAssignedIdentities")}
        out["identity"] = ident
    return out


def read_estate(arm: Any, *, env: str, spec: dict[str, Any], definition_scope: str,
                scopes: list[str]) -> Estate:
    """The estate under `scopes` (ARM ids). `spec` is the environment written into the new policygen.yaml."""
    estate = Estate("azure", definition_scope, environments={env: dict(spec)}, env=env)
    tree: dict[str, str] = {}
    for scope in scopes:
        tree.setdefault(key(scope), scope.rstrip("/"))
        if parse_scope(scope).subscription is None and "managementgroups" in scope.lower():
            for sub in _read("subscriptions", scope, lambda s=scope: arm.subscriptions_under(s)):
                tree.setdefault(key(f"/subscriptions/{sub}"), f"/subscriptions/{sub}")
    for kind in ("definition", "initiative"):
        for obj in _read(f"{kind}s", definition_scope, lambda k=kind: arm.list_definitions(k, definition_scope)):
            estate.items.append(Item(kind, _body(obj), str(obj.get("id"))))
    tasks: dict[str, dict[str, Any]] = {}
    for scope in sorted(tree.values(), key=str.lower):
        for obj in _read("policy assignments", scope, lambda s=scope: arm.list_assignments(s)):
            estate.items.append(Item("assignment", _body(obj), str(obj.get("id"))))
        for task in _read("remediation tasks", scope, lambda s=scope: arm.list_remediations(s)):
            aid = key((task.get("properties") or {}).get("policyAssignmentId"))
            prev = tasks.get(aid)
            if prev is None or str((task.get("properties") or {}).get("createdOn", "")) > \
                    str((prev.get("properties") or {}).get("createdOn", "")):
                tasks[aid] = task
        lister = getattr(arm, "list_exemptions", None)
        if lister is not None:
            for obj in _read("policy exemptions", scope, lambda s=scope, f=lister: f(s)):
                estate.items.append(Item("exemption", _body(obj), str(obj.get("id"))))
    for item in estate.of("assignment"):
        task = tasks.get(key(item.where))
        if task is not None:
            item.remediation = remediation_settings(task.get("properties") or {})
    return estate


def remediation_settings(props: dict[str, Any]) -> dict[str, Any]:
    """The intent's remediation block from the assignment's newest remediation task."""
    out = {k: props[k] for k in REMEDIATION_KEYS if props.get(k) is not None}
    threshold = (props.get("failureThreshold") or {}).get("percentage")
    if threshold is not None:
        out["failureThreshold"] = threshold
    locations = (props.get("filters") or {}).get("locations")
    if locations:
        out["locations"] = list(locations)
    return out
