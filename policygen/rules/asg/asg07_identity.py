"""ASG-07 (assignments.identity)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from policygen.arm.effects import REMEDIATING
from policygen.arm.expressions import is_expression
from policygen.arm.lookup import ci_get, ci_key
from policygen.assignment_effects import UNKNOWN, parameter_value, with_defaults
from policygen.rules.asg.common import ASG, target_of
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.expr_facts import analyse
from policygen.rules.model import Doc
from policygen.rules.set.common import find_definition, member_params, props_of

REMED = "https://learn.microsoft.com/azure/governance/policy/how-to/remediate-resources"


def effective_effects(doc: Doc) -> set[str]:
    """Effects the assignment will run with (definition or each initiative member), lower-case.

    The chain (assignment → initiative → member → definition default) is policygen.assignment_effects'. What
    differs is what a validator must tolerate in authored documents: keys in any case, members found by name,
    references read by our expression parser, and values it cannot tell (UNKNOWN), which are left out.
    """
    kind, props = target_of(doc)
    if props is None:
        return set()
    set_params = with_defaults(_declared(props), _given(ci_get(doc.props, "parameters")))
    if kind == "definition":
        effects = [_effect_of(props, set_params)]
    else:
        effects = []
        for m in ci_get(props, "policyDefinitions") or []:
            target = find_definition(doc.definitions, ci_get(m, "policyDefinitionId")) if isinstance(m, dict) else None
            if target is None:
                continue
            # a member passing null for a parameter leaves it to the definition's default
            passed = {k: _resolve(v, set_params) for k, v in _given(member_params(m)).items() if v is not None}
            effects.append(_effect_of(props_of(target), with_defaults(_declared(props_of(target)), passed)))
    return {e.lower() for e in effects if isinstance(e, str) and e}


def _given(params: Any) -> dict[str, Any]:
    """`{"p": {"value": v}}` -> `{"p": v}`, whatever the key case."""
    if not isinstance(params, dict):
        return {}
    return {k: ci_get(w, "value") for k, w in params.items() if isinstance(w, dict) and ci_key(w, "value") is not None}


def _declared(props: dict) -> dict[str, Any]:
    """The declared parameters, `defaultValue` spelt as policygen.assignment_effects reads it."""
    declared = ci_get(props, "parameters")
    if not isinstance(declared, dict):
        return {}
    return {
        k: {"defaultValue": ci_get(s, "defaultValue")} if ci_key(s, "defaultValue") is not None else {}
        for k, s in declared.items()
        if isinstance(s, dict)
    }


def _resolve(value: Any, params: dict[str, Any]) -> Any:
    """policygen.assignment_effects.resolve, with `[parameters('x')]` read by our expression parser."""
    if isinstance(value, str) and is_expression(value):
        ref = analyse(value).bare_param
        return parameter_value(ref, params) if ref else UNKNOWN
    return value


def _effect_of(props: dict, params: dict[str, Any]) -> Any:
    rule = ci_get(props, "policyRule")
    then = ci_get(rule, "then") if isinstance(rule, dict) else None
    return _resolve(ci_get(then, "effect"), params) if isinstance(then, dict) else None


class IdentityAndLocation(Rule):
    """deployIfNotExists/modify assignments need a managed identity and a location other than global.

    Remediation runs as the assignment's managed identity, which lives in a region.

    **Anti-pattern**

    ```json
    {"location": "global", "properties": {"policyDefinitionId": ".../policyDefinitions/dine-diag"}}
    ```

    **Better**

    ```json
    {"location": "westeurope", "identity": {"type": "SystemAssigned"},
     "properties": {"policyDefinitionId": ".../policyDefinitions/dine-diag"}}
    ```

    Code: ASG-07 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/how-to/remediate-resources
    """

    code = "ASG-07"
    name = "assignments.identity"
    severity = Severity.ERROR
    kinds = ASG
    source = REMED

    def check(self, doc: Doc) -> Iterable[Hit]:
        ident = doc.obj.get("identity") if doc.base else None
        if isinstance(ident, dict):
            t = ci_get(ident, "type")
            tl = t.lower() if isinstance(t, str) else None
            if tl not in ("systemassigned", "userassigned", "none"):
                yield "/identity", f"identity.type {t!r} is not SystemAssigned, UserAssigned or None"
            elif tl == "userassigned":
                uai = ci_get(ident, "userAssignedIdentities")
                if not isinstance(uai, dict) or len(uai) != 1:
                    yield "/identity", "UserAssigned identity needs exactly one entry in userAssignedIdentities"
        needs = effective_effects(doc) & REMEDIATING
        if not needs:
            return
        tl = str(ci_get(ident, "type")).lower() if isinstance(ident, dict) else "none"
        what = " and ".join(sorted(needs))
        if tl in ("none", "null"):
            yield "/identity", f"the assignment runs {what} and needs a managed identity (ResourceIdentityRequired)"
        loc = doc.obj.get("location") if doc.base else None
        if not isinstance(loc, str) or not loc or loc.lower() == "global":
            yield "/location", f"the assignment runs {what} and needs a location (not 'global') for its identity"
