"""What an assignment puts in force: its definitions (initiatives expanded), their parameter values and effects.

Shared by assignment validation (ResourceIdentityRequired), policy states and remediation, so all three
agree on which member of an initiative is which and with which parameters. The parameter chain is
policygen.assignment_effects' (the one apply and export use); the emulator differs only in evaluating the
expressions that module leaves UNKNOWN (see `resolve`). Overrides and resourceSelectors are applied by
policygen.emulator.compliance on top of these members.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from policygen import assignment_effects as shared
from policygen.assignment_effects import values_of
from policygen.emulator import policy
from policygen.emulator.context import Context
from policygen.templates.expressions import Expressions
from policygen.templates.names import TemplateError
from policygen.templates.symbolic import Symbolic


@dataclass
class Member:
    definition: dict  # the policy definition (served form)
    parameters: dict[str, Any]  # name -> value, defaults applied
    reference_id: str | None  # policyDefinitionReferenceId when part of an initiative
    set_definition: dict | None  # the initiative, when there is one
    group_names: list[str]
    compiled: dict[str | None, Any] = field(default_factory=dict)  # effect override -> CompiledPolicy (compliance)

    @property
    def effect(self) -> str:
        return effect_of(self.definition, self.parameters)


def resolve(value: Any, params: dict[str, Any]) -> Any:
    """policygen.assignment_effects.resolve, except that the emulator evaluates what it cannot resolve offline,
    as Azure would: an expression using parameters() goes through the template engine; one that still fails
    (or names an unknown parameter) is left as written for the evaluator, which reports it like Azure would.
    Lists and objects are resolved element by element."""
    if isinstance(value, str):
        resolved = shared.resolve(value, params)
        if resolved is not shared.UNKNOWN:
            return resolved
        if shared.parameter_name(value) is None and "parameters(" in value.lower():
            try:
                return Expressions(parameters=params).evaluate(value)
            except (TemplateError, Symbolic):  # reference()/list*(): nothing to read them from here
                return value
        return value
    if isinstance(value, list):
        return [resolve(v, params) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, params) for k, v in value.items()}
    return value


def pinned(emu: Context, definition: dict | None, pattern: str | None) -> dict | None:
    """The version of `definition` a `definitionVersion` pin (`1.*.*`) runs: the newest it allows, as Azure
    resolves it (assignment structure, "Policy definition ID and version"); served under the definition's
    own id so states name the definition, not the version."""
    if not definition or not pattern:
        return definition
    version = policy.version_matching(definition, pattern)
    if version == definition["properties"].get("version"):
        return definition
    vkind = "policySetDefinitionVersions" if definition["type"].lower().endswith("policysetdefinitions") \
        else "policyDefinitionVersions"
    found = emu.store.get(vkind, f"{definition['id']}/versions/{version}")
    if not found:
        return definition
    return {**found, "id": definition["id"], "name": definition["name"], "type": definition["type"]}


def effect_of(definition: dict, params: dict[str, Any]) -> str:
    return str(resolve(shared.written_effect(definition), params))


def members(emu: Context, assignment_props: dict) -> list[Member]:
    """The definitions an assignment applies, with effective parameter values."""
    target = policy.lookup(emu, assignment_props.get("policyDefinitionId", ""))
    if not target:
        return []
    set_params = shared.assignment_parameters({"properties": assignment_props}, target)
    if not target["type"].lower().endswith("policysetdefinitions"):
        return [Member(pinned(emu, target, assignment_props.get("definitionVersion")), set_params, None, None, [])]
    out = []
    for ref in target["properties"].get("policyDefinitions") or []:
        definition = pinned(emu, policy.lookup(emu, ref.get("policyDefinitionId", "")), ref.get("definitionVersion"))
        if not definition:
            continue
        m = shared.member(
            ref.get("policyDefinitionId", ""),
            definition,
            values_of(ref.get("parameters")),
            set_params,
            ref.get("policyDefinitionReferenceId"),
            resolver=resolve,
        )
        out.append(Member(definition, m.parameters, m.reference_id, target, list(ref.get("groupNames") or [])))
    return out
