"""Helpers shared by the SET rules."""

from __future__ import annotations

from collections.abc import Mapping

from policygen.arm.expressions import is_expression
from policygen.arm.lookup import ci_get, ci_key
from policygen.rules.model import Doc, walk_strings
from policygen.rules.nodes import esc

SET = "https://learn.microsoft.com/azure/governance/policy/concepts/initiative-definition-structure"


def find_definition(definitions: Mapping[str, dict], ref: str) -> dict | None:
    """A member definition by full id or by name (last id segment), case-insensitively."""
    if not definitions or not isinstance(ref, str):
        return None
    for key in (ref, ref.lower(), ref.rsplit("/", 1)[-1], ref.rsplit("/", 1)[-1].lower()):
        found = definitions.get(key)
        if isinstance(found, dict):
            return found
    return None


def props_of(obj: dict) -> dict:
    p = obj.get("properties")
    return p if isinstance(p, dict) else obj


def members(doc: Doc) -> list[tuple[int, dict, str]]:
    """(index, member, pointer) of each well-formed policyDefinitions entry (computed once per doc)."""
    cached = doc.cache.get("members")
    if cached is not None:
        return cached
    k = ci_key(doc.props, "policyDefinitions")
    items = doc.props.get(k) if k else None
    out: list[tuple[int, dict, str]] = []
    if isinstance(items, list):
        base = f"{doc.base}/{esc(k)}/"
        out = [(i, m, base + str(i)) for i, m in enumerate(items) if isinstance(m, dict)]
    doc.cache["members"] = out
    return out


def member_params(m: dict) -> dict:
    p = ci_get(m, "parameters")
    return p if isinstance(p, dict) else {}


def member_expressions(doc: Doc) -> list[tuple[str, str, str]]:
    """(pointer, expression, member parameter name) for every expression passed to a member."""
    cached = doc.cache.get("member_exprs")
    if cached is not None:
        return cached
    out: list[tuple[str, str, str]] = []
    for _i, m, ptr in members(doc):
        pk = ci_key(m, "parameters")
        params = m.get(pk) if pk else None
        if not isinstance(params, dict):
            continue
        for name, wrapper in params.items():
            value = ci_get(wrapper, "value") if isinstance(wrapper, dict) else None
            base = f"{ptr}/{pk}/{esc(name)}"
            if isinstance(value, str):
                if is_expression(value):
                    out.append((base, value, name))
            elif isinstance(value, (list, dict)):
                out.extend((p, s, name) for p, s in walk_strings(value, base + "/value") if is_expression(s))
    doc.cache["member_exprs"] = out
    return out


def members_with_targets(doc: Doc) -> list[tuple[int, dict, str, dict]]:
    """(index, member, pointer, the definition it names) for each member whose definition the caller supplied."""
    out = []
    for i, m, ptr in members(doc):
        target = find_definition(doc.definitions, ci_get(m, "policyDefinitionId"))
        if target is not None:
            out.append((i, m, ptr, target))
    return out
