"""One rule for what an assignment runs: the effect in force per member, and so its roles and remediation.

Export and apply both derive from policygen.assignment_effects; the last tests check they agree on real packs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from policygen.assignment_effects import (
    UNKNOWN,
    default_parameters,
    effect_in_force,
    member,
    member_effect,
    members,
    parameter_name,
    remediates,
    role_ids,
)
from policygen.azure.desired import derive, desired_state
from policygen.azure.target import resolve_target
from policygen.export.common import remediation_tasks, role_definition_ids
from policygen.render import compile_pack
from tests.export.support import FIXTURE_PACK

ROLE = "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
DEF = "/providers/Microsoft.Management/managementGroups/contoso/providers/Microsoft.Authorization/policyDefinitions/d"
SET = "/providers/Microsoft.Management/managementGroups/contoso/providers/Microsoft.Authorization/policySetDefinitions/s"


def _definition(effect: Any = "[parameters('effect')]", default: str = "Modify") -> dict[str, Any]:
    return {"properties": {
        "parameters": {"effect": {"type": "String", "defaultValue": default}},
        "policyRule": {"if": {}, "then": {"effect": effect, "details": {"roleDefinitionIds": [ROLE]}}}}}


def _initiative(member_params: dict[str, Any]) -> dict[str, Any]:
    return {"properties": {
        "parameters": {"memberEffect": {"type": "String", "defaultValue": "Audit"}},
        "policyDefinitions": [{"policyDefinitionId": DEF, "policyDefinitionReferenceId": "m",
                               "parameters": member_params}]}}


def _assignment(target: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"properties": {"policyDefinitionId": target,
                           "parameters": {k: {"value": v} for k, v in (params or {}).items()}}}


def test_the_chain_resolves_assignment_then_initiative_then_definition_default() -> None:
    bodies = {DEF: _definition(), SET: _initiative({"effect": {"value": "[parameters('memberEffect')]"}})}
    [m] = members(_assignment(SET), bodies.get)
    assert (m.reference_id, effect_in_force(m), remediates(m)) == ("m", "Audit", False)  # initiative default
    [m] = members(_assignment(SET, {"MEMBEREFFECT": "modify"}), bodies.get)  # names are case-insensitive
    assert (effect_in_force(m), member_effect(m), remediates(m), role_ids(m)) == ("modify", "modify", True, [ROLE])
    [m] = members(_assignment(DEF), bodies.get)  # a single definition: its own default
    assert (m.reference_id, effect_in_force(m), remediates(m)) == (None, "Modify", True)
    [m] = members(_assignment(DEF, {"effect": "Disabled"}), bodies.get)
    assert remediates(m) is False


def test_an_effect_that_cannot_be_told_offline_keeps_the_roles_the_definition_names() -> None:
    bodies = {DEF: _definition(effect="[if(true(), 'Modify', 'Audit')]")}
    [m] = members(_assignment(DEF), bodies.get)
    assert member_effect(m) is UNKNOWN and remediates(m) is True


def test_pieces_the_emulator_validator_and_docs_reuse() -> None:
    assert parameter_name("[ Parameters( 'Effect' ) ]") == "Effect"
    assert parameter_name("[concat(parameters('a'))]") is None and parameter_name(5) is None
    initiative = _initiative({"effect": {"value": "[parameters('memberEffect')]"}})
    assert default_parameters(initiative) == {"memberEffect": "Audit"}
    passed = {"effect": "[toLower(parameters('memberEffect'))]"}
    assert member_effect(member(DEF, _definition(), passed, {"memberEffect": "Modify"}, "m")) is UNKNOWN
    evaluated = member(DEF, _definition(), passed, {"memberEffect": "Modify"}, "m", resolver=lambda v, p: "modify")
    assert (effect_in_force(evaluated), remediates(evaluated)) == ("modify", True)


def test_unreadable_target_is_none_and_unreadable_members_are_left_out() -> None:
    assert members(_assignment(SET), {}.get) is None
    assert members(_assignment(SET), {SET: _initiative({})}.get) == []


@pytest.mark.parametrize("pack", ["shipped", "fixture"])
def test_export_grants_and_remediates_exactly_what_apply_derives(pack: str, repo_dir: Path, make_tree) -> None:
    path = repo_dir if pack == "shipped" else make_tree(FIXTURE_PACK)
    build = compile_pack(path, env="local")
    desired = desired_state(build, resolve_target(build, "local"))
    assert derive(desired, lambda _id: None) == []  # local members only, like the export
    seen_roles = seen_tasks = 0
    for name, art in sorted(build.assignments.items()):
        [akey] = [k for k, o in desired.assignments.items() if o.name == name]
        apply_roles = sorted({n.role_definition_id for n in desired.roles[akey]}, key=str.lower)
        apply_members = sorted(r.reference_id or "" for r in desired.remediations[akey])
        system = (art.body.get("identity") or {}).get("type") == "SystemAssigned"
        assert role_definition_ids(build, art) == (apply_roles if system else []), name
        export_members = sorted(t.reference_id or "" for t in remediation_tasks(build, art))
        assert export_members == (apply_members if art.remediation.get("enabled") else []), name
        seen_roles += bool(apply_roles)
        seen_tasks += bool(export_members)
    assert seen_roles and seen_tasks, "the pack has remediating members: the comparison is not vacuous"
