"""FN-01 (functions.allowed)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from policygen.arm.expressions import function_arity, is_expression
from policygen.arm.functions import is_banned
from policygen.arm.lookup import ci_key
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.expr_facts import analyse
from policygen.rules.fn.common import RULE
from policygen.rules.model import Doc, walk_strings


@lru_cache(maxsize=32768)
def function_problems(text: str) -> tuple[str, ...]:
    """Syntax, unknown/banned functions and arity problems of one policy-evaluated expression."""
    info = analyse(text)
    if info.error is not None:
        return (f"invalid template expression {text!r}: {info.error.reason} (at character {info.error.pos + 1})",)
    out = []
    for call, _depth in info.calls:
        key = call.name.lower()
        if is_banned(key):
            out.append(f"{call.name}() is not available in policy rules (only inside a deployment template)")
            continue
        arity = function_arity(key)
        if arity is None:
            out.append(f"unknown template function {call.name}()")
            continue
        lo, hi = arity
        n = len(call.args)
        if n < lo or (hi is not None and n > hi):
            want = f"{lo}" if lo == hi else f"{lo}+" if hi is None else f"{lo}-{hi}"
            out.append(f"{call.name}() takes {want} argument{'s' if want != '1' else ''}, got {n}")
        elif key == "createobject" and n % 2:
            out.append("createObject() takes key/value pairs (an even number of arguments)")
    return tuple(out)


def _value_strings(doc: Doc) -> Iterable[tuple[str, str]]:
    if doc.kind == "initiative":
        from policygen.rules.set.common import member_expressions

        for ptr, s, _name in member_expressions(doc):
            yield ptr, s
    else:
        pk = ci_key(doc.props, "parameters")
        if pk is not None:
            for ptr, s in walk_strings(doc.props[pk], doc.ptr(pk)):
                if is_expression(s):
                    yield ptr, s


class AllowedFunctions(Rule):
    """Expressions parse and call only ARM functions Policy allows (no reference, resourceId, variables, list*).

    Policy evaluates a subset of ARM template functions; the others fail the PUT or the evaluation.

    **Anti-pattern**

    ```json
    {"value": "[resourceId('Microsoft.Network/virtualNetworks', 'hub')]", "notEquals": "[field('id')]"}
    ```

    **Better**

    ```json
    {"value": "[concat(subscription().id, '/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/hub')]",
     "notEquals": "[field('id')]"}
    ```

    Code: FN-01 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule
    """

    code = "FN-01"
    name = "functions.allowed"
    severity = Severity.ERROR
    kinds = frozenset({"definition", "initiative", "assignment"})
    source = RULE

    def check(self, doc: Doc) -> Iterable[Hit]:
        if doc.kind == "definition":
            for e in doc.exprs:
                for problem in function_problems(e.text):
                    yield e.ptr, problem
            return
        # initiatives: member parameter values; assignments: parameter values
        for ptr, s in _value_strings(doc):
            for problem in function_problems(s):
                yield ptr, problem
