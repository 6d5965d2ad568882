"""RULE-04 (policy_rule.evaluation_limits)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import MAX_DEPTH, Doc
from policygen.rules.rule.common import RULE


class EvaluationLimits(Rule):
    """Literals that exceed evaluation-time limits (131,072-character strings) fail as an implicit deny.

    Evaluation fails on such literals, which Azure treats as a deny. Conditions nested deeper than the
    128-level object depth are an error (the walk stops there instead of recursing without bound).

    **Anti-pattern**

    ```json
    {"field": "Microsoft.Web/sites/siteConfig.ipSecurityRestrictions[*].ipAddress", "in": ["<140,000 characters>"]}
    ```

    **Better**

    ```json
    {"field": "Microsoft.Web/sites/siteConfig.ipSecurityRestrictions[*].ipAddress",
     "in": "[parameters('allowedRanges')]"}
    ```

    Code: RULE-04 (warning)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule
    """

    code = "RULE-04"
    name = "policy_rule.evaluation_limits"
    severity = Severity.WARNING
    source = RULE

    def check(self, doc: Doc) -> Iterable[Hit]:
        for ptr in doc.too_deep:
            yield (
                ptr,
                f"conditions nested more than {MAX_DEPTH} levels deep: Azure's evaluation fails on objects "
                "that deep (an implicit deny); not checked further",
                Severity.ERROR,
            )
        for c in doc.big_literals:
            v = c.op_value
            if isinstance(v, str) and len(v) > 131072:
                yield c.ptr + "/" + c.op_key, f"string of {len(v):,} characters exceeds the 131,072 evaluation limit"
            elif isinstance(v, list) and len(v) > 32768:
                yield c.ptr + "/" + c.op_key, f"array of {len(v):,} values exceeds the 32,768-node evaluation limit"
