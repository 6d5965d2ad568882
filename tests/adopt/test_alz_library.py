"""`import --from alz`: where archetypes' assignments go, and which cloud's files are read (#15).

ALZ library formats (https://github.com/Azure/Azure-Landing-Zones-Library, schemas/): an architecture
definition lists management groups, each with `id` and `archetypes` (platform/alz/architecture_definitions/
alz.alz_architecture_definition.json puts archetype `landing_zones` at management group `landingzones`); an
archetype override names a `base_archetype` and `*_to_add`/`*_to_remove` lists and is used by an architecture.
Enterprise-Scale keeps cloud variants as `<name>.AzureChinaCloud.json` (src/templates/policies.bicep loads
them for that cloud only).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from policygen.adopt.alz import read_library
from policygen.render import compile_pack
from policygen.tasks.adopt import from_files, write
from tests.azure.deploy_support import cli

MG = "/providers/Microsoft.Management/managementGroups/"
DEF_ID = MG + "placeholder/providers/Microsoft.Authorization/policyDefinitions/"


def _definition(name: str, display: str = "Audit public IPs") -> dict:
    return {"type": "Microsoft.Authorization/policyDefinitions", "name": name, "properties": {
        "displayName": display, "mode": "All", "policyType": "Custom", "metadata": {"version": "1.0.0"},
        "parameters": {"effect": {"type": "String", "allowedValues": ["Audit", "Disabled"], "defaultValue": "Audit"}},
        "policyRule": {"if": {"field": "type", "equals": "Microsoft.Network/publicIPAddresses"},
                       "then": {"effect": "[parameters('effect')]"}}}}


def _assignment(name: str, definition: str) -> dict:
    return {"type": "Microsoft.Authorization/policyAssignments", "name": name, "properties": {
        "displayName": name, "policyDefinitionId": DEF_ID + definition, "scope": MG + "placeholder",
        "enforcementMode": "Default"}}


def _library(root: Path, architecture: bool = True) -> Path:
    files = {
        "policy_definitions/Audit-PIP.alz_policy_definition.json": _definition("Audit-PIP"),
        "policy_assignments/Audit-PIP-Corp.alz_policy_assignment.json": _assignment("Audit-PIP-Corp", "Audit-PIP"),
        "policy_assignments/Audit-PIP-Root.alz_policy_assignment.json": _assignment("Audit-PIP-Root", "Audit-PIP"),
        "policy_assignments/Audit-PIP-Extra.alz_policy_assignment.json": _assignment("Audit-PIP-Extra", "Audit-PIP"),
        "archetype_definitions/root.alz_archetype_definition.json": {
            "name": "root", "policy_definitions": ["Audit-PIP"], "policy_assignments": ["Audit-PIP-Root"]},
        "archetype_definitions/landing_zones.alz_archetype_definition.json": {
            "name": "landing_zones", "policy_assignments": ["Audit-PIP-Corp"]},
        "archetype_overrides/lz_extra.alz_archetype_override.json": {
            "name": "lz_extra", "base_archetype": "landing_zones", "policy_assignments_to_add": ["Audit-PIP-Extra"],
            "policy_assignments_to_remove": ["Audit-PIP-Corp"]},
    }
    if architecture:
        files["architecture_definitions/alz.alz_architecture_definition.json"] = {"name": "alz", "management_groups": [
            {"id": "contoso", "display_name": "Contoso", "archetypes": ["root"], "parent_id": None, "exists": False},
            {"id": "landingzones", "display_name": "Landing zones", "archetypes": ["landing_zones"],
             "parent_id": "contoso", "exists": False},
            {"id": "online", "display_name": "Online", "archetypes": ["lz_extra"], "parent_id": "landingzones",
             "exists": False}]}
    for rel, doc in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return root


def test_assignments_go_to_the_management_groups_the_architecture_names(tmp_path: Path) -> None:
    lib = _library(tmp_path / "lib")
    result = cli(["import", "--from", "alz", str(lib), "--out", str(tmp_path / "pack"), "--name", "lz"])
    assert result.exit_code == 0, result.output
    settings = yaml.safe_load((tmp_path / "pack" / "policygen.yaml").read_text(encoding="utf-8"))
    assert settings["environments"]["alz"]["scopes"] == {
        "contoso": MG + "contoso", "landingzones": MG + "landingzones", "online": MG + "online"}
    build = compile_pack(tmp_path / "pack")
    scopes = {name: a.scope for name, a in build.assignments.items()}
    assert scopes == {"Audit-PIP-Root": MG + "contoso", "Audit-PIP-Corp": MG + "landingzones",
                      "Audit-PIP-Extra": MG + "online"}  # the override adds Extra (and drops Corp) at online
    assert "placed at the management group named after them" not in result.output


def test_without_an_architecture_the_archetype_name_is_the_scope_and_the_import_says_so(tmp_path: Path) -> None:
    estate = read_library(_library(tmp_path, architecture=False))
    scopes = {i.name: i.props["scope"] for i in estate.of("assignment")}
    assert scopes["Audit-PIP-Root"] == MG + "root" and scopes["Audit-PIP-Corp"] == MG + "landing_zones"
    assert any("no architecture definition: archetypes placed at the management group named after them" in n
               and "root -> root" in n for n in estate.notes), estate.notes


def test_an_override_of_a_missing_archetype_is_an_error_at_its_line(tmp_path: Path) -> None:
    lib = _library(tmp_path)
    path = lib / "archetype_overrides" / "lz_extra.alz_archetype_override.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"landing_zones"', '"nowhere"'), encoding="utf-8")
    result = cli(["import", "--from", "alz", str(lib), "--out", str(tmp_path / "pack")])
    assert result.exit_code == 2
    assert "lz_extra.alz_archetype_override.json:3:" in result.output and "'nowhere'" in result.output


def test_a_cloud_reads_its_variants_and_names_the_others(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "Audit-PIP.json").write_text(json.dumps(_definition("Audit-PIP")), encoding="utf-8")
    (lib / "Audit-PIP.AzureChinaCloud.json").write_text(json.dumps(_definition("Audit-PIP", "China variant")),
                                                        encoding="utf-8")
    public = from_files("alz", lib, None, name="lib")
    china = from_files("alz", lib, None, name="lib", cloud="AzureChinaCloud")
    write(china, tmp_path / "china")
    build = compile_pack(tmp_path / "china")
    assert build.definitions["Audit-PIP"].properties["displayName"] == "China variant"
    assert build.pack.environments["alz"]["cloud"] == "AzureChinaCloud"
    assert "displayName: Audit public IPs" in public.files["definitions/Audit-PIP.yaml"]
    assert any("1 AzureChinaCloud variant file(s) not read" in n for n in public.notes)
    assert cli(["import", "--from", "epac", str(lib), "--out", str(tmp_path / "x"),
                "--cloud", "AzureChinaCloud"]).exit_code == 2


def test_env_picks_one_of_several_architectures(tmp_path: Path) -> None:
    lib = _library(tmp_path)
    other = {"name": "slz", "management_groups": [
        {"id": "sovereign", "display_name": "Sovereign", "archetypes": ["root", "landing_zones"], "parent_id": None,
         "exists": False}]}
    (lib / "architecture_definitions" / "slz.alz_architecture_definition.json").write_text(json.dumps(other),
                                                                                           encoding="utf-8")
    estate = read_library(lib, env="slz")
    scopes = {i.name: i.props["scope"] for i in estate.of("assignment")}
    assert scopes["Audit-PIP-Root"] == scopes["Audit-PIP-Corp"] == MG + "sovereign"
    assert scopes["Audit-PIP-Extra"] == MG + "lz_extra"  # slz does not use the override: its own name, noted
    assert any("lz_extra -> lz_extra" in n for n in estate.notes), estate.notes
    both = read_library(lib)  # no --env: every architecture, the first (alz) wins and the second use is noted
    assert {i.name: i.props["scope"] for i in both.of("assignment")}["Audit-PIP-Root"] == MG + "contoso"
    assert any("also used at management group 'sovereign'" in n for n in both.notes), both.notes


def test_an_assignment_no_archetype_lists_goes_to_the_top_management_group(tmp_path: Path) -> None:
    lib = _library(tmp_path)
    (lib / "policy_assignments" / "Loose.alz_policy_assignment.json").write_text(
        json.dumps(_assignment("Loose", "Audit-PIP")), encoding="utf-8")
    estate = read_library(lib)
    assert {i.name: i.props["scope"] for i in estate.of("assignment")}["Loose"] == MG + "contoso"
    assert "assignments no archetype lists, placed at 'contoso': Loose" in estate.notes


def test_an_archetype_at_two_management_groups_assigns_its_policies_at_both_under_one_name(tmp_path: Path) -> None:
    """An architecture may put one archetype at several management groups (the ALZ library's `corp` and
    `online` both take landing-zone archetypes); each gets the archetype's assignments under the same names.
    The import writes one intent per name with both scopes, and the ALZ export lists it in both archetypes."""
    from policygen.export import export_pack

    lib = _library(tmp_path / "lib")
    arch = lib / "architecture_definitions" / "alz.alz_architecture_definition.json"
    doc = json.loads(arch.read_text(encoding="utf-8"))
    doc["management_groups"].append({"id": "corp", "display_name": "Corp", "archetypes": ["landing_zones"],
                                     "parent_id": "landingzones", "exists": False})
    arch.write_text(json.dumps(doc), encoding="utf-8")
    report = from_files("alz", lib, None, name="lz")
    assert not report.inexact, report.inexact
    write(report, tmp_path / "pack")
    intent = yaml.safe_load((tmp_path / "pack" / "assignments" / "Audit-PIP-Corp.yaml").read_text(encoding="utf-8"))
    assert intent["scope"] == ["landingzones", "corp"]
    build = compile_pack(tmp_path / "pack")
    assert {k: a.scope for k, a in build.assignments.items() if a.name == "Audit-PIP-Corp"} == {
        "Audit-PIP-Corp@landingzones": MG + "landingzones", "Audit-PIP-Corp@corp": MG + "corp"}
    export_pack(build, "alz", tmp_path / "alz")
    files = sorted(p.name for p in (tmp_path / "alz" / "policy_assignments").iterdir())
    assert files.count("Audit-PIP-Corp.alz_policy_assignment.json") == 1
    lists = {p.name: json.loads(p.read_text(encoding="utf-8"))["policy_assignments"]
             for p in sorted((tmp_path / "alz" / "archetype_definitions").iterdir())}
    assert [n for n, names in lists.items() if "Audit-PIP-Corp" in names] == [
        "lz_corp.alz_archetype_definition.json", "lz_landingzones.alz_archetype_definition.json"]
