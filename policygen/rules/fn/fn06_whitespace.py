"""FN-06 (functions.whitespace)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.fn.common import RULE
from policygen.rules.model import Doc


class ExpressionWhitespace(Rule):
    """Whitespace before `(` or the closing `]` is accepted by Azure but breaks simpler parsers.

    Azure tolerates the space; EPAC, linters and simpler parsers do not.

    **Anti-pattern**

    ```json
    {"value": "[toLower (field('name'))]", "equals": "web"}
    ```

    **Better**

    ```json
    {"value": "[toLower(field('name'))]", "equals": "web"}
    ```

    Code: FN-06 (info)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule
    """

    code = "FN-06"
    name = "functions.whitespace"
    severity = Severity.INFO
    source = RULE
    needs = ("exprs",)
    applies = "own"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if not doc.own:
            return
        for e in doc.exprs:
            if e.info.whitespace_quirk:
                yield e.ptr, f"whitespace before '(' or ']' in {e.text[:60]!r}"
