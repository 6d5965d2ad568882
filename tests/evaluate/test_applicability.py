"""Mode applicability (issue #12), one answer for evaluate, test, impact and the emulator.

https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics#resource-manager-modes:
"`indexed`: only evaluate resource types that support tags and location. For example, resource
`Microsoft.Network/routeTables` supports tags and location and is evaluated in both modes. However, resource
`Microsoft.Network/routeTables/routes` can't be tagged and isn't evaluated in `Indexed` mode."
"""

from __future__ import annotations

import pytest

from policygen.evaluate import compile_policy, evaluate_inventory
from policygen.evaluate.applicability import mode_applies

SUB = "/subscriptions/00000000-0000-0000-0000-0000000000aa"
ROUTE_TABLE = {
    "id": f"{SUB}/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt",
    "name": "rt",
    "type": "Microsoft.Network/routeTables",
    "location": "westeurope",
    "tags": {},
    "properties": {},
}
ROUTE = {  # GET .../routeTables/rt/routes/r: no location, no tags
    "id": f"{SUB}/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt/routes/r",
    "name": "r",
    "type": "Microsoft.Network/routeTables/routes",
    "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "Internet"},
}
RG_CLI = {"id": f"{SUB}/resourceGroups/rg", "name": "rg", "type": "Microsoft.Resources/resourceGroups",
          "location": "westeurope", "tags": {}}  # az group show
RG_GRAPH = dict(RG_CLI, type="microsoft.resources/subscriptions/resourcegroups")  # Resource Graph
SUBSCRIPTION = {"id": SUB, "name": "sub", "type": "microsoft.resources/subscriptions", "tags": {}}


def _policy(mode: str, condition: dict | None = None) -> dict:
    return {
        "name": f"require-tag-{mode}",
        "properties": {
            "mode": mode,
            "policyRule": {
                "if": condition or {"field": "tags['owner']", "exists": False},
                "then": {"effect": "audit"},
            },
        },
    }


@pytest.mark.parametrize(
    ("mode", "resource", "applies"),
    [
        ("Indexed", ROUTE_TABLE, True),
        ("Indexed", ROUTE, False),
        ("All", ROUTE, True),
        ("Indexed", RG_CLI, False),
        ("Indexed", RG_GRAPH, False),
        ("Indexed", SUBSCRIPTION, False),
        ("All", RG_CLI, True),
        ("All", SUBSCRIPTION, True),
        ("Microsoft.KeyVault.Data", ROUTE_TABLE, False),
        ("Microsoft.Kubernetes.Data", ROUTE_TABLE, False),
    ],
)
def test_mode_applies(mode: str, resource: dict, applies: bool) -> None:
    assert mode_applies(mode, resource) is applies
    out = compile_policy(_policy(mode)).evaluate(resource)
    assert out.applicable is applies
    if applies:
        assert out.compliant is False  # no owner tag
    else:
        assert out.compliant is None


@pytest.mark.parametrize("rg", [RG_CLI, RG_GRAPH])
def test_resource_group_spellings_are_the_policy_type(rg: dict) -> None:
    # "Policies that enforce location or tags on a resource group should set mode to `all` and
    # specifically target the `Microsoft.Resources/subscriptions/resourceGroups` type."
    cond = {"allOf": [{"field": "type", "equals": "Microsoft.Resources/subscriptions/resourceGroups"},
                      {"field": "tags['owner']", "exists": False}]}
    pol = compile_policy(_policy("All", cond))
    assert pol.evaluate(rg).compliant is False
    rows = list(evaluate_inventory([("p", pol)], [rg, ROUTE_TABLE]))
    assert [(r.resource_id, r.compliant) for r in rows] == [(rg["id"], False)]


def test_impact_and_evaluate_agree_on_indexed_mode() -> None:
    pol = compile_policy(_policy("Indexed"))
    inventory = [ROUTE_TABLE, ROUTE, RG_CLI, RG_GRAPH, SUBSCRIPTION]
    rows = {r.resource_id for r in evaluate_inventory([("p", pol)], inventory)}
    assert rows == {r["id"] for r in inventory if pol.evaluate(r).applicable}
    assert rows == {ROUTE_TABLE["id"]}
