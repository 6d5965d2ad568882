"""`policygen check` inputs, ARM templates: every form expanded as ARM does, each resource at its id and line.

The templates follow Microsoft Learn's examples (azure-resource-manager/templates/...):
- child resources inside a parent's `resources`: single-segment type and name composed with the parent's
  (https://learn.microsoft.com/azure/azure-resource-manager/templates/child-resource-name-type);
- property iteration, `copy` inside `properties`, `copyIndex('<loop>')`
  (https://learn.microsoft.com/azure/azure-resource-manager/templates/copy-properties); variable iteration
  (https://learn.microsoft.com/azure/azure-resource-manager/templates/copy-variables); resource iteration
  with an offset `copyIndex(1)` (https://learn.microsoft.com/azure/azure-resource-manager/templates/copy-resources);
- nested templates, `expressionEvaluationOptions.scope` inner/outer (outer, the default: the parent's
  parameters, variables and resourceGroup()/subscription()), `templateLink`
  (https://learn.microsoft.com/azure/azure-resource-manager/templates/linked-templates), into another resource
  group or subscription (https://learn.microsoft.com/azure/azure-resource-manager/templates/deploy-to-resource-group);
- deployment scope from `$schema`
  (https://learn.microsoft.com/azure/azure-resource-manager/templates/deploy-to-subscription,
  .../deploy-to-management-group, .../deploy-to-tenant); extension resources with `scope`
  (https://learn.microsoft.com/azure/azure-resource-manager/templates/scope-extension-resources);
- languageVersion 2.0 symbolic names and `existing`
  (https://learn.microsoft.com/azure/azure-resource-manager/templates/resource-declaration).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policygen.cli import run
from policygen.errors import InputError
from policygen.tasks import check_deployment
from policygen.tasks.check_inputs import jsondoc
from policygen.tasks.check_inputs.placed import SYMBOLIC
from tests.tasks.test_check import MODIFY_PACK  # storage accounts in subscription SUB: publicNetworkAccess Disabled

SUB = "11111111-1111-1111-1111-111111111111"
OTHER_SUB = "22222222-2222-2222-2222-222222222222"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-apps"
RG_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
SUB_SCHEMA = "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#"
MG_SCHEMA = "https://schema.management.azure.com/schemas/2019-08-01/managementGroupDeploymentTemplate.json#"
TENANT_SCHEMA = "https://schema.management.azure.com/schemas/2019-08-01/tenantDeploymentTemplate.json#"
MG = "/providers/Microsoft.Management/managementGroups"


def _template(resources: list | dict, schema: str = RG_SCHEMA, **extra: object) -> dict:
    return {"$schema": schema, "contentVersion": "1.0.0.0", **extra, "resources": resources}


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, indent=2))
    return path


def _load(path: Path, scope: str = RG, **parameters: object) -> list:
    return check_deployment.load([path], scope=scope, location="westeurope", parameters=parameters)


def _line(path: Path, text: str, nth: int = 0) -> int:
    """1-based line of the nth line containing `text`."""
    return [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line][nth]


def _storage(name: str, **extra: object) -> dict:
    return {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01", "name": name,
            "location": "[resourceGroup().location]", "kind": "StorageV2", "sku": {"name": "Standard_LRS"},
            "properties": {"publicNetworkAccess": "Enabled"}, **extra}


# ---------------------------------------------------------------------------------------------- child resources


def test_child_inside_its_parent_takes_the_parents_type_and_name(tmp_path: Path) -> None:
    # Learn's example: VNet1 with Subnet1 declared in its resources as type 'subnets'
    vnet = {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2025-01-01", "name": "VNet1",
            "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}},
            "resources": [{"type": "subnets", "apiVersion": "2024-07-01", "name": "Subnet1", "dependsOn": ["VNet1"],
                           "properties": {"addressPrefix": "10.0.0.0/24"}}]}
    path = _write(tmp_path / "vnet.json", _template([vnet]))
    parent, child = _load(path)
    assert parent.id == f"{RG}/providers/Microsoft.Network/virtualNetworks/VNet1"
    assert "resources" not in parent.resource
    assert child.id == f"{RG}/providers/Microsoft.Network/virtualNetworks/VNet1/subnets/Subnet1"
    assert child.resource["type"] == "Microsoft.Network/virtualNetworks/subnets"
    assert child.resource["name"] == "Subnet1"
    assert child.resource["properties"] == {"addressPrefix": "10.0.0.0/24"}
    assert (parent.line, child.line) == (_line(path, '"Microsoft.Network/virtualNetworks"'), _line(path, '"subnets"'))


def test_children_of_a_copied_parent_follow_each_instance_two_levels_deep(tmp_path: Path) -> None:
    account = _storage("[concat('st', copyIndex(1))]", copy={"name": "accounts", "count": 2}, resources=[
        {"type": "blobServices", "apiVersion": "2023-05-01", "name": "default", "properties": {},
         "resources": [{"type": "containers", "apiVersion": "2023-05-01", "name": "[concat('logs', copyIndex())]",
                        "properties": {"publicAccess": "None"}}]}])
    ids = [p.id.removeprefix(f"{RG}/providers/Microsoft.Storage/storageAccounts/") for p in
           _load(_write(tmp_path / "st.json", _template([account])))]
    assert ids == ["st1", "st1/blobServices/default", "st1/blobServices/default/containers/logs0",
                   "st2", "st2/blobServices/default", "st2/blobServices/default/containers/logs1"]


def test_child_with_a_full_type_and_name_inside_its_parent(tmp_path: Path) -> None:
    vnet = {"type": "Microsoft.Network/virtualNetworks", "name": "VNet1", "location": "westeurope",
            "resources": [{"type": "Microsoft.Network/virtualNetworks/subnets", "name": "VNet1/Subnet1",
                           "properties": {}}]}
    _, child = _load(_write(tmp_path / "vnet.json", _template([vnet])))
    assert child.id.endswith("/virtualNetworks/VNet1/subnets/Subnet1")


def test_a_copy_loop_on_a_child_inside_its_parent_is_a_located_error(tmp_path: Path) -> None:
    # "You can't use a copy loop for a child resource" (copy-resources, Iteration for a child resource)
    vnet = {"type": "Microsoft.Network/virtualNetworks", "name": "VNet1", "location": "westeurope", "resources": [
        {"type": "subnets", "name": "[concat('s', copyIndex())]", "copy": {"name": "subnets", "count": 2}}]}
    path = _write(tmp_path / "vnet.json", _template([vnet]))
    with pytest.raises(InputError) as err:
        _load(path)
    (d,) = err.value.diagnostics
    assert d.line == _line(path, '"subnets"') and "declare it at the top level" in d.message


def test_a_false_condition_does_not_cascade_to_children(tmp_path: Path) -> None:
    # "Conditional deployment doesn't cascade to child resources"
    # (https://learn.microsoft.com/azure/azure-resource-manager/templates/conditional-resource-deployment)
    account = _storage("stcond", condition="[equals(parameters('deploy'), 'yes')]", resources=[
        {"type": "blobServices", "apiVersion": "2023-05-01", "name": "default", "properties": {}}])
    path = _write(tmp_path / "cond.json", _template([account], parameters={"deploy": {"type": "string",
                                                                                      "defaultValue": "no"}}))
    (child,) = _load(path)
    assert child.id == f"{RG}/providers/Microsoft.Storage/storageAccounts/stcond/blobServices/default"


def test_children_deeper_than_five_levels_are_a_located_error(tmp_path: Path) -> None:
    # "Child resources can only be defined five levels deep"
    deepest: dict = {"type": "t6", "name": "n6", "properties": {}}
    for level in range(5, 0, -1):
        deepest = {"type": f"t{level}", "name": f"n{level}", "properties": {}, "resources": [deepest]}
    path = _write(tmp_path / "deep.json", _template([{**_storage("stdeep"), "resources": [deepest]}]))
    with pytest.raises(InputError) as err:
        _load(path)
    (d,) = err.value.diagnostics
    assert "child resources can only be defined 5 levels deep" in d.message and d.line == _line(path, '"t5"')


# ---------------------------------------------------------------------------------------------- copy


def test_property_copy_builds_the_array_with_named_copy_index(tmp_path: Path) -> None:
    # Learn's copy-properties example: dataDisks of a VM, lun from copyIndex('dataDisks'); a count of 0 is allowed
    vm = {"type": "Microsoft.Compute/virtualMachines", "apiVersion": "2022-11-01", "name": "examplevm",
          "location": "westeurope", "properties": {"storageProfile": {
              "copy": [{"name": "dataDisks", "count": "[parameters('numberOfDataDisks')]",
                        "input": {"diskSizeGB": 1023, "lun": "[copyIndex('dataDisks')]", "createOption": "Empty"}}],
              "osDisk": {"createOption": "FromImage"}}}}
    params = {"numberOfDataDisks": {"type": "int", "defaultValue": 3, "minValue": 0, "maxValue": 16}}
    path = _write(tmp_path / "vm.json", _template([vm], parameters=params))
    (placed,) = _load(path)
    profile = placed.resource["properties"]["storageProfile"]
    assert profile == {"osDisk": {"createOption": "FromImage"}, "dataDisks": [
        {"diskSizeGB": 1023, "lun": i, "createOption": "Empty"} for i in range(3)]}
    (empty,) = _load(path, numberOfDataDisks=0)
    assert empty.resource["properties"]["storageProfile"]["dataDisks"] == []


def test_copy_arrays_in_an_embedded_deploy_if_not_exists_template_are_data(tmp_path: Path) -> None:
    """A template deploying a policy definition: the template inside its deployIfNotExists is deployed later
    (its expressions escaped with '[['), so a property copy there is not expanded now."""
    inner_copy = [{"name": "subnets", "count": "[[length(parameters('subnets'))]", "input": {
        "name": "[[parameters('subnets')[copyIndex('subnets')].name]"}}]
    definition = {"type": "Microsoft.Authorization/policyDefinitions", "apiVersion": "2023-04-01",
                  "name": "deploy-vnet", "properties": {"policyType": "Custom", "mode": "All", "policyRule": {
                      "if": {"field": "type", "equals": "Microsoft.Resources/subscriptions"},
                      "then": {"effect": "deployIfNotExists", "details": {
                          "type": "Microsoft.Network/virtualNetworks", "deployment": {"properties": {
                              "mode": "Incremental", "template": {"resources": [{
                                  "type": "Microsoft.Network/virtualNetworks", "name": "vnet",
                                  "properties": {"copy": inner_copy}}]}}}}}}}}
    (placed,) = _load(_write(tmp_path / "def.json", _template([definition], SUB_SCHEMA)), scope=f"/subscriptions/{SUB}")
    template = placed.resource["properties"]["policyRule"]["then"]["details"]["deployment"]["properties"]["template"]
    assert template["resources"][0]["properties"]["copy"][0]["count"] == "[length(parameters('subnets'))]"


def test_variable_copy_at_the_top_and_inside_an_object(tmp_path: Path) -> None:
    # Learn's copy-variables examples: stringArray with copyIndex('stringArray', 1), and an array inside an object
    variables = {
        "copy": [{"name": "stringArray", "count": 5, "input": "[concat('item', copyIndex('stringArray', 1))]"}],
        "disk-array-on-object": {"copy": [{"name": "disks", "count": 2, "input": {
            "name": "[concat('myDataDisk', copyIndex('disks', 1))]", "diskSizeGB": "1", "diskIndex":
                "[copyIndex('disks')]"}}]},
    }
    account = _storage("stvars", tags={"items": "[string(variables('stringArray'))]"},
                       properties={"disks": "[variables('disk-array-on-object').disks]"})
    (placed,) = _load(_write(tmp_path / "vars.json", _template([account], variables=variables)))
    assert json.loads(placed.resource["tags"]["items"]) == ["item1", "item2", "item3", "item4", "item5"]
    assert placed.resource["properties"]["disks"] == [
        {"name": "myDataDisk1", "diskSizeGB": "1", "diskIndex": 0},
        {"name": "myDataDisk2", "diskSizeGB": "1", "diskIndex": 1}]


def test_resource_copy_with_an_offset_and_a_zero_count(tmp_path: Path) -> None:
    looped = _storage("[concat('st', copyIndex(10))]", copy={"name": "accounts", "count": "[parameters('n')]"})
    path = _write(tmp_path / "loop.json", _template([looped], parameters={"n": {"type": "int", "defaultValue": 3}}))
    assert [p.resource["name"] for p in _load(path)] == ["st10", "st11", "st12"]
    assert _load(path, n=0) == []


@pytest.mark.parametrize("count", [801, -1, "three", True])
def test_copy_count_outside_arms_limits_is_a_located_error(tmp_path: Path, count: object) -> None:
    path = _write(tmp_path / "loop.json", _template([_storage("[concat('st', copyIndex())]",
                                                              copy={"name": "c", "count": count})]))
    with pytest.raises(InputError) as err:
        _load(path)
    (d,) = err.value.diagnostics
    assert (d.file, d.line) == (str(path), _line(path, "Microsoft.Storage/storageAccounts"))
    assert "copy count must be an integer from 0 to 800" in d.message


@pytest.mark.parametrize("shape", ["nested loops", "property loops"])
def test_loops_multiplying_past_the_work_budget_are_refused(tmp_path: Path, shape: str) -> None:
    """800 deployments x 800 resources (all condition false), or a property loop of 800 x 800: each level is
    within ARM's 800, the product is refused instead of evaluated for seconds."""
    if shape == "nested loops":
        inner = {**_storage("[concat('st', copyIndex())]"), "condition": False, "copy": {"name": "a", "count": 800}}
        resource = {**_nested("[concat('d', copyIndex())]", [inner]), "copy": {"name": "d", "count": 800}}
    else:
        resource = _storage("st", properties={"copy": [{"name": "a", "count": 800, "input": {
            "copy": [{"name": "b", "count": 800, "input": "[copyIndex('b')]"}]}}]})
    with pytest.raises(InputError) as err:
        _load(_write(tmp_path / "big.json", _template([resource])))
    assert "expands to more than 100,000 resources and loop items" in err.value.diagnostics[0].message


