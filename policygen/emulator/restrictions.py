"""checkPolicyRestrictions: which values would policy allow for a resource about to be created here?

The portal asks this before a create. The answer is computed by policygen's evaluator over the enforced
assignments in force at the scope (`deny`, and `audit`/`auditIfNotExists` with `includeAuditEffect`):

* `contentEvaluationResult.policyEvaluations`: every such policy the proposed `resourceContent` would trip,
  with each condition of its rule evaluated on its own (`evaluatedExpressions`). It is the verdict of
  `policygen.evaluate.admission.decide`, the function the emulator's request-time deny and `policygen check`
  call too, so the three answers cannot differ (append/modify run first, as on a real request);
* `fieldRestrictions`: for a pending field with candidate `values`, the values each policy refuses (`Deny`,
  or `Audit`); for a pending field without values, what the rules require of it, read from their conditions
  (`field in [...]` under a deny means `Required` with those values; `exists: false` means `Required`).

https://learn.microsoft.com/rest/api/policyinsights/policy-restrictions/check-at-subscription-scope
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from policygen.arm.conditions import CONDITION_OPERATORS
from policygen.arm.scopes import ScopeKind
from policygen.emulator import compliance, effective, hierarchy
from policygen.emulator.context import Context
from policygen.emulator.core import ArmError, Match, Request, Response, bad_request
from policygen.evaluate import admission as verdict

RESTRICTING = {"deny"}
AUDITING = {"audit", "auditifnotexists"}
SETTING = {"modify", "append"}  # policies that give a field its value when the request leaves it out
_TOP = {"name", "type", "location", "kind", "id"}


def check(emu: Context, req: Request, m: Match) -> Response:
    if req.method != "POST":
        raise ArmError(405, "MethodNotAllowed", "checkPolicyRestrictions is a POST.")
    scope = hierarchy.require_scope(emu, m.scope, m.scope_text)
    body = req.json()
    details = body.get("resourceDetails") or {}
    if not isinstance(details, dict) or not isinstance(details.get("resourceContent") or {}, dict):
        raise bad_request("InvalidCheckRestrictionsRequest", "resourceDetails.resourceContent must be an object.")
    content = copy.deepcopy(details.get("resourceContent") or {})
    if scope.kind is not ScopeKind.MANAGEMENT_GROUP and not content.get("type"):
        raise bad_request("InvalidCheckRestrictionsRequest", "resourceDetails.resourceContent.type is required.")
    pending = body.get("pendingFields") or []
    if not isinstance(pending, list) or any(not isinstance(p, dict) or not p.get("field") for p in pending):
        raise bad_request("InvalidCheckRestrictionsRequest", "pendingFields is a list of {field, values}.")
    effects = RESTRICTING | (AUDITING if body.get("includeAuditEffect") else set())
    candidate = _candidate(m.scope_text, content)
    policies = list(_policies(emu, candidate, effects))
    setting = list(_policies(emu, candidate, SETTING))
    decision = compliance.decide(emu, candidate, effects)
    return Response(
        200,
        {
            "fieldRestrictions": _field_restrictions(emu, candidate, policies, setting, pending),
            "contentEvaluationResult": {"policyEvaluations": _evaluations(decision, effects)},
        },
    )


def _candidate(scope: str, content: dict) -> dict:
    rtype = str(content.get("type") or "Microsoft.Resources/resourceGroups")
    name = str(content.get("name") or "proposedResource")
    resource = {**content, "type": rtype, "name": name}
    resource.setdefault("id", f"{scope}/providers/{rtype}/{name}")
    resource.setdefault("tags", {})
    return resource


def _policies(emu: Context, candidate: dict, effects: set[str]) -> Iterator[tuple[dict, effective.Member]]:
    """Enforced, unexempt (assignment, member) pairs in force here whose effect may be one of `effects` (the
    pairs whose field conditions `fieldRestrictions` reads; in force and exempt as `admission.decide` says)."""
    for entry in compliance.in_force_at(emu, candidate):
        a = entry.assignment
        if str(a["properties"].get("enforcementMode", "Default")).lower() != "default":
            continue
        for member in entry.members:
            if compliance.may_have_effect(a, member, effects) and \
                    verdict.exemption_for(entry, candidate, member.reference_id) is None:
                yield a, member


def _info(a: dict, member: effective.Member) -> dict:
    return {
        "policyDefinitionId": member.definition["id"],
        "policySetDefinitionId": (member.set_definition or {}).get("id", ""),
        "policyDefinitionReferenceId": member.reference_id or "",
        "policyAssignmentId": a["id"],
    }


def _trips(emu: Context, resource: dict, a: dict, member: effective.Member, effects: set[str]) -> str | None:
    """The effect (Deny, Audit, ...) when the policy would act on `resource`, else None."""
    outcome = compliance.evaluate_one(emu, resource, a, member)
    if outcome is None or not outcome.matched or str(outcome.effect).lower() not in effects:
        return None
    return _effect_name(outcome.effect)


def _effect_name(effect: str) -> str:
    names = {"deny": "Deny", "audit": "Audit", "auditifnotexists": "AuditIfNotExists", "modify": "Modify"}
    return names.get(effect.lower(), {"append": "Append"}.get(effect.lower(), effect))


def _defaults(member: effective.Member, field: str) -> Iterator[tuple[str, Any]]:
    """(field, value) a modify (add / addOrReplace) or append policy writes, for the pending `field`."""
    details = effective.resolve(
        ((member.definition["properties"].get("policyRule") or {}).get("then") or {}).get("details"),
        member.parameters,
    )
    if isinstance(details, dict):
        writes = [
            (str(op.get("field", "")), op.get("value"))
            for op in details.get("operations") or []
            if isinstance(op, dict) and str(op.get("operation", "")).lower() in ("add", "addorreplace")
        ]
    else:
        writes = [(str(d.get("field", "")), d.get("value")) for d in details or [] if isinstance(d, dict)]
    for named, value in writes:
        tag = _tag_name(named)
        if named.lower() == field.lower() or (field.lower() == "tags" and tag is not None):
            yield (f"tags.{tag}" if tag is not None else named), value


def _evaluations(decision: verdict.Decision, effects: set[str]) -> list[dict]:
    """The verdicts that deny (or, with includeAuditEffect, audit) the content, as Azure lists them."""
    out = []
    for v in decision.verdicts:
        if not (v.outcome == "denied" or (v.outcome == "audited" and v.effect in effects & AUDITING)):
            continue
        effect = _effect_name(v.effect)
        out.append(
            {
                "policyInfo": _info(v.assignment, v.member),
                "evaluationResult": "NonCompliant",
                "evaluationDetails": {
                    "evaluatedExpressions": list(_expressions(v.member, decision.request)),
                    "reason": f"The policy '{_display(v.member)}' would {effect.lower()} this resource.",
                },
                "effectDetails": {"policyEffect": effect},
            }
        )
    return out


def _display(member: effective.Member) -> str:
    return str(member.definition["properties"].get("displayName") or member.definition["name"])


def _leaves(node: Any, negated: bool = False) -> Iterator[tuple[dict, bool]]:
    """The field conditions of a rule's `if`, each with whether an odd number of `not`s encloses it."""
    if not isinstance(node, dict):
        return
    if "not" in node:
        yield from _leaves(node["not"], not negated)
    for group in ("allOf", "anyOf"):
        for child in node.get(group) or []:
            yield from _leaves(child, negated)
    if "field" in node or "value" in node:
        yield node, negated


