"""What an assignment puts in force: its definitions (initiatives expanded), their parameter values and effects.

Shared by assignment validation (ResourceIdentityRequired), policy states and remediation, so all three
agree on which member of an initiative is which and with which parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from policygen.emulator import policy

if TYPE_CHECKING:
    from policygen.emulator.app import Emulator

_SIMPLE_PARAM = re.compile(r"^\[\s*parameters\(\s*'([^']+)'\s*\)\s*\]$", re.I)


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


def values_of(params: dict | None) -> dict[str, Any]:
    """`{"p": {"value": v}}` → `{"p": v}`."""
    return {k: (v or {}).get("value") for k, v in (params or {}).items() if isinstance(v, dict)}


def with_defaults(declared: dict | None, given: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    lower = {k.lower(): v for k, v in given.items()}
    for name, spec in (declared or {}).items():
        if name.lower() in lower:
            out[name] = lower[name.lower()]
        elif "defaultValue" in (spec or {}):
            out[name] = spec["defaultValue"]
    return out


def resolve(value: Any, params: dict[str, Any]) -> Any:
    """Replace `[parameters('x')]` (whole-string references, as initiatives use them) by x's value."""
    if isinstance(value, str):
        m = _SIMPLE_PARAM.match(value)
        if m:
            lower = {k.lower(): v for k, v in params.items()}
            return lower.get(m.group(1).lower(), value)
        if "parameters(" in value.lower() and value.startswith("[") and not value.startswith("[["):
            from policygen.emulator.templates import Expressions, TemplateError

            try:
                return Expressions(parameters=params).evaluate(value)
            except TemplateError:
                return value  # left for the evaluator, which reports it like Azure would
        return value
    if isinstance(value, list):
        return [resolve(v, params) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, params) for k, v in value.items()}
    return value


def effect_of(definition: dict, params: dict[str, Any]) -> str:
    effect = ((definition.get("properties") or {}).get("policyRule") or {}).get("then", {}).get("effect", "")
    return str(resolve(effect, params))


def members(emu: Emulator, assignment_props: dict) -> list[Member]:
    """The definitions an assignment applies, with effective parameter values."""
    target = policy.lookup(emu, assignment_props.get("policyDefinitionId", ""))
    if not target:
        return []
    given = values_of(assignment_props.get("parameters"))
    if not target["type"].lower().endswith("policysetdefinitions"):
        return [Member(target, with_defaults(target["properties"].get("parameters"), given), None, None, [])]
    set_params = with_defaults(target["properties"].get("parameters"), given)
    out = []
    for ref in target["properties"].get("policyDefinitions") or []:
        definition = policy.lookup(emu, ref.get("policyDefinitionId", ""))
        if not definition:
            continue
        member_given = {k: resolve(v, set_params) for k, v in values_of(ref.get("parameters")).items()}
        out.append(
            Member(
                definition,
                with_defaults(definition["properties"].get("parameters"), member_given),
                ref.get("policyDefinitionReferenceId"),
                target,
                list(ref.get("groupNames") or []),
            )
        )
    return out
