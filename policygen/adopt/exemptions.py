"""Policy exemptions → exemption intents (`exemptions/*.yaml`, the model of issue #14).

The REST shape (Microsoft.Authorization/policyExemptions): properties.policyAssignmentId, category,
expiresOn, policyDefinitionReferenceIds, resourceSelectors, assignmentScopeValidation, metadata; the scope is
the id's prefix. Source: https://learn.microsoft.com/azure/governance/policy/concepts/exemption-structure
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from policygen.adopt.estate import Item
from policygen.arm.scopes import ScopeError, key, parse_scope
from policygen.render.assignments import scope_label

SEGMENT = "/providers/microsoft.authorization/policyexemptions/"


def exemption_scope(item: Item) -> str:
    """Where the exemption sits: its own `scope` when a reader recorded one, else its id's prefix."""
    if item.body.get("scope"):
        return str(item.body["scope"])
    low = item.where.lower()
    at = low.rfind(SEGMENT)
    return item.where[:at] if at >= 0 else ""


def exemption_intent(item: Item, scope_key: Callable[[str, Any], str], known: dict[tuple[str, str], Item],
                     known_scopes: dict[str, str],
                     copies: dict[str, list[tuple[str, str]]] | None = None) -> dict[str, Any]:
    """`copies`: assignment name -> [(scope id, scope as the intent writes it)] for a name assigned at several
    scopes; the exemption then names its copy (`name@label`), which the build resolves without guessing."""
    p = item.props
    data: dict[str, Any] = {"displayName": p.get("displayName") or item.name}
    if p.get("description"):
        data["description"] = p["description"]
    target = str(p.get("policyAssignmentId") or "")
    name = target.rstrip("/").rsplit("/", 1)[-1]
    mine = known.get(("assignment", name))
    data["assignment"] = name if mine is not None and key(mine.where) in (key(target), "") or \
        (mine is not None and key(target).endswith("/policyassignments/" + name.lower())) else target
    scope = exemption_scope(item)
    for at, written in (copies or {}).get(name, []):
        if at and key(f"{at}/providers/Microsoft.Authorization/policyAssignments/{name}") == key(target):
            # the build resolves a plain name to the only copy whose scope holds the exemption's
            holders = [a for a, _ in copies[name] if _holds(a, scope)]
            data["assignment"] = name if holders == [at] else f"{name}@{scope_label(written)}"
    data["scope"] = next((k for k, v in known_scopes.items() if key(v) == key(scope)), scope)
    data["category"] = p.get("exemptionCategory") or p.get("category") or "Waiver"
    for k in ("expiresOn", "policyDefinitionReferenceIds", "resourceSelectors", "assignmentScopeValidation"):
        if p.get(k):
            data[k] = p[k]
    return data


def _holds(scope: str, inner: str) -> bool:
    try:
        return parse_scope(scope).contains(parse_scope(inner))
    except ScopeError:
        return False
