"""Aliases resolved per resource type and API version (issue #12).

https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-alias: an alias maps to
paths per API version ("paths" with "apiVersions", a "defaultPath" otherwise); one alias name may exist on
several types with different paths (`Microsoft.Compute/imagePublisher` on virtual machines, scale sets and
disks). Azure reads the alias through the path of the evaluated resource's type and the request's API version.
"""

from __future__ import annotations

from policygen.arm.aliases import Alias, AliasCatalogue, AliasPath, default_catalogue
from policygen.evaluate import EvalContext, compile_policy

VM = "Microsoft.Compute/virtualMachines"
VMSS = "Microsoft.Compute/virtualMachineScaleSets"


def _image_policy() -> dict:
    return {
        "name": "allowed-publisher",
        "properties": {
            "mode": "Indexed",
            "policyRule": {
                "if": {"allOf": [{"field": "type", "in": [VM, VMSS]},
                                 {"field": "Microsoft.Compute/imagePublisher", "notEquals": "Canonical"}]},
                "then": {"effect": "audit"},
            },
        },
    }


def _vm(publisher: str) -> dict:
    return {"type": VM, "name": "vm", "location": "westeurope",
            "properties": {"storageProfile": {"imageReference": {"publisher": publisher}}}}


def _vmss(publisher: str) -> dict:
    return {"type": VMSS, "name": "ss", "location": "westeurope",
            "properties": {"virtualMachineProfile": {"storageProfile": {"imageReference": {"publisher": publisher}}}}}


def test_one_alias_name_reads_each_types_path() -> None:
    pol = compile_policy(_image_policy(), catalogue=default_catalogue())
    assert pol.evaluate(_vm("Canonical")).compliant is True
    assert pol.evaluate(_vm("Contoso")).compliant is False
    assert pol.evaluate(_vmss("Canonical")).compliant is True
    assert pol.evaluate(_vmss("Contoso")).compliant is False


def test_field_function_reads_the_types_path() -> None:
    d = _image_policy()
    d["properties"]["policyRule"]["if"] = {"value": "[field('Microsoft.Compute/imagePublisher')]", "equals": "Canonical"}
    d["properties"]["mode"] = "All"
    pol = compile_policy(d, catalogue=default_catalogue())
    assert pol.evaluate(_vmss("Canonical")).matched
    assert pol.evaluate(_vm("Canonical")).matched


T = "Microsoft.Test/widgets"
VERSIONED = AliasCatalogue()
VERSIONED.add(
    [Alias(f"{T}/tier", "properties.sku.tier", T,
           (AliasPath("properties.tier", ("2019-01-01",)), AliasPath("properties.sku.tier", ("2023-01-01",))))],
    "test (aliases sync form)",
)


def _tier_policy() -> dict:
    return {"name": "tier", "properties": {"mode": "All", "policyRule": {
        "if": {"field": f"{T}/tier", "equals": "Premium"}, "then": {"effect": "deny"}}}}


def test_api_versioned_path_from_the_resource() -> None:
    pol = compile_policy(_tier_policy(), catalogue=VERSIONED)
    old = {"type": T, "apiVersion": "2019-01-01", "properties": {"tier": "Premium"}}
    new = {"type": T, "apiVersion": "2023-01-01", "properties": {"sku": {"tier": "Premium"}}}
    assert pol.evaluate(old).denied and pol.evaluate(new).denied
    assert not pol.evaluate(dict(old, apiVersion="2023-01-01")).denied


def test_api_versioned_path_from_the_context() -> None:
    pol = compile_policy(_tier_policy(), catalogue=VERSIONED)
    res = {"type": T, "properties": {"tier": "Premium"}}
    assert pol.evaluate(res, context=EvalContext(api_version="2019-01-01")).denied
    assert not pol.evaluate(res).denied  # default path: properties.sku.tier


def test_inventory_evaluation_reads_the_contexts_api_version() -> None:
    # what `impact --api-version` / `--context` (requestContext.apiVersion) pass: the request's API version
    from policygen.evaluate import evaluate_inventory

    pol = compile_policy(_tier_policy(), catalogue=VERSIONED)
    res = {"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Test/widgets/w", "type": T,
           "properties": {"tier": "Premium"}}
    rows = list(evaluate_inventory([("p", pol)], [res], context=EvalContext(api_version="2019-01-01")))
    assert [r.denied for r in rows] == [True]
    assert [r.denied for r in evaluate_inventory([("p", pol)], [res])] == [False]
