"""ALZ library member: suffix and version naming, archetypes, metadata, placeholders, offline checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policygen.errors import InputError
from policygen.export.alz import PLACEHOLDER_MG, check_library, snake
from policygen.render import compile_pack
from tests.export.support import exported, load_schema, rendered, schema_errors

ALZ = "Azure-Landing-Zones-Library"


def test_file_names_follow_the_suffix_and_version_rules(fixture_pack: Path) -> None:
    files = rendered(fixture_pack, "alz", env="azure")
    assert "policy_definitions/tag-check.2.1.0.alz_policy_definition.json" in files
    assert "policy_definitions/st-public-network-modify.1.2.0.alz_policy_definition.json" in files
    assert "policy_set_definitions/guardrails.1.0.0.alz_policy_set_definition.json" in files
    assert "policy_assignments/guardrails-prod.alz_policy_assignment.json" in files, "assignments have no version"
    for rel, text in files.items():
        if ".alz_policy" in rel:
            body = json.loads(text)
            version = body["properties"].get("version")
            assert Path(rel).name == f"{body['name']}{'.' + version if version else ''}.{rel.split('.')[-2]}.json"


def test_archetypes_reference_every_asset_and_split_assignments_by_scope(fixture_pack: Path) -> None:
    files = rendered(fixture_pack, "alz", env="azure")
    arch = {json.loads(t)["name"]: json.loads(t) for r, t in files.items() if r.startswith("archetype_definitions/")}
    assert sorted(arch) == ["fixture_pack", "fixture_pack_prod", "fixture_pack_rg", "fixture_pack_sub"]
    assert arch["fixture_pack"]["policy_definitions"] == ["st-public-network", "st-public-network-modify", "tag-check"]
    assert arch["fixture_pack"]["policy_set_definitions"] == ["guardrails"]
    assert arch["fixture_pack"]["policy_assignments"] == [], "the base archetype deploys definitions, assigns nothing"
    assert arch["fixture_pack_prod"]["policy_assignments"] == ["guardrails-prod"]
    listed = sorted(a for body in arch.values() for a in body["policy_assignments"])
    assert listed == ["guardrails-prod", "st-rg-modify", "tag-sub"], "each assignment in exactly one archetype"


def test_placeholders_as_the_library_uses_them(fixture_pack: Path) -> None:
    files = rendered(fixture_pack, "alz", env="azure")
    assignment = json.loads(files["policy_assignments/guardrails-prod.alz_policy_assignment.json"])
    assert assignment["type"] == "Microsoft.Authorization/policyAssignments"
    assert assignment["location"] == "${default_location}"
    assert assignment["properties"]["scope"] == PLACEHOLDER_MG
    assert assignment["properties"]["policyDefinitionId"] == \
        f"{PLACEHOLDER_MG}/providers/Microsoft.Authorization/policySetDefinitions/guardrails"
    assert assignment["identity"] == {"type": "SystemAssigned"}
    untyped = json.loads(files["policy_assignments/tag-sub.alz_policy_assignment.json"])
    assert untyped["identity"] == {"type": "None"}
    members = json.loads(files["policy_set_definitions/guardrails.1.0.0.alz_policy_set_definition.json"])
    ids = [m["policyDefinitionId"] for m in members["properties"]["policyDefinitions"]]
    assert f"{PLACEHOLDER_MG}/providers/Microsoft.Authorization/policyDefinitions/tag-check" in ids
    assert "/providers/Microsoft.Authorization/policyDefinitions/06a78e20-9358-41c9-923c-fb736d382a4d" in ids
    assert not any("[[parameters(" in t for t in files.values()), "library content is stored unescaped"
    assert "\"[parameters('effect')]\"" in files["policy_definitions/tag-check.2.1.0.alz_policy_definition.json"]
    meta = json.loads(files["alz_library_metadata.json"])
    assert meta["dependencies"] == [{"path": "platform/alz", "ref": meta["dependencies"][0]["ref"]}]


@pytest.mark.parametrize("pack", ["fixture_pack", "mlops_pack"])
def test_offline_library_checks_pass(pack: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    exported(request.getfixturevalue(pack), "alz", tmp_path / "lib", env="azure")
    assert check_library(tmp_path / "lib") == []


def test_offline_checks_catch_what_alzlib_rejects(fixture_pack: Path, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    exported(fixture_pack, "alz", lib, env="azure")
    (lib / "policy_definitions/tag-check.2.1.0.alz_policy_definition.json").rename(
        lib / "policy_definitions/tag-check.alz_policy_definition.json")
    arch = lib / "archetype_definitions/fixture_pack.alz_archetype_definition.json"
    body = json.loads(arch.read_text())
    body["policy_set_definitions"] = []
    arch.write_text(json.dumps(body))
    problems = check_library(lib)
    assert any("tag-check.alz_policy_definition.json: file name does not match" in p for p in problems)
    assert "initiative 'guardrails' is not referenced by any archetype" in problems


def test_archetype_metadata_and_defaults_are_schema_valid(fixture_pack: Path, shared_dir: Path) -> None:
    files = rendered(fixture_pack, "alz", env="azure")
    problems = schema_errors(load_schema(shared_dir, ALZ, "library_metadata.json"),
                             json.loads(files["alz_library_metadata.json"]))
    problems += schema_errors(load_schema(shared_dir, ALZ, "default_policy_values.json"),
                              json.loads(files["alz_policy_default_values.json"]))
    archetype = load_schema(shared_dir, ALZ, "archetype_definition.json")
    for rel, text in files.items():
        if rel.startswith("archetype_definitions/"):
            problems += [f"{rel}: {e}" for e in schema_errors(archetype, json.loads(text))]
    assert problems == []


def test_defaults_share_a_value_only_where_assignments_agree(mlops_pack: Path) -> None:
    build = compile_pack(mlops_pack, "azure")
    files = rendered(mlops_pack, "alz", env="azure")
    defaults = json.loads(files["alz_policy_default_values.json"])["defaults"]
    assert defaults, "the MLOps pack sets resource ids (subnets, DNS zones) per assignment"
    covered = set()
    for d in defaults:
        (pname,) = {p for r in d["policy_assignments"] for p in r["parameter_names"]}
        assert d["default_name"].startswith(snake(pname))
        values = {json.dumps(build.assignments[r["policy_assignment_name"]].properties["parameters"][pname])
                  for r in d["policy_assignments"]}
        assert len(values) == 1, f"{d['default_name']} would force one value on assignments that differ"
        covered |= {(r["policy_assignment_name"], pname) for r in d["policy_assignments"]}
    assert len({d["default_name"] for d in defaults}) == len(defaults)
    assert ("mlops-prod-baseline", "privateEndpointSubnetId") in covered


def test_mlops_pack_round_trips(mlops_pack: Path) -> None:
    build = compile_pack(mlops_pack, "azure")
    files = rendered(mlops_pack, "alz", env="azure")
    for name, art in build.definitions.items():
        rel = f"policy_definitions/{name}.{art.properties['version']}.alz_policy_definition.json"
        assert json.loads(files[rel])["properties"] == art.properties
    for name, art in build.initiatives.items():
        back = json.loads(files[f"policy_set_definitions/{name}.{art.properties['version']}.alz_policy_set_definition.json"])
        for mine, theirs in zip(back["properties"]["policyDefinitions"], art.properties["policyDefinitions"], strict=True):
            assert mine["policyDefinitionId"].rsplit("/", 1)[-1] == theirs["policyDefinitionId"].rsplit("/", 1)[-1]
            assert {k: v for k, v in mine.items() if k != "policyDefinitionId"} == \
                {k: v for k, v in theirs.items() if k != "policyDefinitionId"}
    for name, art in build.assignments.items():
        back = json.loads(files[f"policy_assignments/{name}.alz_policy_assignment.json"])
        assert back["properties"]["parameters"] == art.properties["parameters"]
        assert back["properties"]["enforcementMode"] == art.properties["enforcementMode"]


def test_assignment_names_over_24_characters_are_refused(fixture_pack: Path) -> None:
    text = (fixture_pack / "assignments/tag-sub.yaml").read_text()
    (fixture_pack / "assignments/tag-sub.yaml").write_text(text.replace("name: tag-sub", "name: tag-subscription-level-check"))
    with pytest.raises(InputError, match="24"):
        rendered(fixture_pack, "alz", env="azure")


def test_library_content_passes_policygen_validate(mlops_pack: Path, tmp_path: Path) -> None:
    engine = pytest.importorskip("policygen.rules.engine")
    exported(mlops_pack, "alz", tmp_path / "lib", env="azure")
    result = engine.validate_files([tmp_path / "lib"])
    assert result.diagnostics == [] and result.objects > 10
    assert [f"{f.code} {f.message}" for f in result.findings if f.severity.value == "error"] == []