def test_a_long_chain_of_variables_is_a_located_error_not_a_recursion_error(tmp_path: Path) -> None:
    variables = {f"v{i}": f"[variables('v{i + 1}')]" for i in range(3000)} | {"v3000": "end"}
    path = _write(tmp_path / "chain.json", _template([_storage("[variables('v0')]")], variables=variables))
    with pytest.raises(InputError) as err:
        _load(path)
    assert err.value.diagnostics[0].message.endswith("variables refer to variables more than 64 deep")


# ---------------------------------------------------------------------------------------------- nested deployments


def _nested(name: str, resources: list, *, inner: bool = False, **extra: object) -> dict:
    props: dict = {"mode": "Incremental", "template": _template(resources, **extra.pop("template_extra", {}))}
    if inner:
        props["expressionEvaluationOptions"] = {"scope": "inner"}
    props.update(extra.pop("props", {}))
    return {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": name, "properties": props,
            **extra}


def test_nested_outer_uses_the_parents_expressions_but_deploys_where_it_points(tmp_path: Path) -> None:
    # outer (the default): resourceGroup() is the parent's, variables are the parent's; the resource lands in
    # the nested deployment's resource group
    resources = [_storage("stouter", properties={"rg": "[resourceGroup().name]", "v": "[variables('where')]"})]
    nested = _nested("outer", resources, resourceGroup="rg-data",
                     template_extra={"variables": {"where": "from nested template"}})
    path = _write(tmp_path / "outer.json", _template([nested], variables={"where": "from parent template"}))
    (placed,) = _load(path)
    assert placed.id == f"/subscriptions/{SUB}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stouter"
    assert placed.resource["properties"] == {"rg": "rg-apps", "v": "from parent template"}
    assert placed.line == _line(path, "Microsoft.Storage/storageAccounts")


