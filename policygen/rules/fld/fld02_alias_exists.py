"""FLD-02 (fields.alias_exists)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from policygen.arm.aliases import is_non_alias_field, resource_type_of_alias
from policygen.rules.base import CollectionRule, Hit, Severity, Summary
from policygen.rules.fld.common import is_expr, iter_field_refs
from policygen.rules.model import Doc

APPLIC = "https://learn.microsoft.com/azure/governance/policy/concepts/policy-applicability"


@lru_cache(maxsize=16384)
def _alias_key(name: str) -> str | None:
    """Lower-case alias name, or None for built-in fields and expressions."""
    if "/" not in name or is_expr(name) or is_non_alias_field(name):
        return None
    return name.lower()


class AliasExists(CollectionRule):
    """Every alias is in the alias catalogue (an unknown alias makes the policy silently not applicable).

    An unknown alias makes the whole policy silently not applicable. An error in our intents, a warning in
    third-party JSON; aliases of types the catalogue does not cover, and aliases Microsoft's built-ins use
    that are newer than the catalogue, are counted in one info line per run.
    The catalogue holds every alias of every resource type (an alias is known if any type has it), and a
    misspelled alias gets the closest spellings of its namespace.

    **Anti-pattern**

    ```json
    {"field": "Microsoft.Storage/storageAccounts/publicNetworkAcess", "equals": "Enabled"}
    ```

    **Better**

    ```json
    {"field": "Microsoft.Storage/storageAccounts/publicNetworkAccess", "equals": "Enabled"}
    ```

    Code: FLD-02 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/policy-applicability
    """

    code = "FLD-02"
    name = "fields.alias_exists"
    severity = Severity.ERROR
    source = APPLIC

    def check(self, doc: Doc) -> Iterable[Hit]:
        cat = doc.catalogue
        if cat is None or not doc.rm_mode:
            return  # data-plane (RP mode) aliases are never in the ARM alias catalogue
        seen: set[tuple[str, str]] = set()
        get = cat.get
        for ptr, name, _where in iter_field_refs(doc):
            low = _alias_key(name)
            if low is None or get(low) is not None or (ptr, low) in seen:
                continue
            seen.add((ptr, low))
            if low.endswith("[*]") and low[:-3] in cat:
                continue
            rtype = resource_type_of_alias(name)
            covered = cat.has_type(rtype)
            if not doc.custom:  # a Microsoft built-in: the alias exists, our catalogue is older than it
                if doc.file is None or doc.file == "<memory>":
                    yield ptr, f"alias {name!r} is not in the alias catalogue ({cat.describe()})", Severity.INFO
                else:
                    doc.cache["unchecked_aliases"] = doc.cache.get("unchecked_aliases", 0) + 1
                continue
            close = cat.suggest(name, n=2) if covered or doc.own else []
            if close:
                hint = f"did you mean {' or '.join(map(repr, close))}?"
                yield (
                    ptr,
                    f"alias {name!r} is not in the alias catalogue; {hint}",
                    (Severity.ERROR if doc.own else Severity.WARNING),
                )
                continue
            msg = f"alias {name!r} is not in the alias catalogue ({cat.describe()})"
            if doc.own:
                yield ptr, msg + "; run `policygen aliases sync` or pass --aliases", Severity.ERROR
            elif covered:
                yield ptr, msg + "; it may be newer than the catalogue", Severity.WARNING
            elif doc.file is None or doc.file == "<memory>":
                yield ptr, msg + f"; the catalogue has no aliases for {rtype}", Severity.INFO
            else:  # a file run: one summary line for the whole run instead of one per alias
                doc.cache["unchecked_aliases"] = doc.cache.get("unchecked_aliases", 0) + 1

    def check_all(self, docs: list[Summary]) -> Iterable[tuple]:
        unchecked = [d for d in docs if d.unchecked_aliases]
        if unchecked:
            n = sum(d.unchecked_aliases for d in unchecked)
            yield (
                None,
                "",
                f"{n} alias references in {len(unchecked)} objects are not in the alias catalogue (built-ins "
                "using aliases newer than it, or resource types it does not cover) and were not checked; "
                "run `policygen aliases sync` or pass --aliases",
                Severity.INFO,
            )
