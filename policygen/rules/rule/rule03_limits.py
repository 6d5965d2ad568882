"""RULE-03 (policy_rule.limits)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc


class AuthoringLimits(Rule):
    """Rule size limits: conditions, functions, arguments, nesting, expression length and count limits.

    Azure refuses rules beyond its limits: 4,096 conditions in if, 128 in then, 2,048 functions, 128
    arguments, 64 nesting levels, 81,920-character expressions, 10 value counts of at most 100 iterations, 5
    field counts per array.

    **Anti-pattern**

    ```json
    {"count": {"value": "[range(0, 500)]", "name": "i", "where": {"value": "[current('i')]", "equals": 1}},
     "greater": 0}
    ```

    **Better**

    ```json
    {"count": {"value": "[range(0, 100)]", "name": "i", "where": {"value": "[current('i')]", "equals": 1}},
     "greater": 0}
    ```

    Code: RULE-03 (error)
    Source: https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#azure-policy-limits
    """

    code = "RULE-03"
    name = "policy_rule.limits"
    severity = Severity.ERROR
    source = "https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#azure-policy-limits"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if doc.rule is None:
            return
        n_if = doc.n_conditions["if"]
        n_then = doc.n_conditions["existence"]
        if n_if > 4096:
            yield doc.if_ptr, f"{n_if} condition expressions in 'if'; Azure allows at most 4,096"
        if n_then > 128:
            yield doc.then_ptr, f"{n_then} condition expressions in 'then'; Azure allows at most 128"
        n_funcs = 0
        nested_ifs = 0
        for e in doc.exprs:
            info = e.info
            n_funcs += len(info.calls)
            nested_ifs += info.n_ifs
            if len(e.text) < 512 and info.max_depth <= 64 and info.max_args <= 128:
                continue
            if info.max_args > 128:
                yield e.ptr, f"a function call has {info.max_args} arguments; Azure allows at most 128"
            if info.max_depth > 64:
                yield e.ptr, f"functions nest {info.max_depth} deep; Azure allows at most 64"
            if len(e.text) > 81920:
                yield e.ptr, f"expression has {len(e.text):,} characters; Azure allows at most 81,920"
        n_value_counts = 0
        per_array: dict[str, int] = {}
        for cnt in doc.counts:
            if cnt.kind == "value":
                n_value_counts += 1
                iterations = 1
                for c in (*cnt.parents, cnt):
                    if c.kind == "value" and isinstance(c.target, list):
                        iterations *= max(len(c.target), 1)
                if iterations > 100:
                    yield cnt.ptr, f"value count iterates {iterations} times; Azure allows at most 100"
            elif cnt.kind == "field" and isinstance(cnt.target, str):
                arr = cnt.target.lower()
                per_array[arr] = per_array.get(arr, 0) + 1
                if per_array[arr] == 6:
                    yield cnt.ptr, f"more than 5 field counts over {cnt.target!r}; Azure allows at most 5 per array"
        if n_value_counts > 10:
            yield doc.if_ptr, f"{n_value_counts} value counts; Azure allows at most 10 per rule"
        if n_funcs > 2048:
            yield doc.ptr("policyRule"), f"{n_funcs} policy functions; Azure allows at most 2,048 per rule"
        if nested_ifs > 512:
            yield doc.ptr("policyRule"), f"{nested_ifs} nested conditionals; Azure allows at most 512"