def test_nested_inner_has_its_own_parameters_variables_and_resource_group(tmp_path: Path) -> None:
    resources = [_storage("[parameters('name')]", properties={"rg": "[resourceGroup().name]",
                                                              "v": "[variables('where')]"})]
    nested = _nested("inner", resources, inner=True, resourceGroup="rg-data",
                     props={"parameters": {"name": {"value": "[concat('st', parameters('suffix'))]"}}},
                     template_extra={"parameters": {"name": {"type": "string"}},
                                     "variables": {"where": "from nested template"}})
    path = _write(tmp_path / "inner.json", _template([nested], parameters={"suffix": {"type": "string",
                                                                                      "defaultValue": "data"}}))
    (placed,) = _load(path)
    assert placed.id.endswith("/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stdata")
    assert placed.resource["properties"] == {"rg": "rg-data", "v": "from nested template"}


def test_nested_into_another_subscription_and_a_nested_loop(tmp_path: Path) -> None:
    nested = _nested("[concat('spoke', copyIndex())]", [_storage("[concat('st', copyIndex())]")],
                     subscriptionId=OTHER_SUB, resourceGroup="[concat('rg-spoke', copyIndex())]",
                     copy={"name": "spokes", "count": 2})
    ids = [p.id for p in _load(_write(tmp_path / "spokes.json", _template([nested])))]
    assert ids == [f"/subscriptions/{OTHER_SUB}/resourceGroups/rg-spoke{i}/providers/Microsoft.Storage/"
                   f"storageAccounts/st{i}" for i in range(2)]


