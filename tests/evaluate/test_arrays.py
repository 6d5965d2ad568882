"""The worked examples of Microsoft's arrays article (author-policies-for-arrays) and the count examples
of the policy-rule article (definition-structure-policy-rule), as golden tests."""

from __future__ import annotations

import pytest

from policygen.arm.aliases import Alias, AliasCatalogue
from tests.evaluate.helpers import ARRAYS_RESOURCE, T, matches, run, value

# ---- "Referencing array resource properties": what field() returns -------------------------------


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("missingArray", ""),
        ("missingArray[*]", []),
        ("missingArray[*].property", []),
        ("stringArray", ["a", "b", "c"]),
        ("stringArray[*]", ["a", "b", "c"]),
        ("objectArray[*].property", ["value1", "value2"]),
        ("objectArray[*].nestedArray", [[1, 2], [3, 4]]),
        ("objectArray[*].nestedArray[*]", [1, 2, 3, 4]),
    ],
)
def test_field_function_values(alias: str, expected) -> None:
    assert value(f"[field('{T}{alias}')]") == expected


def test_field_function_object_array() -> None:
    assert value(f"[field('{T}objectArray[*]')]") == ARRAYS_RESOURCE["properties"]["objectArray"]


# ---- field conditions on [*]: every member must satisfy the condition --------------------------

STORAGE = {
    "type": "Microsoft.Storage/storageAccounts",
    "name": "sa",
    "properties": {
        "networkAcls": {
            "ipRules": [{"value": "127.0.0.1", "action": "Allow"}, {"value": "192.168.1.1", "action": "Allow"}]
        }
    },
}
IP = "Microsoft.Storage/storageAccounts/networkAcls.ipRules[*].value"


@pytest.mark.parametrize(
    ("condition", "fires"),
    [
        ({"field": IP, "notEquals": "127.0.0.1"}, False),
        ({"field": IP, "notEquals": "10.0.4.1"}, True),
        ({"not": {"field": IP, "equals": "127.0.0.1"}}, True),
        ({"not": {"field": IP, "equals": "10.0.4.1"}}, True),
        ({"not": {"field": IP, "notEquals": "127.0.0.1"}}, True),
        ({"not": {"field": IP, "notEquals": "10.0.4.1"}}, False),
        ({"field": IP, "equals": "127.0.0.1"}, False),
        ({"field": IP, "equals": "10.0.4.1"}, False),
    ],
)
def test_all_member_truth_table(condition: dict, fires: bool) -> None:
    rule = {
        "allOf": [
            {"field": "Microsoft.Storage/storageAccounts/networkAcls.ipRules", "exists": "true"},
            condition,
        ]
    }
    assert matches(rule, STORAGE) is fires


def test_empty_and_missing_arrays_are_vacuously_true() -> None:
    empty = {"type": "x", "properties": {"networkAcls": {"ipRules": []}}}
    assert matches({"field": IP, "equals": "anything"}, empty)
    assert matches({"field": IP, "equals": "anything"}, {"type": "x"})
    assert not matches({"not": {"field": IP, "equals": "anything"}}, empty)


def test_in_on_array_members() -> None:
    assert matches({"field": IP, "in": ["127.0.0.1", "192.168.1.1", "10.0.0.1"]}, STORAGE)
    assert not matches({"field": IP, "in": ["127.0.0.1"]}, STORAGE)


# ---- count expressions (ARRAYS page) ----------------------------------------------------------------


@pytest.mark.parametrize(
    "count",
    [
        {"count": {"field": f"{T}stringArray[*]"}, "equals": 3},
        {"count": {"field": f"{T}objectArray[*].nestedArray[*]"}, "greaterOrEquals": 4},
        {
            "count": {"field": f"{T}stringArray[*]", "where": {"field": f"{T}stringArray[*]", "equals": "a"}},
            "equals": 1,
        },
        {
            "count": {
                "field": f"{T}objectArray[*]",
                "where": {
                    "allOf": [
                        {"field": f"{T}objectArray[*].property", "equals": "value2"},
                        {"field": f"{T}objectArray[*].nestedArray[*]", "greater": 2},
                    ]
                },
            },
            "equals": 1,
        },
        {"count": {"field": f"{T}objectArray[*]", "where": {"field": "tags.env", "equals": "prod"}}, "equals": 2},
        {
            "count": {
                "field": f"{T}objectArray[*]",
                "where": {
                    "allOf": [
                        {"field": f"{T}objectArray[*].property", "equals": "value2"},
                        {
                            "count": {
                                "field": f"{T}objectArray[*].nestedArray[*]",
                                "where": {"field": f"{T}objectArray[*].nestedArray[*]", "equals": 3},
                            },
                            "greater": 0,
                        },
                    ]
                },
            },
            "equals": 1,
        },
        # field() of the counted alias inside where is a one-element array ...
        {
            "count": {
                "field": f"{T}stringArray[*]",
                "where": {"field": f"{T}stringArray[*]", "equals": f"[field('{T}stringArray[*]')]"},
            },
            "equals": 0,
        },
        # ... so wrap it in first()
        {
            "count": {
                "field": f"{T}stringArray[*]",
                "where": {"field": f"{T}stringArray[*]", "equals": f"[first(field('{T}stringArray[*]'))]"},
            },
            "equals": 3,
        },
        {"count": {"field": f"{T}missingArray[*]"}, "equals": 0},
    ],
)
def test_arrays_article_count_examples(count: dict) -> None:
    out = run(count)
    assert out.error is None and out.matched, out.reasons


