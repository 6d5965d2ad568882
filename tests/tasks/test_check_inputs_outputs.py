"""`policygen check` inputs that tools already expanded: what-if and deployment-validate output, azapi plans.

- what-if: Microsoft's REST examples (tests/tasks/data/check_inputs/SOURCE.md) as REST returns them and as
  `az deployment group what-if --no-pretty-print` prints them; change types as documented in
  https://learn.microsoft.com/azure/azure-resource-manager/templates/deploy-what-if#change-types (Delete and
  Ignore send no body; Unsupported has none to check);
- validate: `properties.validatedResources`, full bodies in older API versions, ids only in newer ones
  (https://learn.microsoft.com/rest/api/resources/deployments/validate);
- Terraform: `terraform show -json` (https://developer.hashicorp.com/terraform/internals/json-format:
  resource_changes[].change.{actions,after,after_unknown}) of azapi_resource
  (https://registry.terraform.io/providers/Azure/azapi/latest/docs/resources/resource: type
  `Namespace/type@api-version`, name, parent_id, location, body, tags, identity).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policygen.cli import run
from policygen.errors import InputError
from policygen.tasks import check_deployment
from policygen.tasks.check_inputs.placed import SYMBOLIC
from tests.tasks.test_check import MODIFY_PACK, PROD_RG

DATA = Path(__file__).parent / "data" / "check_inputs"
SUB = "11111111-1111-1111-1111-111111111111"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-apps"
ST = f"{RG}/providers/Microsoft.Storage/storageAccounts"
EXAMPLE_RG = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/my-resource-group"


@pytest.fixture
def modify_pack(make_tree) -> Path:
    return make_tree(MODIFY_PACK)


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, indent=2))
    return path


def _load(path: Path) -> list:
    return check_deployment.load([path], scope=RG, location="westeurope", parameters={})


def _line(path: Path, text: str, nth: int = 0) -> int:
    return [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line][nth]


def _check(capsys: pytest.CaptureFixture[str], path: Path, pack: Path, scope: str = RG) -> tuple[int, dict]:
    code = run(["check", str(path), "--pack", str(pack), "--env", "local", "--scope", scope, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def _outcomes(report: dict) -> dict[str, list[str]]:
    return {r["name"]: [f["outcome"] for f in r["findings"]] for r in report["resources"]}


# ---------------------------------------------------------------------------------------------- what-if


def _example(name: str) -> dict:
    return json.loads((DATA / name).read_text())["responses"]["200"]["body"]


def _cli_shape(body: dict) -> dict:
    """What `az ... what-if --no-pretty-print` prints: the SDK's WhatIfOperationResult, changes flattened."""
    return {"changes": body["properties"]["changes"], "error": None, "status": body["status"]}


@pytest.mark.parametrize("shape", ["rest", "cli"])
def test_what_if_example_places_every_after_body(tmp_path: Path, shape: str) -> None:
    body = _example("PostDeploymentWhatIfOnResourceGroup.json")
    path = _write(tmp_path / "whatif.json", body if shape == "rest" else _cli_shape(body))
    existing, new = _load(path)
    assert existing.id == f"{EXAMPLE_RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/myExistingIdentity"
    assert existing.resource["tags"] == {"myNewTag": "my tag value"}  # the after body, not before
    assert new.resource["location"] == "eastus" and new.resource["name"] == "myNewIdentity"
    # the line of each after body's "type" (the before body's comes first)
    assert (existing.line, new.line) == (_line(path, '"Microsoft.ManagedIdentity/userAssignedIdentities"', 1),
                                         _line(path, '"Microsoft.ManagedIdentity/userAssignedIdentities"', 2))


def test_subscription_what_if_places_the_new_resource_group(tmp_path: Path) -> None:
    *_, group = _load(_write(tmp_path / "sub.json", _example("PostDeploymentWhatIfOnSubscription.json")))
    assert group.id == "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/my-resource-group2"
    assert group.resource["type"] == "Microsoft.Resources/resourceGroups"


def _change(kind: str, name: str, access: str = "Enabled", **extra: object) -> dict:
    rid = f"{ST}/{name}"
    after = {"apiVersion": "2023-05-01", "id": rid, "type": "Microsoft.Storage/storageAccounts", "name": name,
             "location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"},
             "properties": {"publicNetworkAccess": access}}
    out = {"resourceId": rid, "changeType": kind, **extra}
    if kind not in ("Delete", "Ignore", "Unsupported"):
        out["after"] = after
    if kind in ("Delete", "Ignore", "Modify", "NoChange"):
        out["before"] = {**after, "properties": {"publicNetworkAccess": "Disabled"}}
    return out


