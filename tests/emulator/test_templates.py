"""The ARM template deployment engine used by deployIfNotExists remediation (ids, loops, nesting)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policygen.emulator.app import Emulator
from policygen.emulator.context import EmulatorConfig
from policygen.emulator.core import ArmError
from policygen.emulator.templates import deploy
from policygen.templates.names import TemplateError

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


def test_outer_nested_template_uses_the_parents_expressions_and_deploys_where_it_points(emu):
    """`expressionEvaluationOptions.scope` outer (the default): parameters, variables, resourceGroup() are the
    parent's; the resources go to the nested deployment's resource group
    (https://learn.microsoft.com/azure/azure-resource-manager/templates/linked-templates#expression-evaluation-scope-in-nested-templates)."""
    template = {
        "variables": {"where": "from parent template"},
        "resources": [{
            "type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "outer",
            "resourceGroup": "other",
            "properties": {"mode": "Incremental", "template": {
                "variables": {"where": "from nested template"},
                "resources": [{"type": "Microsoft.Web/sites", "name": "app", "location": "[resourceGroup().location]",
                               "properties": {"rg": "[resourceGroup().name]", "v": "[variables('where')]"}}]}},
        }],
    }
    result = deploy(emu, template, {}, subscription_id=SUB, resource_group="rg", location="westeurope", name="d")
    rid = f"/subscriptions/{SUB}/resourceGroups/other/providers/Microsoft.Web/sites/app"
    assert result.resources == [rid]
    site = emu.store.get("resources", rid)
    assert site["location"] == "westeurope"  # rg's, not other's eastus
    assert site["properties"]["rg"] == "rg" and site["properties"]["v"] == "from parent template"


def test_children_declared_in_a_parent_are_deployed_with_composed_type_and_name(emu):
    """Learn's child-resource-name-type example: VNet1 with Subnet1 declared in its resources as 'subnets'."""
    template = {"resources": [
        {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2024-01-01", "name": "VNet1",
         "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}},
         "resources": [{"type": "subnets", "apiVersion": "2024-01-01", "name": "Subnet1", "dependsOn": ["VNet1"],
                        "properties": {"addressPrefix": "10.0.0.0/24"}}]},
    ]}
    result = deploy(emu, template, {}, subscription_id=SUB, resource_group="rg", location="westeurope", name="d")
    base = f"/subscriptions/{SUB}/resourceGroups/rg/providers"
    assert result.resources == [f"{base}/Microsoft.Network/virtualNetworks/VNet1",
                                f"{base}/Microsoft.Network/virtualNetworks/VNet1/subnets/Subnet1"]
    assert "resources" not in emu.store.get("resources", f"{base}/Microsoft.Network/virtualNetworks/VNet1")
    subnet = emu.store.get("resources", f"{base}/Microsoft.Network/virtualNetworks/VNet1/subnets/Subnet1")
    assert subnet["properties"]["addressPrefix"] == "10.0.0.0/24"


def test_depends_on_orders_the_deployment_so_reference_reads_what_came_before(emu):
    """A resource declared first that dependsOn a later one (by copy loop or symbolic name) is deployed after
    it, so its reference() reads the deployed value (Learn, resource-dependency: "Resource Manager evaluates
    the dependencies between resources and deploys them in their dependent order")."""
    template = {
        "languageVersion": "2.0",
        "resources": {
            "reader": {"type": "Microsoft.Web/sites", "name": "reader", "location": "westeurope",
                       "dependsOn": ["plans", "vault"],
                       "properties": {
                           "tier": "[reference(resourceId('Microsoft.Web/serverfarms', 'plan1')).tier]",
                           "vault": "[reference(resourceId('Microsoft.KeyVault/vaults', 'kv')).vaultUri]"}},
            "plans": {"type": "Microsoft.Web/serverfarms", "name": "[concat('plan', copyIndex())]",
                      "location": "westeurope", "copy": {"name": "plans", "count": 2},
                      "properties": {"tier": "[concat('tier', copyIndex())]"}},
            "vault": {"type": "Microsoft.KeyVault/vaults", "name": "kv", "location": "westeurope",
                      "properties": {"vaultUri": "https://kv.vault.azure.net/"}},
        },
    }
    result = deploy(emu, template, {}, subscription_id=SUB, resource_group="rg", location="westeurope", name="d")
    assert [r.rsplit("/", 1)[-1] for r in result.resources] == ["plan0", "plan1", "kv", "reader"]
    site = emu.store.get("resources", f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Web/sites/reader")
    assert (site["properties"]["tier"], site["properties"]["vault"]) == ("tier1", "https://kv.vault.azure.net/")


_TYPES = st.sampled_from(["Microsoft.Web/sites", "Microsoft.Resources/deployments", "Microsoft.Resources/resourceGroups",
                          "Microsoft.Authorization/policyExemptions", "subnets", "[concat('Microsoft.Web/', 'sites')]"])
_LEAF = (st.none() | st.booleans() | st.integers(-3, 900) | _TYPES
         | st.sampled_from(["x", "rg", "other", "[parameters('x')]", "[copyIndex()]", "[variables('v')]",
                            "[reference('Microsoft.Web/sites/x')]", "[listKeys('a', 'b')]", "inner", "[resourceGroup().id]"]))
_KEYS = st.sampled_from(["type", "name", "resources", "parameters", "variables", "copy", "count", "input", "condition",
                         "properties", "template", "expressionEvaluationOptions", "scope", "value", "location", "tags",
                         "resourceGroup", "subscriptionId", "existing", "dependsOn", "defaultValue"])
_JSON = st.recursive(_LEAF, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=6),
                     max_leaves=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(resources=st.lists(st.dictionaries(_KEYS, _JSON, max_size=6), max_size=3))
def test_any_template_deploys_or_is_refused_as_arm_refuses(emu, resources: list) -> None:
    """Whatever a template's resources hold, the emulator answers with a template error (400 InvalidTemplate)
    or ARM's error for the resource (DeploymentFailed), never anything else."""
    template = {"parameters": {"x": {"type": "int", "defaultValue": 1}}, "variables": {"v": "rg"},
                "resources": resources}
    with contextlib.suppress(TemplateError, ArmError):
        deploy(emu, template, {}, subscription_id=SUB, resource_group="rg", location="westeurope", name="d")
