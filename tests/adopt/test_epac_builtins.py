"""EPAC trees over built-in sets (issue #15): `--builtins DIR` lets the import read them as EPAC reads them
from Azure — CSV parameter files of built-in sets, and identities from the `roleDefinitionIds` of the rules.

The CSV format: https://azure.github.io/enterprise-azure-policy-as-code/policy-assignments-csv-parameters/;
identities: "EPAC calculates the necessary role assignments based on the roleDefinitionIds in the Policy
definition" (https://azure.github.io/enterprise-azure-policy-as-code/policy-assignments/). The built-ins
folder follows the azure-policy repository layout (policyDefinitions/, policySetDefinitions/).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policygen.adopt.epac import read_tree
from policygen.render import compile_pack
from policygen.tasks.adopt import from_files, write
from tests.adopt.epac_trees import MG, assignments, settings, write_tree
from tests.azure.deploy_support import cli

SET_GUID = "0a1b2c3d-0000-4000-8000-00000000a5e7"
DINE_GUID = "0a1b2c3d-0000-4000-8000-00000000d1e0"
AUDIT_GUID = "0a1b2c3d-0000-4000-8000-00000000a0d1"
ROLE = "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
ASB = "1f3afdf9-d0c9-4c3d-847f-89da613e70a8"


def _builtin(guid: str, effect_allowed: list[str], default: str, details: dict | None = None) -> dict:
    then: dict = {"effect": "[parameters('effect')]"}
    if details:
        then["details"] = details
    return {"name": guid, "properties": {
        "displayName": guid, "policyType": "BuiltIn", "mode": "Indexed", "metadata": {"version": "1.0.0"},
        "parameters": {"effect": {"type": "String", "allowedValues": effect_allowed, "defaultValue": default}},
        "policyRule": {"if": {"field": "type", "equals": "Microsoft.Sql/servers"}, "then": then}}}


def builtins_dir(root: Path) -> Path:
    dine = _builtin(DINE_GUID, ["DeployIfNotExists", "Disabled"], "DeployIfNotExists", {
        "type": "Microsoft.Sql/servers/auditingSettings", "roleDefinitionIds": [ROLE],
        "existenceCondition": {"field": "name", "exists": True},
        "deployment": {"properties": {"mode": "incremental", "template": {}}}})
    audit = _builtin(AUDIT_GUID, ["Audit", "Deny", "Disabled"], "Audit")
    surfaced = {"type": "String", "allowedValues": ["DeployIfNotExists", "Disabled"], "defaultValue": "DeployIfNotExists"}
    policy_set = {"name": SET_GUID, "properties": {
        "displayName": "SQL baseline", "policyType": "BuiltIn", "metadata": {"version": "1.0.0"},
        "parameters": {"sqlAuditingEffect": surfaced},
        "policyDefinitionGroups": [{"name": "SQL-1", "category": "Logging"}, {"name": "SQL-2", "category": "Data"}],
        "policyDefinitions": [
            {"policyDefinitionReferenceId": "sqlAuditing",
             "policyDefinitionId": f"/providers/Microsoft.Authorization/policyDefinitions/{DINE_GUID}",
             "parameters": {"effect": {"value": "[parameters('sqlAuditingEffect')]"}}},
            {"policyDefinitionReferenceId": "sqlAudit",
             "policyDefinitionId": f"/providers/Microsoft.Authorization/policyDefinitions/{AUDIT_GUID}"}]}}
    return write_tree(root, {"policyDefinitions/SQL/dine.json": dine, "policyDefinitions/SQL/audit.json": audit,
                             "policySetDefinitions/SQL/set.json": policy_set})


def sql_tree(root: Path, set_guid: str = SET_GUID, rows: str = "") -> Path:
    return write_tree(root, {
        "global-settings.jsonc": settings(("tenant", "Contoso-Root")),
        "policyAssignments/sql.csv": "name,referencePath,prodEffect,prodParameters\n" + (rows or (
            f"{DINE_GUID},,Disabled,\n{AUDIT_GUID},,Audit,\n")),
        "policyAssignments/sql.jsonc": {
            "nodeName": "/sql/", "parameterFile": "sql.csv", "parameterSelector": "prod",
            "definitionEntry": {"policySetId": f"/providers/Microsoft.Authorization/policySetDefinitions/{set_guid}"},
            "assignment": {"name": "sql", "displayName": "SQL baseline"},
            "managedIdentityLocations": {"*": "northeurope"}, "scope": {"tenant": [MG + "Contoso-Root"]}}})


def test_a_built_in_set_csv_with_builtins_imports_and_builds(tmp_path: Path) -> None:
    root = sql_tree(tmp_path / "Definitions")
    out = tmp_path / "pack"
    result = cli(["import", "--from", "epac", str(root), "--builtins", str(builtins_dir(tmp_path / "builtins")),
                  "--out", str(out), "--name", "sql"])
    assert result.exit_code == 0, result.output
    build = compile_pack(out, env="tenant")
    body = build.assignments["sql"].body
    # The DINE member's effect is surfaced by the set -> its parameter; the audit member keeps its default.
    assert body["properties"]["parameters"] == {"sqlAuditingEffect": {"value": "Disabled"}}
    assert "overrides" not in body["properties"]
    # A member names roleDefinitionIds, so EPAC gives the assignment an identity, at the tree's location.
    assert body["identity"] == {"type": "SystemAssigned"} and body["location"] == "northeurope"


def test_an_effect_the_built_in_set_does_not_surface_becomes_an_override(tmp_path: Path) -> None:
    root = sql_tree(tmp_path / "Definitions", rows=f"{AUDIT_GUID},,Deny,\n")
    report = from_files("epac", root, None, builtins_dir(tmp_path / "builtins"), name="sql")
    write(report, tmp_path / "pack")
    body = compile_pack(tmp_path / "pack", env="tenant").assignments["sql"].body
    # Overrides by reference id on a built-in set build (Azure checks the ids against the set it holds).
    assert body["properties"]["overrides"] == [{"kind": "policyEffect", "value": "Deny", "selectors": [
        {"kind": "policyDefinitionReferenceId", "in": ["sqlAudit"]}]}]
    assert report.exact["assignment"] == 1 and not report.skipped


def test_without_roles_in_the_rules_no_identity_is_given(tmp_path: Path) -> None:
    builtins = builtins_dir(tmp_path / "builtins")
    root = write_tree(tmp_path / "Definitions", {
        "global-settings.jsonc": settings(("tenant", "Contoso-Root")),
        "policyAssignments/audit.jsonc": {
            "nodeName": "/audit/", "definitionEntry": {"policyName": AUDIT_GUID},  # a built-in found by name
            "assignment": {"name": "sql-audit", "displayName": "SQL audit"},
            "managedIdentityLocations": {"*": "northeurope"}, "scope": {"tenant": [MG + "Contoso-Root"]}}})
    body = assignments(read_tree(root, None, builtins))[(MG + "Contoso-Root", "sql-audit")]
    assert "identity" not in body
    assert body["properties"]["policyDefinitionId"].endswith(f"/policyDefinitions/{AUDIT_GUID}")


def test_the_published_security_benchmark_set_reads_its_csv(shared_dir: Path, tmp_path: Path) -> None:
    corpus = shared_dir / "corpus" / "azure-policy-builtins"
    if not corpus.is_dir():
        pytest.skip(f"{corpus} not present")
    # ae89ebca…: "Windows machines should have the Azure Policy guest configuration extension" style member the
    # set surfaces as azurePolicyforWindowsMonitoringEffect (AuditIfNotExists by default, Disabled allowed).
    root = sql_tree(tmp_path, ASB, "ae89ebca-1c92-4898-ac2c-9f63decb045c,,Disabled,\n")
    body = assignments(read_tree(root, None, corpus))[(MG + "Contoso-Root", "sql")]
    assert body["properties"]["parameters"] == {"azurePolicyforWindowsMonitoringEffect": {"value": "Disabled"}}
    assert "overrides" not in body["properties"]


def test_import_policy_definition_groups_copies_the_groups_members_use(tmp_path: Path) -> None:
    """`importPolicyDefinitionGroups` (https://azure.github.io/enterprise-azure-policy-as-code/policy-set-definitions/):
    groups the members name and the set does not define are taken from the named built-in sets."""
    custom = {"name": "sql-custom", "properties": {
        "displayName": "SQL custom", "metadata": {"category": "SQL"}, "parameters": {},
        "importPolicyDefinitionGroups": [SET_GUID],
        "policyDefinitionGroups": [{"name": "Own-1"}],
        "policyDefinitions": [{"policyDefinitionReferenceId": "audit", "groupNames": ["SQL-2", "Own-1"],
                               "policyDefinitionId": f"/providers/Microsoft.Authorization/policyDefinitions/{AUDIT_GUID}"}]}}
    root = write_tree(tmp_path / "Definitions", {"global-settings.jsonc": settings(("tenant", "Contoso-Root")),
                                                 "policySetDefinitions/sql.json": custom})
    with_builtins = read_tree(root, None, builtins_dir(tmp_path / "builtins")).of("initiative")[0]
    assert with_builtins.props["policyDefinitionGroups"] == [{"name": "Own-1"}, {"name": "SQL-2", "category": "Data"}]
    without = read_tree(root, None)
    assert without.of("initiative")[0].props["policyDefinitionGroups"] == [{"name": "Own-1"}]
    assert any("importPolicyDefinitionGroups" in n and "--builtins" in n for n in without.notes)
