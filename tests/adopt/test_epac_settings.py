"""EPAC global settings and the export -> import -> build round trip (issue #15).

global-settings.jsonc: https://azure.github.io/enterprise-azure-policy-as-code/definitions-and-global-settings/
(pacOwnerId, pacEnvironments[] with pacSelector, cloud, tenantId, deploymentRootScope, managedIdentityLocation,
desiredState.strategy; globalNotScopes). The round trip is the issue's "Done means": `policygen export --format
epac` of the shipped pack, `import --from epac`, `build` gives the same REST JSON.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from policygen.adopt.epac import read_tree
from policygen.export import export_pack
from policygen.render import compile_pack
from policygen.tasks.adopt import from_files, write
from tests.adopt.epac_trees import MG, definition, settings, write_tree
from tests.azure.deploy_support import REPO


def test_pac_environments_become_environments(tmp_path: Path) -> None:
    doc = settings(("epac-dev", "epac-dev"), ("tenant", "Contoso-Root"))
    doc["pacEnvironments"][1].update({"cloud": "AzureUSGovernment", "managedIdentityLocation": "usgovvirginia",
                                      "desiredState": {"strategy": "full", "keepDfcSecurityAssignments": False},
                                      "globalNotScopes": [MG + "Contoso-Sandbox"]})
    root = write_tree(tmp_path / "Definitions", {
        "global-settings.jsonc": doc, "policyDefinitions/a.json": definition("pol-a"),
        "policyAssignments/a.jsonc": {"nodeName": "/a/", "definitionEntry": {"policyName": "pol-a"},
                                      "assignment": {"name": "a", "displayName": "A"},
                                      "scope": {"tenant": [MG + "Contoso-Corp"], "epac-dev": [MG + "epac-dev-corp"]}}})
    estate = read_tree(root, "tenant")
    assert estate.definition_scope == MG + "Contoso-Root" and estate.owner_id == doc["pacOwnerId"]
    tenant, dev = estate.environments["tenant"], estate.environments["epac-dev"]
    assert (tenant["cloud"], tenant["identityLocation"], tenant["strategy"]) == ("AzureUSGovernment", "usgovvirginia",
                                                                                 "full")
    assert tenant["definitionScope"] == MG + "Contoso-Root" and dev["definitionScope"] == MG + "epac-dev"
    assert tenant["scopes"] == {"contoso-corp": MG + "Contoso-Corp"}
    assert dev["scopes"] == {"contoso-corp": MG + "epac-dev-corp"}  # the same key, placed per pacSelector
    assert any("globalNotScopes" in n for n in estate.notes)  # said, not silently dropped
    report = from_files("epac", root, "tenant", name="contoso")
    written = yaml.safe_load(report.files["policygen.yaml"])
    assert written["ownerId"] == doc["pacOwnerId"]
    assert set(written["environments"]) == {"tenant", "epac-dev"}


def test_export_import_build_gives_the_same_rest_json_with_exemptions(tmp_path: Path) -> None:
    original = compile_pack(REPO, env="azure")
    export_pack(original, "epac", tmp_path / "Definitions")
    report = from_files("epac", tmp_path / "Definitions", "azure", name=original.pack.name)
    write(report, tmp_path / "pack")
    again = compile_pack(tmp_path / "pack", env="azure")
    for group in ("definitions", "initiatives", "assignments", "exemptions"):
        before, after = getattr(original, group), getattr(again, group)
        assert set(before) == set(after), group
        for name in before:
            assert before[name].body == after[name].body, (group, name)
    assert not report.inexact and not report.skipped


def test_epac_cloud_environments_leave_out_other_clouds(tmp_path: Path) -> None:
    """`metadata.epacCloudEnvironments` restricts which clouds receive a definition; at an assignment file's
    root, which clouds receive its assignments (https://azure.github.io/enterprise-azure-policy-as-code/
    policy-definitions/, policy-assignments/; shared/reference/landing-zone-formats.md 2.3, 2.5)."""
    china = definition("china-only")
    china["properties"]["metadata"]["epacCloudEnvironments"] = ["AzureChinaCloud"]
    both = definition("everywhere")
    both["properties"]["metadata"]["epacCloudEnvironments"] = ["AzureCloud", "AzureChinaCloud"]
    root = write_tree(tmp_path, {
        "global-settings.jsonc": settings(("tenant", "Contoso-Root")),
        "policyDefinitions/china.json": china, "policyDefinitions/both.json": both,
        "policyAssignments/gov.jsonc": {"nodeName": "/gov/", "epacCloudEnvironments": ["AzureUSGovernment"],
                                        "definitionEntry": {"policyName": "china-only"},
                                        "assignment": {"name": "gov", "displayName": "Gov"},
                                        "scope": {"tenant": [MG + "x"]}}})
    estate = read_tree(root, None)
    assert [i.name for i in estate.items] == ["everywhere"]
    assert any("china-only" in n and "AzureCloud" in n for n in estate.notes)
    assert any("gov.jsonc" in n and "leave out AzureCloud" in n for n in estate.notes)
