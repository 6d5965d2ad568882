"""`policygen check`: real ARM templates against the shipped pack (and a small modify pack), through the CLI.

Outcomes encode the Azure Policy effect pages: deny refuses the request
(https://learn.microsoft.com/azure/governance/policy/concepts/effect-deny), modify changes it
(https://learn.microsoft.com/azure/governance/policy/concepts/effect-modify), assignment overrides replace a
member's effect for the selected locations
(https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure#overrides). Templates use
`copy` (https://learn.microsoft.com/azure/azure-resource-manager/templates/copy-resources) and `reference()`
(https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-resource#reference).
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

PROD_RG = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-team"
DEV_RG = "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-team"
APPS_RG = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-apps"
SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"

AML = {
    "$schema": SCHEMA,
    "contentVersion": "1.0.0.0",
    "parameters": {
        "name": {"type": "string", "defaultValue": "mlw-team"},
        "location": {"type": "string", "defaultValue": "westeurope"},
        "publicNetworkAccess": {"type": "string", "defaultValue": "Enabled", "allowedValues": ["Enabled", "Disabled"]},
    },
    "resources": [{
        "type": "Microsoft.MachineLearningServices/workspaces",
        "apiVersion": "2024-04-01",
        "name": "[parameters('name')]",
        "location": "[parameters('location')]",
        "identity": {"type": "SystemAssigned"},
        "properties": {"publicNetworkAccess": "[parameters('publicNetworkAccess')]"},
    }],
}

# A pack of one assignment: storage accounts in the apps subscription get public network access disabled.
MODIFY_PACK = {
    "policygen.yaml": """\
name: check-test
ownerId: policygen-check-test
definitionScope: /providers/Microsoft.Management/managementGroups/corp
environments:
  local:
    tenantId: 00000000-0000-0000-0000-000000000000
    definitionScope: /providers/Microsoft.Management/managementGroups/corp
    scopes:
      apps: /subscriptions/11111111-1111-1111-1111-111111111111
""",
    "definitions/st-public-modify.yaml": """\
intent: disable-public-network-access
resourceTypes: [Microsoft.Storage/storageAccounts]
displayName: Configure storage accounts to disable public network access
description: Sets publicNetworkAccess to Disabled.
effect: {default: Modify, allowed: [Modify, Disabled]}
""",
    "assignments/apps-storage.yaml": """\
