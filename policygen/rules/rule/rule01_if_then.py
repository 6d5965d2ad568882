"""RULE-01 (policy_rule.if_then)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_key
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.rule.common import RULE


class IfThen(Rule):
    """policyRule has exactly `if` and `then`, and `then.effect` is set.

    Anything else in policyRule is rejected; without an effect nothing happens.

    **Anti-pattern**

    ```json
    {"policyRule": {"if": {"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
                    "then": {"details": {}}, "else": {"effect": "audit"}}}
    ```

    **Better**

    ```json
    {"policyRule": {"if": {"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
                    "then": {"effect": "audit"}}}
    ```

    Code: RULE-01 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule
    """

    code = "RULE-01"
    name = "policy_rule.if_then"
    severity = Severity.ERROR
    source = RULE

    def check(self, doc: Doc) -> Iterable[Hit]:
        rk = ci_key(doc.props, "policyRule")
        if rk is None:
            yield doc.ptr("policyRule"), "policyRule is missing"
            return
        rule = doc.props[rk]
        if not isinstance(rule, dict):
            yield doc.ptr(rk), "policyRule must be an object with 'if' and 'then'"
            return
        keys = {k.lower(): k for k in rule}
        for want in ("if", "then"):
            if want not in keys:
                yield doc.ptr(rk), f"policyRule has no {want!r}"
        for low, k in keys.items():
            if low not in ("if", "then"):
                yield doc.ptr(rk, k), f"unexpected key {k!r} in policyRule (only 'if' and 'then')"
        then = rule.get(keys.get("then", ""), None)
        if "then" in keys and not isinstance(then, dict):
            yield doc.ptr(rk, keys["then"]), "then must be an object with 'effect'"
        elif isinstance(then, dict) and ci_key(then, "effect") is None:
            yield doc.ptr(rk, keys["then"]), "then.effect is missing"
