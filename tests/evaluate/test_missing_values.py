"""Missing values (issue #12): a property absent from the payload is null, not the empty string.

Learn: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule#conditions
and https://learn.microsoft.com/azure/governance/policy/how-to/author-policies-for-arrays#referencing-array-fields
"""

from __future__ import annotations

import pytest

from policygen.arm.aliases import Alias, AliasCatalogue
from policygen.evaluate import compile_policy
from tests.evaluate.helpers import matches

NIC = "Microsoft.Network/networkInterfaces"
# The rule of built-in 83a86a26-fd1f-447c-b59d-e51f44264114 ("Network interfaces should not have public IPs").
NIC_NO_PUBLIC_IP = {
    "name": "83a86a26-fd1f-447c-b59d-e51f44264114",
    "properties": {
        "mode": "Indexed",
        "policyRule": {
            "if": {
                "allOf": [
                    {"field": "type", "equals": NIC},
                    {"not": {"field": f"{NIC}/ipconfigurations[*].publicIpAddress.id", "notLike": "*"}},
                ]
            },
            "then": {"effect": "deny"},
        },
    },
}


# the catalogue row Azure publishes for the alias (az provider show -n Microsoft.Network --expand ...)
NIC_ALIASES = AliasCatalogue()
NIC_ALIASES.add(
    [Alias(f"{NIC}/ipconfigurations[*].publicIpAddress.id", "properties.ipConfigurations[*].properties.publicIpAddress.id")],
    "test",
)


def _nic(*public_ips: str | None) -> dict:
    configs = []
    for i, pip in enumerate(public_ips):
        props: dict = {"privateIPAllocationMethod": "Dynamic"}
        if pip is not None:
            props["publicIPAddress"] = {"id": pip}
        configs.append({"name": f"ipconfig{i}", "properties": props})
    return {
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/nic1",
        "name": "nic1",
        "type": NIC,
        "location": "westeurope",
        "properties": {"ipConfigurations": configs},
    }


def test_nic_without_public_ip_is_not_denied() -> None:
    out = compile_policy(NIC_NO_PUBLIC_IP, catalogue=NIC_ALIASES).evaluate(_nic(None))
    assert out.matched is False and not out.denied


def test_nic_with_public_ip_is_denied() -> None:
    pip = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/publicIPAddresses/p"
    assert compile_policy(NIC_NO_PUBLIC_IP, catalogue=NIC_ALIASES).evaluate(_nic(None, pip)).denied


@pytest.mark.parametrize(
    ("op", "rhs", "expected"),
    [
        ("like", "*", False),
        ("notLike", "*", True),
        ("like", "", False),
        ("match", "", False),
        ("notMatch", "", True),
        ("matchInsensitively", "", False),
        ("contains", "", False),
        ("notContains", "", True),
        ("containsKey", "a", False),
        ("notContainsKey", "a", True),
        ("exists", False, True),
        ("exists", True, False),
        # equals / notEquals / in compare null as "": built-in "Subscriptions should have a contact email
        # address for security issues" (existenceCondition `email notEquals ""`) flags a contact without one
        ("equals", "", True),
        ("notEquals", "", False),
        ("notEquals", "x", True),
        ("in", ["", "x"], True),
        ("notIn", ["x"], True),
        ("less", "b", False),
        ("greaterOrEquals", 0, False),
    ],
)
def test_every_operator_on_a_missing_value(op: str, rhs: object, expected: bool) -> None:
    res = {"type": "Microsoft.Test/resourceType", "properties": {}}
    assert matches({"field": "Microsoft.Test/resourceType/absent", op: rhs}, res) is expected


def test_empty_string_is_present() -> None:
    res = {"type": "Microsoft.Test/resourceType", "properties": {"p": ""}}
    assert matches({"field": "Microsoft.Test/resourceType/p", "like": "*"}, res)
    assert matches({"field": "Microsoft.Test/resourceType/p", "match": ""}, res)
    assert matches({"field": "Microsoft.Test/resourceType/p", "exists": True}, res)


GALLERY = "Microsoft.Compute/galleries/images/versions"
# One branch of built-in 702dd420-7fcc-42c5-afe8-4026edd20fe0 (OS and data disks should use a CMK).
GALLERY_CMK = {
    "name": "702dd420-7fcc-42c5-afe8-4026edd20fe0",
    "properties": {
        "mode": "Indexed",
        "policyRule": {
            "if": {
                "allOf": [
                    {"field": "type", "equals": GALLERY},
                    {
                        "value": f"[length(field('{GALLERY}/publishingProfile.targetRegions[*]"
                        ".encryption.osDiskImage.diskEncryptionSetId'))]",
                        "notEquals": f"[length(field('{GALLERY}/publishingProfile.targetRegions[*]'))]",
                    },
                ]
            },
            "then": {"effect": "audit"},
        },
    },
}


def _gallery_version(*des: str | None) -> dict:
    regions = []
    for i, d in enumerate(des):
        region: dict = {"name": f"region{i}"}
        if d is not None:
            region["encryption"] = {"osDiskImage": {"diskEncryptionSetId": d}}
        regions.append(region)
    return {
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0",
        "name": "1.0.0",
        "type": GALLERY,
        "location": "westeurope",
        "properties": {"publishingProfile": {"targetRegions": regions}},
    }


def test_gallery_image_version_without_cmk_is_non_compliant() -> None:
    pol = compile_policy(GALLERY_CMK)
    assert pol.evaluate(_gallery_version(None)).compliant is False
    assert pol.evaluate(_gallery_version("/des/1", None)).compliant is False
    assert pol.evaluate(_gallery_version("/des/1", "/des/2")).compliant is True


def test_a_null_value_side_is_the_empty_string_for_string_operators() -> None:
    # reference 2.4: "A null `value` side is treated as empty string by string operators" — unlike a
    # field missing from the payload
    res = {"type": "Microsoft.Test/resourceType", "properties": {}}
    assert matches({"value": "[null()]", "like": "*"}, res)
    assert matches({"value": "[tryGet(createObject(), 'x')]", "notContains": "a"}, res)
    assert matches({"value": "[null()]", "equals": ""}, res)
