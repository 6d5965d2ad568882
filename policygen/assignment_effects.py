"""What an assignment runs: its members, the effect each runs with, and whether that member remediates.

One rule for `policygen apply` (policygen.azure.desired) and the exporters (policygen.export): both grant
roles and create remediation tasks from this module, so an export never grants what apply would not (they
drifted once when each had its own copy). It works on plain REST bodies plus a lookup from definition id to
body, and imports neither policygen.azure nor policygen.export.

Effects are resolved through the parameter chain (assignment → initiative → member → definition default),
case-insensitively as ARM does, so a member whose effect the assignment sets to Disabled or Audit needs no
role and gets no remediation task. Any expression other than a whole-string `[parameters('x')]` is UNKNOWN:
we never guess, and a member with an UNKNOWN effect keeps the roles its definition names.

The emulator (policygen.emulator.effective), which evaluates such expressions, and the validator
(policygen.rules.asg), which reads authored documents in any key case, reuse these pieces too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from policygen.arm.effects import REMEDIATING
from policygen.arm.expressions import is_expression

_PARAM_REF = re.compile(r"^\[\s*parameters\(\s*'([^']+)'\s*\)\s*\]$", re.I)
UNKNOWN = object()  # a value we cannot resolve offline (an ARM expression other than parameters('x'))

Lookup = Callable[[str], dict[str, Any] | None]  # definition/initiative id -> REST body, None when unreadable
Resolver = Callable[[Any, dict[str, Any]], Any]  # (value, parameter values in force) -> resolved value


def values_of(params: dict[str, Any] | None) -> dict[str, Any]:
    """`{"p": {"value": v}}` -> `{"p": v}`."""
    return {k: v.get("value") for k, v in (params or {}).items() if isinstance(v, dict) and "value" in v}


def with_defaults(declared: dict[str, Any] | None, given: dict[str, Any]) -> dict[str, Any]:
    """The declared parameters' values in force: given (matched case-insensitively), else the default."""
    lower = {k.lower(): v for k, v in given.items()}
    out: dict[str, Any] = {}
    for name, spec in (declared or {}).items():
        if name.lower() in lower:
            out[name] = lower[name.lower()]
        elif isinstance(spec, dict) and "defaultValue" in spec:
            out[name] = spec["defaultValue"]
    return out


def default_parameters(body: dict[str, Any]) -> dict[str, Any]:
    """The parameter values a definition/initiative (body) runs with when nothing sets them: its defaults."""
    return with_defaults(_props(body).get("parameters"), {})


def parameter_name(value: Any) -> str | None:
    """x when `value` is the whole-string expression `[parameters('x')]`, else None."""
    m = _PARAM_REF.match(value) if isinstance(value, str) else None
    return m.group(1) if m else None


def parameter_value(name: str, params: dict[str, Any]) -> Any:
    """The value of parameter `name` (matched case-insensitively, as ARM does), or UNKNOWN."""
    lower = {k.lower(): v for k, v in params.items()}
    return lower.get(name.lower(), UNKNOWN)


def resolve(value: Any, params: dict[str, Any]) -> Any:
    """Resolve whole-string `[parameters('x')]`; any other expression is UNKNOWN (no guessing)."""
    if is_expression(value):
        name = parameter_name(value)
        return UNKNOWN if name is None else parameter_value(name, params)
    return value


def _props(body: dict[str, Any]) -> dict[str, Any]:
    return body.get("properties") or {}


@dataclass
class Member:
    """One definition an assignment runs, with the parameter values in force for it."""

    definition_id: str
    definition: dict[str, Any]  # REST body
    parameters: dict[str, Any]  # resolved through the chain, defaults applied
    reference_id: str | None  # None when the assignment assigns a single definition
    passed: dict[str, Any] = field(default_factory=dict)  # values the initiative passes it, as written


def member(definition_id: str, definition: dict[str, Any], passed: dict[str, Any], set_params: dict[str, Any],
           reference_id: str | None, resolver: Resolver = resolve) -> Member:
    """An initiative member: the values it passes (`[parameters('x')]` of the initiative resolved) + defaults.

    `resolver` replaces `resolve` for a caller that can evaluate more than `[parameters('x')]` (the emulator)."""
    given = {k: resolver(v, set_params) for k, v in passed.items()}
    return Member(definition_id, definition, with_defaults(_props(definition).get("parameters"), given), reference_id,
                  dict(passed))


def assignment_parameters(assignment: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """Parameter values of the assigned definition/initiative in force under `assignment` (bodies)."""
    return with_defaults(_props(target).get("parameters"), values_of(_props(assignment).get("parameters")))


def members(assignment: dict[str, Any], lookup: Lookup) -> list[Member] | None:
    """The members `assignment` (REST body) runs; None when its target cannot be read, members that cannot
    be read are left out."""
    target_id = _props(assignment).get("policyDefinitionId", "")
    target = lookup(target_id)
    if target is None:
        return None
    set_params = assignment_parameters(assignment, target)
    if "policysetdefinitions" not in target_id.lower():
        return [Member(target_id, target, set_params, None)]
    out = []
    for ref in _props(target).get("policyDefinitions") or []:
        definition = lookup(ref.get("policyDefinitionId", ""))
        if definition is None:
            continue
        out.append(member(ref.get("policyDefinitionId", ""), definition, values_of(ref.get("parameters")), set_params,
                          ref.get("policyDefinitionReferenceId")))
    return out


def written_effect(definition: dict[str, Any]) -> Any:
    """`then.effect` of a definition (body) as written, often `[parameters('effect')]`; "" when absent."""
    rule = _props(definition).get("policyRule") or {}
    return (rule.get("then") or {}).get("effect", "")


def effect_in_force(m: Member) -> str | object:
    """The effect `m` runs with, as written (case kept), or UNKNOWN."""
    effect = resolve(written_effect(m.definition), m.parameters)
    return effect if isinstance(effect, str) else UNKNOWN


def member_effect(m: Member) -> str | object:
    """The effect in force, lower-cased (for comparing), or UNKNOWN."""
    effect = effect_in_force(m)
    return effect.lower() if isinstance(effect, str) else UNKNOWN


def role_ids(m: Member) -> list[str]:
    """The roleDefinitionIds the member's definition names (whatever its effect)."""
    details = ((_props(m.definition).get("policyRule") or {}).get("then") or {}).get("details") or {}
    return [str(r) for r in details.get("roleDefinitionIds") or [] if isinstance(r, str)] \
        if isinstance(details, dict) else []


def remediates(m: Member) -> bool:
    """Modify/DeployIfNotExists in force: the member needs its roles and gets a remediation task. When the
    effect cannot be told offline, the roles the definition names are kept (so is its task)."""
    effect = member_effect(m)
    return bool(role_ids(m)) if effect is UNKNOWN else effect in REMEDIATING
