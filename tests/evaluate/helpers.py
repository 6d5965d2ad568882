"""Small builders for evaluator tests: a rule from a condition, and one-call evaluation."""

from __future__ import annotations

from typing import Any

from policygen.arm.aliases import AliasCatalogue
from policygen.evaluate import EvalContext, Outcome, compile_policy

# The ARRAYS page's example payload (reference 2.5), usable as a golden fixture.
ARRAYS_RESOURCE: dict[str, Any] = {
    "type": "Microsoft.Test/resourceType",
    "name": "test",
    "tags": {"env": "prod"},
    "properties": {
        "stringArray": ["a", "b", "c"],
        "objectArray": [
            {"property": "value1", "nestedArray": [1, 2]},
            {"property": "value2", "nestedArray": [3, 4]},
        ],
    },
}
T = "Microsoft.Test/resourceType/"


def definition(condition: dict, effect: str = "audit", *, parameters: dict | None = None, details: Any = None) -> dict:
    then: dict[str, Any] = {"effect": effect}
    if details is not None:
        then["details"] = details
    return {
        "name": "test-policy",
        "properties": {
            "mode": "All",
            "parameters": parameters or {},
            "policyRule": {"if": condition, "then": then},
        },
    }


def run(
    condition: dict,
    resource: dict | None = None,
    *,
    values: dict | None = None,
    parameters: dict | None = None,
    context: EvalContext | None = None,
    catalogue: AliasCatalogue | None = None,
) -> Outcome:
    declared = dict(parameters or {})
    for k in values or {}:
        declared.setdefault(k, {"type": "String"})
    pol = compile_policy(definition(condition, parameters=declared), values, catalogue=catalogue)
    return pol.evaluate(ARRAYS_RESOURCE if resource is None else resource, context=context)


def matches(condition: dict, resource: dict | None = None, **kw: Any) -> bool:
    out = run(condition, resource, **kw)
    assert out.error is None, out.error
    return out.matched


def value(expression: str, resource: dict | None = None, **kw: Any) -> Any:
    """Evaluate an expression by comparing it in a value condition (returns the traced value)."""
    from policygen.evaluate.expr import CompileCtx, compile_value
    from policygen.evaluate.runtime import Scope

    cc = CompileCtx(
        {k.lower(): v for k, v in (kw.get("values") or {}).items()},
        {k.lower(): k for k in (kw.get("values") or {})},
        kw.get("catalogue"),
    )
    c = compile_value(expression, cc)
    return c.fn(Scope(ARRAYS_RESOURCE if resource is None else resource, kw.get("context")))