def test_nested_inner_parameter_fed_by_reference_is_symbolic(tmp_path: Path) -> None:
    resources = [_storage("stref", properties={"publicNetworkAccess": "[parameters('access')]"})]
    nested = _nested("inner", resources, inner=True, props={"parameters": {"access": {
        "value": "[reference(resourceId('Microsoft.Network/networkSecurityPerimeters', 'nsp')).access]"}}},
        template_extra={"parameters": {"access": {"type": "string", "allowedValues": ["Enabled", "Disabled"]}}})
    (placed,) = _load(_write(tmp_path / "ref.json", _template([nested])))
    assert placed.symbolic == ["/properties/publicNetworkAccess"]
    assert placed.resource["properties"]["publicNetworkAccess"].startswith(SYMBOLIC)


def test_template_link_is_reported_undecidable_naming_the_link(modify_pack: Path, tmp_path: Path, capsys) -> None:
    linked = {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "linkedTemplate",
              "properties": {"mode": "Incremental", "templateLink": {
                  "uri": "https://mystorageaccount.blob.core.windows.net/AzureTemplates/newStorageAccount.json"}}}
    path = _write(tmp_path / "linked.json", _template([linked, _storage("stteam")]))
    code = run(["check", str(path), "--pack", str(modify_pack), "--env", "local", "--scope", RG, "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    first = report["resources"][0]
    assert first["id"] == f"{RG}/providers/Microsoft.Resources/deployments/linkedTemplate"
    (finding,) = first["findings"]
    assert finding["outcome"] == "undecidable"
    assert "templateLink.uri https://mystorageaccount.blob.core.windows.net/AzureTemplates/newStorageAccount.json" \
        in finding["detail"]
    assert first["line"] == _line(path, "Microsoft.Resources/deployments")
    assert [f["outcome"] for f in report["resources"][1]["findings"]] == ["modified"]
    assert code == 0


def test_nested_resources_are_checked_where_they_land(modify_pack: Path, tmp_path: Path, capsys) -> None:
    """The pack assigns at subscription SUB: a storage account the template deploys into another resource group
    of SUB is modified; one it deploys into another subscription is not in that assignment's reach."""
    here = _nested("data", [_storage("sthere")], resourceGroup="rg-data")
    there = _nested("spoke", [_storage("stthere")], subscriptionId=OTHER_SUB, resourceGroup="rg-spoke")
    path = _write(tmp_path / "two.json", _template([here, there]))
    run(["check", str(path), "--pack", str(modify_pack), "--env", "local", "--scope", RG, "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    by_name = {r["name"]: [f["outcome"] for f in r["findings"]] for r in report["resources"]}
    assert by_name == {"sthere": ["modified"], "stthere": []}


# ---------------------------------------------------------------------------------------------- deployment scopes


def test_subscription_template_creates_a_group_and_deploys_into_it(tmp_path: Path) -> None:
    # deploy-to-subscription: a resource group and a nested deployment into it
    group = {"type": "Microsoft.Resources/resourceGroups", "apiVersion": "2022-09-01", "name": "[parameters('rgName')]",
             "location": "[parameters('rgLocation')]", "properties": {}}
    nested = _nested("storageDeployment", [_storage("stsub", location="[parameters('location')]")], inner=True,
                     resourceGroup="[parameters('rgName')]", dependsOn=["[resourceId('Microsoft.Resources/resourceGroups/',"
                                                                        " parameters('rgName'))]"],
                     props={"parameters": {"location": {"value": "[parameters('rgLocation')]"}}},
                     template_extra={"parameters": {"location": {"type": "string"}}})
    params = {"rgName": {"type": "string", "defaultValue": "rg-new"}, "rgLocation": {"type": "string",
                                                                                      "defaultValue": "northeurope"}}
    path = _write(tmp_path / "sub.json", _template([group, nested], SUB_SCHEMA, parameters=params))
    rg, account = _load(path, scope=f"/subscriptions/{SUB}")
    assert rg.id == f"/subscriptions/{SUB}/resourceGroups/rg-new" and rg.resource["location"] == "northeurope"
    assert account.id == f"/subscriptions/{SUB}/resourceGroups/rg-new/providers/Microsoft.Storage/storageAccounts/stsub"
    assert account.resource["location"] == "northeurope"
    # a subscription deployment run with a resource-group scope deploys to that group's subscription
    assert [p.id for p in _load(path, scope=RG)] == [rg.id, account.id]


def test_management_group_and_tenant_templates(tmp_path: Path) -> None:
    assignment = {"type": "Microsoft.Authorization/policyAssignments", "apiVersion": "2022-06-01",
                  "name": "location-lock", "properties": {"policyDefinitionId": "/providers/Microsoft.Authorization/"
                                                          "policyDefinitions/e56962a6-4747-49cd-b67b-bf8b01975c4c"}}
    path = _write(tmp_path / "mg.json", _template([assignment], MG_SCHEMA))
    (placed,) = _load(path, scope=f"{MG}/corp")
    assert placed.id == f"{MG}/corp/providers/Microsoft.Authorization/policyAssignments/location-lock"
    group = {"type": "Microsoft.Management/managementGroups", "apiVersion": "2021-04-01", "name": "landing-zones",
             "properties": {"details": {"parent": {"id": f"{MG}/corp"}}}}
    (mg,) = _load(_write(tmp_path / "tenant.json", _template([group], TENANT_SCHEMA)))
    assert mg.id == f"{MG}/landing-zones"


def test_management_group_template_reaches_a_subscriptions_resources(modify_pack: Path, tmp_path: Path,
                                                                     capsys) -> None:
    """deploy-to-management-group: a nested deployment with subscriptionId (and a location) runs a subscription
    template there, which deploys into one of its resource groups; the subscription's assignment applies."""
    in_group = _nested("storage", [_storage("stfrommg")], inner=True, resourceGroup="rg-apps")
    in_sub = _nested("toSubscription", [in_group], inner=True, subscriptionId=SUB, location="westeurope",
                     template_extra={})
    in_sub["properties"]["template"]["$schema"] = SUB_SCHEMA
    path = _write(tmp_path / "mg.json", _template([in_sub], MG_SCHEMA))
    code = run(["check", str(path), "--pack", str(modify_pack), "--env", "local", "--scope", f"{MG}/corp",
                "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    (res,) = report["resources"]
    assert res["id"] == f"{RG}/providers/Microsoft.Storage/storageAccounts/stfrommg"
    assert [f["outcome"] for f in res["findings"]] == ["modified"] and code == 0
    assert report["scopes"] == [f"{MG}/corp"]


def test_tenant_template_deploys_into_a_management_group_by_scope(tmp_path: Path) -> None:
    # what Bicep emits for a module at managementGroup(...) scope from a tenant deployment
    assignment = {"type": "Microsoft.Authorization/policyAssignments", "apiVersion": "2022-06-01",
                  "name": "[parameters('assignmentName')]", "properties": {
                      "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/"
                                            "e56962a6-4747-49cd-b67b-bf8b01975c4c"}}
    module = _nested("assign", [assignment], inner=True, location="westeurope",
                     scope="[format('Microsoft.Management/managementGroups/{0}', 'corp')]",
                     props={"parameters": {"assignmentName": {"value": "allowed-locations"}}},
                     template_extra={"parameters": {"assignmentName": {"type": "string"}}})
    module["properties"]["template"]["$schema"] = MG_SCHEMA
    (placed,) = _load(_write(tmp_path / "tenant.json", _template([module], TENANT_SCHEMA)), scope="/")
    assert placed.id == f"{MG}/corp/providers/Microsoft.Authorization/policyAssignments/allowed-locations"


@pytest.mark.parametrize(("schema", "scope", "needs"), [
    (RG_SCHEMA, f"/subscriptions/{SUB}", "a resource-group template"),
    (SUB_SCHEMA, f"{MG}/corp", "a subscription template"),
    (MG_SCHEMA, RG, "a management-group template"),
])
def test_a_scope_the_schema_does_not_deploy_to_is_a_located_error(tmp_path: Path, schema: str, scope: str,
                                                                  needs: str) -> None:
    path = _write(tmp_path / "t.json", _template([_storage("st")], schema))
    with pytest.raises(InputError) as err:
        _load(path, scope=scope)
    (d,) = err.value.diagnostics
    assert d.line == _line(path, '"$schema"') and d.message.startswith(needs)


def test_extension_resource_scope_sits_on_the_named_resource(tmp_path: Path) -> None:
    lock = {"type": "Microsoft.Authorization/locks", "apiVersion": "2020-05-01", "name": "no-delete",
            "scope": "[format('Microsoft.Storage/storageAccounts/{0}', 'stlocked')]",
            "properties": {"level": "CanNotDelete"}}
    _, placed = _load(_write(tmp_path / "lock.json", _template([_storage("stlocked"), lock])))
    assert placed.id == f"{RG}/providers/Microsoft.Storage/storageAccounts/stlocked/providers/Microsoft.Authorization/" \
                        "locks/no-delete"


def test_nested_provider_type_is_the_extension_type(tmp_path: Path) -> None:
    # the built-in diagnostic-settings deployIfNotExists templates declare
    # `<type>/providers/diagnosticSettings` named `<resource>/Microsoft.Insights/<setting>`
    setting = {"type": "Microsoft.KeyVault/vaults/providers/diagnosticSettings", "apiVersion": "2021-05-01-preview",
               "name": "[concat('kv-apps', '/', 'Microsoft.Insights/', 'to-law')]", "location": "westeurope",
               "properties": {"workspaceId": "/subscriptions/x/resourceGroups/y/providers/"
                                             "Microsoft.OperationalInsights/workspaces/law", "logs": []}}
    (placed,) = _load(_write(tmp_path / "ds.json", _template([setting])))
    assert placed.id == f"{RG}/providers/Microsoft.KeyVault/vaults/kv-apps/providers/Microsoft.Insights/" \
                        "diagnosticSettings/to-law"
    assert placed.resource["type"] == "Microsoft.Insights/diagnosticSettings"
    assert placed.resource["name"] == "to-law"


# ---------------------------------------------------------------------------------------------- languageVersion 2.0


def test_language_version_2_symbolic_names_and_existing(tmp_path: Path) -> None:
    resources = {
        "vnet": {"existing": True, "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2024-01-01",
                 "name": "vnet-hub"},
        "account": _storage("st2", properties={"publicNetworkAccess": "Disabled",
                                               "subnet": "[reference('vnet').subnets[0].id]"}),
    }
    path = _write(tmp_path / "v2.json", _template(resources, languageVersion="2.0"))
    (placed,) = _load(path)
    assert placed.id.endswith("/storageAccounts/st2") and placed.symbolic == ["/properties/subnet"]
    assert placed.line == _line(path, "Microsoft.Storage/storageAccounts")


def test_key_vault_reference_in_the_parameters_file_is_symbolic(tmp_path: Path) -> None:
    account = _storage("stkv", properties={"publicNetworkAccess": "Enabled",
                                           "encryption": {"keySource": "[parameters('keySource')]"}})
    path = _write(tmp_path / "kv.json", _template([account], parameters={"keySource": {"type": "securestring"}}))
    reference = {"reference": {"keyVault": {"id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/"
                                                  "Microsoft.KeyVault/vaults/kv"}, "secretName": "keySource"}}
    (placed,) = _load(path, keySource=reference)
    assert placed.symbolic == ["/properties/encryption/keySource"]


def test_comments_are_allowed_and_lines_stay_true(tmp_path: Path) -> None:
    path = tmp_path / "commented.json"
    text = json.dumps(_template([_storage("stc")]), indent=2)
    path.write_text("// the team's storage\n/* a block\n   comment */\n" + text)
    (placed,) = _load(path)
    assert placed.line == _line(path, "Microsoft.Storage/storageAccounts")


def test_lambda_functions_as_bicep_emits_them(tmp_path: Path) -> None:
    # map/filter/toObject with lambda() and lambdaVariables()
    # (https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-lambda)
    params = {"subnets": {"type": "array", "defaultValue": [
        {"name": "api", "prefix": "10.0.0.0/24", "public": False},
        {"name": "web", "prefix": "10.0.1.0/24", "public": True}]}}
    vnet = {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2024-01-01", "name": "vnet-apps",
            "location": "westeurope",
            "tags": "[toObject(parameters('subnets'), lambda('s', lambdaVariables('s').name), "
                    "lambda('s', lambdaVariables('s').prefix))]",
            "properties": {"subnets": "[map(filter(parameters('subnets'), lambda('s', not(lambdaVariables('s').public)))"
                                      ", lambda('s', 'i', createObject('name', lambdaVariables('s').name, 'properties', "
                                      "createObject('addressPrefix', lambdaVariables('s').prefix, 'index', "
                                      "lambdaVariables('i')))))]"}}
    (placed,) = _load(_write(tmp_path / "lambda.json", _template([vnet], parameters=params)))
    assert placed.resource["tags"] == {"api": "10.0.0.0/24", "web": "10.0.1.0/24"}
    assert placed.resource["properties"]["subnets"] == [
        {"name": "api", "properties": {"addressPrefix": "10.0.0.0/24", "index": 0}}]


def test_user_defined_functions_are_a_located_error_not_a_traceback(tmp_path: Path, capsys) -> None:
    # user-defined functions (template-user-defined-functions): `namespace.member()` is not evaluated by check
    functions = [{"namespace": "contoso", "members": {"uniqueName": {
        "parameters": [{"name": "namePrefix", "type": "string"}],
        "output": {"type": "string", "value": "[concat(toLower(parameters('namePrefix')), uniqueString(resourceGroup().id))]"}}}}]
    path = _write(tmp_path / "udf.json", _template([_storage("[contoso.uniqueName('st')]")], functions=functions))
    with pytest.raises(InputError) as err:
        _load(path)
    (d,) = err.value.diagnostics
    assert d.line == _line(path, "Microsoft.Storage/storageAccounts") and "contoso.uniqueName" in d.message


# ---------------------------------------------------------------------------------------------- never a traceback

_LEAF = st.none() | st.booleans() | st.integers(-2, 900) | st.text(max_size=12) | st.sampled_from([
    "[parameters('x')]", "[copyIndex()]", "[copyIndex('p', 1)]", "[reference('a/b').c]", "[resourceGroup().name]",
    "[variables('v')]", "[contoso.uniqueName('st')]", "[concat(",
    "[map(createArray(1), lambda('x', lambdaVariables('y')))]", "[filter(parameters('x'), lambda('a'))]", "Microsoft.Resources/deployments", "Microsoft.Storage/storageAccounts", "subnets", "inner",
    f"/subscriptions/{SUB}", "Microsoft.Management/managementGroups/mg", SUB_SCHEMA, MG_SCHEMA, RG_SCHEMA])
_KEYS = st.sampled_from(["type", "name", "resources", "parameters", "variables", "copy", "count", "input", "condition",
                         "properties", "template", "templateLink", "expressionEvaluationOptions", "scope", "value",
                         "resourceGroup", "subscriptionId", "$schema", "existing", "languageVersion", "id",
                         "defaultValue", "changes", "after", "changeType", "resource_changes", "change", "actions"])
_JSON = st.recursive(_LEAF, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=6),
                     max_leaves=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_JSON)
def test_any_json_places_resources_or_is_refused_with_located_diagnostics(tmp_path: Path, data: object) -> None:
    path = _write(tmp_path / "any.json", data)
    try:
        placed = _load(path)
    except InputError as exc:
        assert exc.diagnostics and all(d.file == str(path) and d.line >= 0 for d in exc.diagnostics)
        return
    for p in placed:
        assert p.unplaced or p.id.startswith("/")
        assert 1 <= p.line <= max(1, len(path.read_text().splitlines()))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(resources=st.lists(st.dictionaries(_KEYS, _JSON, max_size=6), max_size=3), schema=st.sampled_from(
    [RG_SCHEMA, SUB_SCHEMA]))
def test_any_resources_in_a_template_never_traceback(tmp_path: Path, resources: list, schema: str) -> None:
    """Templates whose resources are arbitrary objects (nested deployments, children, copies of any shape)."""
    path = _write(tmp_path / "t.json", _template(resources, schema, parameters={"x": {"type": "int",
                                                                                      "defaultValue": 1}}))
    try:
        _load(path)
    except InputError as exc:
        assert exc.diagnostics and all(d.file == str(path) for d in exc.diagnostics)


@pytest.fixture
def modify_pack(make_tree) -> Path:
    return make_tree(MODIFY_PACK)


_ANY_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                         | st.text(max_size=8), lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.sampled_from(["type", "name", "a", 'q"type"', "\\"]) | st.text(max_size=4),
                                           inner, max_size=5), max_leaves=30)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_ANY_JSON, indent=st.sampled_from([None, 1, 2]))
def test_positioned_parse_gives_the_same_data_and_each_objects_own_type_line(tmp_path: Path, data: object,
                                                                              indent: int | None) -> None:
    path = tmp_path / "doc.json"
    text = "// leading comment\n" + json.dumps(data, indent=indent)
    path.write_text(text)
    doc = jsondoc.read(path)
    assert doc.data == data
    lines = text.splitlines()

    def visit(value: object, depth: int) -> None:
        if isinstance(value, dict):
            if "type" in value:
                line = lines[doc.line(value) - 1]
                # its own key, not a nested object's: indented one level deeper than the object
                own = " " * (indent * (depth + 1)) + '"type":' if indent else '"type":'
                assert line.startswith(own) if indent else own in line
            for v in value.values():
                visit(v, depth + 1)
        elif isinstance(value, list):
            for v in value:
                visit(v, depth + 1)

    visit(doc.data, 0)
