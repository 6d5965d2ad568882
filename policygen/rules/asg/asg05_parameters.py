"""ASG-05 (assignments.parameters)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.expressions import is_expression
from policygen.arm.lookup import ci_get, ci_key
from policygen.rules.asg.common import ASG, ASSIGN, target_of
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.par.common import in_allowed, value_matches_type


class AssignmentParameters(Rule):
    """Parameters are {name: {value}}, exist on the definition, fit type/allowedValues; required ones are set.

    Every value is wrapped in {"value": ...}, names a parameter of the definition and fits its type and
    allowedValues.

    **Anti-pattern**

    ```json
    {"properties": {"parameters": {"effect": "Audit", "colour": {"value": "blue"}}}}
    ```

    **Better**

    ```json
    {"properties": {"parameters": {"effect": {"value": "Audit"}}}}
    ```

    Code: ASG-05 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure
    """

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
