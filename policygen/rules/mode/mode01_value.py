"""MODE-01 (mode.value)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_key
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.mode.common import BASICS
from policygen.rules.model import Doc


class ModeValue(Rule):
    """mode is present and is `all`, `indexed` or a resource-provider mode (case-insensitive).

    Without a valid mode the service rejects the definition (built-ins may omit it).

    **Anti-pattern**

    ```json
    {"properties": {"mode": "Everything", "policyRule": {}}}
    ```

    **Better**

    ```json
    {"properties": {"mode": "Indexed", "policyRule": {}}}
    ```

    Code: MODE-01 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics
    """

    code = "MODE-01"
    name = "mode.value"
    severity = Severity.ERROR
    source = BASICS

    def check(self, doc: Doc) -> Iterable[Hit]:
        mode = doc.mode
        if mode is None:
            # Built-in "Static" regulatory stubs have no mode; Azure accepts a missing mode, so only our own
            # output (which must be unambiguous) fails on it.
            if doc.custom:
                yield (
                    doc.ptr("mode"),
                    "mode is missing: PowerShell defaults to 'All', the CLI to null; always set it",
                    Severity.ERROR if doc.own else Severity.WARNING,
                )
            return
        if not isinstance(mode, str):
            yield doc.ptr(ci_key(doc.props, "mode")), f"mode must be a string, not {mode!r}"
            return
        low = mode.lower()
        if low in ("all", "indexed") or low.endswith(".data"):
            return
        yield doc.ptr(ci_key(doc.props, "mode")), f"unknown mode {mode!r}: use 'All', 'Indexed' or a '*.Data' mode"
