"""ALS-05 (aliases.read_only)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.fld.common import iter_field_refs
from policygen.rules.model import Doc

LINTER = "https://github.com/Azure/azure-policy-linter"


READ_ONLY_SUFFIXES = ("provisioningstate", "creationtime", "createdtime", "createdat", "lastmodifiedtime")


class PartialCoverageAliases(Rule):
    """Read-only aliases (e.g. provisioningState) are absent from requests: useless for deny.

    The service sets these properties; a create or update request does not carry them.

    **Anti-pattern**

    ```json
    {"if": {"field": "Microsoft.Storage/storageAccounts/provisioningState", "equals": "Failed"},
     "then": {"effect": "deny"}}
    ```

    **Better**

    ```json
    {"if": {"field": "Microsoft.Storage/storageAccounts/provisioningState", "equals": "Failed"},
     "then": {"effect": "audit"}}
    ```

    Code: ALS-05 (warning)
    Source: https://github.com/Azure/azure-policy-linter
    See also: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-alias
    """

    code = "ALS-05"
    name = "aliases.read_only"
    severity = Severity.WARNING
    source = LINTER
    effects = frozenset({"deny"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        if "deny" not in doc.effects:
            return
        for ptr, name, where in iter_field_refs(doc):
            if where == "field" and "/" in name and name.lower().endswith(READ_ONLY_SUFFIXES):
                yield ptr, f"{name!r} is read-only (set by the service), so deny never sees it in a request"
