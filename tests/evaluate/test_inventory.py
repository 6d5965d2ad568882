"""Indexed evaluation over an inventory: type index, applicability by mode, related-resource lookup,
inventory file formats."""

from __future__ import annotations

import json

import pytest

from policygen.errors import InputError
from policygen.evaluate import compile_policy, evaluate_inventory, load_inventory, resources_from_json
from tests.evaluate.helpers import definition

SUB = "/subscriptions/s1/resourceGroups/rg1/providers"


def sa(name: str, public: str = "Enabled") -> dict:
    return {
        "id": f"{SUB}/Microsoft.Storage/storageAccounts/{name}",
        "type": "Microsoft.Storage/storageAccounts",
        "name": name,
        "location": "westeurope",
        "properties": {"publicNetworkAccess": public},
    }


def kv(name: str) -> dict:
    return {
        "id": f"{SUB}/Microsoft.KeyVault/vaults/{name}",
        "type": "microsoft.keyvault/vaults",
        "name": name,
        "location": "westeurope",
        "properties": {},
    }


PUBLIC = compile_policy(
    definition(
        {
            "allOf": [
                {"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
                {"field": "Microsoft.Storage/storageAccounts/publicNetworkAccess", "notEquals": "Disabled"},
            ]
        },
        "deny",
    )
)
TAGGED = compile_policy(definition({"field": "tags['env']", "exists": False}))


def test_resource_types_index() -> None:
    assert PUBLIC.resource_types == frozenset({"microsoft.storage/storageaccounts"})
    assert TAGGED.resource_types is None
    any_of = compile_policy(
        definition({"anyOf": [{"field": "type", "equals": "A/b"}, {"field": "type", "in": ["C/d", "E/f"]}]})
    )
    assert any_of.resource_types == {"a/b", "c/d", "e/f"}
    with_not = compile_policy(definition({"not": {"field": "type", "equals": "A/b"}}))
    assert with_not.resource_types is None


def test_evaluate_inventory_only_pairs_that_can_apply() -> None:
    inventory = [sa("a"), sa("b", "Disabled"), kv("k")]
    rows = list(evaluate_inventory([("public", PUBLIC), ("tagged", TAGGED)], inventory))
    pairs = {(r.policy, r.resource_id.rsplit("/", 1)[-1]) for r in rows}
    assert pairs == {("public", "a"), ("public", "b"), ("tagged", "a"), ("tagged", "b"), ("tagged", "k")}
    flagged = {(r.policy, r.resource_id.rsplit("/", 1)[-1]) for r in rows if r.flagged}
    assert ("public", "a") in flagged and ("public", "b") not in flagged
    assert next(r for r in rows if r.policy == "public" and r.resource_id.endswith("/a")).denied


def test_progress_is_reported() -> None:
    seen: list[int] = []
    list(evaluate_inventory([("p", PUBLIC)], [sa(f"s{i}") for i in range(2500)], progress=seen.append))
    assert sum(seen) == 2500 and len(seen) == 3


def test_modes_restrict_applicability() -> None:
    indexed = compile_policy(
        {
            "properties": {
                "mode": "Indexed",
                "policyRule": {"if": {"field": "name", "like": "*"}, "then": {"effect": "audit"}},
            }
        }
    )
    rg = {
        "id": "/subscriptions/s1/resourceGroups/rg1",
        "type": "Microsoft.Resources/resourceGroups",
        "name": "rg1",
        "location": "westeurope",
    }
    no_location = {"type": "Microsoft.Network/dnsZones/A", "name": "a"}
    assert not indexed.applies_to(rg) and not indexed.applies_to(no_location) and indexed.applies_to(sa("x"))
    k8s = compile_policy(
        {
            "properties": {
                "mode": "Microsoft.Kubernetes.Data",
                "policyRule": {
                    "if": {"field": "type", "equals": "Microsoft.ContainerService/managedClusters"},
                    "then": {"effect": "audit"},
                },
            }
        }
    )
    assert not k8s.applies_to({"type": "Microsoft.ContainerService/managedClusters", "name": "aks"})
    kv_data = compile_policy(
        {
            "properties": {
                "mode": "Microsoft.KeyVault.Data",
                "policyRule": {
                    "if": {"field": "type", "equals": "Microsoft.KeyVault.Data/vaults/keys"},
                    "then": {"effect": "audit"},
                },
            }
        }
    )
    assert kv_data.applies_to({"type": "Microsoft.KeyVault.Data/vaults/keys", "name": "k"})


def test_existence_policies_find_related_resources_in_the_inventory() -> None:
    aine = compile_policy(
        definition(
            {"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
            "auditIfNotExists",
            details={
                "type": "Microsoft.Insights/diagnosticSettings",
                "existenceCondition": {"field": "Microsoft.Insights/diagnosticSettings/workspaceId", "exists": True},
            },
        )
    )
    a, b = sa("a"), sa("b")
    diag = {
        "id": a["id"] + "/providers/Microsoft.Insights/diagnosticSettings/d",
        "type": "Microsoft.Insights/diagnosticSettings",
        "name": "d",
        "properties": {"workspaceId": "/w"},
    }
    rows = {r.resource_id.rsplit("/", 1)[-1]: r for r in evaluate_inventory([("diag", aine)], [a, b, diag])}
    assert rows["a"].compliant is True and rows["b"].compliant is False


def test_modify_rows_carry_the_remediated_resource() -> None:
    pol = compile_policy(
        definition(
            {"field": "tags['env']", "exists": False},
            "modify",
            details={
                "roleDefinitionIds": [],
                "operations": [{"operation": "add", "field": "tags['env']", "value": "dev"}],
            },
        )
    )
    (row,) = evaluate_inventory([("tag", pol)], [sa("a")])
    assert row.compliant is False and row.modified["tags"] == {"env": "dev"}


@pytest.mark.parametrize(
    "payload",
    [
        [{"type": "A/b", "name": "x"}],
        {"data": [{"type": "A/b", "name": "x"}], "count": 1},
        {
            "data": {
                "columns": [{"name": "type", "type": "string"}, {"name": "name", "type": "string"}],
                "rows": [["A/b", "x"]],
            }
        },
        {"value": [{"type": "A/b", "name": "x"}]},
    ],
)
def test_inventory_formats(payload, tmp_path) -> None:
    path = tmp_path / "inv.json"
    path.write_text(json.dumps(payload))
    assert load_inventory(path) == [{"type": "A/b", "name": "x"}]


def test_bad_inventory_is_an_input_error_with_position(tmp_path) -> None:
    path = tmp_path / "inv.json"
    path.write_text('[\n  {"type": "A/b",}\n]')
    with pytest.raises(InputError) as exc:
        load_inventory(path)
    assert f"{path}:2:" in str(exc.value)
    with pytest.raises(InputError):
        resources_from_json(42)
