"""ALS-01 (aliases.spelling)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.fld.common import iter_field_refs
from policygen.rules.model import Doc

ALIAS = "https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-alias"


class AliasSpelling(Rule):
    """Alias names match case-insensitively; spell them as the catalogue does.

    Azure accepts any case, but reviewers and greps find the catalogue's spelling.

    **Anti-pattern**

    ```json
    {"field": "Microsoft.Storage/storageAccounts/PublicNetworkAccess"}
    ```

    **Better**

    ```json
    {"field": "Microsoft.Storage/storageAccounts/publicNetworkAccess"}
    ```

    Code: ALS-01 (info)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-alias
    """

    code = "ALS-01"
    name = "aliases.spelling"
    severity = Severity.INFO
    source = ALIAS
    applies = "own"

    def check(self, doc: Doc) -> Iterable[Hit]:
        cat = doc.catalogue
        if cat is None or not doc.own:
            return
        for ptr, name, _where in iter_field_refs(doc):
            alias = cat.get(name) if "/" in name else None
            # Namespace casing varies even inside Azure's own dumps (Microsoft.Keyvault); compare the rest.
            if alias is not None and alias.name.split("/", 1)[1] != name.split("/", 1)[1]:
                yield ptr, f"alias {name!r} is spelled {alias.name!r} in the catalogue"
