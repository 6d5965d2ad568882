"""One expander (issue #18): a template deployed in the emulator through the real deployments SDK client,
over HTTP, and read back gives the resource ids and bodies `policygen check` places for it.

The template exercises what Learn documents for ARM templates:
- copy-resources: a loop of private endpoints (https://learn.microsoft.com/azure/azure-resource-manager/templates/copy-resources)
- copy-properties: subnets built by a property loop (.../templates/copy-properties)
- copy-variables: the subnet names built by a variable loop (.../templates/copy-variables)
- child-resource-name-type: blobServices/containers declared inside the storage account
- linked-templates "Expression evaluation scope in nested templates": an outer and an inner nested deployment
  into another resource group (.../templates/linked-templates#expression-evaluation-scope-in-nested-templates)
"""

from __future__ import annotations

import json
from pathlib import Path

from azure.mgmt.resource.deployments import DeploymentsMgmtClient

from policygen.tasks.check_inputs import load

from .conftest import RG1, SUB

API = "2023-05-01"
SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


def template() -> dict:
    vnet = "[resourceId('Microsoft.Network/virtualNetworks', 'vnet-app')]"
    return {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": {"endpoints": {"type": "int", "defaultValue": 3}, "prefix": {"type": "string"}},
        "variables": {
            "copy": [{"name": "subnetNames", "count": "[parameters('endpoints')]",
                      "input": "[concat('snet-', copyIndex('subnetNames'))]"}],
            "storage": "[concat(parameters('prefix'), 'data')]",
        },
        "resources": [
            {
                "type": "Microsoft.Network/virtualNetworks", "apiVersion": API, "name": "vnet-app",
                "location": "[resourceGroup().location]",
                "properties": {
                    "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
                    "copy": [{"name": "subnets", "count": "[parameters('endpoints')]", "input": {
                        "name": "[variables('subnetNames')[copyIndex('subnets')]]",
                        "properties": {"addressPrefix": "[concat('10.1.', copyIndex('subnets'), '.0/24')]"}}}],
                },
            },
            {
                "type": "Microsoft.Storage/storageAccounts", "apiVersion": API, "name": "[variables('storage')]",
                "location": "[resourceGroup().location]", "kind": "StorageV2", "sku": {"name": "Standard_LRS"},
                "properties": {"publicNetworkAccess": "Disabled", "minimumTlsVersion": "TLS1_2"},
                "resources": [
                    {"type": "blobServices", "apiVersion": API, "name": "default",
                     "dependsOn": ["[variables('storage')]"], "properties": {"isVersioningEnabled": True},
                     "resources": [{"type": "containers", "apiVersion": API, "name": "logs",
                                    "dependsOn": ["default"], "properties": {"publicAccess": "None"}}]},
                ],
            },
            {
                "type": "Microsoft.Network/privateEndpoints", "apiVersion": API,
                "name": "[concat('pe-', variables('storage'), '-', copyIndex())]",
                "location": "[resourceGroup().location]",
                "copy": {"name": "endpoints", "count": "[parameters('endpoints')]"},
                "dependsOn": ["vnet-app", "[variables('storage')]"],
                "properties": {
                    "subnet": {"id": f"[concat({vnet[1:-1]}, '/subnets/', variables('subnetNames')[copyIndex()])]"},
                    "privateLinkServiceConnections": [{"name": "blob", "properties": {
                        "privateLinkServiceId": "[resourceId('Microsoft.Storage/storageAccounts', "
                                                "variables('storage'))]",
                        "groupIds": ["blob"]}}],
                },
            },
            {
                "type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "outer-rg2",
                "resourceGroup": "rg2",
                "properties": {"mode": "Incremental", "template": {
                    "$schema": SCHEMA, "contentVersion": "1.0.0.0",
                    "resources": [{
                        "type": "Microsoft.Network/networkSecurityGroups", "apiVersion": API,
                        "name": "[concat('nsg-', variables('storage'))]",
                        # outer scope: resourceGroup() is the parent's (rg1, westeurope), not rg2's
                        "location": "[resourceGroup().location]",
                        "tags": {"deployedFrom": "[resourceGroup().name]"},
                        "properties": {"securityRules": []},
                    }]}},
            },
            {
                "type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "inner-rg2",
                "resourceGroup": "rg2",
                "properties": {
                    "mode": "Incremental", "expressionEvaluationOptions": {"scope": "inner"},
                    "parameters": {"name": {"value": "[concat(variables('storage'), 'logs')]"},
                                   "location": {"value": "[resourceGroup().location]"}},
                    "template": {
                        "$schema": SCHEMA, "contentVersion": "1.0.0.0",
                        "parameters": {"name": {"type": "string"}, "location": {"type": "string"}},
                        "variables": {"copy": [{"name": "rules", "count": 2, "input": {
                            "value": "[concat('10.2.', copyIndex('rules'), '.0/24')]", "action": "Allow"}}]},
                        "resources": [{
                            "type": "Microsoft.Storage/storageAccounts", "apiVersion": API,
                            "name": "[parameters('name')]",
                            # inner scope: resourceGroup() is rg2 (its location check knows only as --location,
                            # so the parent passes its own)
                            "location": "[parameters('location')]", "kind": "StorageV2",
                            "sku": {"name": "Standard_LRS"},
                            "tags": {"deployedTo": "[resourceGroup().name]"},
                            "properties": {"networkAcls": {"defaultAction": "Deny",
                                                           "ipRules": "[variables('rules')]"}},
                        }]},
                },
            },
        ],
    }


def _placed(tmp_path: Path, parameters: dict) -> dict[str, dict]:
    path = tmp_path / "app.json"
    path.write_text(json.dumps(template()), encoding="utf-8")
    placed = load([path], scope=RG1, location="westeurope", parameters=parameters)
    assert all(not p.unplaced and not p.symbolic for p in placed)
    return {p.id.lower(): p.resource for p in placed}


def test_emulator_deploys_what_check_places(clients, tmp_path: Path) -> None:
    parameters = {"prefix": "app"}
    expected = _placed(tmp_path, parameters)
    assert len(expected) == 9  # vnet, storage, blobServices, container, 3 endpoints, nsg, inner storage
    deployments = DeploymentsMgmtClient(clients.credential, SUB, **clients._kw())  # the clients' HTTP settings
    poller = deployments.deployments.begin_create_or_update(
        "rg1", "app", {"properties": {"mode": "Incremental", "template": template(),
                                      "parameters": {k: {"value": v} for k, v in parameters.items()}}})
    result = poller.result()
    assert result.properties.provisioning_state == "Succeeded"
    deployed = {r.id.lower() for r in result.properties.output_resources}
    assert deployed == set(expected)
    for rid, body in expected.items():
        got = clients.resources.resources.get_by_id(body["id"], api_version=API).as_dict()
        assert got["id"].lower() == rid
        shown = {k: got.get(k) for k in ("type", "name", "location", "kind", "tags", "sku")
                 if k in body}
        assert shown == {k: body[k] for k in shown}, rid
        for key, value in body.get("properties", {}).items():
            assert got["properties"][key] == value, f"{rid} properties.{key}"
