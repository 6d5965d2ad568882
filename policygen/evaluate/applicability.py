"""Does a definition's `mode` evaluate a resource at all? One answer for `evaluate`, `test`, `impact`
and the emulator's compliance and request-time checks.

https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics#resource-manager-modes:
`all` evaluates resource groups, subscriptions and all resource types; `indexed` only evaluates resource
types that support tags and location ("resource `Microsoft.Network/routeTables/routes` can't be tagged and
isn't evaluated in `Indexed` mode"), never resource groups or subscriptions. Offline we cannot ask the
provider which types support tags, so a resource whose payload carries no `location` stands for a type
without one (ARM returns `location` on every resource of a type that has it). A Resource Provider mode
(`Microsoft.KeyVault.Data`, …) evaluates that provider's data-plane components only, and Kubernetes modes
run in the cluster's Gatekeeper — never against ARM resources.
"""

from __future__ import annotations

from policygen.arm.resource_types import CONTAINER_TYPES, needs_normalising, policy_type

KUBERNETES_MODES = frozenset({"microsoft.kubernetes.data", "microsoft.containerservice.data"})


def policy_type_lower(resource_type: str) -> str:
    """Lower-case policy type (`Microsoft.Resources/resourceGroups` → the resource-group type)."""
    low = resource_type.lower()
    return policy_type(resource_type).lower() if needs_normalising(low) else low


def mode_applies_to_type(mode: str, rtype_l: str) -> bool:
    """The type part (lower-case mode, lower-case policy type), cacheable per type."""
    if mode == "all":
        return True
    if mode == "indexed":
        return rtype_l not in CONTAINER_TYPES
    if mode.endswith(".data"):
        return mode not in KUBERNETES_MODES and rtype_l.startswith(mode + "/")
    return True  # an unknown mode: the validator reports it; evaluate as `all`


def needs_location(mode: str) -> bool:
    return mode == "indexed"


def mode_applies(mode: str, resource: dict) -> bool:
    """Whether a definition of `mode` (any case) evaluates `resource`."""
    mode_l = (mode or "all").lower()
    rtype = resource.get("type")
    rtype_l = policy_type_lower(rtype) if isinstance(rtype, str) else ""
    if not mode_applies_to_type(mode_l, rtype_l):
        return False
    return not needs_location(mode_l) or bool(resource.get("location"))
