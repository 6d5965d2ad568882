"""Bad EPAC input (issue #15): every problem of every file at once as `file:line:col`, exit 2, never a traceback.

File kinds as EPAC documents them: https://azure.github.io/enterprise-azure-policy-as-code/ (global-settings.jsonc,
policyDefinitions, policySetDefinitions, policyAssignments with CSV parameter files, policyExemptions).
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policygen.adopt.epac import read_tree
from policygen.adopt.estate import Estate
from policygen.errors import InputError
from policygen.tasks.adopt import from_files
from tests.adopt.epac_trees import HEADER, MG, ROWS, definition, storage_tree, write_tree
from tests.adopt.epac_trees import settings as global_settings
from tests.azure.deploy_support import cli

NODE_KEYS = ["nodeName", "definitionEntry", "definitionEntryList", "assignment", "scope", "notScopes", "notScope",
             "parameters", "children", "parameterFile", "parameterSelector", "overrides", "resourceSelectors",
             "nonComplianceMessages", "nonComplianceMessageColumn", "managedIdentityLocations", "userAssignedIdentity",
             "enforcementMode", "metadata", "definitionVersion", "additionalRoleAssignments", "ignoreBranch"]
ENTRY_KEYS = ["policyName", "policySetName", "policyId", "policySetId", "assignment", "append", "name", "displayName",
              "description", "tenant", "*", "kind", "value", "selectors", "message", "identity"]
scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(
    ["", "tenant", "*", "pol-a", "storage-baseline", "storage.csv", "prod", MG + "x", "Deny", "Audit", "a/b",
     "DoNotEnforce", "Enroll", "[parameters('effect')]"]) | st.text(max_size=6)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.sampled_from(ENTRY_KEYS) | st.text(max_size=4), inner, max_size=4),
                           max_leaves=12)
nodes = st.recursive(
    st.dictionaries(st.sampled_from(NODE_KEYS), json_values, max_size=6),
    lambda inner: st.dictionaries(st.sampled_from(NODE_KEYS), json_values | st.lists(inner, max_size=3)
                                  | inner, max_size=7), max_leaves=10)
slow = settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _read(root: Path) -> None:
    try:
        assert isinstance(read_tree(root, None), Estate)
    except InputError as exc:  # a located diagnostic, never another exception
        assert exc.diagnostics or str(exc)


def test_every_bad_file_is_reported_at_once_with_exit_2(tmp_path: Path) -> None:
    root = storage_tree(tmp_path / "Definitions", HEADER.replace(",prodEffect", "") + ROWS)
    write_tree(root, {
        "policyDefinitions/broken.jsonc": '{"name": "broken",\n  "properties": {\n    "mode": "All",,\n  }\n}\n',
        "policyAssignments/missing.jsonc": {"nodeName": "/m/", "definitionEntry": {"policySetName": "not-there"},
                                            "assignment": {"name": "m", "displayName": "M"},
                                            "scope": {"tenant": [MG + "x"]}},
        "policyExemptions/tenant/bad.json": '{"exemptions": [}'})
    result = cli(["import", "--from", "epac", str(root), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())  # the console may wrap long lines
    assert "broken.jsonc:3:19: invalid JSON" in out
    assert "missing.jsonc:" in out and "policySetName 'not-there' is not defined" in out
    assert "storage.csv:1:1: CSV parameter file has no column 'prodEffect'" in out
    assert "bad.json:1:17: invalid JSON" in out
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


@slow
@given(nodes)
def test_any_assignment_tree_is_read_or_refused_with_located_errors(tmp_path_factory, tree: dict) -> None:
    root = tmp_path_factory.mktemp("tree")
    write_tree(root, {"global-settings.jsonc": global_settings(("tenant", "Contoso-Root")),
                      "policyDefinitions/a.json": definition("pol-a"),
                      "policyAssignments/storage.csv": HEADER + ROWS,
                      "policyAssignments/t.jsonc": tree})
    _read(root)


@slow
@given(st.text(alphabet='{}[]",:0123456789abcdeftrunl \n/*\\', max_size=80))
def test_any_text_as_a_json_file_is_refused_with_a_position(tmp_path_factory, text: str) -> None:
    for rel in ("global-settings.jsonc", "policyAssignments/t.jsonc", "policySetDefinitions/s.json",
                "policyExemptions/tenant/e.json"):
        root = tmp_path_factory.mktemp("text")
        write_tree(root, {"global-settings.jsonc": global_settings(("tenant", "Contoso-Root")),
                          "policyDefinitions/a.json": definition("pol-a"), rel: text})
        _read(root)


@slow
@given(st.text(alphabet='abc,"\n\r{}:\\/&', max_size=60), st.booleans())
def test_any_text_as_a_csv_file_is_refused_with_a_position(tmp_path_factory, text: str, header: bool) -> None:
    root = storage_tree(tmp_path_factory.mktemp("csv"), (HEADER if header else "") + text)
    write_tree(root, {"policyExemptions/tenant/e.csv": text})
    _read(root)


@slow
@given(st.lists(st.dictionaries(st.sampled_from(
    ["name", "displayName", "exemptionCategory", "scope", "scopes", "policyAssignmentId", "policyDefinitionName",
     "policySetDefinitionName", "policyDefinitionId", "policyDefinitionReferenceIds", "metadata", "expiresOn",
     "resourceSelectors"]), json_values, max_size=6), max_size=3))
def test_any_exemption_list_is_read_or_refused(tmp_path_factory, items: list) -> None:
    root = storage_tree(tmp_path_factory.mktemp("ex"))
    write_tree(root, {"policyExemptions/tenant/e.json": json.dumps({"exemptions": items})})
    _read(root)


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(nodes)
def test_any_tree_that_reads_also_imports_without_a_traceback(tmp_path_factory, tree: dict) -> None:
    root = tmp_path_factory.mktemp("imp")
    write_tree(root, {"global-settings.jsonc": global_settings(("tenant", "Contoso-Root")),
                      "policyDefinitions/a.json": definition("pol-a"), "policyAssignments/t.jsonc": tree})
    try:
        report = from_files("epac", root, None, name="t")
    except InputError:
        return
    assert report.counts["definition"] == 1


@slow
@given(st.dictionaries(st.sampled_from(["pacOwnerId", "pacEnvironments", "globalNotScopes", "telemetryOptOut"]),
                       json_values | st.lists(st.dictionaries(st.sampled_from(
                           ["pacSelector", "cloud", "tenantId", "deploymentRootScope", "managedIdentityLocation",
                            "desiredState", "globalNotScopes"]), json_values, max_size=6), max_size=3), max_size=4))
def test_any_global_settings_is_read_or_refused(tmp_path_factory, doc: dict) -> None:
    root = tmp_path_factory.mktemp("gs")
    write_tree(root, {"global-settings.jsonc": doc, "policyDefinitions/a.json": definition("pol-a")})
    _read(root)


@slow
@given(st.sampled_from(["policyDefinitions/d.json", "policySetDefinitions/s.json"]),
       st.dictionaries(st.sampled_from(["name", "properties"]), json_values | st.dictionaries(st.sampled_from(
           ["displayName", "metadata", "parameters", "policyRule", "policyDefinitions", "policyDefinitionGroups",
            "importPolicyDefinitionGroups", "mode"]), json_values, max_size=6), max_size=2))
def test_any_definition_or_set_file_is_read_or_refused(tmp_path_factory, rel: str, doc: dict) -> None:
    root = tmp_path_factory.mktemp("def")
    write_tree(root, {"global-settings.jsonc": global_settings(("tenant", "Contoso-Root")), rel: doc})
    _read(root)
