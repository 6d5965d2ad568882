"""The ARM template engine used by deployIfNotExists remediation (expressions, ids, loops, nesting)."""

from __future__ import annotations

import pytest

from policygen.emulator.app import Emulator
from policygen.emulator.context import EmulatorConfig
from policygen.emulator.templates import Expressions, TemplateError, deploy, resource_path

SUB = "11111111-1111-1111-1111-111111111111"


@pytest.fixture
def emu():
    e = Emulator(
        EmulatorConfig(
            seed={
                "subscriptions": [
                    {
                        "id": SUB,
                        "resourceGroups": [
                            {"name": "rg", "location": "westeurope"},
                            {"name": "other", "location": "eastus"},
                        ],
                    }
                ]
            }
        )
    )
    yield e
    e.close()


def test_expressions():
    x = Expressions(
        parameters={"name": "sa1", "n": 2},
        variables={"v": "[concat(parameters('name'), '-x')]"},
        subscription_id=SUB,
        resource_group="rg",
    )
    assert x.evaluate("[variables('v')]") == "sa1-x"
    assert x.evaluate("[resourceGroup().name]") == "rg"
    assert x.evaluate("[subscription().subscriptionId]") == SUB
    assert (
        x.evaluate("[resourceId('Microsoft.Storage/storageAccounts', parameters('name'))]")
        == f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa1"
    )
    assert x.evaluate("[if(equals(parameters('n'), 2), 'two', 'other')]") == "two"
    assert x.evaluate("[[literal]") == "[literal]"
    assert x.evaluate({"a": ["[toUpper(parameters('name'))]"]}) == {"a": ["SA1"]}
    with pytest.raises(TemplateError):
        x.evaluate("[parameters('missing')]")


def test_resource_paths():
    assert (
        resource_path("Microsoft.Storage/storageAccounts/blobServices", "sa/default")
        == "Microsoft.Storage/storageAccounts/sa/blobServices/default"
    )
    assert (
        resource_path("Microsoft.Storage/storageAccounts/providers/diagnosticSettings", "sa/Microsoft.Insights/diag")
        == "Microsoft.Storage/storageAccounts/sa/providers/Microsoft.Insights/diagnosticSettings/diag"
    )
    with pytest.raises(TemplateError):
        resource_path("Microsoft.Storage/storageAccounts", "a/b")


def test_deploy_copy_condition_nested_and_extension(emu):
    template = {
        "parameters": {"prefix": {"type": "string"}, "count": {"type": "int", "defaultValue": 2}},
        "resources": [
            {
                "type": "Microsoft.Network/networkSecurityGroups",
                "apiVersion": "2023-01-01",
                "name": "[concat(parameters('prefix'), copyIndex())]",
                "location": "[resourceGroup().location]",
                "copy": {"name": "nsgs", "count": "[parameters('count')]"},
                "properties": {},
            },
            {"type": "Microsoft.Network/networkSecurityGroups", "name": "skipped", "condition": False},
            {
                "type": "Microsoft.Insights/diagnosticSettings",
                "apiVersion": "2021-05-01-preview",
                "name": "diag",
                "scope": "[concat('Microsoft.Network/networkSecurityGroups/', parameters('prefix'), '0')]",
                "dependsOn": ["nsgs"],
                "properties": {"logs": []},
            },
            {
                "type": "Microsoft.Resources/deployments",
                "apiVersion": "2022-09-01",
                "name": "inner",
                "resourceGroup": "other",
                "properties": {
                    "mode": "Incremental",
                    "expressionEvaluationOptions": {"scope": "inner"},
                    "parameters": {"n": {"value": "[concat(parameters('prefix'), 'x')]"}},
                    "template": {
                        "parameters": {"n": {"type": "string"}},
                        "resources": [
                            {
                                "type": "Microsoft.Web/sites",
                                "name": "[parameters('n')]",
                                "location": "[resourceGroup().location]",
                            }
                        ],
                        "outputs": {},
                    },
                },
            },
        ],
        "outputs": {
            "first": {
                "type": "string",
                "value": "[reference(resourceId("
                "'Microsoft.Network/networkSecurityGroups', 'nsg0'), "
                "'2023-01-01', 'Full').location]",
            }
        },
    }
    result = deploy(
        emu,
        template,
        {"prefix": {"value": "nsg"}},
        subscription_id=SUB,
        resource_group="rg",
        location="westeurope",
        name="d1",
    )
    base = f"/subscriptions/{SUB}/resourceGroups"
    assert set(result.resources) == {
        f"{base}/rg/providers/Microsoft.Network/networkSecurityGroups/nsg0",
        f"{base}/rg/providers/Microsoft.Network/networkSecurityGroups/nsg1",
        f"{base}/rg/providers/Microsoft.Network/networkSecurityGroups/nsg0/providers/"
        "Microsoft.Insights/diagnosticSettings/diag",
        f"{base}/other/providers/Microsoft.Web/sites/nsgx",
    }
    assert emu.store.get("resources", f"{base}/other/providers/Microsoft.Web/sites/nsgx")["location"] == "eastus"
    assert result.outputs["first"]["value"] == "westeurope"
    with pytest.raises(TemplateError):
        deploy(emu, template, {}, subscription_id=SUB, resource_group="rg", location="westeurope", name="d2")