name: apps-storage
displayName: Storage accounts private by default
description: Turns off public network access on storage accounts of the apps subscription.
definition: st-public-modify
scope: apps
identity: {type: SystemAssigned}
""",
}


def _storage(name: str, access: str = "Enabled", **extra: object) -> dict:
    return {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01", "name": name,
            "location": "[resourceGroup().location]", "kind": "StorageV2", "sku": {"name": "Standard_LRS"},
            "properties": {"publicNetworkAccess": access}, **extra}


def _template(resources: list[dict], **extra: object) -> dict:
    return {"$schema": SCHEMA, "contentVersion": "1.0.0.0", **extra, "resources": resources}


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, indent=2))
    return path


def _check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = run(["check", *argv, "--format", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def _outcomes(report: dict) -> dict[str, str]:
    """member -> outcome of the first resource."""
    return {f["member"]: f["outcome"] for f in report["resources"][0]["findings"]}


@pytest.fixture
def modify_pack(make_tree) -> Path:
    return make_tree(MODIFY_PACK)


def test_public_workspace_is_denied_in_prod_with_the_assignment_message(repo_dir: Path, tmp_path: Path,
                                                                          capsys) -> None:
    template = _write(tmp_path / "aml.json", AML)
    code, report = _check(capsys, str(template), "--pack", str(repo_dir), "--env", "local", "--scope", PROD_RG)
    assert code == 1 and report["denied"] is True
    assert "mlops-prod-baseline" in report["assignments"]
    assert report["scopes"][-3:-2] == ["/providers/Microsoft.Management/managementGroups/mlops-prod"]
    res = report["resources"][0]
    assert res["id"] == f"{PROD_RG}/providers/Microsoft.MachineLearningServices/workspaces/mlw-team"
    found = {f["member"]: f for f in res["findings"]}
    cmk = found["mlops-prod-baseline/mlw-cmk"]
    assert cmk["outcome"] == "denied" and cmk["effect"] == "deny"
    assert cmk["message"].startswith("This resource breaks the MLOps network security baseline.")
    # the remediation assignment's modify switches public access off, and modify runs before deny
    # (effect-basics, "Order of evaluation"), so the public-network deny never sees "Enabled"
    modify = found["mlops-prod-remediation/mlw-public-network-modify"]
    assert modify["outcome"] == "modified"
    assert modify["changes"] == [{"path": "/properties/publicNetworkAccess", "before": "Enabled", "after": "Disabled"}]
    assert "mlops-prod-baseline/mlw-public-network" not in found


def test_private_workspace_is_not_denied_for_public_access(repo_dir: Path, tmp_path: Path, capsys) -> None:
    template = _write(tmp_path / "aml.json", AML)
    params = _write(tmp_path / "aml.parameters.json",
                    {"$schema": SCHEMA, "contentVersion": "1.0.0.0",
                     "parameters": {"publicNetworkAccess": {"value": "Disabled"}}})
    _, report = _check(capsys, str(template), "-p", str(params), "--pack", str(repo_dir), "--env", "local",
                       "--scope", PROD_RG)
    outcomes = _outcomes(report)
    assert "mlops-prod-baseline/mlw-public-network" not in outcomes
    assert "mlops-prod-remediation/mlw-public-network-modify" not in outcomes


def test_public_workspace_is_only_audited_in_dev(repo_dir: Path, tmp_path: Path, capsys) -> None:
    template = _write(tmp_path / "aml.json", AML)
    code, report = _check(capsys, str(template), "--pack", str(repo_dir), "--env", "local", "--scope", DEV_RG)
    assert report["assignments"] == ["mlops-dev-baseline"]
    assert _outcomes(report)["mlops-dev-baseline/mlw-public-network"] == "audited"
    assert code == 0 and report["denied"] is False


def test_storage_account_fixed_by_modify(modify_pack: Path, tmp_path: Path, capsys) -> None:
    template = _write(tmp_path / "st.json", _template([_storage("stteam")]))
    code, report = _check(capsys, str(template), "--pack", str(modify_pack), "--env", "local", "--scope", APPS_RG)
    assert code == 0
    (finding,) = report["resources"][0]["findings"]
    assert finding["outcome"] == "modified" and finding["assignment"] == "apps-storage"
    assert finding["changes"] == [{"path": "/properties/publicNetworkAccess", "before": "Enabled", "after": "Disabled"}]


def test_copy_loop_places_every_instance_and_skips_false_conditions(modify_pack: Path, tmp_path: Path,
                                                                    capsys) -> None:
    looped = _storage("[concat('stteam', copyIndex())]", copy={"name": "accounts", "count": "[parameters('n')]"})
    skipped = _storage("stnever", condition="[equals(parameters('n'), 0)]")
    template = _write(tmp_path / "loop.json", _template(
        [looped, skipped], parameters={"n": {"type": "int", "defaultValue": 3}}))
    _, report = _check(capsys, str(template), "--pack", str(modify_pack), "--env", "local", "--scope", APPS_RG)
    names = [r["name"] for r in report["resources"]]
    assert names == ["stteam0", "stteam1", "stteam2"]
    assert all([f["outcome"] for f in r["findings"]] == ["modified"] for r in report["resources"])
    assert report["summary"]["modified"] == 3


def test_outcome_that_reads_reference_is_undecidable(modify_pack: Path, tmp_path: Path, capsys) -> None:
    access = "[reference(resourceId('Microsoft.Network/networkSecurityPerimeters', 'nsp'), '2023-08-01').access]"
    reads = _storage("streads", access)
    # reference() feeds a tag the policy never reads: still decided
    ignores = _storage("stignores", tags={"owner": "[reference('Microsoft.Web/sites/app').owner]"})
    template = _write(tmp_path / "ref.json", _template([reads, ignores]))
    code, report = _check(capsys, str(template), "--pack", str(modify_pack), "--env", "local", "--scope", APPS_RG)
    first, second = report["resources"]
    assert first["symbolic"] == ["/properties/publicNetworkAccess"]
    (finding,) = first["findings"]
    assert finding["outcome"] == "undecidable" and "/properties/publicNetworkAccess" in finding["detail"]
    assert [f["outcome"] for f in second["findings"]] == ["modified"]
    assert report["summary"]["undecidable"] == 1 and code == 0


def test_resource_name_from_reference_is_undecidable_not_an_error(modify_pack: Path, tmp_path: Path,
                                                                  capsys) -> None:
    template = _write(tmp_path / "name.json", _template([_storage("[reference('Microsoft.Web/sites/app').x]")]))
    code, report = _check(capsys, str(template), "--pack", str(modify_pack), "--env", "local", "--scope", APPS_RG)
    (finding,) = report["resources"][0]["findings"]
    assert code == 0 and finding["outcome"] == "undecidable" and "reference()" in finding["detail"]


def test_folder_of_resource_json_is_placed_under_the_scope(modify_pack: Path, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "resources"
    folder.mkdir()
    _write(folder / "st.json", {"type": "Microsoft.Storage/storageAccounts", "name": "stplain",
                                "location": "westeurope", "properties": {"publicNetworkAccess": "Enabled"}})
    _, report = _check(capsys, str(folder), "--pack", str(modify_pack), "--env", "local", "--scope", APPS_RG)
    res = report["resources"][0]
    assert res["id"] == f"{APPS_RG}/providers/Microsoft.Storage/storageAccounts/stplain" and res["line"] == 2
    assert [f["outcome"] for f in res["findings"]] == ["modified"]


def test_sarif_points_at_the_type_line(repo_dir: Path, tmp_path: Path, capsys) -> None:
    template = _write(tmp_path / "aml.json", AML)
    type_line = template.read_text().splitlines().index(
        '      "type": "Microsoft.MachineLearningServices/workspaces",') + 1
    code = run(["check", str(template), "--pack", str(repo_dir), "--env", "local", "--scope", PROD_RG,
                "--format", "sarif"])
    sarif = json.loads(capsys.readouterr().out)
    assert code == 1 and sarif["version"] == "2.1.0"
    denied = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "check/denied"]
    assert denied and all(r["level"] == "error" for r in denied)
    region = denied[0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": type_line}


def test_text_names_the_denial_and_the_summary(repo_dir: Path, tmp_path: Path, capsys) -> None:
    template = _write(tmp_path / "aml.json", AML)
    code = run(["check", str(template), "--pack", str(repo_dir), "--env", "local", "--scope", PROD_RG])
    out = capsys.readouterr().out
    assert code == 1
    assert "denied mlops-prod-baseline/mlw-cmk (deny)" in out
    assert "This resource breaks the MLOps network security baseline." in out
    assert "1 resource checked against 2 assignments (pack):" in out


def test_unusable_input_reports_every_problem_at_once(modify_pack: Path, tmp_path: Path, capsys) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "resources": [\n    {"type": }\n  ]\n}\n')
    unset = _write(tmp_path / "unset.json", _template([_storage("[parameters('name')]")],
                                                       parameters={"name": {"type": "string"}}))
    code = run(["check", str(broken), str(unset), "--pack", str(modify_pack), "--env", "local",
                "--scope", APPS_RG])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{broken}:3:14: invalid JSON" in err
    # located at the parameter's declaration (its "type" line)
    assert f"{unset}:6:1: the template parameter 'name' has no value" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("scope", "message"), [
    ("rg-apps", "--scope must be a subscription"),
    (f"{APPS_RG}/providers/Microsoft.Storage/storageAccounts/x", "--scope must be a subscription"),
    # a management group is a scope for management-group templates; this one's $schema deploys to a group
    ("/providers/Microsoft.Management/managementGroups/corp", "a resource-group template (its $schema) needs"),
])
def test_scope_must_be_a_subscription_or_resource_group(modify_pack: Path, tmp_path: Path, capsys,
                                                        scope: str, message: str) -> None:
    template = _write(tmp_path / "st.json", _template([_storage("stteam")]))
    code = run(["check", str(template), "--pack", str(modify_pack), "--env", "local", "--scope", scope])
    assert code == 2 and message in capsys.readouterr().err


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.sampled_from(["[parameters('x')]", "[copyIndex()]", "[reference('a/b').c]", "[listKeys('a', '1')]"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["type", "name", "resources", "parameters", "copy", "count", "condition", "properties",
                         "$schema", "value", "id"]), inner, max_size=5),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_JSON)
def test_any_json_loads_or_is_refused_with_a_located_diagnostic(tmp_path: Path, data: object) -> None:
    """Whatever the deployment file holds, loading it places resources or raises InputError (exit 2)."""
    path = _write(tmp_path / "any.json", data)
    try:
        placed = check_deployment.load([path], scope=APPS_RG, location="westeurope", parameters={})
    except InputError as exc:
        assert exc.diagnostics and all(d.file == str(path) for d in exc.diagnostics)
        return
    for p in placed:
        assert p.unplaced or p.id.startswith("/")
