"""EPAC assignment trees read as EPAC's planner reads them (issue #15).

Each tree is one of the published examples of
https://azure.github.io/enterprise-azure-policy-as-code/policy-assignments/ (Docs/policy-assignments.md:
"Security-Focused Policy Assignment with JSON parameters", "Inverted Policy Assignment (Tag Inheritance and
Required Tags)", scopes/notScopes per pacSelector, managedIdentityLocations, userAssignedIdentity), with the
accumulation rules of Scripts/Helpers/Build-AssignmentDefinitionNode.ps1 and -AtLeaf.ps1.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policygen.adopt.epac import read_tree
from policygen.errors import InputError
from policygen.render import compile_pack
from policygen.tasks.adopt import from_files, write
from tests.adopt.epac_trees import MG, SUB, assignments, definition, settings, write_tree

ASB = "/providers/Microsoft.Authorization/policySetDefinitions/1f3afdf9-d0c9-4c3d-847f-89da613e70a8"
NIST = "/providers/Microsoft.Authorization/policySetDefinitions/179d1daa-458f-4e47-8086-2a68d0d6c38f"


def security_tree(root: Path) -> Path:
    """The documented definitionEntryList example: two built-in sets appended to three environment prefixes."""
    entry_list = [
        {"policySetId": ASB, "displayName": "Azure Security Benchmark",
         "assignment": {"append": True, "name": "asb", "displayName": "Azure Security Benchmark",
                        "description": "Azure Security Benchmark Initiative."}},
        {"policySetId": NIST, "displayName": "NIST SP 800-53 Rev. 5",
         "assignment": {"append": True, "name": "nist-800-53-r5", "displayName": "NIST SP 800-53 Rev. 5",
                        "description": "NIST SP 800-53 Rev. 5 Initiative."}}]
    children = []
    for node, prefix, label, effect in (("Prod/", "pr-", "Prod ", "Deny"), ("NonProd/", "np-", "NonProd ", "Audit"),
                                        ("Sandbox/", "sbx-", "Sandbox ", "Disabled")):
        children.append({
            "nodeName": node,
            "assignment": {"name": prefix, "displayName": label,
                           "description": f"{label.strip()} Environment controls enforcement with "},
            "parameters": {"classicComputeVMsMonitoringEffect": effect},
            "scope": {"epac-dev": [MG + f"epac-dev-{node.strip('/').lower()}"],
                      "tenant": [MG + f"Contoso-{node.strip('/')}"]}})
    return write_tree(root, {
        "global-settings.jsonc": settings(("epac-dev", "epac-dev"), ("tenant", "Contoso-Root")),
        "policyAssignments/security.jsonc": {"nodeName": "/Security/", "definitionEntryList": entry_list,
                                             "children": children}})


def test_a_definition_entry_list_makes_one_assignment_per_entry_and_leaf(tmp_path: Path) -> None:
    estate = read_tree(security_tree(tmp_path), "tenant")
    got = assignments(estate)
    assert len(got) == 6
    prod = got[(MG + "Contoso-Prod", "pr-asb")]["properties"]
    assert prod["displayName"] == "Prod Azure Security Benchmark"
    assert prod["description"] == "Prod Environment controls enforcement with Azure Security Benchmark Initiative."
    assert prod["policyDefinitionId"] == ASB
    assert prod["parameters"] == {"classicComputeVMsMonitoringEffect": {"value": "Deny"}}  # built-in: all kept
    assert got[(MG + "Contoso-Sandbox", "sbx-nist-800-53-r5")]["properties"]["policyDefinitionId"] == NIST
    assert "identity" not in got[(MG + "Contoso-Prod", "pr-asb")]  # nothing in the tree asks for one
    # The other pacEnvironment's scopes land under the same scope keys in policygen.yaml.
    assert estate.environments["epac-dev"]["scopes"]["contoso-prod"] == MG + "epac-dev-prod"
    assert estate.environments["tenant"]["scopes"]["contoso-prod"] == MG + "Contoso-Prod"


def test_with_builtins_parameters_a_set_does_not_declare_are_dropped(tmp_path: Path) -> None:
    builtins = write_tree(tmp_path / "builtins", {
        "policySetDefinitions/asb.json": {"name": ASB.rsplit("/", 1)[-1], "properties": {
            "displayName": "ASB", "parameters": {"classiccomputevmsmonitoringeffect": {"type": "String"}},
            "policyDefinitions": []}},
        "policySetDefinitions/nist.json": {"name": NIST.rsplit("/", 1)[-1], "properties": {
            "displayName": "NIST", "parameters": {}, "policyDefinitions": []}}})
    got = assignments(read_tree(security_tree(tmp_path / "Definitions"), "tenant", builtins))
    # EPAC keeps a value only when the definition declares it, named as the definition names it.
    assert got[(MG + "Contoso-Prod", "pr-asb")]["properties"]["parameters"] == {
        "classiccomputevmsmonitoringeffect": {"value": "Deny"}}
    assert got[(MG + "Contoso-Prod", "pr-nist-800-53-r5")]["properties"]["parameters"] == {}


def test_the_inverted_tag_tree_prepends_and_unions_parameters(tmp_path: Path) -> None:
    tags = {"tagName": {"type": "String", "metadata": {"displayName": "Tag"}},
            "excludedRG": {"type": "Array", "metadata": {"displayName": "Excluded"}}}
    root = write_tree(tmp_path, {
        "global-settings.jsonc": settings(("tenant", "Contoso-Root")),
        "policyDefinitions/require.json": definition("7ce92201-8036-4d55-938e-0dce0a5bc475", extra=tags),
        "policyDefinitions/inherit.json": definition("5cc2cbfc-e306-4ec6-a141-eea3c79bb2ae", extra={
            "tagName": tags["tagName"]}),
        "policyAssignments/tags.jsonc": {
            "nodeName": "/Tags/",
            "parameters": {"excludedRG": ["synapseworkspace-managedrg-*", "databricks-rg-*", "managed*"]},
            "scope": {"tenant": [MG + "Contoso-Root"]},
            "definitionEntryList": [
                {"policyName": "7ce92201-8036-4d55-938e-0dce0a5bc475",
                 "assignment": {"name": "rgtag-", "displayName": "Require Tag on Resource Group - ",
                                "description": "Require Tag for Resource Groups - "}},
                {"policyName": "5cc2cbfc-e306-4ec6-a141-eea3c79bb2ae",
                 "assignment": {"name": "taginh-", "displayName": "Inherit Tag from Resource Group - ",
                                "description": "Modify Tag by inheriting it from the RG - "}}],
            "children": [{"nodeName": tag, "assignment": {"name": tag, "displayName": tag, "description": f"{tag}."},
                          "parameters": {"tagName": tag}} for tag in ("AppName", "Environment", "Project")]}})
    got = assignments(read_tree(root, None))
    assert len(got) == 6
    rg = got[(MG + "Contoso-Root", "rgtag-AppName")]["properties"]
    assert rg["displayName"] == "Require Tag on Resource Group - AppName"
    assert rg["description"] == "Require Tag for Resource Groups - AppName."
    assert rg["parameters"] == {"tagName": {"value": "AppName"}, "excludedRG": {
        "value": ["synapseworkspace-managedrg-*", "databricks-rg-*", "managed*"]}}
    # `excludedRG` is not a parameter of the inherit policy: EPAC drops it quietly.
    assert got[(MG + "Contoso-Root", "taginh-Project")]["properties"]["parameters"] == {"tagName": {"value": "Project"}}


def test_scopes_not_scopes_and_identities_per_pac_selector(tmp_path: Path) -> None:
    dine = definition("deploy-diag", effect="[parameters('effect')]", allowed=["DeployIfNotExists", "Disabled"],
                      default="DeployIfNotExists", details={
                          "type": "Microsoft.Insights/diagnosticSettings", "existenceCondition": {"field": "name",
                                                                                                  "exists": True},
                          "roleDefinitionIds": ["/providers/Microsoft.Authorization/roleDefinitions/"
                                                "749f88d5-cbae-40b8-bcfc-e573ddc772fa"],
                          "deployment": {"properties": {"mode": "incremental", "template": {}}}})
    uai = SUB + "/resourceGroups/id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/identity-1"
    root = write_tree(tmp_path, {
        "global-settings.jsonc": settings(("tenant", "Contoso-Root"), ("epac-dev", "epac-dev")),
        "policyDefinitions/diag.json": dine,
        "policyDefinitions/audit.json": definition("audit-only"),
        "policyAssignments/diag.jsonc": {
            "nodeName": "/diag/", "definitionEntry": {"policyName": "deploy-diag"},
            "notScopes": {"*": [SUB + "/resourceGroups/rg-excluded"], "tenant": [MG + "Contoso-Sandbox"]},
            "managedIdentityLocations": {"*": "eastus2", "tenant": "westeurope"},
            "children": [
                {"nodeName": "system/", "assignment": {"name": "diag-sys", "displayName": "Diagnostics"},
                 "scope": {"tenant": [MG + "Contoso-Prod", MG + "Contoso-NonProd"], "*": [SUB]}},
                {"nodeName": "user/", "assignment": {"name": "diag-uai", "displayName": "Diagnostics (UAI)"},
                 "userAssignedIdentity": {"tenant": [{"policyName": "deploy-diag", "identity": uai}]},
                 "scope": {"tenant": [MG + "Contoso-Corp"]}},
                {"nodeName": "dev-only/", "assignment": {"name": "diag-dev", "displayName": "Dev"},
                 "scope": {"epac-dev": [MG + "epac-dev"]}}]},
        "policyAssignments/audit.jsonc": {
            "nodeName": "/audit/", "definitionEntry": {"policyName": "audit-only"},
            "managedIdentityLocations": {"*": "eastus2"},
            "assignment": {"name": "audit", "displayName": "Audit"}, "scope": {"*": [MG + "Contoso-Root"]}}})
    estate = read_tree(root, "tenant")
    got = assignments(estate)
    # The pacSelector's scopes then "*"'s; the branch placed only in epac-dev is not an assignment here.
    # One name at every scope of the branch: ARM names an assignment per scope, as EPAC deploys it.
    assert sorted(got) == sorted([(MG + "Contoso-Prod", "diag-sys"), (MG + "Contoso-NonProd", "diag-sys"),
                                  (SUB, "diag-sys"), (MG + "Contoso-Corp", "diag-uai"),
                                  (MG + "Contoso-Root", "audit")])
    sys_body = got[(MG + "Contoso-Prod", "diag-sys")]
    assert sys_body["identity"] == {"type": "SystemAssigned"} and sys_body["location"] == "westeurope"
    assert sys_body["properties"]["notScopes"] == [MG + "Contoso-Sandbox", SUB + "/resourceGroups/rg-excluded"]
    assert got[(MG + "Contoso-Corp", "diag-uai")]["identity"] == {"type": "UserAssigned",
                                                                  "userAssignedIdentities": {uai: {}}}
    assert "identity" not in got[(MG + "Contoso-Root", "audit")]  # its rule names no roleDefinitionIds
    assert not any("diag-sys" in n for n in estate.notes)


def test_overrides_selectors_and_messages_go_to_their_entry(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        "global-settings.jsonc": settings(("tenant", "Contoso-Root")),
        "policyDefinitions/a.json": definition("pol-a"),
        "policyDefinitions/b.json": definition("pol-b"),
        "policyAssignments/two.jsonc": {
            "nodeName": "/two/", "scope": {"tenant": [MG + "Contoso-Root"]},
            "assignment": {"name": "two-", "displayName": "Two "},
            "definitionEntryList": [
                {"policyName": "pol-a", "assignment": {"append": True, "name": "a", "displayName": "A"},
                 "nonComplianceMessages": [{"message": "A is required"}]},
                {"policyName": "pol-b", "assignment": {"append": True, "name": "b", "displayName": "B"}}],
            "overrides": [{"policyName": "pol-b", "kind": "policyEffect", "value": "Deny"}],
            "resourceSelectors": [{"name": "eu", "policyName": "pol-a",
                                   "selectors": [{"kind": "resourceLocation", "in": ["westeurope"]}]}],
            "enforcementMode": "DoNotEnforce", "definitionVersion": "1.*.*", "metadata": {"team": "platform"}}})
    got = assignments(read_tree(root, None))
    a, b = got[(MG + "Contoso-Root", "two-a")]["properties"], got[(MG + "Contoso-Root", "two-b")]["properties"]
    assert a["nonComplianceMessages"] == [{"message": "A is required"}] and "nonComplianceMessages" not in b
    assert "overrides" not in a and b["overrides"] == [{"kind": "policyEffect", "value": "Deny"}]
    assert a["resourceSelectors"] == [{"name": "eu", "selectors": [{"kind": "resourceLocation", "in": ["westeurope"]}]}]
    assert "resourceSelectors" not in b
    assert a["enforcementMode"] == b["enforcementMode"] == "DoNotEnforce"
    assert a["definitionVersion"] == "1.*.*" and a["metadata"] == {"team": "platform"}


def test_an_imported_tree_builds_the_assignments_epac_would_deploy(tmp_path: Path) -> None:
    root = security_tree(tmp_path / "Definitions")
    report = from_files("epac", root, "tenant", name="contoso")
    write(report, tmp_path / "pack")
    build = compile_pack(tmp_path / "pack", env="tenant")
    assert sorted(build.assignments) == ["np-asb", "np-nist-800-53-r5", "pr-asb", "pr-nist-800-53-r5", "sbx-asb",
                                         "sbx-nist-800-53-r5"]
    assert build.assignments["pr-asb"].properties["displayName"] == "Prod Azure Security Benchmark"
    assert build.assignments["pr-asb"].scope == MG + "Contoso-Prod"
    assert sum(report.exact.values()) == 6 and not report.inexact


@pytest.mark.parametrize("tree, message", [
    ({"nodeName": "/a/", "definitionEntry": {"policyName": "pol-a"}, "assignment": {"name": "a", "displayName": "A"},
      "scope": {"tenant": [MG + "x"]}, "children": [{"nodeName": "b/", "scope": {"tenant": [MG + "y"]}}]},
     "scope is set at two levels"),
    ({"nodeName": "/a/", "definitionEntry": {"policyName": "pol-a"}, "scope": {"tenant": [MG + "x"]},
      "children": [{"nodeName": "b/", "notScopes": {"*": [SUB]}, "assignment": {"name": "a", "displayName": "A"}}]},
     "notScopes below the node that sets scope"),
    ({"nodeName": "/a/", "definitionEntryList": [{"policyName": "pol-a"}, {"policyName": "pol-a"}],
      "assignment": {"name": "a", "displayName": "A"}, "scope": {"tenant": [MG + "x"]}},
     "needs an assignment block"),
    ({"nodeName": "/a/", "definitionEntry": {"policyName": "pol-a"}, "assignment": {"name": "a/b", "displayName": "A"},
      "scope": {"tenant": [MG + "x"]}}, "has a character Azure does not allow"),
    ({"nodeName": "/a/", "definitionEntry": {"policyName": "pol-a"}, "assignment": {"name": "a", "displayName": "A"},
      "metadata": {"pacOwnerId": "me"}, "scope": {"tenant": [MG + "x"]}}, "metadata.pacOwnerId is reserved"),
    ({"nodeName": "/a/", "definitionEntry": {"policyName": "pol-a"}, "assignment": {"name": "a", "displayName": "A"}},
     "this branch has no scope"),
    ({"nodeName": "/a/", "definitionEntry": {"policyName": "pol-a"}, "assignment": {"name": "a", "displayName": "A"},
      "overrides": [{"kind": "policyEffect", "value": "Deny", "selectors": [
          {"kind": "policyDefinitionReferenceId", "in": ["x"]}]}], "scope": {"tenant": [MG + "x"]}},
     "an override of a single policy assignment takes no selectors"),
    ({"nodeName": "/a/", "definitionEntry": {"policyName": "missing"}, "assignment": {"name": "a", "displayName": "A"},
      "scope": {"tenant": [MG + "x"]}}, "policyName 'missing' is not defined in this Definitions/ tree"),
])
def test_tree_mistakes_are_located_errors(tmp_path: Path, tree: dict, message: str) -> None:
    root = write_tree(tmp_path, {"global-settings.jsonc": settings(("tenant", "Contoso-Root")),
                                 "policyDefinitions/a.json": definition("pol-a"),
                                 "policyAssignments/a.jsonc": tree})
    with pytest.raises(InputError) as info:
        read_tree(root, None)
    shown = [str(d) for d in info.value.diagnostics]
    assert any(message in s and s.startswith(str(root / "policyAssignments" / "a.jsonc") + ":") for s in shown), shown


def test_an_error_points_into_the_node_that_has_it(tmp_path: Path) -> None:
    text = """{
  "nodeName": "/a/",
  "definitionEntry": {"policyName": "pol-a"},
  "children": [
    {"nodeName": "one/", "enforcementMode": "Default", "assignment": {"name": "a1", "displayName": "A1"},
     "scope": {"tenant": ["/providers/Microsoft.Management/managementGroups/x"]}},
    {"nodeName": "two/", "enforcementMode": "Enroll", "assignment": {"name": "a2", "displayName": "A2"},
     "scope": {"tenant": ["/providers/Microsoft.Management/managementGroups/y"]}}
  ]
}
"""
    root = write_tree(tmp_path, {"global-settings.jsonc": settings(("tenant", "Contoso-Root")),
                                 "policyDefinitions/a.json": definition("pol-a"), "policyAssignments/a.jsonc": text})
    with pytest.raises(InputError) as info:
        read_tree(root, None)
    assert [str(d).split(str(root))[-1] for d in info.value.diagnostics] == [
        "/policyAssignments/a.jsonc:7:26: /a/two/: enforcementMode must be Default or DoNotEnforce, not 'Enroll'"]


def test_a_pac_selector_with_two_scopes_imports_as_one_intent_and_round_trips(tmp_path: Path) -> None:
    """EPAC assigns a node at every scope its pacSelector lists, under one name (Docs/policy-assignments.md,
    "scope"); the import writes one intent with `scope: [..]`, whose build is the two assignments, and the
    EPAC export of that pack is the same tree (the node lists both scopes)."""
    from policygen.export import export_pack

    root = write_tree(tmp_path / "Definitions", {
        "global-settings.jsonc": settings(("tenant", "Contoso-Root")),
        "policyDefinitions/audit.json": definition("audit-only"),
        "policyAssignments/audit.jsonc": {
            "nodeName": "/audit/", "definitionEntry": {"policyName": "audit-only"},
            "assignment": {"name": "audit", "displayName": "Audit", "description": "Audit storage"},
            "notScopes": {"tenant": [SUB + "/resourceGroups/sandbox"]},
            "parameters": {"effect": "Audit"},
            "scope": {"tenant": [MG + "Contoso-Prod", MG + "Contoso-NonProd"]}}})
    report = from_files("epac", root, "tenant", name="contoso")
    assert not report.inexact and not [n for n in report.notes if "audit" in n], (report.inexact, report.notes)
    write(report, tmp_path / "pack")
    import yaml

    intent = yaml.safe_load((tmp_path / "pack" / "assignments" / "audit.yaml").read_text(encoding="utf-8"))
    assert intent["scope"] == ["contoso-prod", "contoso-nonprod"]
    assert intent["notScopes"] == [SUB + "/resourceGroups/sandbox"]
    assert not (tmp_path / "pack" / "assignments" / "audit-2.yaml").exists()
    build = compile_pack(tmp_path / "pack", env="tenant")
    assert sorted(build.assignments) == ["audit@contoso-nonprod", "audit@contoso-prod"]
    assert {a.assignment_id for a in build.assignments.values()} == {
        MG + f"Contoso-{s}/providers/Microsoft.Authorization/policyAssignments/audit" for s in ("Prod", "NonProd")}
    assert report.exact["assignment"] == 2
    # Round trip: export this pack to EPAC, import again, build: the same REST JSON.
    export_pack(build, "epac", tmp_path / "again")
    node = [c for c in __import__("json").loads(next((tmp_path / "again" / "policyAssignments").glob("*.json"))
                                                .read_text(encoding="utf-8"))["children"]]
    assert len(node) == 1 and node[0]["scope"] == {"tenant": [MG + "Contoso-Prod", MG + "Contoso-NonProd"]}
    second = from_files("epac", tmp_path / "again", "tenant", name="contoso")
    write(second, tmp_path / "pack2")
    rebuilt = compile_pack(tmp_path / "pack2", env="tenant")
    assert set(rebuilt.assignments) == set(build.assignments)
    for k, art in build.assignments.items():
        assert rebuilt.assignments[k].body == art.body, k
        assert rebuilt.assignments[k].scope == art.scope
