"""FLD: `field` names, alias existence, `value` operands, `count` forms and `current()`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from policygen.aliases import AliasCatalogue, is_non_alias_field, resource_type_of_alias
from policygen.expressions import ARM_FUNCTIONS
from policygen.rules.base import ALL_KINDS, CollectionRule, Hit, Rule, Severity, Summary
from policygen.rules.model import Doc, ci_get, ci_key

RULE = "https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule"
APPLIC = "https://learn.microsoft.com/azure/governance/policy/concepts/policy-applicability"
ARRAYS = "https://learn.microsoft.com/azure/governance/policy/how-to/author-policies-for-arrays"

ALIAS = re.compile(r"^[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)+/[^\s]+$")
NUMERIC_OPS = frozenset({"equals", "notequals", "less", "lessorequals", "greater", "greaterorequals", "in", "notin"})
UNBRACKETED_CALL = re.compile(r"^\s*([A-Za-z]+)\s*\(.*\)\s*$", re.S)
COUNT_NAME = re.compile(r"^[A-Za-z0-9]+$")


def _is_expr(v: object) -> bool:
    return isinstance(v, str) and v.startswith("[") and not v.startswith("[[")


@lru_cache(maxsize=16384)
def field_problem(name: object) -> str | None:
    """Why a `field` value is not a field (None when it is one, or an expression)."""
    if not isinstance(name, str):
        return f"field must be a string, not {name!r}"
    if _is_expr(name) or is_non_alias_field(name):
        return None
    if ALIAS.match(name):
        return None
    if name.lower().startswith("properties."):
        return f"field {name!r} is a property path; use the alias (paths differ per API version)"
    return f"field {name!r} is neither a built-in field (name, type, location, tags[...] ...) nor an alias"


def iter_field_refs(doc: Doc) -> list[tuple[str, str, str]]:
    """(pointer, alias-or-field, where) for every literal field reference Policy evaluates (memoised)."""
    cached = doc.cache.get("field_refs")
    if cached is None:
        cached = doc.cache["field_refs"] = list(_field_refs(doc))
    return cached


def _field_refs(doc: Doc) -> Iterator[tuple[str, str, str]]:
    for c in doc.conds:
        if c.operand == "field" and isinstance(c.operand_value, str):
            yield c.ptr + "/" + c.operand_key, c.operand_value, "field"
        if c.count is not None and c.count.kind == "field" and isinstance(c.count.target, str):
            yield c.count.ptr + "/" + c.count.keys["field"], c.count.target, "count"
    det = doc.details
    if isinstance(det, list):  # append
        for i, item in enumerate(det):
            f = ci_get(item, "field") if isinstance(item, dict) else None
            if isinstance(f, str):
                yield f"{doc.details_ptr}/{i}/{ci_key(item, 'field')}", f, "append"
    elif isinstance(det, dict):
        ok = ci_key(det, "operations")
        ops = det.get(ok) if ok else None
        if isinstance(ops, list):
            for i, op in enumerate(ops):
                f = ci_get(op, "field") if isinstance(op, dict) else None
                if isinstance(f, str):
                    yield f"{doc.details_ptr}/{ok}/{i}/{ci_key(op, 'field')}", f, "modify"
    for e in doc.exprs:
        for f in e.info.fields:
            yield e.ptr, f, "field()"
        for cur in e.info.currents:
            if cur and "/" in cur:
                yield e.ptr, cur, "current()"


@lru_cache(maxsize=16384)
def _alias_key(name: str) -> str | None:
    """Lower-case alias name, or None for built-in fields and expressions."""
    if "/" not in name or _is_expr(name) or is_non_alias_field(name):
        return None
    return name.lower()


_TYPE_CACHE: dict[int, tuple[int, frozenset[str]]] = {}


def catalogue_types(cat: AliasCatalogue) -> frozenset[str]:
    """Resource types the catalogue has any alias for (lower-case), cached per catalogue size."""
    cached = _TYPE_CACHE.get(id(cat))
    if cached and cached[0] == len(cat):
        return cached[1]
    types = frozenset(resource_type_of_alias(a.name).lower() for a in cat)
    _TYPE_CACHE[id(cat)] = (len(cat), types)
    return types


class FieldName(Rule):
    """`field` is a built-in field (name, type, location, kind, id, tags[...], identity.*) or an alias."""

    code = "FLD-01"
    name = "fields.name"
    severity = Severity.ERROR
    source = RULE

    def check(self, doc: Doc) -> Iterable[Hit]:
        for ptr, name, where in iter_field_refs(doc):
            if where in ("field()", "current()"):
                continue
            problem = field_problem(name) if isinstance(name, str) else f"field must be a string, not {name!r}"
            if problem:
                yield ptr, problem


class AliasExists(CollectionRule):
    """Every alias is in the alias catalogue (an unknown alias makes the policy silently not applicable)."""

    code = "FLD-02"
    name = "fields.alias_exists"
    severity = Severity.ERROR
    source = APPLIC

    def check(self, doc: Doc) -> Iterable[Hit]:
        cat = doc.catalogue
        if cat is None or not doc.rm_mode:
            return  # data-plane (RP mode) aliases are never in the ARM alias catalogue
        types = None
        seen: set[tuple[str, str]] = set()
        get = cat.get
        for ptr, name, _where in iter_field_refs(doc):
            low = _alias_key(name)
            if low is None or get(low) is not None or (ptr, low) in seen:
                continue
            seen.add((ptr, low))
            if low.endswith("[*]") and low[:-3] in cat:
                continue
            if types is None:
                types = catalogue_types(cat)
            rtype = resource_type_of_alias(name)
            covered = rtype.lower() in types
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
                f"{n} alias references in {len(unchecked)} objects belong to resource types the alias "
                "catalogue does not cover and were not checked; run `policygen aliases sync` or pass --aliases",
                Severity.INFO,
            )


class ValueOperand(Rule):
    """`value` and operator values are literals or `[...]` expressions (a bare `parameters('x')` is a string)."""

    code = "FLD-03"
    name = "fields.value_operand"
    severity = Severity.ERROR
    source = RULE

    def check(self, doc: Doc) -> Iterable[Hit]:
        for c in doc.conds:
            candidates = []
            if c.operand == "value":
                if c.operand_value is None:
                    yield c.ptr + "/" + c.operand_key, "'value' is null; use a literal or an expression"
                candidates.append((c.operand_key, c.operand_value))
            if c.op is not None:
                candidates.append((c.op_key, c.op_value))
            for key, v in candidates:
                if type(v) is str and ")" in v and not v.startswith("["):
                    m = UNBRACKETED_CALL.match(v)
                    if m and m.group(1).lower() in ARM_FUNCTIONS:
                        yield (
                            c.ptr + "/" + key,
                            (f"{v!r} is compared as a literal string; wrap the expression in [ ]"),
                            Severity.WARNING,
                        )


class FieldCount(Rule):
    """Field count: `count.field` is a `[*]` alias and the count is compared with a number."""

    code = "FLD-04"
    name = "fields.field_count"
    severity = Severity.ERROR
    source = ARRAYS
    needs = ("counts",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        for cnt in doc.counts:
            keys = cnt.keys
            extra = [k for low, k in keys.items() if low not in ("field", "value", "name", "where")]
            if extra:
                yield cnt.ptr, f"unexpected keys {extra} in count (field or value, name, where)"
            if "field" in keys and "value" in keys:
                yield cnt.ptr, "count takes either 'field' or 'value', not both"
            elif cnt.kind is None:
                yield cnt.ptr, "count needs 'field' (a [*] alias) or 'value' (an array)"
            cond = cnt.cond
            if cond is not None and cond.op is not None:
                if cond.op not in NUMERIC_OPS:
                    yield cond.ptr + "/" + cond.op_key, f"a count is a number; {cond.op_key!r} does not compare numbers"
                else:
                    v = cond.op_value
                    vals = v if isinstance(v, list) and cond.op in ("in", "notin") else [v]
                    for item in vals:
                        if not (_is_expr(item) or (isinstance(item, int) and not isinstance(item, bool))):
                            yield cond.ptr + "/" + cond.op_key, f"a count is compared with an integer, not {item!r}"
                            break
            if cnt.kind != "field":
                continue
            t = cnt.target
            if isinstance(t, str) and not _is_expr(t) and "[*]" not in t:
                yield cnt.ptr + "/" + keys["field"], f"count.field must be a [*] alias, not {t!r}"
            elif not isinstance(t, str):
                yield cnt.ptr + "/" + keys["field"], f"count.field must be a [*] alias string, not {t!r}"


class ValueCount(Rule):
    """Value count: `count.value` is an array or array expression; `name` is alphanumeric, required when nested."""

    code = "FLD-05"
    name = "fields.value_count"
    severity = Severity.ERROR
    source = ARRAYS
    needs = ("counts",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        for cnt in doc.counts:
            if cnt.kind != "value":
                continue
            keys = cnt.keys
            t = cnt.target
            if not isinstance(t, list) and not _is_expr(t):
                yield cnt.ptr + "/" + keys["value"], f"count.value must be an array or an expression, not {t!r}"
            if cnt.name is not None:
                if not isinstance(cnt.name, str) or not COUNT_NAME.match(cnt.name):
                    yield cnt.ptr + "/" + keys["name"], f"count name {cnt.name!r} must be letters and digits"
            elif cnt.parents:
                yield cnt.ptr, "a nested value count needs a 'name' (current() must say which count it means)"


class CurrentScope(Rule):
    """`current()` appears only inside `count.where` and names an enclosing count or its `[*]` alias."""

    code = "FLD-06"
    name = "fields.current_scope"
    severity = Severity.ERROR
    source = ARRAYS
    needs = ("exprs",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        for e in doc.exprs:
            currents = e.info.currents
            if not currents:
                continue
            if not e.counts or e.region not in ("if", "existence"):
                yield e.ptr, "current() is only allowed inside a count's 'where'"
                continue
            names = {str(c.name or "default").lower() for c in e.counts if c.kind == "value"}
            aliases = [c.target.lower() for c in e.counts if c.kind == "field" and isinstance(c.target, str)]
            for arg in currents:
                if arg is None:
                    if len(e.counts) > 1:
                        yield e.ptr, "bare current() is ambiguous inside nested counts; name the count"
                    continue
                low = arg.lower()
                if low in names or any(low == a or low.startswith(a) for a in aliases):
                    continue
                yield e.ptr, f"current({arg!r}) names no enclosing count (names: {sorted(names)}, aliases: {aliases})"


class FieldFunctionInWhere(Rule):
    """Inside `where`, `field('<counted [*] alias>')` returns a one-element array: wrap it in first()."""

    code = "FLD-07"
    name = "fields.field_in_where"
    severity = Severity.INFO
    kinds = ALL_KINDS - {"initiative", "assignment"}
    source = ARRAYS
    needs = ("exprs",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        for e in doc.exprs:
            if not e.counts or not e.info.fields:
                continue
            counted = {c.target.lower() for c in e.counts if c.kind == "field" and isinstance(c.target, str)}
            for f in e.info.fields:
                if f.lower() in counted and "first(" not in e.text.lower():
                    yield e.ptr, f"field({f!r}) inside its own count's where is a one-element array; use first()"