def test_field_function_inside_where_returns_one_element_array() -> None:
    rule = {
        "count": {
            "field": f"{T}stringArray[*]",
            "where": {"value": f"[field('{T}stringArray[*]')]", "equals": ["b"]},
        },
        "equals": 1,
    }
    assert matches(rule)


# ---- count examples (policy-rule article) -----------------------------------------------------------

NSG = "Microsoft.Network/networkSecurityGroups/securityRules[*]"
# NSG aliases are not in the shipped catalogue; these rows are from `az provider list` (default paths).
NSG_ALIASES = AliasCatalogue()
NSG_ALIASES.add(
    [Alias(f"{NSG}", "properties.securityRules[*]")]
    + [
        Alias(f"{NSG}.{p}", f"properties.securityRules[*].properties.{p}")
        for p in ("description", "direction", "access", "destinationPortRange", "priority")
    ],
    "test",
)


def nsg(*rules: dict) -> dict:
    return {
        "type": "Microsoft.Network/networkSecurityGroups",
        "name": "nsg",
        "properties": {"securityRules": [{"name": f"r{i}", "properties": r} for i, r in enumerate(rules)]},
    }


RDP = {
    "direction": "Inbound",
    "access": "Allow",
    "destinationPortRange": "3389",
    "priority": 100,
    "description": "My common description",
}
SSH = {
    "direction": "Inbound",
    "access": "Deny",
    "destinationPortRange": "22",
    "priority": 101,
    "description": "My unique description",
}


def test_field_count_examples() -> None:
    desc = f"{NSG}.description"
    assert matches({"count": {"field": NSG}, "equals": 0}, nsg(), catalogue=NSG_ALIASES)
    assert matches(
        {"count": {"field": NSG, "where": {"field": desc, "equals": "My unique description"}}, "equals": 1},
        nsg(RDP, SSH),
        catalogue=NSG_ALIASES,
    )
    assert matches(
        {"count": {"field": NSG, "where": {"field": desc, "equals": "My common description"}}, "greaterOrEquals": 1},
        nsg(RDP, SSH),
        catalogue=NSG_ALIASES,
    )
    all_same = {
        "count": {"field": NSG, "where": {"field": desc, "equals": "My common description"}},
        "equals": f"[length(field('{NSG}'))]",
    }
    assert matches(all_same, nsg(RDP, RDP), catalogue=NSG_ALIASES) and not matches(
        all_same, nsg(RDP, SSH), catalogue=NSG_ALIASES
    )
    rdp_open = {
        "count": {
            "field": NSG,
            "where": {
                "allOf": [
                    {"field": f"{NSG}.direction", "equals": "Inbound"},
                    {"field": f"{NSG}.access", "equals": "Allow"},
                    {"field": f"{NSG}.destinationPortRange", "equals": "3389"},
                ]
            },
        },
        "greater": 0,
    }
    assert matches(rdp_open, nsg(SSH, RDP), catalogue=NSG_ALIASES) and not matches(
        rdp_open, nsg(SSH), catalogue=NSG_ALIASES
    )


VNET_PREFIX = "Microsoft.Network/virtualNetworks/addressSpace.addressPrefixes[*]"


def vnet(*prefixes: str) -> dict:
    return {
        "type": "Microsoft.Network/virtualNetworks",
        "name": "v",
        "properties": {"addressSpace": {"addressPrefixes": list(prefixes)}},
    }


