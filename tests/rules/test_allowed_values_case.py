"""An assigned value must match allowedValues exactly: "Allowed value comparisons are case-sensitive"
(https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-parameters), so Azure
refuses `deny` for `["Audit", "Deny"]`. validate, build and plan all refuse it at the YAML line of the value.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from policygen.cli import app
from tests.render.helpers import write_pack

FILES = {
    "definitions/kv-public.yaml": """
        intent: disable-public-network-access
        resourceTypes: [Microsoft.KeyVault/vaults]
        displayName: Key vaults disable public network access
        effect: {default: Audit, allowed: [Audit, Deny]}
    """,
    "assignments/kv.yaml": """
        name: kv-public
        displayName: Key vault public access
        definition: kv-public
        scope: dev
        parameters:
          effect: deny
    """,
}


@pytest.mark.parametrize(
    "command", [["validate", "{pack}"], ["build", "{pack}", "--out", "{out}"], ["plan", "{pack}", "--env", "dev"]]
)
def test__allowed_values__a_differently_cased_value_is_refused_at_its_line(tmp_path: Path, command: list[str]) -> None:
    pack = write_pack(tmp_path / "pack", FILES)
    argv = [a.format(pack=pack, out=tmp_path / "out") for a in command]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 1, result.output
    assert "kv.yaml:6:11: error ASG-05" in result.output
    assert "value 'deny' for 'effect' is not in allowedValues ['Audit', 'Deny']" in result.output
    assert not (tmp_path / "out" / "assignments").exists()


def test__allowed_values__the_exact_spelling_passes(tmp_path: Path) -> None:
    files = dict(FILES)
    files["assignments/kv.yaml"] = files["assignments/kv.yaml"].replace("effect: deny", "effect: Deny")
    pack = write_pack(tmp_path / "pack", files)
    result = CliRunner().invoke(app, ["validate", str(pack)])
    assert result.exit_code == 0, result.output


def test__allowed_values__an_initiative_member_literal_is_refused_at_its_line(tmp_path: Path) -> None:
    """A literal passed to a fanned-out member's parameter: the finding names the member's YAML line of the
    value, also for the second resource type's entry."""
    files = {
        "definitions/pna.yaml": """
            intent: disable-public-network-access
            resourceTypes: [Microsoft.KeyVault/vaults, Microsoft.Storage/storageAccounts]
            displayName: "{resourceType} disable public network access"
            effect: {default: Audit, allowed: [Audit, Deny]}
        """,
        "initiatives/base.yaml": """
            name: base
            displayName: Baseline
            members:
              - definition: pna
                parameters:
                  effect: audit
        """,
    }
    result = CliRunner().invoke(app, ["validate", str(write_pack(tmp_path, files))])
    assert result.exit_code == 1, result.output
    set03 = [line for line in result.output.splitlines() if "SET-03" in line]
    assert len(set03) == 2 and all("base.yaml:6:15: error SET-03" in line for line in set03)
