"""EPAC export: schema-valid files, round-trip to the same definitions, per-environment scopes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policygen.render import compile_pack
from tests.export.support import exported, load_schema, read_jsonc, rendered, schema_errors

EPAC = "enterprise-azure-policy-as-code"
SCHEMA_FOR = {"policyDefinitions": "policy-definition-schema.json",
              "policySetDefinitions": "policy-set-definition-schema.json",
              "policyAssignments": "policy-assignment-schema.json",
              "policyExemptions": "policy-exemption-schema.json"}


@pytest.mark.parametrize("pack", ["fixture_pack", "mlops_pack"])
def test_every_file_validates_against_the_epac_schemas(pack: str, request: pytest.FixtureRequest,
                                                       shared_dir: Path) -> None:
    files = rendered(request.getfixturevalue(pack), "epac")
    schemas = {folder: load_schema(shared_dir, EPAC, name) for folder, name in SCHEMA_FOR.items()}
    settings_schema = load_schema(shared_dir, EPAC, "global-settings-schema.json")
    problems = schema_errors(settings_schema, read_jsonc(files["global-settings.jsonc"]))
    for rel, text in files.items():
        folder = rel.split("/", 1)[0]
        if folder in schemas:
            problems += [f"{rel}: {e}" for e in schema_errors(schemas[folder], json.loads(text))]
    assert problems == []
    assert len([r for r in files if "/" in r]) >= 7


def _restore_definition(body: dict, owner: str) -> dict:
    """What EPAC deploys from a definition file (it stamps pacOwnerId; version/policyType are not sent)."""
    props = dict(body["properties"])
    props["metadata"] = {**props["metadata"], "pacOwnerId": owner}
    return {"name": body["name"], "properties": props}


def _comparable(body: dict) -> dict:
    props = {k: v for k, v in body["properties"].items() if k not in ("version", "policyType")}
    params = {}
    for pname, spec in (props.get("parameters") or {}).items():
        spec = dict(spec)
        spec["metadata"] = {"displayName": pname, **(spec.get("metadata") or {})}
        params[pname] = spec
    props["parameters"] = params
    return {"name": body["name"], "properties": props}


def test_mlops_pack_round_trips(mlops_pack: Path) -> None:
    files = rendered(mlops_pack, "epac")
    settings = read_jsonc(files["global-settings.jsonc"])
    selectors = [e["pacSelector"] for e in settings["pacEnvironments"]]
    build = compile_pack(mlops_pack, selectors[0])
    assert settings["pacOwnerId"] == build.pack.owner_id
    for name, art in build.definitions.items():
        back = _restore_definition(json.loads(files[f"policyDefinitions/{name}.json"]), build.pack.owner_id)
        assert back == _comparable(art.body)
    for name, art in build.initiatives.items():
        back = json.loads(files[f"policySetDefinitions/{name}.json"])
        members = back["properties"]["policyDefinitions"]
        ids = [build.definition_id("definition", m["policyDefinitionName"]) if "policyDefinitionName" in m
               else m["policyDefinitionId"] for m in members]
        assert ids == [m["policyDefinitionId"] for m in art.properties["policyDefinitions"]]
        assert [m.get("parameters", {}) for m in members] == \
            [m.get("parameters") or {} for m in art.properties["policyDefinitions"]]
        assert back["properties"]["parameters"] == art.properties["parameters"]
        assert [g["name"] for g in back["properties"]["policyDefinitionGroups"]] == \
            [g["name"] for g in art.properties["policyDefinitionGroups"]]
    leaves = _leaves(files)
    assert sorted(leaves) == sorted(build.assignments)
    for name, art in build.assignments.items():
        entry, node = leaves[name]
        target = entry.get("policySetName") or entry.get("policyName")
        assert art.properties["policyDefinitionId"].rsplit("/", 1)[-1] == target
        assert {k: {"value": v} for k, v in node["parameters"].items()} == art.properties["parameters"]
        for selector in selectors:
            assert node["scope"][selector] == [compile_pack(mlops_pack, selector).assignments[name].scope]


def test_environments_become_pac_selectors_with_their_own_scopes(fixture_pack: Path) -> None:
    files = rendered(fixture_pack, "epac")
    settings = read_jsonc(files["global-settings.jsonc"])
    assert settings["pacOwnerId"] == "11111111-2222-3333-4444-555555555555"
    envs = {e["pacSelector"]: e for e in settings["pacEnvironments"]}
    assert sorted(envs) == ["azure", "azure-dev"], "the emulator environment (cloud: local) is not an EPAC target"
    assert envs["azure-dev"]["deploymentRootScope"] == "/providers/Microsoft.Management/managementGroups/contoso-dev"
    assert envs["azure"]["managedIdentityLocation"] == "northeurope"
    assert envs["azure"]["desiredState"] == {"strategy": "ownedOnly", "keepDfcSecurityAssignments": True}
    tree = json.loads(files["policyAssignments/guardrails.json"])
    assert tree["definitionEntry"] == {"policySetName": "guardrails", "displayName": "Storage guardrails"}
    assert [c["nodeName"] for c in tree["children"]] == ["guardrails-prod/"]
    node = tree["children"][0]
    assert node["scope"] == {"azure": ["/providers/Microsoft.Management/managementGroups/contoso-prod"],
                             "azure-dev": ["/providers/Microsoft.Management/managementGroups/contoso-dev-prod"]}
    assert node["managedIdentityLocations"] == {"azure": "northeurope", "azure-dev": "westeurope"}
    assert "pacOwnerId" not in node.get("metadata", {}), "reserved: EPAC stamps it"
    tag = json.loads(files["policyAssignments/tag-check.json"])
    sub = tag["children"][0]
    assert tag["definitionEntry"]["policyName"] == "tag-check" and sub["enforcementMode"] == "DoNotEnforce"
    assert "managedIdentityLocations" not in sub


def _leaves(files: dict[str, str]) -> dict[str, tuple[dict, dict]]:
    """Assignment name → (definitionEntry of its branch, leaf node), walking EPAC's node trees."""
    out = {}
    for rel, text in files.items():
        if rel.startswith("policyAssignments/"):
            root = json.loads(text)
            for child in root["children"]:
                out[child["assignment"]["name"]] = (root["definitionEntry"], child)
    return out