@pytest.mark.parametrize("accessor", [f"current('{VNET_PREFIX}')", f"first(field('{VNET_PREFIX}'))"])
def test_count_with_current_and_field_in_where(accessor: str) -> None:
    rule = {
        "count": {
            "field": VNET_PREFIX,
            "where": {"value": f"[ipRangeContains('10.0.0.0/24', {accessor})]", "equals": False},
        },
        "greater": 0,
    }
    assert matches(rule, vnet("10.0.0.0/25", "10.1.0.0/24"))
    assert not matches(rule, vnet("10.0.0.0/25", "10.0.0.128/26"))


def test_value_count_examples() -> None:
    named = {
        "count": {
            "value": ["prefix1_*", "prefix2_*"],
            "name": "pattern",
            "where": {"field": "name", "like": "[current('pattern')]"},
        },
        "greater": 0,
    }
    unnamed = {
        "count": {"value": ["prefix1_*", "prefix2_*"], "where": {"field": "name", "like": "[current()]"}},
        "greater": 0,
    }
    for rule in (named, unnamed):
        assert matches(rule, {"type": "t", "name": "prefix2_abc"})
        assert not matches(rule, {"type": "t", "name": "other"})
    param = {
        "count": {
            "value": "[parameters('namePatterns')]",
            "name": "pattern",
            "where": {"field": "name", "like": "[current('pattern')]"},
        },
        "greater": 0,
    }
    assert matches(
        param,
        {"type": "t", "name": "web-1"},
        values={"namePatterns": ["web-*"]},
        parameters={"namePatterns": {"type": "Array"}},
    )


def test_value_count_nested_in_field_count_approved_prefixes() -> None:
    rule = {
        "count": {
            "field": VNET_PREFIX,
            "where": {
                "count": {
                    "value": "[parameters('approvedPrefixes')]",
                    "name": "approvedPrefix",
                    "where": {
                        "value": f"[ipRangeContains(current('approvedPrefix'), current('{VNET_PREFIX}'))]",
                        "equals": True,
                    },
                },
                "equals": 0,
            },
        },
        "greater": 0,
    }
    kw = {
        "values": {"approvedPrefixes": ["10.0.0.0/16", "172.16.0.0/12"]},
        "parameters": {"approvedPrefixes": {"type": "Array"}},
    }
    assert not matches(rule, vnet("10.0.1.0/24", "172.16.5.0/24"), **kw)
    assert matches(rule, vnet("10.0.1.0/24", "192.168.0.0/24"), **kw)


def test_reserved_nsg_rules_value_count_with_object_members() -> None:
    reserved = [
        {"priority": 101, "access": "deny", "direction": "inbound", "destinationPortRange": 22},
        {"priority": 102, "access": "deny", "direction": "inbound", "destinationPortRange": 3389},
    ]
    rule = {
        "count": {
            "value": "[parameters('reservedNsgRules')]",
            "name": "reservedNsgRule",
            "where": {
                "count": {
                    "field": NSG,
                    "where": {
                        "allOf": [
                            {"field": f"{NSG}.priority", "equals": "[current('reservedNsgRule').priority]"},
                            {"field": f"{NSG}.access", "equals": "[current('reservedNsgRule').access]"},
                            {"field": f"{NSG}.direction", "equals": "[current('reservedNsgRule').direction]"},
                            {
                                "field": f"{NSG}.destinationPortRange",
                                "equals": "[current('reservedNsgRule').destinationPortRange]",
                            },
                        ]
                    },
                },
                "equals": 1,
            },
        },
        "equals": "[length(parameters('reservedNsgRules'))]",
    }
    kw = {
        "values": {"reservedNsgRules": reserved},
        "parameters": {"reservedNsgRules": {"type": "Array"}},
        "catalogue": NSG_ALIASES,
    }
    good = nsg(
        {"priority": 101, "access": "Deny", "direction": "Inbound", "destinationPortRange": "22"},
        {"priority": 102, "access": "Deny", "direction": "Inbound", "destinationPortRange": "3389"},
    )
    assert matches(rule, good, **kw)
    assert not matches(rule, nsg(SSH), **kw)


def test_current_sub_alias_and_member_access() -> None:
    rule = {
        "count": {
            "field": f"{T}objectArray[*]",
            "where": {"value": f"[current('{T}objectArray[*].property')]", "equals": "value2"},
        },
        "equals": 1,
    }
    assert matches(rule)
    rule2 = {
        "count": {
            "value": [{"k": "a"}, {"k": "b"}],
            "name": "o",
            "where": {"value": "[current('o').k]", "equals": "b"},
        },
        "equals": 1,
    }
    assert matches(rule2)
