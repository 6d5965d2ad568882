"""Which (member, resource) pairs an assignment really evaluates, and with which effect: its resource
selectors, its `policyEffect` overrides and the exemptions that cover the resource.

Azure's rules (assignment structure, "Resource selectors" and "Overrides"; exemption structure):
a resource is evaluated when any resource selector selects it (every selector in it holds: `in` / `notIn`
by resourceLocation, resourceType, resourceWithoutLocation); the first override whose selectors all hold
replaces the member's effect; an unexpired exemption at or above the resource, for this assignment and (if
it lists any) this member, makes the pair Exempt: not evaluated, never denied.
https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure
https://learn.microsoft.com/azure/governance/policy/concepts/exemption-structure
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from policygen.arm.exemptions import is_expired
from policygen.arm.scopes import key


def _norm(value: Any) -> str:
    return str(value or "").replace(" ", "").lower()


def selected(selectors: list[dict[str, Any]] | None, resource: dict[str, Any], reference_id: str | None) -> bool:
    """Every selector holds for this resource (and initiative member)."""
    for sel in selectors or []:
        kind = str(sel.get("kind", "")).lower()
        if kind == "resourcelocation":
            value = _norm(resource.get("location"))
        elif kind == "resourcetype":
            value = _norm(resource.get("type"))
        elif kind == "resourcewithoutlocation":
            value = "" if resource.get("location") else "subscriptionlevelresources"
        elif kind == "policydefinitionreferenceid":
            value = _norm(reference_id)
        else:
            return False
        if "in" in sel and value not in {_norm(v) for v in sel.get("in") or []}:
            return False
        if "notIn" in sel and value in {_norm(v) for v in sel.get("notIn") or []}:
            return False
    return True


def override_for(overrides: list[dict[str, Any]] | None, resource: dict[str, Any],
                 reference_id: str | None) -> str | None:
    """The effect the first matching `policyEffect` override gives this pair (None: the member's own)."""
    for o in overrides or []:
        if str(o.get("kind", "policyEffect")).lower() == "policyeffect" and \
                selected(o.get("selectors"), resource, reference_id):
            return str(o.get("value"))
    return None


def exempting(exemptions: list[tuple[str, dict[str, Any]]], resource: dict[str, Any], reference_id: str | None,
              now: datetime | None = None) -> dict[str, Any] | None:
    """The unexpired exemption (scope, properties) covering this resource and member, if any. Scopes are
    compared by id prefix: an exemption at a management group is taken to cover the whole inventory (an id
    does not name its management group)."""
    rid = key(str(resource.get("id") or ""))
    now = now or datetime.now(UTC)
    for scope, props in exemptions:
        if is_expired(props, now):
            continue
        s = key(scope)
        if not (s.startswith("/providers/microsoft.management/managementgroups/") or rid == s or
                rid.startswith(s + "/")):
            continue
        refs = [r.lower() for r in props.get("policyDefinitionReferenceIds") or []]
        if refs and (reference_id or "").lower() not in refs:
            continue
        if selected_any(props.get("resourceSelectors"), resource, reference_id):
            return props
    return None


def selected_any(resource_selectors: list[dict[str, Any]] | None, resource: dict[str, Any],
                 reference_id: str | None) -> bool:
    """No resource selectors, or one of them selects the resource."""
    return not resource_selectors or any(selected(rs.get("selectors"), resource, reference_id)
                                         for rs in resource_selectors)


@dataclass
class Gate:
    """For `impact --assignment`: each evaluated policy label -> (reference id, the override effect it stands
    for or None for the member's own). `keep(label, resource)` is True for exactly the variant that applies."""

    assignment: dict[str, Any]  # the assignment's properties
    exemptions: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    labels: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    def keep(self, label: str, resource: dict[str, Any]) -> bool:
        found = self.labels.get(label)
        if found is None:
            return True
        ref, variant = found
        if not selected_any(self.assignment.get("resourceSelectors"), resource, ref):
            return False
        if exempting(self.exemptions, resource, ref) is not None:
            return False
        wanted = override_for(self.assignment.get("overrides"), resource, ref)
        return (wanted or "").lower() == (variant or "").lower()