def test_every_branch_ends_in_exactly_one_assignment_and_scope(mlops_pack: Path, fixture_pack: Path) -> None:
    for pack in (mlops_pack, fixture_pack):
        for rel, text in rendered(pack, "epac").items():
            if rel.startswith("policyAssignments/"):
                root = json.loads(text)
                assert "definitionEntry" in root and "scope" not in root and "assignment" not in root
                for leaf in root["children"]:
                    assert {"assignment", "scope"} <= set(leaf) and "definitionEntry" not in leaf
                    assert "children" not in leaf


def test_sets_reference_customs_by_name_and_builtins_by_id(fixture_pack: Path) -> None:
    body = json.loads(rendered(fixture_pack, "epac")["policySetDefinitions/guardrails.json"])
    members = {m["policyDefinitionReferenceId"]: m for m in body["properties"]["policyDefinitions"]}
    assert members["tag-check"]["policyDefinitionName"] == "tag-check"
    assert members["audit-vm-managed-disks"]["policyDefinitionId"] == \
        "/providers/Microsoft.Authorization/policyDefinitions/06a78e20-9358-41c9-923c-fb736d382a4d"
    assert "version" not in body["properties"], "EPAC does not send properties.version"


def test_single_environment_with_env(fixture_pack: Path) -> None:
    settings = read_jsonc(rendered(fixture_pack, "epac", env="local")["global-settings.jsonc"])
    assert [(e["pacSelector"], e["cloud"]) for e in settings["pacEnvironments"]] == [("local", "AzureCloud")]


def test_output_is_deterministic(fixture_pack: Path) -> None:
    assert rendered(fixture_pack, "epac") == rendered(fixture_pack, "epac")


def test_definition_files_pass_policygen_validate(mlops_pack: Path, tmp_path: Path) -> None:
    """Set and assignment files are EPAC's own shapes (names, node trees); definitions are plain Azure Policy."""
    engine = pytest.importorskip("policygen.rules.engine")

    exported(mlops_pack, "epac", tmp_path / "Definitions")
    result = engine.validate_files([tmp_path / "Definitions/policyDefinitions"])
    assert result.diagnostics == [] and result.objects > 10
    assert [f"{f.code} {f.message}" for f in result.findings if f.severity.value == "error"] == []


def test_placing_one_build_in_each_environment_equals_compiling_for_it(fixture_pack: Path, mlops_pack: Path) -> None:
    """EPAC compiles once and places the assignments in the other pacSelectors: same scope, notScopes and
    identity location as a build compiled for that environment."""
    from policygen.render.assignments import place

    for pack in (fixture_pack, mlops_pack):
        base = compile_pack(pack)
        for env, spec in base.pack.environments.items():
            other = compile_pack(pack, env)
            for name, art in base.assignments.items():
                want = other.assignments[name]
                assert place(art, env, spec) == (want.scope, want.properties["notScopes"], want.body.get("location"))


def test_a_scope_key_missing_in_another_environment_is_reported_as_compile_would(fixture_pack: Path) -> None:
    from policygen.errors import InputError

    settings = fixture_pack / "policygen.yaml"
    settings.write_text(settings.read_text().replace("      prod: /providers/Microsoft.Management/managementGroups/"
                                                     "contoso-dev-prod\n", ""))
    with pytest.raises(InputError) as compiled:
        compile_pack(fixture_pack, "azure-dev")
    with pytest.raises(InputError) as placed:
        rendered(fixture_pack, "epac")
    assert [str(d) for d in placed.value.diagnostics] == [str(d) for d in compiled.value.diagnostics]
    assert "scope 'prod' is neither an ARM id nor a scope key of environment 'azure-dev'" in str(placed.value)
