"""ASG: assignment names, definition reference, parameters, identity, selectors and overrides."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from policygen.assignment_effects import UNKNOWN, parameter_value, with_defaults
from policygen.expressions import is_expression
from policygen.rules.base import ASSIGNMENT, CollectionRule, Hit, Rule, Severity, Summary
from policygen.rules.definition import name_problems
from policygen.rules.initiatives import find_definition, member_params, props_of
from policygen.rules.model import Doc, analyse, ci_get, ci_key
from policygen.rules.parameters import in_allowed, value_matches_type

ASSIGN = "https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure"
LIMITS = "https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#azure-policy-limits"
REMED = "https://learn.microsoft.com/azure/governance/policy/how-to/remediate-resources"

DEF_VERSION = re.compile(r"^\d+\.(\d+|\*)\.\*$")
ASG = frozenset({ASSIGNMENT})


def scope_of(doc: Doc) -> str | None:
    if doc.assignment_scope:
        return doc.assignment_scope
    for key in ("id",):
        v = doc.obj.get(key)
        if isinstance(v, str) and "/providers/microsoft.authorization/policyassignments/" in v.lower():
            return v[: v.lower().index("/providers/microsoft.authorization/policyassignments/")]
    s = ci_get(doc.props, "scope")
    return s if isinstance(s, str) else None


def target_of(doc: Doc) -> tuple[str | None, dict | None]:
    """('definition'|'initiative', properties) of the assigned object when the caller supplied it."""
    pid = ci_get(doc.props, "policyDefinitionId")
    found = find_definition(doc.definitions, pid) if isinstance(pid, str) else None
    if found is None:
        return None, None
    props = props_of(found)
    if ci_key(props, "policyRule") is not None:
        return "definition", props
    if ci_key(props, "policyDefinitions") is not None:
        return "initiative", props
    return None, None


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
    return {k: {"defaultValue": ci_get(s, "defaultValue")} if ci_key(s, "defaultValue") is not None else {}
            for k, s in declared.items() if isinstance(s, dict)}


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


class AssignmentName(Rule):
    """Assignment names are 1-64 characters (1-24 at management-group scope); display text within limits."""

    code = "ASG-01"
    name = "assignments.name"
    severity = Severity.ERROR
    kinds = ASG
    source = ASSIGN

    def check(self, doc: Doc) -> Iterable[Hit]:
        scope = scope_of(doc) or ""
        at_mg = "/providers/microsoft.management/managementgroups/" in scope.lower()
        if doc.name is not None:
            for p in name_problems(doc.name, 24 if at_mg else 64, "assignment name"):
                yield "/name", p + (" (management-group scope)" if at_mg and "characters" in p else "")
        for key, limit in (("displayName", 128), ("description", 512)):
            v = ci_get(doc.props, key)
            if isinstance(v, str) and len(v) > limit:
                yield doc.ptr(ci_key(doc.props, key)), f"{key} has {len(v)} characters; Azure allows at most {limit}"


class DefinitionReference(Rule):
    """policyDefinitionId is one definition or initiative ID; definitionVersion looks like `1.*.*`."""

    code = "ASG-02"
    name = "assignments.definition_reference"
    severity = Severity.ERROR
    kinds = ASG
    source = ASSIGN

    def check(self, doc: Doc) -> Iterable[Hit]:
        k = ci_key(doc.props, "policyDefinitionId")
        pid = doc.props.get(k) if k else None
        if not isinstance(pid, str) or "/providers/microsoft.authorization/policy" not in pid.lower():
            yield (
                doc.ptr(k or "policyDefinitionId"),
                f"policyDefinitionId must be a definition or initiative ID, not {pid!r}",
            )
        vk = ci_key(doc.props, "definitionVersion")
        if vk is not None and not (isinstance(doc.props[vk], str) and DEF_VERSION.match(doc.props[vk])):
            yield doc.ptr(vk), f"definitionVersion {doc.props[vk]!r} must look like '1.*.*' or '1.2.*'"


class EnforcementMode(Rule):
    """enforcementMode is Default or DoNotEnforce."""

    code = "ASG-03"
    name = "assignments.enforcement_mode"
    severity = Severity.ERROR
    kinds = ASG
    source = ASSIGN

    def check(self, doc: Doc) -> Iterable[Hit]:
        k = ci_key(doc.props, "enforcementMode")
        if k is not None and str(doc.props[k]).lower() not in ("default", "donotenforce"):
            yield doc.ptr(k), f"enforcementMode {doc.props[k]!r} is not Default or DoNotEnforce"


class NotScopes(CollectionRule):
    """notScopes is an array of at most 400 scope IDs; at most 200 assignments per scope."""

    code = "ASG-04"
    name = "assignments.not_scopes"
    severity = Severity.ERROR
    kinds = ASG
    source = LIMITS

    def check(self, doc: Doc) -> Iterable[Hit]:
        k = ci_key(doc.props, "notScopes")
        if k is None:
            return
        ns = doc.props[k]
        if not isinstance(ns, list) or not all(isinstance(s, str) for s in ns):
            yield doc.ptr(k), "notScopes must be an array of scope IDs"
        elif len(ns) > 400:
            yield doc.ptr(k), f"{len(ns)} notScopes; Azure allows at most 400"

    def check_all(self, docs: list[Summary]) -> Iterable[tuple[Summary, str, str]]:
        by_scope: dict[str, list[Summary]] = {}
        for d in docs:
            if d.kind == "assignment":
                by_scope.setdefault((d.scope or "").lower(), []).append(d)
        for scope, items in by_scope.items():
            if scope and len(items) > 200:
                yield items[200], "", f"{len(items)} assignments at {scope}; Azure allows at most 200 per scope"


class AssignmentParameters(Rule):
    """Parameters are {name: {value}}, exist on the definition, fit type/allowedValues; required ones are set."""

    code = "ASG-05"
    name = "assignments.parameters"
    severity = Severity.ERROR
    kinds = ASG
    source = ASSIGN

    def check(self, doc: Doc) -> Iterable[Hit]:
        pk = ci_key(doc.props, "parameters")
        params = doc.props.get(pk) if pk else {}
        if params is None:
            params = {}
        if not isinstance(params, dict):
            yield doc.ptr(pk), "parameters must be an object {name: {value: ...}}"
            return
        for name, w in params.items():
            if not isinstance(w, dict) or ci_key(w, "value") is None:
                yield doc.ptr(pk, name), f"parameter {name!r} must be {{'value': ...}}"
        _kind, props = target_of(doc)
        if props is None:
            return
        declared = ci_get(props, "parameters") or {}
        declared_l = {k.lower(): (k, v) for k, v in declared.items() if isinstance(v, dict)}
        for name, w in params.items():
            got = declared_l.get(name.lower())
            if got is None:
                yield (
                    doc.ptr(pk, name),
                    f"parameter {name!r} is not defined by the assigned definition (UndefinedPolicyParameter)",
                )
                continue
            _, spec = got
            value = ci_get(w, "value") if isinstance(w, dict) else None
            t = ci_get(spec, "type")
            t = t.lower() if isinstance(t, str) else None
            allowed = ci_get(spec, "allowedValues")
            if not value_matches_type(value, t):
                yield doc.ptr(pk, name), f"value {value!r} does not fit {t} parameter {name!r}"
            elif (
                isinstance(allowed, list)
                and not (isinstance(value, str) and is_expression(value))
                and not in_allowed(value, allowed)
            ):
                yield doc.ptr(pk, name), f"value {value!r} for {name!r} is not in allowedValues {allowed}"
        given = {k.lower() for k in params}
        for low, (orig, spec) in declared_l.items():
            if low not in given and ci_key(spec, "defaultValue") is None:
                yield doc.ptr(pk or "parameters"), f"required parameter {orig!r} (no defaultValue) is not set"


class NonComplianceMessages(Rule):
    """nonComplianceMessages are {message, policyDefinitionReferenceId?} with existing reference IDs."""

    code = "ASG-06"
    name = "assignments.non_compliance_messages"
    severity = Severity.ERROR
    kinds = ASG
    source = ASSIGN

    def check(self, doc: Doc) -> Iterable[Hit]:
        k = ci_key(doc.props, "nonComplianceMessages")
        if k is None:
            return
        msgs = doc.props[k]
        if not isinstance(msgs, list):
            yield doc.ptr(k), "nonComplianceMessages must be an array"
            return
        kind, props = target_of(doc)
        refs = None
        if kind == "initiative":
            refs = {
                str(ci_get(m, "policyDefinitionReferenceId")).lower()
                for m in ci_get(props, "policyDefinitions") or []
                if isinstance(m, dict)
            }
        for i, m in enumerate(msgs):
            if not isinstance(m, dict) or not isinstance(ci_get(m, "message"), str):
                yield doc.ptr(k, i), "each non-compliance message needs a 'message' string"
                continue
            ref = ci_get(m, "policyDefinitionReferenceId")
            if ref is None:
                continue
            if kind == "definition":
                yield doc.ptr(k, i), "policyDefinitionReferenceId applies only to initiative assignments"
            elif refs is not None and str(ref).lower() not in refs:
                yield doc.ptr(k, i), f"policyDefinitionReferenceId {ref!r} is not a member of the initiative"


class IdentityAndLocation(Rule):
    """deployIfNotExists/modify assignments need a managed identity and a location other than global."""

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
        needs = effective_effects(doc) & {"deployifnotexists", "modify"}
        if not needs:
            return
        tl = str(ci_get(ident, "type")).lower() if isinstance(ident, dict) else "none"
        what = " and ".join(sorted(needs))
        if tl in ("none", "null"):
            yield "/identity", f"the assignment runs {what} and needs a managed identity (ResourceIdentityRequired)"
        loc = doc.obj.get("location") if doc.base else None
        if not isinstance(loc, str) or not loc or loc.lower() == "global":
            yield "/location", f"the assignment runs {what} and needs a location (not 'global') for its identity"


class ResourceSelectors(Rule):
    """resourceSelectors: at most 10, each with a name and selectors of known kinds using in or notIn."""

    code = "ASG-08"
    name = "assignments.resource_selectors"
    severity = Severity.ERROR
    kinds = ASG
    source = ASSIGN

    KINDS = ("resourcelocation", "resourcetype", "resourcewithoutlocation")

    def check(self, doc: Doc) -> Iterable[Hit]:
        k = ci_key(doc.props, "resourceSelectors")
        if k is None:
            return
        rs = doc.props[k]
        if not isinstance(rs, list):
            yield doc.ptr(k), "resourceSelectors must be an array"
            return
        if len(rs) > 10:
            yield doc.ptr(k), f"{len(rs)} resource selectors; Azure allows at most 10"
        for i, sel in enumerate(rs):
            if not isinstance(sel, dict) or not isinstance(ci_get(sel, "name"), str):
                yield doc.ptr(k, i), "each resource selector needs a name"
                continue
            yield from selector_problems(ci_get(sel, "selectors"), doc.ptr(k, i, "selectors"), self.KINDS)


def selector_problems(selectors: Any, ptr: str, kinds: tuple[str, ...]) -> Iterable[Hit]:
    if not isinstance(selectors, list) or not selectors:
        yield ptr, "selectors must be a non-empty array"
        return
    seen: set[str] = set()
    for j, s in enumerate(selectors):
        sp = f"{ptr}/{j}"
        kind = ci_get(s, "kind") if isinstance(s, dict) else None
        low = kind.lower() if isinstance(kind, str) else None
        if low not in kinds:
            yield sp, f"selector kind {kind!r} is not one of {', '.join(kinds)}"
            continue
        if low in seen:
            yield sp, f"selector kind {kind!r} appears twice"
        seen.add(low)
        has_in, has_not = ci_key(s, "in") is not None, ci_key(s, "notIn") is not None
        if has_in == has_not:
            yield sp, "a selector takes exactly one of 'in' or 'notIn'"
        else:
            vals = ci_get(s, "in" if has_in else "notIn")
            if not isinstance(vals, list) or len(vals) > 50:
                yield sp, "selector values are an array of at most 50 entries"
    if {"resourcelocation", "resourcewithoutlocation"} <= seen:
        yield ptr, "resourceLocation and resourceWithoutLocation are mutually exclusive"


class Overrides(Rule):
    """overrides: at most 10, kind policyEffect or policyVersion, effect values valid for the members."""

    code = "ASG-09"
    name = "assignments.overrides"
    severity = Severity.ERROR
    kinds = ASG
    source = ASSIGN

    def check(self, doc: Doc) -> Iterable[Hit]:
        k = ci_key(doc.props, "overrides")
        if k is None:
            return
        ovs = doc.props[k]
        if not isinstance(ovs, list):
            yield doc.ptr(k), "overrides must be an array"
            return
        if len(ovs) > 10:
            yield doc.ptr(k), f"{len(ovs)} overrides; Azure allows at most 10"
        from policygen.rules.effects import EFFECTS

        for i, ov in enumerate(ovs):
            p = doc.ptr(k, i)
            if not isinstance(ov, dict):
                yield p, "an override is an object {kind, value, selectors}"
                continue
            kind = str(ci_get(ov, "kind")).lower()
            value = ci_get(ov, "value")
            if kind == "policyeffect":
                if not (isinstance(value, str) and value.lower() in EFFECTS):
                    yield p, f"override value {value!r} is not an effect"
                else:
                    for where, allowed in _effect_allowed_values(doc, ci_get(ov, "selectors")):
                        if value.lower() not in allowed:
                            yield p, f"override effect {value!r} is not allowed by {where} (allowed: {sorted(allowed)})"
                sels = ci_get(ov, "selectors")
                if sels is not None:
                    yield from selector_problems(
                        sels, p + "/selectors", ("policydefinitionreferenceid", "resourcelocation")
                    )
            elif kind == "policyversion":
                if not (isinstance(value, str) and DEF_VERSION.match(value)):
                    yield p, f"policyVersion override {value!r} must look like '1.*.*'"
                dv = ci_get(doc.props, "definitionVersion")
                if isinstance(dv, str) and isinstance(value, str) and _major(value) < _major(dv):
                    yield p, f"policyVersion override {value} is older than definitionVersion {dv}"
            else:
                yield p, f"override kind {ci_get(ov, 'kind')!r} is not policyEffect or policyVersion"


def _effect_allowed_values(doc: Doc, selectors: Any) -> list[tuple[str, set[str]]]:
    """(what, allowed effects) for the definitions an effect override targets, when they are known."""
    kind, props = target_of(doc)
    if props is None:
        return []
    if kind == "definition":
        allowed = _allowed_effects(props)
        return [("the definition's effect parameter", allowed)] if allowed else []
    refs = None
    for sel in selectors or []:
        if isinstance(sel, dict) and str(ci_get(sel, "kind")).lower() == "policydefinitionreferenceid":
            refs = {str(r).lower() for r in (ci_get(sel, "in") or [])}
    out = []
    for m in ci_get(props, "policyDefinitions") or []:
        if not isinstance(m, dict):
            continue
        ref = str(ci_get(m, "policyDefinitionReferenceId"))
        if refs is not None and ref.lower() not in refs:
            continue
        target = find_definition(doc.definitions, ci_get(m, "policyDefinitionId"))
        allowed = _allowed_effects(props_of(target)) if target else set()
        if allowed:
            out.append((f"member {ref!r}", allowed))
    return out


def _allowed_effects(props: dict) -> set[str]:
    rule = ci_get(props, "policyRule")
    then = ci_get(rule, "then") if isinstance(rule, dict) else None
    eff = ci_get(then, "effect") if isinstance(then, dict) else None
    if not (isinstance(eff, str) and is_expression(eff)):
        return set()
    ref = analyse(eff).bare_param
    spec = ci_get(ci_get(props, "parameters") or {}, ref) if ref else None
    allowed = ci_get(spec, "allowedValues") if isinstance(spec, dict) else None
    return {v.lower() for v in allowed if isinstance(v, str)} if isinstance(allowed, list) else set()


def _major(v: str) -> int:
    head = v.split(".", 1)[0]
    return int(head) if head.isdigit() else 0