def test_what_if_change_types(modify_pack: Path, tmp_path: Path, capsys) -> None:
    changes = [_change("Create", "stcreate"), _change("Modify", "stmodify"), _change("NoChange", "stsame"),
               _change("Deploy", "stdeploy"), _change("Delete", "stdelete"), _change("Ignore", "stignore"),
               _change("Unsupported", "stunknown", unsupportedReason="Changes to the resource cannot be analyzed "
                       "because its resource ID or API version cannot be calculated until the deployment is under "
                       "way."),
               _change("Create", "stref", "[reference(resourceId('Microsoft.Network/networkSecurityPerimeters', "
                                          "'nsp')).access]")]
    path = _write(tmp_path / "whatif.json", {"changes": changes, "error": None, "status": "Succeeded"})
    code, report = _check(capsys, path, modify_pack)
    assert _outcomes(report) == {"stcreate": ["modified"], "stmodify": ["modified"], "stsame": ["modified"],
                                 "stdeploy": ["modified"], "stunknown": ["undecidable"], "stref": ["undecidable"]}
    unknown = next(r for r in report["resources"] if r["name"] == "stunknown")
    assert "its resource ID or API version cannot be calculated" in unknown["findings"][0]["detail"]
    ref = next(r for r in report["resources"] if r["name"] == "stref")
    assert ref["symbolic"] == ["/properties/publicNetworkAccess"]
    assert code == 0


def test_what_if_of_the_public_workspace_is_denied_in_prod(repo_dir: Path, tmp_path: Path, capsys) -> None:
    rid = f"{PROD_RG}/providers/Microsoft.MachineLearningServices/workspaces/mlw-team"
    after = {"apiVersion": "2024-04-01", "id": rid, "type": "Microsoft.MachineLearningServices/workspaces",
             "name": "mlw-team", "location": "westeurope", "identity": {"type": "SystemAssigned"},
             "properties": {"publicNetworkAccess": "Enabled"}}
    path = _write(tmp_path / "whatif.json", {"status": "Succeeded", "properties": {"changes": [
        {"resourceId": rid, "changeType": "Create", "after": after}]}})
    code, report = _check(capsys, path, repo_dir, PROD_RG)
    assert code == 1 and "denied" in _outcomes(report)["mlw-team"]
    assert report["resources"][0]["line"] == _line(path, '"Microsoft.MachineLearningServices/workspaces"')


# ---------------------------------------------------------------------------------------------- validate


def test_validate_output_with_bodies_is_checked_and_ids_only_are_undecidable(modify_pack: Path, tmp_path: Path,
                                                                                capsys) -> None:
    full = {"apiVersion": "2023-05-01", "id": f"{ST}/stvalid", "location": "westeurope", "name": "stvalid",
            "properties": {"publicNetworkAccess": "Enabled"}, "resourceGroup": "rg-apps", "tags": {},
            "type": "Microsoft.Storage/storageAccounts"}
    only_id = {"id": f"{ST}/stbare", "resourceGroup": "rg-apps"}
    nested = {"id": f"{RG}/providers/Microsoft.Resources/deployments/pid-a816a607", "resourceGroup": "rg-apps"}
    path = _write(tmp_path / "validate.json", {
        "error": None, "id": f"{RG}/providers/Microsoft.Resources/deployments/deployment_dry_run",
        "name": "deployment_dry_run", "properties": {"mode": "Incremental", "provisioningState": "Succeeded",
                                                     "validatedResources": [nested, full, only_id]},
        "resourceGroup": "rg-apps"})
    _, report = _check(capsys, path, modify_pack)
    assert _outcomes(report) == {"stvalid": ["modified"], "stbare": ["undecidable"]}
    bare = report["resources"][1]
    assert "lists only this resource's id" in bare["findings"][0]["detail"] and bare["line"] == _line(path, "stbare")


# ---------------------------------------------------------------------------------------------- terraform azapi


def _rc(address: str, after: dict, actions: tuple[str, ...] = ("create",), unknown: dict | None = None,
        rtype: str = "azapi_resource", provider: str = "registry.terraform.io/azure/azapi") -> dict:
    return {"address": address, "mode": "managed", "type": rtype, "name": address.rsplit(".", 1)[-1],
            "provider_name": provider, "change": {
                "actions": list(actions), "before": None, "after": after,
                "after_unknown": {"id": True, "output": True, **(unknown or {})},
                "before_sensitive": False, "after_sensitive": {"body": {}, "tags": {}}}}


