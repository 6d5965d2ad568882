"""EFF-13 (effects.modifiable_aliases)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.aliases import modifiable_aliases
from policygen.arm.lookup import ci_get
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.eff.common import details_key, effect_url, in_details, is_expr
from policygen.rules.model import Doc


class ModifiableAliases(Rule):
    """Modify changes only aliases marked Modifiable (tags always are); otherwise conflictEffect applies.

    A non-modifiable alias is not changed; conflictEffect (audit by default) applies instead.

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
    applies = "own"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if "modify" not in doc.effects or not doc.own:
            return
        ok, ops = details_key(doc, "operations")
        if not isinstance(ops, list):
            return
        for i, op in enumerate(ops):
            field = ci_get(op, "field") if isinstance(op, dict) else None
            if (
                isinstance(field, str)
                and "/" in field
                and not is_expr(field)
                and field.lower() not in modifiable_aliases()
            ):
                yield (
                    in_details(doc, ok, i),
                    (
                        f"cannot confirm {field!r} is Modifiable (no built-in modify policy changes it and the "
                        "catalogue has no Modifiable attribute); "
                        "if it is not, conflictEffect applies"
                    ),
                )
