"""Evaluation context (what `subscription()`, `resourceGroup()`, `requestContext()`, `policy()` and
`utcNow()` return offline) and the per-evaluation scope the compiled closures read."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from policygen.arm.scopes import subscription_and_group

# Compliance scans use the latest API version of the type (RULE page). Offline we do not know it, so
# this stands in for "latest"; pass `EvalContext(api_version=...)` to evaluate a specific request.
LATEST_API_VERSION = "2025-01-01"
DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
DEFAULT_TENANT = "00000000-0000-0000-0000-000000000001"
DEFAULT_RESOURCE_GROUP = "rg"


@dataclass(frozen=True)
class EvalContext:
    """Synthetic request/scope context. Unset values are derived from the evaluated resource's id."""

    subscription_id: str | None = None
    resource_group: str | None = None
    location: str | None = None  # the resource group's location
    api_version: str | None = None  # requestContext().apiVersion
    utc_now: datetime | None = None
    tenant_id: str = DEFAULT_TENANT
    subscription_name: str | None = None
    subscription_tags: dict[str, Any] = field(default_factory=dict)
    resource_group_tags: dict[str, Any] = field(default_factory=dict)
    resource_group_managed_by: str | None = None
    resource_group_properties: dict[str, Any] = field(default_factory=dict)  # resourceGroup().properties
    subscription_properties: dict[str, Any] = field(default_factory=dict)  # merged into subscription()
    identity: dict[str, Any] | None = None  # requestContext().identity: {"idtyp", "appid", "acrs"}
    assignment_id: str = ""
    definition_id: str = ""
    set_definition_id: str = ""
    definition_reference_id: str = ""

    def for_resource(self, resource: dict | None) -> EvalContext:
        """Fill unset subscription / resource group / location from the resource (cached: an inventory
        has few distinct subscription / group / location combinations)."""
        r = resource if isinstance(resource, dict) else {}
        key = (
            id(self),
            r.get("id", "").rsplit("/providers/", 1)[0] if isinstance(r.get("id"), str) else None,
            r.get("resourceGroup"),
            r.get("location"),
            r.get("apiVersion"),
        )
        hit = _DERIVED.get(key)
        if hit is not None and hit[0] is self:
            return hit[1]
        if len(_DERIVED) > 4096:
            _DERIVED.clear()
        ctx = self._derive(resource)
        _DERIVED[key] = (self, ctx)
        return ctx

    def _derive(self, resource: dict | None) -> EvalContext:
        sub, rg = self.subscription_id, self.resource_group
        rid = resource.get("id") if isinstance(resource, dict) else None
        if isinstance(rid, str) and (sub is None or rg is None):
            id_sub, id_rg = subscription_and_group(rid)
            sub = sub or id_sub
            rg = rg or id_rg
        loc = self.location
        if loc is None and isinstance(resource, dict) and isinstance(resource.get("location"), str):
            loc = resource["location"]
        return replace(
            self,
            subscription_id=sub or DEFAULT_SUBSCRIPTION,
            resource_group=rg
            or (resource.get("resourceGroup") if isinstance(resource, dict) else None)
            or DEFAULT_RESOURCE_GROUP,
            location=loc or "eastus",
            api_version=self.api_version
            or (resource.get("apiVersion") if isinstance(resource, dict) else None)
            or LATEST_API_VERSION,
        )

    # ---- what the functions return -------------------------------------------------------------

    def now(self) -> datetime:
        """utcNow(): the fixed time when one was given, else the wall clock (never cached)."""
        return self.utc_now or datetime.now(UTC)

    def subscription_obj(self) -> dict[str, Any]:
        sub = self.subscription_id or DEFAULT_SUBSCRIPTION
        return {
            "id": f"/subscriptions/{sub}",
            "subscriptionId": sub,
            "tenantId": self.tenant_id,
            "displayName": self.subscription_name or f"subscription {sub}",
            "state": "Enabled",
            "tags": dict(self.subscription_tags),
            **self.subscription_properties,
        }

    def resource_group_obj(self) -> dict[str, Any]:
        sub = self.subscription_id or DEFAULT_SUBSCRIPTION
        rg = self.resource_group or DEFAULT_RESOURCE_GROUP
        return {
            "id": f"/subscriptions/{sub}/resourceGroups/{rg}",
            "name": rg,
            "type": "Microsoft.Resources/resourceGroups",
            "location": self.location or "eastus",
            "managedBy": self.resource_group_managed_by,
            "tags": dict(self.resource_group_tags),
            "properties": {"provisioningState": "Succeeded", **self.resource_group_properties},
        }

    def request_context_obj(self) -> dict[str, Any]:
        # No caller identity during compliance scans: an empty object (so `contains()`/`tryGet()` on it are
        # false/null rather than errors); pass EvalContext(identity=...) to evaluate a request.
        return {"apiVersion": self.api_version or LATEST_API_VERSION, "identity": self.identity or {}}

    def policy_obj(self) -> dict[str, Any]:
        return {
            "assignmentId": self.assignment_id,
            "definitionId": self.definition_id,
            "setDefinitionId": self.set_definition_id,
            "definitionReferenceId": self.definition_reference_id,
        }


DEFAULT_CONTEXT = EvalContext()
_DERIVED: dict[tuple, tuple[EvalContext, EvalContext]] = {}


class Scope:
    """Everything a compiled closure may read during one evaluation."""

    __slots__ = (
        "resource", "primary", "members", "_ctx", "_base_ctx", "trace", "depth", "now_text", "iterations", "memo",
        "chains",
    )

    def __init__(self, resource: dict, context: EvalContext | None = None, *, primary: dict | None = None):
        self.resource = resource  # what `field` conditions read (the related resource in existenceCondition)
        self.primary = resource if primary is None else primary  # what `field()` reads
        self.members: list[Any] = []  # runtime stack of count members, indexed like compile-time frames
        self._base_ctx = context
        self._ctx: EvalContext | None = None
        self.trace: list[tuple[int, str]] | None = None
        self.depth = 0
        self.now_text: str | None = None
        self.iterations = 1  # value-count iterations of the enclosing value counts (nested ones multiply)
        self.memo: list[Any] | None = None  # values read for remembered verdicts (evaluate.verdicts.Slots)
        self.chains: dict[Any, list] | None = None  # members of top-level field counts, by path (read-only)

    @property
    def ctx(self) -> EvalContext:
        if self._ctx is None:
            self._ctx = (self._base_ctx or DEFAULT_CONTEXT).for_resource(self.primary)
        return self._ctx

    def note(self, text: str) -> None:
        if self.trace is not None:
            self.trace.append((self.depth, text))
