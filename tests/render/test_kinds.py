"""Every intent kind renders for every resource type in its table, to valid REST JSON with real aliases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policygen.arm.aliases import is_non_alias_field, shipped_catalogue
from policygen.intents.kinds import load_table
from policygen.render import compile_pack
from tests.render.helpers import fields_in, write_pack

TABLE = load_table()
CASES = [(k.name, t) for k in TABLE.kinds.values() if k.name != "custom" for t in k.types]


def _modifiable(kind: str, rtype: str) -> bool:
    row = TABLE.kinds[kind].row(rtype) or {}
    return bool(row.get("checks")) and all("set" in c for c in row["checks"])


# Kinds with a required setting (no sensible default) render with this sample.
REQUIRED_SETTINGS = {"defender-plan": "settings: {plan: Containers}\n"}


def _render(tmp_path: Path, kind: str, rtype: str, effect: str | None = None) -> dict:
    text = f"intent: {kind}\nresourceTypes: [{rtype}]\ndisplayName: Test {kind}\n" + REQUIRED_SETTINGS.get(kind, "")
    if effect:
        text += f"effect: {{default: {effect}, allowed: [{effect}, Disabled]}}\n"
    build = compile_pack(write_pack(tmp_path, {"definitions/t.yaml": text}))
    [art] = build.definitions.values()
    return json.loads(art.text())


@pytest.mark.parametrize(("kind", "rtype"), CASES, ids=[f"{k}:{t.split('/', 1)[1]}" for k, t in CASES])
def test_kind_renders_valid_definition_with_real_aliases(tmp_path: Path, kind: str, rtype: str) -> None:
    body = _render(tmp_path, kind, rtype)
    props = body["properties"]
    assert body["name"] == "t"
    assert props["mode"] in ("All", "Indexed")
    assert props["policyRule"]["then"]["effect"] == "[parameters('effect')]"
    assert props["metadata"]["pacOwnerId"] == "owner-1"
    assert props["parameters"]["effect"]["defaultValue"] in props["parameters"]["effect"]["allowedValues"]
    catalogue = shipped_catalogue()
    used = [f for f in fields_in(props["policyRule"]) if not is_non_alias_field(f)]
    missing = [f for f in used if f not in catalogue]
    assert not missing, f"aliases not in the catalogue: {missing}"
    row = TABLE.kinds[kind].row(rtype) or {}
    expected = f'"{row["groupId"]}"' if kind == "private-dns-zone" else rtype  # DNS policies target the endpoints
    assert expected in json.dumps(props["policyRule"])


MODIFY_CASES = [(k, t) for k, t in CASES if _modifiable(k, t)]


@pytest.mark.parametrize(("kind", "rtype"), MODIFY_CASES, ids=[f"{k}:{t.split('/', 1)[1]}" for k, t in MODIFY_CASES])
def test_modify_variant_renders_operations_and_roles(tmp_path: Path, kind: str, rtype: str) -> None:
    then = _render(tmp_path, kind, rtype, effect="Modify")["properties"]["policyRule"]["then"]
    details = then["details"]
    assert details["conflictEffect"] == "audit"
    assert details["roleDefinitionIds"] and all(
        r.startswith("/providers/Microsoft.Authorization/roleDefinitions/") for r in details["roleDefinitionIds"]
    )
    assert all(op["operation"] == "addOrReplace" and op["field"] in shipped_catalogue() for op in details["operations"])


def test_all_table_aliases_exist() -> None:
    catalogue = shipped_catalogue()
    for kind in TABLE.kinds.values():
        for row in kind.types.values():
            for check in row.get("checks", []):
                assert is_non_alias_field(check["alias"]) or check["alias"] in catalogue, (kind.name, check["alias"])
            for cond in row.get("where", []):
                for f in fields_in(cond):
                    assert is_non_alias_field(f) or f in catalogue, (kind.name, f)


def test_fan_out_names_and_display_names(tmp_path: Path) -> None:
    root = write_pack(
        tmp_path,
        {
            "definitions/pna.yaml": """
        intent: disable-public-network-access
        resourceTypes: [Microsoft.KeyVault/vaults, Microsoft.Storage/storageAccounts]
        displayName: "{resourceType} should disable public network access"
        """
        },
    )
    build = compile_pack(root)
    assert sorted(build.definitions) == ["pna-kv", "pna-st"]
    assert build.definitions["pna-kv"].properties["displayName"] == "Key vaults should disable public network access"


def test_combined_kind_is_one_definition(tmp_path: Path) -> None:
    root = write_pack(
        tmp_path,
        {
            "definitions/loc.yaml": """
        intent: allowed-locations
        resourceTypes: [Microsoft.KeyVault/vaults, Microsoft.Storage/storageAccounts]
        displayName: Allowed locations
        settings: {locations: [swedencentral]}
        """
        },
    )
    [art] = compile_pack(root).definitions.values()
    props = art.properties
    assert props["parameters"]["listOfAllowedLocations"]["defaultValue"] == ["swedencentral"]
    assert props["policyRule"]["if"]["allOf"][0] == {
        "field": "type",
        "in": ["Microsoft.KeyVault/vaults", "Microsoft.Storage/storageAccounts"],
    }


def test_custom_kind_passes_rule_through(tmp_path: Path) -> None:
    root = write_pack(
        tmp_path,
        {
            "definitions/c.yaml": """
        intent: custom
        displayName: Tags required
        effect: {default: Deny, allowed: [Audit, Deny]}
        settings:
          mode: All
          if: {field: "tags['owner']", exists: false}
        parameters:
          tagName: {type: String, defaultValue: owner}
        """
        },
    )
    [art] = compile_pack(root).definitions.values()
    assert art.properties["mode"] == "All"
    assert art.properties["policyRule"]["if"] == {"field": "tags['owner']", "exists": False}
    assert art.properties["parameters"]["tagName"] == {"type": "String", "defaultValue": "owner"}
