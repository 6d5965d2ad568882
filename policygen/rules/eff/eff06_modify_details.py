"""EFF-06 (effects.modify_details)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_get, ci_key
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.eff.common import details_key, effect_url, in_details, is_expr, is_one_of, role_id_hits
from policygen.rules.model import Doc


class ModifyDetails(Rule):
    """modify: roleDefinitionIds, non-empty operations (add/addOrReplace/remove), remove only on tags.

    modify needs roles for its identity, at least one operation, and removes only tags.

    **Anti-pattern**

    ```json
    {"effect": "modify", "details": {"operations": [
      {"operation": "remove", "field": "Microsoft.Storage/storageAccounts/allowBlobPublicAccess"}]}}
    ```

    **Better**

    ```json
    {"effect": "modify", "details": {
      "roleDefinitionIds": ["/providers/Microsoft.Authorization/roleDefinitions/17d1049b-9a84-46fb-8f53-869881c3d3ab"],
      "operations": [
        {"operation": "addOrReplace", "field": "Microsoft.Storage/storageAccounts/allowBlobPublicAccess",
         "value": false}]}}
    ```

    Code: EFF-06 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/effect-modify
    """

    code = "EFF-06"
    name = "effects.modify_details"
    severity = Severity.ERROR
    source = effect_url("modify")
    effects = frozenset({"modify"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        if "modify" not in doc.effects:
            return
        if not isinstance(doc.details, dict):
            yield doc.details_ptr or doc.then_ptr, "modify needs details with roleDefinitionIds and operations"
            return
        yield from role_id_hits(doc)
        ck, conflict = details_key(doc, "conflictEffect")
        if ck is not None and not is_one_of(conflict, ("audit", "deny", "disabled")):
            yield in_details(doc, ck), f"conflictEffect {conflict!r} is not audit, deny or disabled"
        ok, ops = details_key(doc, "operations")
        if not isinstance(ops, list) or not ops:
            yield in_details(doc, ok) if ok else doc.details_ptr, "modify needs a non-empty operations array"
            return
        for i, op in enumerate(ops):
            ptr = in_details(doc, ok, i)
            if not isinstance(op, dict):
                yield ptr, "an operation is an object {operation, field, value}"
                continue
            kind = ci_get(op, "operation")
            field = ci_get(op, "field")
            if not is_one_of(kind, ("add", "addOrReplace", "remove")):
                yield ptr, f"operation {kind!r} is not add, addOrReplace or remove"
            if field is None:
                yield ptr, "the operation needs 'field'"
            low = kind.lower() if isinstance(kind, str) else ""
            if low in ("add", "addorreplace") and ci_key(op, "value") is None:
                yield ptr, f"{kind!r} needs 'value'"
            if (
                low == "remove"
                and isinstance(field, str)
                and not field.lower().startswith("tags")
                and not is_expr(field)
            ):
                yield ptr, f"'remove' works only on tags, not {field!r}"
