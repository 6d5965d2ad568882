"""The resource type Azure Policy sees for a resource, whatever tool exported it.

`az group show` says `Microsoft.Resources/resourceGroups`, Resource Graph says
`microsoft.resources/subscriptions/resourcegroups`, ARM ids spell `/subscriptions/x/resourceGroups/y`: to a
policy rule they are all `Microsoft.Resources/subscriptions/resourceGroups` (the type built-ins compare
with, e.g. "Require a tag on resource groups"), and a subscription is `Microsoft.Resources/subscriptions`.
https://learn.microsoft.com/azure/governance/policy/samples/pattern-tags (resource-group patterns) and
https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics#resource-manager-modes
"""

from __future__ import annotations

RESOURCE_GROUP = "Microsoft.Resources/subscriptions/resourceGroups"
SUBSCRIPTION = "Microsoft.Resources/subscriptions"

# lower-case spelling -> the policy type (only spellings that need changing)
POLICY_TYPE_SPELLINGS = {
    "microsoft.resources/resourcegroups": RESOURCE_GROUP,
    "microsoft.resources/subscriptions/resourcegroups": RESOURCE_GROUP,
    "microsoft.resources/subscriptions": SUBSCRIPTION,
}
# lower-case policy types that are containers, not resources (never evaluated in Indexed mode)
CONTAINER_TYPES = frozenset({RESOURCE_GROUP.lower(), SUBSCRIPTION.lower()})


def policy_type(resource_type: str) -> str:
    """The type a policy rule's `type` field reads (other types unchanged)."""
    return POLICY_TYPE_SPELLINGS.get(resource_type.lower(), resource_type)


def needs_normalising(resource_type_lower: str) -> bool:
    """Cheap test for the hot path: is this (lower-case) type spelled differently for policy?"""
    return resource_type_lower in POLICY_TYPE_SPELLINGS


def normalise_resource(resource: dict) -> dict:
    """`resource` itself, or a shallow copy whose `type` is the policy type (the input is never changed)."""
    t = resource.get("type")
    if isinstance(t, str):
        want = POLICY_TYPE_SPELLINGS.get(t.lower())
        if want is not None and want != t:
            out = dict(resource)
            out["type"] = want
            return out
    return resource
