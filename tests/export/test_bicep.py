"""Bicep export: golden files, JSON files identical to the build, references and modules."""

from __future__ import annotations

import json
import re
from pathlib import Path

from policygen.export.bicep import quote
from policygen.render import compile_pack
from tests.export.support import check_golden, rendered


def test_golden(fixture_pack: Path) -> None:
    """The Bicep itself; the JSON beside it is the build's own text (checked below), not repeated here."""
    files = rendered(fixture_pack, "bicep", env="azure")
    check_golden("bicep", {rel: text for rel, text in files.items() if rel.endswith(".bicep")})
    build = compile_pack(fixture_pack, "azure")
    assert {rel: text for rel, text in files.items() if rel.endswith(".json")} == \
        {a.relpath: a.text() for a in build.artefacts()}


def test_policy_json_is_the_build_and_every_file_is_loaded(mlops_pack: Path) -> None:
    build = compile_pack(mlops_pack, "azure")
    files = rendered(mlops_pack, "bicep", env="azure")
    main = files["main.bicep"]
    for art in build.written():  # exemptions too (modules/exemption-*.bicep)
        assert files[art.relpath] == art.text(), "the loaded JSON is exactly what `policygen build` writes"
        assert f"'{art.relpath}'" in main
    loaded = set(re.findall(r"load(?:Json|Text)Content\('([^']+)'\)", main))
    assert loaded == {a.relpath for a in build.written()}


def test_scopes_dependencies_and_roles(fixture_pack: Path) -> None:
    files = rendered(fixture_pack, "bicep", env="azure")
    main = files["main.bicep"]
    assert main.count("targetScope = 'managementGroup'") == 1
    assert "scope: managementGroup('contoso-prod')" in main
    assert "scope: subscription('33333333-3333-3333-3333-333333333333')" in main
    assert "scope: resourceGroup('33333333-3333-3333-3333-333333333333', 'rg-apps')" in main
    assert sorted(r for r in files if r.startswith("modules/")) == \
        ["modules/assignment-mg.bicep", "modules/assignment-rg.bicep", "modules/assignment-sub.bicep"]
    assert "targetScope = 'resourceGroup'" in files["modules/assignment-rg.bicep"]
    block = main[main.index("module assign_guardrails_prod"):]
    block = block[:block.index("\n}\n")]
    assert "'/providers/Microsoft.Authorization/roleDefinitions/17d1049b-9a84-46fb-8f53-869881c3d3ab'" in block
    assert "dependsOn: [\n    set_guardrails\n  ]" in block
    set_block = main[main.index("resource set_guardrails"):]
    assert "def_tag_check" in set_block[:set_block.index("\n}\n")]
    assert "var packPrefix = '/providers/Microsoft.Management/managementGroups/contoso/providers/Microsoft.Authorization/'" in main


def test_replace_moves_only_the_packs_own_ids(fixture_pack: Path) -> None:
    files = rendered(fixture_pack, "bicep", env="azure")
    prefix = "/providers/Microsoft.Management/managementGroups/contoso/providers/Microsoft.Authorization/"
    body = files["initiatives/guardrails.json"].replace(prefix, "/providers/Microsoft.Management/managementGroups/"
                                                                "other/providers/Microsoft.Authorization/")
    ids = [m["policyDefinitionId"] for m in json.loads(body)["properties"]["policyDefinitions"]]
    assert ids.count("/providers/Microsoft.Authorization/policyDefinitions/06a78e20-9358-41c9-923c-fb736d382a4d") == 1
    assert sum(i.startswith("/providers/Microsoft.Management/managementGroups/other/") for i in ids) == 3


def test_quote_escapes_bicep_strings() -> None:
    assert quote("it's ${x}\\") == "'it\\'s \\${x}\\\\'"


def test_symbols_are_declared_once_and_module_params_exist(mlops_pack: Path, fixture_pack: Path) -> None:
    for pack in (mlops_pack, fixture_pack):
        files = rendered(pack, "bicep", env="azure")
        main = files["main.bicep"]
        declared = re.findall(r"^(?:resource|module) (\w+) ", main, flags=re.M)
        assert len(declared) == len(set(declared))
        depends = re.findall(r"dependsOn: \[\n((?:    \w+\n)+)  \]", main)
        assert {s.strip() for block in depends for s in block.split()} <= set(declared)
        for module, params in re.findall(r"^module \w+ '([^']+)' = \{.*?  params: \{\n(.*?)\n  \}", main, flags=re.M | re.S):
            declared_params = set(re.findall(r"^param (\w+) ", files[module], flags=re.M))
            used = set(re.findall(r"^    (\w+):", params, flags=re.M))
            assert used <= declared_params and "assignment" in used
