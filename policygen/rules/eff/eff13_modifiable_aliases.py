"""EFF-13 (effects.modifiable_aliases)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.aliases import modifiable_aliases
from policygen.arm.lookup import ci_get
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.eff.common import details_key, effect_url, if_types, in_details, is_expr
from policygen.rules.model import Doc


class ModifiableAliases(Rule):
    """Modify changes only aliases marked Modifiable (tags always are); otherwise conflictEffect applies.

    A non-modifiable alias is not changed; conflictEffect (deny by default) applies instead. An error when
    the catalogue's alias metadata (`aliases sync`, provider JSON) says the alias is not Modifiable; for our
    intents a warning when nothing says it is (no built-in modify policy changes it).

    **Anti-pattern**

    ```json
    {"operation": "addOrReplace", "field": "Microsoft.Storage/storageAccounts/sku.name", "value": "Standard_GRS"}
    ```

    **Better**

    ```json
    {"operation": "addOrReplace", "field": "Microsoft.Storage/storageAccounts/allowBlobPublicAccess", "value": false}
    ```

    Code: EFF-13 (warning)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/effect-modify
    """

    code = "EFF-13"
    name = "effects.modifiable_aliases"
    severity = Severity.WARNING
    source = effect_url("modify")

    def check(self, doc: Doc) -> Iterable[Hit]:
        if "modify" not in doc.effects:
            return
        ok, ops = details_key(doc, "operations")
        if not isinstance(ops, list):
            return
        cat = doc.catalogue
        types = if_types(doc)
        for i, op in enumerate(ops):
            field = ci_get(op, "field") if isinstance(op, dict) else None
            if not isinstance(field, str) or "/" not in field or is_expr(field):
                continue
            known = None
            if cat is not None:
                rtypes = [t for t in types if t in {x.lower() for x in cat.types_of(field)}] or [None]
                flags = {cat.modifiable(field, t) for t in rtypes}
                known = False if False in flags else (True if True in flags else None)
            if known is False and doc.custom:
                yield (
                    in_details(doc, ok, i),
                    (
                        f"{field!r} is not Modifiable (alias metadata in {cat.describe()}): Azure does not "
                        "change it and applies conflictEffect (deny by default) instead"
                    ),
                    Severity.ERROR,
                )
            elif known is None and doc.own and field.lower() not in modifiable_aliases():
                yield (
                    in_details(doc, ok, i),
                    (
                        f"cannot confirm {field!r} is Modifiable (no built-in modify policy changes it and the "
                        "catalogue has no Modifiable attribute); "
                        "if it is not, conflictEffect applies"
                    ),
                )
