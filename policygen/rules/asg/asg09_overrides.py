"""ASG-09 (assignments.overrides)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from policygen.arm.effects import DOCUMENTED
from policygen.arm.expressions import is_expression
from policygen.arm.lookup import ci_get, ci_key
from policygen.rules.asg.common import ASG, ASSIGN, DEF_VERSION, selector_problems, target_of
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.expr_facts import analyse
from policygen.rules.model import Doc
from policygen.rules.set.common import find_definition, props_of


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


class Overrides(Rule):
    """overrides: at most 10, kind policyEffect or definitionVersion, effect values valid for the members.

    Overrides change the effect (or version) of members, within what those members allow.

    **Anti-pattern**

    ```json
    {"overrides": [{"kind": "policyEffect", "value": "Block"}]}
    ```

    **Better**

    ```json
    {"overrides": [{"kind": "policyEffect", "value": "Disabled",
                    "selectors": [{"kind": "policyDefinitionReferenceId", "in": ["storagePublic"]}]}]}
    ```

    Code: ASG-09 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure
    """

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
        for i, ov in enumerate(ovs):
            p = doc.ptr(k, i)
            if not isinstance(ov, dict):
                yield p, "an override is an object {kind, value, selectors}"
                continue
            kind = str(ci_get(ov, "kind")).lower()
            value = ci_get(ov, "value")
            if kind == "policyeffect":
                if not (isinstance(value, str) and value.lower() in DOCUMENTED):
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
            elif kind in ("definitionversion", "policyversion"):  # definitionVersion: the REST enum
                if not (isinstance(value, str) and DEF_VERSION.match(value)):
                    yield p, f"definitionVersion override {value!r} must look like '1.*.*'"
                dv = ci_get(doc.props, "definitionVersion")
                if isinstance(dv, str) and isinstance(value, str) and _major(value) < _major(dv):
                    yield p, f"definitionVersion override {value} is older than definitionVersion {dv}"
            else:
                yield p, f"override kind {ci_get(ov, 'kind')!r} is not policyEffect or definitionVersion"
