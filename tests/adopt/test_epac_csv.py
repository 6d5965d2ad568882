"""EPAC CSV parameter files (issue #15): effects, parameters and messages of policy-set assignments.

The format and its rules: https://azure.github.io/enterprise-azure-policy-as-code/policy-assignments-csv-parameters/
(Docs/policy-assignments-csv-parameters.md) and EPAC's Scripts/Helpers/Merge-AssignmentParametersEx.ps1:
`<selector>Effect` goes to the set parameter surfacing the policy's effect, else into a policyEffect override;
values equal to the default are left out; `<selector>Parameters` cells are JSON merged into the parameters;
the nonComplianceMessageColumn gives per-policy messages; a policy given the same effect by an earlier set of
the definitionEntryList is downgraded (Deny -> Audit).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policygen.adopt.epac import read_tree
from policygen.errors import InputError
from policygen.render import compile_pack
from policygen.tasks.adopt import from_files, write
from tests.adopt.epac_trees import (
    HEADER,
    MG,
    ROWS,
    SURFACED,
    assignments,
    definition,
    policy_set,
    settings,
    storage_tree,
    write_tree,
)


def test_csv_effects_become_set_parameters_or_overrides(tmp_path: Path) -> None:
    got = assignments(read_tree(storage_tree(tmp_path), None))
    prod = got[(MG + "Contoso-Prod", "pr-base")]["properties"]
    # https: surfaced by the set -> its parameter; cmk's keyType from its Parameters cell.
    assert prod["parameters"] == {"httpsEffect": {"value": "Deny"}, "keyType": {"value": "CMK"}}
    # tls has a fixed effect and cmk's effect is not surfaced by the set: overrides, grouped by effect.
    assert prod["overrides"] == [
        {"kind": "policyEffect", "value": "Audit", "selectors": [{"kind": "policyDefinitionReferenceId", "in": ["tls"]}]},
        {"kind": "policyEffect", "value": "Disabled",
         "selectors": [{"kind": "policyDefinitionReferenceId", "in": ["cmk"]}]}]
    assert prod["nonComplianceMessages"] == [{"message": "HTTPS only", "policyDefinitionReferenceId": "https"},
                                             {"message": "Use CMK", "policyDefinitionReferenceId": "cmk"}]
    nonprod = got[(MG + "Contoso-NonProd", "np-base")]["properties"]
    assert nonprod["parameters"] == {"keyType": {"value": "MMK"}}  # Audit is the default: left out
    assert nonprod["overrides"] == [{"kind": "policyEffect", "value": "Disabled",
                                     "selectors": [{"kind": "policyDefinitionReferenceId", "in": ["tls"]}]}]


def test_a_policy_in_two_sets_of_the_list_is_downgraded_in_the_second(tmp_path: Path) -> None:
    got = assignments(read_tree(storage_tree(tmp_path), None))
    extra = got[(MG + "Contoso-Prod", "pr-extra")]["properties"]
    # Deny in storage-baseline; in storage-extra the same policy is downgraded to Audit, its default.
    assert extra["parameters"] == {}
    assert "overrides" not in extra


def test_a_csv_tree_imports_and_builds_exactly(tmp_path: Path) -> None:
    report = from_files("epac", storage_tree(tmp_path / "Definitions"), None, name="storage")
    assert not report.inexact and not report.skipped, report.inexact + report.skipped
    write(report, tmp_path / "pack")
    build = compile_pack(tmp_path / "pack", env="tenant")
    assert build.assignments["pr-base"].properties["overrides"][0]["value"] == "Audit"
    assert sum(report.exact.values()) == sum(report.counts.values()) == 3 + 2 + 4


def test_a_policy_twice_in_a_set_is_told_apart_by_reference_path(tmp_path: Path) -> None:
    dup = policy_set("storage-baseline", [
        {"policyDefinitionReferenceId": "https-blob", "policyDefinitionName": "storage-https",
         "parameters": {"effect": {"value": "[parameters('blobEffect')]"}}},
        {"policyDefinitionReferenceId": "https-file", "policyDefinitionName": "storage-https",
         "parameters": {"effect": {"value": "[parameters('fileEffect')]"}}}],
        {"blobEffect": SURFACED, "fileEffect": SURFACED})
    root = write_tree(tmp_path, {
        "global-settings.jsonc": settings(("tenant", "Contoso-Root")),
        "policyDefinitions/https.json": definition("storage-https"),
        "policySetDefinitions/baseline.json": dup,
        "policyAssignments/dup.csv": "name,referencePath,prodEffect,prodParameters\n"
                                     "storage-https,storage-baseline\\\\https-blob,Deny,\n"
                                     "storage-https,storage-baseline//https-file,Disabled,\n",
        "policyAssignments/dup.jsonc": {"nodeName": "/dup/", "parameterFile": "dup.csv", "parameterSelector": "prod",
                                        "definitionEntry": {"policySetName": "storage-baseline"},
                                        "assignment": {"name": "dup", "displayName": "Dup"},
                                        "scope": {"tenant": [MG + "Contoso-Root"]}}})
    got = assignments(read_tree(root, None))
    assert got[(MG + "Contoso-Root", "dup")]["properties"]["parameters"] == {
        "blobEffect": {"value": "Deny"}, "fileEffect": {"value": "Disabled"}}


@pytest.mark.parametrize("csv_text, where, message", [
    (HEADER.replace(",prodParameters", "") + "storage-https,,,,,,,,,Deny,Audit,,\n", ":1:1:",
     "has no column 'prodParameters'"),
    (HEADER + 'storage-https,,,,,,,,,Deny,"{not json",Audit,,\n', ":2:1:", "column prodParameters of policy "
     "'storage-https' is not JSON"),
    (HEADER + "storage-https,,,,,,,,,Modify,,Audit,,\n", ":2:1:", "effect 'Modify' must be one of"),
    (HEADER + ROWS + "storage-nope,,,,,,,,,Deny,,Audit,,\n", ":5:1:", "row names an unknown policy 'storage-nope'"),
    (HEADER, ":1:1:", "CSV parameter file is empty"),
    ('name,"referencePath\n', ":1:1:", "invalid CSV"),
])
def test_csv_mistakes_are_located_in_the_csv(tmp_path: Path, csv_text: str, where: str, message: str) -> None:
    root = storage_tree(tmp_path, csv_text)
    with pytest.raises(InputError) as info:
        read_tree(root, None)
    shown = [str(d) for d in info.value.diagnostics]
    csv_path = str(root / "policyAssignments" / "storage.csv")
    assert any(s.startswith(csv_path + where) and message in s for s in shown), shown


def test_csv_and_explicit_overrides_in_one_branch_is_an_error(tmp_path: Path) -> None:
    root = storage_tree(tmp_path, overrides=[{"kind": "policyEffect", "value": "Audit", "policySetName": "x",
                                             "selectors": []}])
    with pytest.raises(InputError, match="parameterFile and explicit overrides"):
        read_tree(root, None)


def test_a_built_in_set_csv_without_builtins_says_what_to_pass(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        "global-settings.jsonc": settings(("tenant", "Contoso-Root")),
        "policyAssignments/asb.csv": "name,referencePath,prodEffect,prodParameters\nabc,,Audit,\n",
        "policyAssignments/asb.jsonc": {
            "nodeName": "/asb/", "parameterFile": "asb.csv", "parameterSelector": "prod",
            "definitionEntry": {"policySetId": "/providers/Microsoft.Authorization/policySetDefinitions/"
                                               "1f3afdf9-d0c9-4c3d-847f-89da613e70a8"},
            "assignment": {"name": "asb", "displayName": "ASB"}, "scope": {"tenant": [MG + "Contoso-Root"]}}})
    with pytest.raises(InputError) as info:
        read_tree(root, None)
    shown = "\n".join(str(d) for d in info.value.diagnostics)
    assert "asb.jsonc:" in shown and "pass --builtins DIR" in shown
