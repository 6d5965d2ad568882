"""Findings inside a `custom` intent's settings point at the offending YAML key, name parameters as written,
and aliases of every resource type are known (the packaged catalogue is complete).

Alias names and misspellings: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-alias
Parameter names are case-insensitive but keep their spelling:
https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-parameters
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from policygen.cli import app
from tests.render.helpers import write_pack

COSMOS = """
intent: custom
displayName: Cosmos DB accounts disable local auth
description: Key-based auth off.
version: 1.0.0
effect: {default: Audit, allowed: [Audit, Deny, Disabled]}
parameters:
  AllowedLevel:
    type: String
    defaultValue: Strong
    displayName: Allowed level
    description: Consistency level.
settings:
  mode: Indexed
  if:
    allOf:
      - field: type
        equals: Microsoft.DocumentDB/databaseAccounts
      - field: Microsoft.DocumentDB/databaseAccounts/disableLocalAuth
        notEquals: true
      - field: Microsoft.DocumentDB/databaseAccounts/disableLocalAut
        exists: true
      - value: "[parameters('allowedLevel')]"
        equals: "[parameters('OtherParam')]"
"""


def test__custom_intent__findings_point_at_the_settings_key_with_names_as_written(tmp_path: Path) -> None:
    pack = write_pack(tmp_path, {"definitions/cosmos.yaml": COSMOS})
    result = CliRunner().invoke(app, ["validate", str(pack)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if " error " in line]
    # the Cosmos DB alias a built-in uses is known (no FLD-02 for disableLocalAuth, line 18)
    assert not any("cosmos.yaml:18:" in line for line in lines)
    [fld] = [line for line in lines if "FLD-02" in line]
    assert "cosmos.yaml:20:16:" in fld and "did you mean 'Microsoft.DocumentDB/databaseAccounts/disableLocalAuth'" in fld
    [par] = [line for line in lines if "PAR-05" in line]
    assert "cosmos.yaml:23:17:" in par and "parameters('OtherParam')" in par


def test__custom_json__a_cosmos_db_policy_validates_clean(tmp_path: Path) -> None:
    """Built-in 'Cosmos DB database accounts should have local authentication methods disabled' uses
    Microsoft.DocumentDB/databaseAccounts/disableLocalAuth; a custom copy of it is clean (exit 0)."""
    import json

    rule = {
        "if": {"allOf": [
            {"field": "type", "equals": "Microsoft.DocumentDB/databaseAccounts"},
            {"field": "Microsoft.DocumentDB/databaseAccounts/disableLocalAuth", "notEquals": True},
        ]},
        "then": {"effect": "audit"},
    }  # fmt: skip
    body = {"properties": {"displayName": "Cosmos DB local auth", "mode": "Indexed", "policyRule": rule,
                           "metadata": {"category": "Cosmos DB", "version": "1.0.0"}}}  # fmt: skip
    path = tmp_path / "cosmos.json"
    path.write_text(json.dumps(body, indent=2), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "FLD-02" not in result.output