def _condition(leaf: dict) -> tuple[str, str, Any] | None:
    op = next((o for o in CONDITION_OPERATORS if o in leaf), None)
    if op is None:
        return None
    kind = "field" if "field" in leaf else "value"
    return kind, op, leaf[op]


def _expressions(member: effective.Member, candidate: dict) -> Iterator[dict]:
    """Each condition of the rule evaluated alone on the candidate (what Azure lists as evaluatedExpressions)."""
    from policygen.evaluate import compile_policy

    rule = member.definition["properties"].get("policyRule") or {}
    for leaf, _ in _leaves(rule.get("if")):
        cond = _condition(leaf)
        if cond is None:
            continue
        kind, op, target = cond
        expression = str(effective.resolve(leaf[kind], member.parameters))
        resolved_target = effective.resolve(target, member.parameters)
        single = {kind: expression, op: resolved_target}
        try:
            outcome = compile_policy(
                {
                    "id": "restriction-check",
                    "name": "check",
                    "properties": {"mode": "All", "policyRule": {"if": single, "then": {"effect": "audit"}}},
                },
                {},
            ).evaluate(candidate, explain=False)
            result = "True" if outcome.matched else "False"
        except Exception:  # a condition the evaluator cannot run alone is reported, not fatal
            result = "Unknown"
        yield {
            "result": result,
            "expressionKind": kind,
            "expression": expression,
            "path": expression if kind == "field" else "",
            "expressionValue": _field_value(candidate, expression) if kind == "field" else expression,
            "targetValue": resolved_target,
            "operator": op,
        }


def _field_value(resource: dict, field: str) -> Any:
    low = field.lower()
    if low in _TOP:
        return str(resource.get(low, "")).lower() if low == "type" else resource.get(low)
    tag = _tag_name(field)
    if tag is not None:
        return (resource.get("tags") or {}).get(tag)
    return None


def _tag_name(field: str) -> str | None:
    """`x` for `tags['x']`, `tags[x]` and `tags.x`."""
    low = field.lower()
    if low.startswith("tags["):
        return field[5:].rstrip("]").strip("'")
    if low.startswith("tags."):
        return field[5:]
    return None


