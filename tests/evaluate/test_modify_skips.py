"""Modify: skipped modifications and aliases that are not Modifiable (issue #12).

https://learn.microsoft.com/azure/governance/policy/concepts/effect-modify#skipped-modification
"""

from __future__ import annotations

from policygen.arm.aliases import Alias, AliasCatalogue, AliasPath
from policygen.evaluate import compile_policy, evaluate_inventory

SA_TYPE = "Microsoft.Storage/storageAccounts"
SA = {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa", "name": "sa",
      "type": SA_TYPE, "location": "westeurope", "apiVersion": "2023-01-01",
      "sku": {"name": "Standard_LRS"}, "properties": {"allowBlobPublicAccess": True}}
VM = {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm", "name": "vm",
      "type": "Microsoft.Compute/virtualMachines", "location": "westeurope", "identity": {"type": "None"},
      "properties": {}}


def _modify(condition: dict, operations: list, conflict: str | None = None, catalogue=None):
    details: dict = {"roleDefinitionIds": ["/providers/Microsoft.Authorization/roleDefinitions/x"],
                     "operations": operations}
    if conflict:
        details["conflictEffect"] = conflict
    d = {"name": "m", "properties": {"mode": "Indexed", "policyRule": {
        "if": condition, "then": {"effect": "modify", "details": details}}}}
    return compile_policy(d, catalogue=catalogue)


IDENTITY = [{"operation": "addOrReplace", "field": "identity.type", "value": "SystemAssigned"}]


def test_identity_on_other_types_is_not_applicable_matched_or_not() -> None:
    pol = _modify({"field": "identity.type", "notEquals": "SystemAssigned"}, IDENTITY)
    assert pol.evaluate(SA).applicable is False
    assert pol.evaluate(dict(SA, identity={"type": "SystemAssigned"})).applicable is False
    vm = pol.evaluate(VM)
    assert vm.compliant is False and vm.modified["identity"]["type"] == "SystemAssigned"
    rows = list(evaluate_inventory([("m", pol)], [SA, VM, dict(SA, identity={"type": "SystemAssigned"})]))
    assert [r.resource_id for r in rows] == [VM["id"]]


def test_identity_operation_whose_condition_is_false_does_not_skip() -> None:
    ops = [dict(IDENTITY[0], condition="[equals(1, 2)]"),
           {"operation": "addOrReplace", "field": "tags['x']", "value": "y"}]
    out = _modify({"field": "tags['x']", "exists": False}, ops).evaluate(SA)
    assert out.applicable and out.compliant is False and out.modified["tags"] == {"x": "y"}


# An alias as `az provider show --expand resourceTypes/aliases` describes it: Modifiable only from 2021-01-01.
SKU = f"{SA_TYPE}/sku.name"
CATALOGUE = AliasCatalogue()
CATALOGUE.add([
    Alias(SKU, "sku.name", SA_TYPE, (AliasPath("sku.name", ("2019-06-01",), False),
                                     AliasPath("sku.name", ("2023-01-01",), True)), False),
], "test (provider JSON)")
SKU_OP = [{"operation": "addOrReplace", "field": SKU, "value": "Standard_GRS"}]


def test_non_modifiable_alias_falls_back_to_conflict_effect_deny() -> None:
    pol = _modify({"field": SKU, "notEquals": "Standard_GRS"}, SKU_OP, catalogue=CATALOGUE)
    out = pol.evaluate(dict(SA, apiVersion="2019-06-01"))
    assert out.denied and out.compliant is False and out.modified is None
    assert any("not Modifiable" in r for r in out.reasons)
    ok = pol.evaluate(SA)  # 2023-01-01: Modifiable
    assert not ok.denied and ok.modified["sku"]["name"] == "Standard_GRS"


def test_non_modifiable_alias_with_conflict_effect_audit_is_not_denied() -> None:
    pol = _modify({"field": SKU, "notEquals": "Standard_GRS"}, SKU_OP, conflict="audit", catalogue=CATALOGUE)
    out = pol.evaluate(dict(SA, apiVersion="2019-06-01"))
    assert not out.denied and out.compliant is False and out.modified is None