def _azapi_storage(name: str, access: str = "Enabled", body_as_string: bool = False, **extra: object) -> dict:
    body = {"kind": "StorageV2", "sku": {"name": "Standard_LRS"}, "properties": {"publicNetworkAccess": access}}
    return {"type": "Microsoft.Storage/storageAccounts@2023-05-01", "name": name, "parent_id": RG,
            "location": "westeurope", "body": json.dumps(body) if body_as_string else body, "tags": {"team": "apps"},
            "identity": [], "ignore_casing": False, "ignore_missing_property": True, "locks": None,
            "response_export_values": None, "schema_validation_enabled": True, **extra}


def _plan(*changes: dict) -> dict:
    return {"format_version": "1.2", "terraform_version": "1.9.5", "planned_values": {"root_module": {}},
            "resource_changes": list(changes), "configuration": {"root_module": {}}}


def test_azapi_plan_bodies_are_checked_at_their_parent(modify_pack: Path, tmp_path: Path, capsys) -> None:
    identity = [{"type": "SystemAssigned, UserAssigned", "identity_ids": [
        f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-apps"]}]
    plan = _plan(
        _rc("azapi_resource.st", _azapi_storage("stazapi", identity=identity)),
        _rc("azapi_resource.legacy", _azapi_storage("stlegacy", body_as_string=True)),  # azapi 1.x: body is a string
        _rc("azapi_resource.private", _azapi_storage("stprivate", "Disabled"), ("update",)),
        _rc("azapi_resource.same", _azapi_storage("stsame"), ("no-op",)),
        _rc("azapi_resource.gone", None, ("delete",)),  # type: ignore[arg-type]
        _rc("azapi_resource.replaced", _azapi_storage("streplaced"), ("delete", "create")),
    )
    path = _write(tmp_path / "plan.json", plan)
    code, report = _check(capsys, path, modify_pack)
    assert _outcomes(report) == {"stazapi": ["modified"], "stlegacy": ["modified"], "stprivate": [],
                                 "streplaced": ["modified"]}
    first = report["resources"][0]
    assert first["id"] == f"{ST}/stazapi" and first["type"] == "Microsoft.Storage/storageAccounts"
    assert first["line"] == _line(path, '"type": "azapi_resource"')
    placed = _load(path)[0].resource
    assert placed["identity"] == {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {
        f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-apps": {}}}
    assert placed["tags"] == {"team": "apps"} and placed["location"] == "westeurope"
    assert code == 0


def test_values_known_after_apply_are_undecidable(modify_pack: Path, tmp_path: Path, capsys) -> None:
    unknown_access = _azapi_storage("stlater")
    unknown_access["body"]["properties"]["publicNetworkAccess"] = None
    plan = _plan(
        _rc("azapi_resource.later", unknown_access, unknown={"body": {"properties": {"publicNetworkAccess": True}}}),
        _rc("azapi_resource.tagged", _azapi_storage("sttagged", tags=None), unknown={"tags": True}),
        _rc("azapi_resource.where", {**_azapi_storage("stwhere"), "parent_id": None}, unknown={"parent_id": True}),
    )
    _, report = _check(capsys, _write(tmp_path / "plan.json", plan), modify_pack)
    later, tagged, where = report["resources"]
    assert later["symbolic"] == ["/properties/publicNetworkAccess"]
    assert [f["outcome"] for f in later["findings"]] == ["undecidable"]
    assert tagged["symbolic"] == ["/tags"] and [f["outcome"] for f in tagged["findings"]] == ["modified"]
    assert "parent_id known only after apply" in where["findings"][0]["detail"]


def test_azurerm_resources_are_reported_not_checkable(modify_pack: Path, tmp_path: Path, capsys) -> None:
    azurerm = {"name": "stazurerm", "resource_group_name": "rg-apps", "location": "westeurope",
               "account_tier": "Standard", "account_replication_type": "LRS", "public_network_access_enabled": True}
    plan = _plan(_rc("azurerm_storage_account.st", azurerm, rtype="azurerm_storage_account",
                     provider="registry.terraform.io/hashicorp/azurerm"),
                 _rc("random_string.suffix", {"length": 6}, rtype="random_string",
                     provider="registry.terraform.io/hashicorp/random"))
    code, report = _check(capsys, _write(tmp_path / "plan.json", plan), modify_pack)
    (res,) = report["resources"]
    (finding,) = res["findings"]
    assert finding["outcome"] == "undecidable" and "azurerm_storage_account.st is an azurerm resource" in \
        finding["detail"]
    assert code == 0


@pytest.mark.parametrize(("rtype", "name", "parent", "expected"), [
    ("Microsoft.Storage/storageAccounts/blobServices@2023-05-01", "default", f"{ST}/st1", f"{ST}/st1/blobServices/default"),
    ("Microsoft.Resources/resourceGroups@2024-03-01", "rg-new", f"/subscriptions/{SUB}",
     f"/subscriptions/{SUB}/resourceGroups/rg-new"),
    ("Microsoft.Authorization/locks@2020-05-01", "no-delete", f"{ST}/st1",
     f"{ST}/st1/providers/Microsoft.Authorization/locks/no-delete"),
    ("Microsoft.Management/managementGroups@2023-04-01", "corp", "/",
     "/providers/Microsoft.Management/managementGroups/corp"),
])
def test_azapi_ids_follow_parent_id(tmp_path: Path, rtype: str, name: str, parent: str, expected: str) -> None:
    (placed,) = _load(_write(tmp_path / "plan.json", _plan(_rc("azapi_resource.x", {
        "type": rtype, "name": name, "parent_id": parent, "body": {"properties": {}}}))))
    assert placed.id == expected and placed.resource["type"] == rtype.split("@")[0]


def test_a_child_type_under_the_wrong_parent_is_a_located_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "plan.json", _plan(_rc("azapi_resource.blob", {
        "type": "Microsoft.Storage/storageAccounts/blobServices@2023-05-01", "name": "default", "parent_id": RG,
        "body": {}})))
    with pytest.raises(InputError) as err:
        _load(path)
    (d,) = err.value.diagnostics
    assert d.line == _line(path, '"type": "azapi_resource"') and "must be a 'Microsoft.Storage/storageAccounts'" \
        in d.message


# ---------------------------------------------------------------------------------------------- never a traceback

_LEAF = st.none() | st.booleans() | st.integers() | st.text(max_size=10) | st.sampled_from([
    "Microsoft.Storage/storageAccounts@2023-05-01", "Microsoft.Storage/storageAccounts/blobServices@2023-05-01",
    RG, f"{ST}/x", "/", "create", "update", "no-op", "delete", "Create", "Modify", "Unsupported", "[reference('a').b]",
    "azapi_resource", "azurerm_storage_account", "{\"properties\": {}}", "{not json"])
_KEYS = st.sampled_from(["type", "name", "parent_id", "body", "location", "tags", "identity", "identity_ids",
                         "after", "after_unknown", "actions", "change", "mode", "address", "changeType", "resourceId",
                         "properties", "id", "publicNetworkAccess"])
_ANY = st.recursive(_LEAF, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=6),
                    max_leaves=30)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(_ANY, max_size=4), form=st.sampled_from(["plan", "whatif", "validate"]))
def test_any_plan_or_what_if_never_tracebacks(tmp_path: Path, changes: list, form: str) -> None:
    data = {"plan": _plan(*copy.deepcopy(changes)), "whatif": {"status": "Succeeded", "changes": changes},
            "validate": {"properties": {"validatedResources": changes}}}[form]
    path = _write(tmp_path / "any.json", data)
    try:
        placed = _load(path)
    except InputError as exc:
        assert exc.diagnostics and all(d.file == str(path) for d in exc.diagnostics)
        return
    for p in placed:
        assert p.unplaced or p.id.startswith("/")
        assert all(isinstance(s, str) for s in p.symbolic)
        assert SYMBOLIC not in p.id


def test_a_parameters_file_or_other_json_given_as_the_deployment_says_what_it_is(tmp_path: Path) -> None:
    params = _write(tmp_path / "azuredeploy.parameters.json", {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
        "contentVersion": "1.0.0.0", "parameters": {"name": {"value": "st"}}})
    other = _write(tmp_path / "package.json", {"name": "app", "version": "1.0.0"})
    with pytest.raises(InputError) as err:
        check_deployment.load([params, other], scope=RG, location="westeurope", parameters={})
    first, second = err.value.diagnostics
    assert (first.file, first.line) == (str(params), 2) and "give it with --parameters" in first.message
    assert second.file == str(other) and second.message.startswith("not a deployment check reads")


def test_a_plan_over_the_template_size_limit_keeps_every_resources_line(tmp_path: Path) -> None:
    """Over 4 MB only the upper levels are parsed with positions (the C parser takes the rest): the data and
    each resource change's line are the same."""
    padding = {"properties": {"publicNetworkAccess": "Enabled", "rules": [{"type": "nested", "n": i} for i in range(40)]}}
    changes = [_rc(f"azapi_resource.st[{i}]", {**_azapi_storage(f"st{i}"), "body": {**padding, "kind": "StorageV2"}})
               for i in range(1500)]
    path = _write(tmp_path / "big.json", _plan(*changes))
    assert path.stat().st_size > 4 * 1024 * 1024
    placed = _load(path)
    lines = [i for i, line in enumerate(path.read_text().splitlines(), 1) if '"type": "azapi_resource"' in line]
    assert [p.line for p in placed] == lines and len(placed) == 1500
    assert placed[7].resource["properties"]["rules"][39] == {"type": "nested", "n": 39}
