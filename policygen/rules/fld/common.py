"""Helpers shared by the FLD rules."""

from __future__ import annotations

from collections.abc import Iterator

from policygen.arm.expressions import is_expression
from policygen.arm.lookup import ci_get, ci_key
from policygen.rules.model import Doc

RULE = "https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule"

ARRAYS = "https://learn.microsoft.com/azure/governance/policy/how-to/author-policies-for-arrays"


def is_expr(v: object) -> bool:
    return is_expression(v)


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
