"""Initiative members as the ALZ library writes them (#15): a `-preview` version pin, and a local member that
passes no effect (it runs its definition's default effect; no initiative parameter is generated for it).

Published examples: Azure-Landing-Zones-Library platform/alz/policy_set_definitions/
Deny-PublicPaaSEndpoints.alz_policy_set_definition.json (`"definitionVersion": "1.*.*-preview"`) and
Deploy-MDFC-Config_20240319.alz_policy_set_definition.json (member `securityEmailContact` passes no effect).
Member structure: https://learn.microsoft.com/azure/governance/policy/concepts/initiative-definition-structure
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policygen.emulator.policy import version_matching
from policygen.errors import InputError
from policygen.render import compile_pack
from tests.render.helpers import write_pack

AUDIT = """
intent: custom
displayName: Audit public IPs
settings:
  if: {field: type, equals: Microsoft.Network/publicIPAddresses}
"""
SET = """
displayName: Guardrails
members:
  - builtin: 1f6e93e8-6b31-41b1-83f6-36e449a42579
    referenceId: asr-vault
    definitionVersion: 1.*.*-preview
  - definition: audit-ip
    referenceId: ip
    effectParameter: false
"""


def test_preview_pin_is_kept_and_no_effect_parameter_when_the_member_passes_none(tmp_path: Path) -> None:
    build = compile_pack(write_pack(tmp_path, {"definitions/audit-ip.yaml": AUDIT, "initiatives/guard.yaml": SET}))
    props = build.initiatives["guard"].properties
    assert props["policyDefinitions"][0]["definitionVersion"] == "1.*.*-preview"
    assert props["policyDefinitions"][1]["parameters"] == {}
    assert props["parameters"] == {}


def test_without_effect_parameter_false_the_member_effect_is_an_initiative_parameter(tmp_path: Path) -> None:
    text = SET.replace("    effectParameter: false\n", "")
    build = compile_pack(write_pack(tmp_path, {"definitions/audit-ip.yaml": AUDIT, "initiatives/guard.yaml": text}))
    props = build.initiatives["guard"].properties
    assert props["policyDefinitions"][1]["parameters"] == {"effect": {"value": "[parameters('effect-ip')]"}}
    assert "effect-ip" in props["parameters"]


@pytest.mark.parametrize("extra", ["    effect: Disabled\n", "    parameters: {effect: Disabled}\n"])
def test_effect_parameter_false_with_an_effect_is_refused(tmp_path: Path, extra: str) -> None:
    root = write_pack(tmp_path, {"definitions/audit-ip.yaml": AUDIT, "initiatives/guard.yaml": SET + extra})
    with pytest.raises(InputError) as info:
        compile_pack(root)
    assert any("effectParameter: false" in str(d) and "guard.yaml:" in str(d) for d in info.value.diagnostics)


@pytest.mark.parametrize("pin", ["1.*.*-preview-x", "1.*-preview", "preview"])
def test_a_pin_that_is_not_major_minor_patch_is_refused(tmp_path: Path, pin: str) -> None:
    root = write_pack(tmp_path, {"definitions/audit-ip.yaml": AUDIT,
                                 "initiatives/guard.yaml": SET.replace("1.*.*-preview", pin)})
    with pytest.raises(InputError):
        compile_pack(root)


def test_the_emulator_runs_the_newest_version_of_the_pinned_major_for_a_preview_pin() -> None:
    definition = {"properties": {"versions": ["1.0.0", "1.1.0-preview", "2.0.0"]}}
    assert version_matching(definition, "1.*.*-preview") == "1.1.0-preview"
    assert version_matching(definition, "2.*.*") == "2.0.0"


@pytest.mark.parametrize(("groups", "expected"), [("", "absent"), ("groups: []\n", []), ("groups: null\n", None)])
def test_groups_are_written_as_given(tmp_path: Path, groups: str, expected: object) -> None:
    """Published initiatives have policyDefinitionGroups absent (ALZ library), null (Enterprise-Scale) or a list;
    a member's `groupNames: []` (ALZ) is written when given."""
    text = SET.replace("    effectParameter: false\n", "    effectParameter: false\n    groups: []\n") + groups
    build = compile_pack(write_pack(tmp_path, {"definitions/audit-ip.yaml": AUDIT, "initiatives/guard.yaml": text}))
    props = build.initiatives["guard"].properties
    assert props.get("policyDefinitionGroups", "absent") == expected
    assert props["policyDefinitions"][1]["groupNames"] == [] and "groupNames" not in props["policyDefinitions"][0]