def _set_field(resource: dict, field: str, value: Any) -> dict | None:
    """A copy of the candidate with `field` set to `value` (top-level fields and tags), None when not settable."""
    out = copy.deepcopy(resource)
    low = field.lower()
    if low in _TOP:
        out[low] = value
        return out
    tag = _tag_name(field)
    if tag is not None:
        out.setdefault("tags", {})[tag] = value
        return out
    return None


def _names_field(member: effective.Member, field: str) -> bool:
    rule = member.definition["properties"].get("policyRule") or {}
    for leaf, _ in _leaves(rule.get("if")):
        named = str(effective.resolve(leaf.get("field", ""), member.parameters)).lower()
        if named == field.lower() or (field.lower() == "tags" and _tag_name(named) is not None):
            return True
        if _tag_name(named) is not None and _tag_name(field) is not None and _tag_name(named) == _tag_name(field):
            return True
    return False


def _field_restrictions(
    emu: Context,
    candidate: dict,
    policies: list[tuple[dict, effective.Member]],
    setting: list[tuple[dict, effective.Member]],
    pending: list[dict],
) -> list[dict]:
    by_field: dict[str, list[dict]] = {}
    # The request may leave the location pending; Indexed policies only see resources with one.
    located = {"location": next((p["values"][0] for p in pending if p["field"] == "location" and p.get("values")), "")}
    probe = candidate if candidate.get("location") else {**candidate, **located}
    for p in pending:
        field, values = str(p["field"]), p.get("values")
        if not values:
            for a, member in setting:
                if _trips(emu, probe, a, member, SETTING) is None:
                    continue
                for name, default in _defaults(member, field):
                    by_field.setdefault(name, []).append(
                        {
                            "result": "Required",
                            "defaultValue": default,
                            "policy": _info(a, member),
                            "policyEffect": _effect_name(member.effect),
                            "reason": f"{name} is set to {default!r} by policy '{_display(member)}' when not given",
                        }
                    )
        for a, member in policies:
            if not _names_field(member, field):
                continue
            if values:
                by_field.setdefault(field, []).extend(_denied_values(emu, candidate, a, member, field, values))
            else:
                for name, restriction in _required(member, field):
                    by_field.setdefault(name, []).append({**restriction, "policy": _info(a, member)})
    return [{"field": f, "restrictions": r} for f, r in by_field.items() if r]


def _denied_values(
    emu: Context, candidate: dict, a: dict, member: effective.Member, field: str, values: list
) -> list[dict]:
    """The candidate values the policy refuses (or audits) for `field`."""
    refused, effect = [], None
    for value in values:
        probe = _set_field(candidate, field, value)
        if probe is None:
            return []
        tripped = _trips(emu, probe, a, member, RESTRICTING | AUDITING)
        if tripped:
            refused.append(value)
            effect = tripped
    if not refused or len(refused) == len(values) and not _names_field(member, field):
        return []
    return [
        {
            "result": effect if effect in ("Deny", "Audit") else "Audit",
            "values": refused,
            "policy": _info(a, member),
            "policyEffect": effect,
            "reason": f"The policy '{_display(member)}' does not allow {field} {', '.join(map(str, refused))}.",
        }
    ]


def _required(member: effective.Member, field: str) -> Iterator[tuple[str, dict]]:
    """What a rule requires of a field with no candidate values, from its conditions on that field."""
    rule = member.definition["properties"].get("policyRule") or {}
    effect = _effect_name(effective.effect_of(member.definition, member.parameters))
    for leaf, negated in _leaves(rule.get("if")):
        cond = _condition(leaf)
        if cond is None or cond[0] != "field":
            continue
        _, op, target = cond
        named = str(effective.resolve(leaf["field"], member.parameters))
        tag = _tag_name(named)
        shown = f"tags.{tag}" if tag is not None else named
        if not (named.lower() == field.lower() or (field.lower() == "tags" and tag is not None)):
            continue
        target = effective.resolve(target, member.parameters)
        listed = target if isinstance(target, list) else [target]
        must_match = (op in ("notIn", "notEquals")) != negated  # deny unless the value is listed
        must_not = (op in ("in", "equals")) != negated  # deny when the value is listed
        missing = op == "exists" and (str(target).lower() == "false") != negated
        if must_match or missing:
            out: dict[str, Any] = {"result": "Required", "policyEffect": effect, "reason": f"{shown} is required"}
            if must_match:
                out["values"] = listed
            yield shown, out
        elif must_not:
            yield (
                shown,
                {
                    "result": "Deny" if effect == "Deny" else "Audit",
                    "policyEffect": effect,
                    "values": listed,
                    "reason": f"{shown} may not be {', '.join(map(str, listed))}",
                },
            )
