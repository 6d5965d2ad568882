"""RULE-02 (policy_rule.grammar)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.rule.common import RULE


class ConditionGrammar(Rule):
    """Logical operators are well formed; each leaf has one of field/value/count and exactly one operator.

    allOf/anyOf take a non-empty array, not takes one condition, and a leaf has one operand and one
    operator.

    **Anti-pattern**

    ```json
    {"not": [{"field": "location", "value": "x", "equals": "westeurope"}]}
    ```

    **Better**

    ```json
    {"not": {"field": "location", "equals": "westeurope"}}
    ```

    Code: RULE-02 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule
    """

    code = "RULE-02"
    name = "policy_rule.grammar"
    severity = Severity.ERROR
    source = RULE

    def check(self, doc: Doc) -> Iterable[Hit]:
        yield from doc.malformed
        for ptr, node, keys, _region in doc.logicals:
            if len(keys) != 1:
                others = sorted(node)
                yield ptr, f"a logical operator stands alone in its object; found keys {others}"
            for low, k in keys.items():
                v = node[k]
                if low == "not":
                    if not isinstance(v, dict):
                        yield ptr + "/" + k, "'not' takes one condition object"
                elif low in ("allof", "anyof") and (not isinstance(v, list) or not v):
                    yield ptr + "/" + k, f"{k!r} takes a non-empty array of conditions"
        for c in doc.irregular:
            keys = c.keys
            if c.op is not None and c.operand is not None and "source" not in keys:
                continue  # one operand and operator plus unknown keys: OP-01's business
            if "source" in keys:
                yield c.ptr, '\'source\' conditions ("source": "action") are no longer supported'
                continue
            operands = [keys[k] for k in keys if k in ("field", "value", "count")]
            if len(operands) != 1:
                what = "no field/value/count operand" if not operands else f"several operands {operands}"
                yield c.ptr, f"a condition needs exactly one of field, value or count; found {what}"
            n_ops = len(c.ops)
            if n_ops == 0:
                extra = [k for low, k in keys.items() if low not in ("field", "value", "count")]
                if not extra:  # unknown keys are reported as unknown operators (OP-01)
                    yield c.ptr, "the condition has no operator"
            elif n_ops > 1:
                yield c.ptr, f"a condition takes exactly one operator; found {[keys[o] for o in c.ops]}"
