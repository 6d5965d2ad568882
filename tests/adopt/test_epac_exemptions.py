"""EPAC exemption files (issue #15): `policyExemptions/<pacSelector>/*.json|csv`.

Format and naming rules: https://azure.github.io/enterprise-azure-policy-as-code/policy-exemptions/
(Docs/policy-exemptions.md): option A (a definition: one exemption per assignment running it, named
`<name>-<assignmentName>`, reference ids computed), option B (an assignment id), option C (a set), `scopes`
with ` - <last segment>` or a `label:` appended to displayName/description, CSV with `&` lists and
`assignmentReferenceId`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from policygen.adopt.epac import read_tree
from policygen.errors import InputError
from policygen.render import compile_pack
from policygen.tasks.adopt import from_files, write
from tests.adopt.epac_trees import MG, SUB, storage_tree, write_tree

RG = SUB + "/resourceGroups/rg-legacy"
PROD_BASE = MG + "Contoso-Prod/providers/Microsoft.Authorization/policyAssignments/pr-base"


def exemptions(root: Path) -> dict[str, dict]:
    return {e.name: {**e.body["properties"], "scope": e.body["scope"]} for e in read_tree(root, None).of("exemption")}


def test_an_assignment_exemption_with_labelled_scopes(tmp_path: Path) -> None:
    root = storage_tree(tmp_path)
    write_tree(root, {"policyExemptions/tenant/legacy.jsonc": {"exemptions": [{
        "name": "legacy-storage", "displayName": "Legacy storage", "description": "Until migration",
        "exemptionCategory": "Waiver", "expiresOn": "2027-01-31T00:00:00Z", "policyAssignmentId": PROD_BASE,
        "policyDefinitionReferenceIds": ["tls"], "scopes": [f"legacy:{RG}", f":{SUB}/resourceGroups/rg-other"]}]}})
    # One name at each scope (ARM names an exemption per scope), as EPAC deploys them.
    got = {e.body["scope"]: {**e.body["properties"], "name": e.name} for e in read_tree(root, None).of("exemption")}
    assert got[RG]["name"] == got[SUB + "/resourceGroups/rg-other"]["name"] == "legacy-storage"
    assert got[RG]["displayName"] == "Legacy storage - legacy"
    assert got[RG]["description"] == "Until migration - legacy"
    assert got[RG]["policyAssignmentId"] == PROD_BASE
    other = got[SUB + "/resourceGroups/rg-other"]
    assert other["displayName"] == "Legacy storage"  # ":" suppresses the suffix
    assert other["policyDefinitionReferenceIds"] == ["tls"]
    # The copies differ (display names): a pack names an exemption intent once, so the import renames one, saying so.
    report = from_files("epac", root, "tenant", name="contoso")
    assert "exemptions/legacy-storage.yaml" in report.files and "exemptions/legacy-storage-2.yaml" in report.files
    assert any("imported as 'legacy-storage-2'" in n for n in report.notes), report.notes


def test_an_exemption_at_two_unlabelled_scopes_is_one_intent(tmp_path: Path) -> None:
    root = storage_tree(tmp_path)
    write_tree(root, {"policyExemptions/tenant/legacy.jsonc": {"exemptions": [{
        "name": "legacy-storage", "displayName": "Legacy storage", "exemptionCategory": "Waiver",
        "policyAssignmentId": PROD_BASE, "scopes": [f":{RG}", f":{SUB}/resourceGroups/rg-other"]}]}})
    report = from_files("epac", root, "tenant", name="contoso")
    intent = yaml.safe_load(report.files["exemptions/legacy-storage.yaml"])
    assert intent["scope"] == [RG, SUB + "/resourceGroups/rg-other"]
    assert not report.inexact and report.exact["exemption"] == 2, report.inexact
    write(report, tmp_path / "pack")
    build = compile_pack(tmp_path / "pack", env="tenant")
    assert sorted(build.exemptions) == ["legacy-storage@rg-legacy", "legacy-storage@rg-other"]
    assert {e.name for e in build.exemptions.values()} == {"legacy-storage"}


def test_a_definition_exemption_reaches_every_assignment_running_it(tmp_path: Path) -> None:
    root = storage_tree(tmp_path)
    write_tree(root, {"policyExemptions/tenant/https.json": {"exemptions": [{
        "name": "no-https", "displayName": "No HTTPS", "exemptionCategory": "Mitigated",
        "policyDefinitionName": "storage-https", "scope": RG}]}})
    got = exemptions(root)
    # storage-https is in both sets, each assigned at two management groups.
    assert sorted(got) == ["no-https-np-base", "no-https-np-extra", "no-https-pr-base", "no-https-pr-extra"]
    assert got["no-https-pr-base"]["displayName"] == "No HTTPS - pr-base"
    assert got["no-https-pr-base"]["policyDefinitionReferenceIds"] == ["https"]
    assert got["no-https-pr-base"]["policyAssignmentId"] == PROD_BASE


def test_a_csv_exemption_of_a_set_with_definition_references(tmp_path: Path) -> None:
    root = storage_tree(tmp_path)
    write_tree(root, {"policyExemptions/tenant/exemptions.csv":
                      "name,displayName,exemptionCategory,scope,assignmentReferenceId,policyDefinitionReferenceIds,"
                      "metadata\n"
                      f'tls-cmk,TLS and CMK,Waiver,{RG},policySetDefinitions/storage-baseline,'
                      'policyDefinitions/storage-tls&cmk,"{""ticket"": ""CHG-42""}"\n'})
    got = exemptions(root)
    assert sorted(got) == ["tls-cmk-np-base", "tls-cmk-pr-base"]
    assert got["tls-cmk-pr-base"]["policyDefinitionReferenceIds"] == ["tls", "cmk"]
    assert got["tls-cmk-pr-base"]["metadata"] == {"ticket": "CHG-42"}


def test_imported_exemptions_build_exactly(tmp_path: Path) -> None:
    root = storage_tree(tmp_path / "Definitions")
    write_tree(root, {"policyExemptions/tenant/legacy.json": {"exemptions": [{
        "name": "legacy-storage", "displayName": "Legacy storage", "exemptionCategory": "Waiver",
        "expiresOn": "2027-01-31T00:00:00Z", "policyAssignmentId": PROD_BASE, "policyDefinitionReferenceIds": ["tls"],
        "scope": RG}]}})
    report = from_files("epac", root, None, name="storage")
    write(report, tmp_path / "pack")
    build = compile_pack(tmp_path / "pack", env="tenant")
    assert build.exemptions["legacy-storage"].properties["policyAssignmentId"] == PROD_BASE
    assert report.exact["exemption"] == 1 and not report.inexact, report.inexact


@pytest.mark.parametrize("item, message", [
    ({"name": "x", "displayName": "X", "exemptionCategory": "Waiver", "scope": RG}, "exactly one of"),
    ({"name": "x", "displayName": "X", "exemptionCategory": "Waiver", "policyDefinitionName": "storage-https",
      "scope": RG, "scopes": [RG]}, "exactly one of scope or scopes"),
    ({"name": "x", "displayName": "X", "exemptionCategory": "Waiver", "policyDefinitionName": "nowhere",
      "scope": RG}, "no assignment of nowhere in this tree covers"),
])
def test_exemption_mistakes_are_located(tmp_path: Path, item: dict, message: str) -> None:
    root = storage_tree(tmp_path)
    write_tree(root, {"policyExemptions/tenant/bad.json": {"exemptions": [item]}})
    with pytest.raises(InputError) as info:
        read_tree(root, None)
    shown = [str(d) for d in info.value.diagnostics]
    assert any(s.startswith(str(root / "policyExemptions" / "tenant" / "bad.json") + ":") and message in s
               for s in shown), shown
