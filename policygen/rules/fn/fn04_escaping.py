"""FN-04 (functions.escaping)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.expressions import is_expression
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.expr_facts import analyse
from policygen.rules.model import Doc

ESCAPE = "https://learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions#escape-characters"


class Escaping(Rule):
    """ARM-template escaping (`[[`) is for JSON embedded in templates; REST bodies must not be escaped.

    `[[` stops ARM evaluating an expression inside a template; in a REST body it makes a literal string.
    Escaping is detected only in ARM template resources (`apiVersion` beside `type`, as Enterprise-Scale
    writes them, reported as info) or with `--escaped`; a REST body or bare definition with `[[` strings is
    checked as Azure would receive it, and each escaped expression is an error.

    **Anti-pattern**

    ```jsonc
    {"then": {"effect": "[[parameters('effect')]"}}   // a REST body
    ```

    **Better**

    ```json
    {"then": {"effect": "[parameters('effect')]"}}
    ```

    Code: FN-04 (error)
    Source: https://learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions#escape-characters
    """

    code = "FN-04"
    name = "functions.escaping"
    severity = Severity.ERROR
    kinds = frozenset({"definition", "initiative", "assignment"})
    source = ESCAPE

    def check(self, doc: Doc) -> Iterable[Hit]:
        if doc.escaped:
            yield (
                "",
                "ARM-template-escaped ('[[') source: validated after removing one '[' (send it unescaped "
                "through REST, escaped only inside ARM templates)",
                Severity.INFO,
            )
            return
        for ptr, s, _region in doc.escaped_strings:
            inner = s[1:]
            if is_expression(inner) and analyse(inner).error is None:
                yield (
                    ptr,
                    (
                        f"{s!r} is ARM-template-escaped; Policy reads it as the literal {inner!r} "
                        "(its parameters look unused). Remove one '[' for REST/SDK/CLI"
                    ),
                )
