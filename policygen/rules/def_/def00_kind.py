"""DEF-00 (envelope.kind)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import ALL_KINDS, Rule, Severity
from policygen.rules.def_.common import BASICS
from policygen.rules.model import Doc


class InputShape(Rule):
    """The object is a policy definition, initiative (policy set) or assignment.

    Anything else is not input for the validator: a file that is none of the three is reported, not guessed
    at.

    **Anti-pattern**

    ```json
    {"displayName": "Storage baseline", "rules": []}
    ```

    **Better**

    ```json
    {"properties": {"mode": "Indexed",
                    "policyRule": {"if": {"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
                                   "then": {"effect": "audit"}}}}
    ```

    Code: DEF-00 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics
    """

    code = "DEF-00"
    name = "envelope.kind"
    severity = Severity.ERROR
    kinds = ALL_KINDS
    source = BASICS

    def check(self, doc: Doc) -> Iterable:
        return ()  # the engine reports it before any rule runs (engine.validate_doc)
