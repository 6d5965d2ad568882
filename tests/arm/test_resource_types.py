"""Resource-group and subscription type spellings (issue #12): `az group show` and Resource Graph
spellings are the policy type `Microsoft.Resources/subscriptions/resourceGroups`.
https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics#resource-manager-modes
"""

from __future__ import annotations

import pytest

from policygen.arm.resource_types import RESOURCE_GROUP, SUBSCRIPTION, normalise_resource, policy_type


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("Microsoft.Resources/resourceGroups", RESOURCE_GROUP),  # az group show
        ("microsoft.resources/subscriptions/resourcegroups", RESOURCE_GROUP),  # Resource Graph
        (RESOURCE_GROUP, RESOURCE_GROUP),
        ("microsoft.resources/subscriptions", SUBSCRIPTION),  # Resource Graph resourcecontainers
        ("Microsoft.Storage/storageAccounts", "Microsoft.Storage/storageAccounts"),
    ],
)
def test_policy_type(spelling: str, expected: str) -> None:
    assert policy_type(spelling) == expected


def test_normalise_resource_copies_only_when_needed() -> None:
    rg = {"type": "Microsoft.Resources/resourceGroups", "name": "rg"}
    out = normalise_resource(rg)
    assert out["type"] == RESOURCE_GROUP and rg["type"] == "Microsoft.Resources/resourceGroups"
    sa = {"type": "Microsoft.Storage/storageAccounts"}
    assert normalise_resource(sa) is sa
