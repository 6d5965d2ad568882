"""EFF-13: Modify on an alias that is not Modifiable falls back to conflictEffect.

"The property to which the alias maps is marked as 'Modifiable' in the request's API version … If any of
these checks fail, the policy evaluation falls back to the specified conflictEffect" and aliases carry
`defaultMetadata.attributes == "Modifiable"`:
https://learn.microsoft.com/azure/governance/policy/concepts/effect-modify
"""

from __future__ import annotations

import json
from pathlib import Path

from policygen.arm.aliases import load_catalogue
from policygen.rules import Severity, validate_object

ROLE = "/providers/Microsoft.Authorization/roleDefinitions/17d1049b-9a84-46fb-8f53-869881c3d3ab"

# The providers API shape (https://learn.microsoft.com/rest/api/resources/providers/list): one alias marked
# Modifiable, one whose metadata says it is not.
PROVIDERS = {"value": [{"namespace": "Microsoft.Storage", "resourceTypes": [{"resourceType": "storageAccounts",
    "aliases": [
        {"name": "Microsoft.Storage/storageAccounts/publicNetworkAccess", "defaultPath": "properties.publicNetworkAccess",
         "defaultMetadata": {"type": "String", "attributes": "Modifiable"}},
        {"name": "Microsoft.Storage/storageAccounts/sku.name", "defaultPath": "sku.name",
         "defaultMetadata": {"type": "String", "attributes": "None"}},
    ]}]}]}  # fmt: skip


def definition(field: str, value: object) -> dict:
    return {
        "properties": {
            "mode": "Indexed",
            "displayName": "Modify storage",
            "policyRule": {
                "if": {"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
                "then": {
                    "effect": "modify",
                    "details": {
                        "roleDefinitionIds": [ROLE],
                        "operations": [{"operation": "addOrReplace", "field": field, "value": value}],
                    },
                },
            },
        }
    }


def eff13(obj: dict, catalogue, *, own: bool) -> list:
    return [f for f in validate_object(obj, catalogue=catalogue, own=own) if f.code == "EFF-13"]


def test__eff13__an_alias_the_metadata_says_is_not_modifiable_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "providers.json").write_text(json.dumps(PROVIDERS), encoding="utf-8")
    cat = load_catalogue([tmp_path / "providers.json"], cache_dir=tmp_path / "none")
    for own in (True, False):  # third-party JSON too: Azure would not change the property
        [f] = eff13(definition("Microsoft.Storage/storageAccounts/sku.name", "Standard_GRS"), cat, own=own)
        assert f.severity is Severity.ERROR and "conflictEffect" in f.message
        assert f.pointer.endswith("/details/operations/0")
    assert eff13(definition("Microsoft.Storage/storageAccounts/publicNetworkAccess", "Disabled"), cat, own=True) == []


def test__eff13__without_metadata_only_our_intents_get_a_warning(tmp_path: Path) -> None:
    cat = load_catalogue(cache_dir=tmp_path / "none")  # the packaged dump has no Modifiable attribute
    obj = definition("Microsoft.Storage/storageAccounts/accessTier", "Hot")
    [f] = eff13(obj, cat, own=True)
    assert f.severity is Severity.WARNING
    assert eff13(obj, cat, own=False) == []
