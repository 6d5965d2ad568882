"""A `custom` intent listing several resourceTypes renders one definition per type, each limited to its type
(#16 item 13): before, every copy evaluated every type, so a Modify ran N times on each resource.

Type condition as the built-ins write it: `{"field": "type", "equals": "<namespace>/<type>"}`
(https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule#fields).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policygen.cli import run
from policygen.errors import InputError
from policygen.evaluate.testing import run_tests
from policygen.render import compile_pack
from tests.render.helpers import write_pack

SUB = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg"
TAG_OWNER = """
intent: custom
displayName: Resources should carry an owner tag
resourceTypes: [Microsoft.DocumentDB/databaseAccounts, Microsoft.Storage/storageAccounts]
effect: {default: Modify, allowed: [Modify, Disabled]}
settings:
  if: {field: "tags['owner']", exists: false}
  details:
    roleDefinitionIds: [/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c]
    operations: [{operation: addOrReplace, field: "tags['owner']", value: platform}]
tests:
  - name: an untagged account is tagged by the Cosmos DB definition
    for: Microsoft.DocumentDB/databaseAccounts
    resource: {id: SUB/providers/Microsoft.DocumentDB/databaseAccounts/c1, type: Microsoft.DocumentDB/databaseAccounts,
               name: c1, location: westeurope, tags: {}}
    expect: {compliant: false, effect: modify, modified: {tags: {owner: platform}}}
  - name: the Cosmos DB definition leaves storage accounts to their own definition
    for: Microsoft.DocumentDB/databaseAccounts
    resource: {id: SUB/providers/Microsoft.Storage/storageAccounts/st1, type: Microsoft.Storage/storageAccounts,
               name: st1, location: westeurope, tags: {}}
    expect: {matched: false}
  - name: the storage definition leaves Cosmos DB accounts alone
    for: Microsoft.Storage/storageAccounts
    resource: {id: SUB/providers/Microsoft.DocumentDB/databaseAccounts/c1, type: Microsoft.DocumentDB/databaseAccounts,
               name: c1, location: westeurope, tags: {}}
    expect: {matched: false}
""".replace("SUB", SUB)


def _errors(root: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        compile_pack(root)
    return [str(d) for d in info.value.diagnostics]


def test_one_definition_per_type_each_limited_to_its_type(tmp_path: Path) -> None:
    build = compile_pack(write_pack(tmp_path, {"definitions/tag-owner.yaml": TAG_OWNER}))
    assert sorted(build.definitions) == ["tag-owner-cosmos", "tag-owner-st"]
    for name, rtype in (("tag-owner-cosmos", "Microsoft.DocumentDB/databaseAccounts"),
                        ("tag-owner-st", "Microsoft.Storage/storageAccounts")):
        props = build.definitions[name].properties
        assert props["policyRule"]["if"] == {"allOf": [{"field": "type", "equals": rtype},
                                                       {"field": "tags['owner']", "exists": False}]}
        assert props["policyRule"]["then"]["details"]["operations"][0]["value"] == "platform"
    run_ = run_tests(build.definitions, build.tests)
    assert [r.failures for r in run_.results if not r.passed] == []
    assert len(run_.results) == 3


def test_findings_inside_the_rule_still_point_at_the_yaml(tmp_path: Path) -> None:
    build = compile_pack(write_pack(tmp_path, {"definitions/tag-owner.yaml": TAG_OWNER}))
    pointers = build.definitions["tag-owner-st"].pointers
    assert str(pointers["/properties/policyRule/if/allOf/0"]).endswith("tag-owner.yaml:3:56")  # resourceTypes[1]


def test_short_names_are_whole_words_and_unique(tmp_path: Path) -> None:
    root = write_pack(tmp_path, {"definitions/t.yaml": """
        intent: custom
        displayName: T
        resourceTypes: [Contoso.Apps/databaseAccounts, Contoso.Data/things, Fabrikam.Data/things]
        settings: {if: {field: location, equals: eastus}}
        """})
    build = compile_pack(root)
    assert sorted(build.definitions) == ["t-contoso-data-things", "t-databaseaccounts", "t-fabrikam-data-things"]
    assert build.definitions["t-databaseaccounts"].properties["displayName"] == "T (Contoso.Apps/databaseAccounts)"


def test_single_type_gets_its_condition_unless_the_rule_already_has_it(tmp_path: Path) -> None:
    root = write_pack(tmp_path, {
        "definitions/a.yaml": """
        intent: custom
        displayName: A
        resourceTypes: [Microsoft.KeyVault/vaults]
        settings: {if: {field: location, equals: eastus}}
        """,
        "definitions/b.yaml": """
        intent: custom
        displayName: B
        resourceTypes: [Microsoft.KeyVault/vaults]
        settings:
          if: {allOf: [{field: type, equals: microsoft.keyvault/vaults}, {field: location, equals: eastus}]}
        """,
    })
    build = compile_pack(root)
    assert build.definitions["a"].properties["policyRule"]["if"]["allOf"][0] == {
        "field": "type", "equals": "Microsoft.KeyVault/vaults"}
    assert build.definitions["b"].properties["policyRule"]["if"]["allOf"][0] == {
        "field": "type", "equals": "microsoft.keyvault/vaults"}
    assert len(build.definitions["b"].properties["policyRule"]["if"]["allOf"]) == 2


def test_refused_where_a_type_can_never_match(tmp_path: Path) -> None:
    root = write_pack(tmp_path, {
        "definitions/a.yaml": """
        intent: custom
        displayName: A
        resourceTypes: [Microsoft.KeyVault/vaults, Microsoft.Storage/storageAccounts]
        settings:
          if: {allOf: [{field: type, equals: Microsoft.Storage/storageAccounts}, {field: location, equals: eastus}]}
        """,
        "definitions/b.yaml": """
        intent: custom
        displayName: B
        resourceTypes: [Microsoft.KeyVault/vaults, microsoft.keyvault/VAULTS]
        settings: {if: {field: location, equals: eastus}}
        """,
    })
    msgs = _errors(root)
    assert any(m.endswith("a.yaml:3:17: resourceTypes lists 'Microsoft.KeyVault/vaults' but settings.if only matches "
                          "type microsoft.storage/storageaccounts: its definition would never apply; remove the type or "
                          "widen the condition") for m in msgs), msgs
    assert any("b.yaml:3:44: resource type 'microsoft.keyvault/VAULTS' is listed twice (also resourceTypes[0])" in m
               for m in msgs), msgs
    assert len(msgs) == 2
    assert run(["build", str(root), "--out", str(tmp_path / "out")]) == 2
