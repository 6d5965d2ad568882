"""Helpers shared by the ASG rules."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from policygen.arm.lookup import ci_get, ci_key
from policygen.arm.scopes import scope_of_id
from policygen.rules.base import ASSIGNMENT, Hit
from policygen.rules.model import Doc
from policygen.rules.set.common import find_definition, props_of

ASSIGN = "https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure"

DEF_VERSION = re.compile(r"^\d+\.(\d+|\*)\.\*$")

ASG = frozenset({ASSIGNMENT})


def scope_of(doc: Doc) -> str | None:
    if doc.assignment_scope:
        return doc.assignment_scope
    v = doc.obj.get("id")
    if isinstance(v, str) and "/providers/microsoft.authorization/policyassignments/" in v.lower():
        home = scope_of_id(v)
        if home is not None:
            return home
    s = ci_get(doc.props, "scope")
    return s if isinstance(s, str) else None


def target_of(doc: Doc) -> tuple[str | None, dict | None]:
    """('definition'|'initiative', properties) of the assigned object when the caller supplied it."""
    pid = ci_get(doc.props, "policyDefinitionId")
    found = find_definition(doc.definitions, pid) if isinstance(pid, str) else None
    if found is None:
        return None, None
    props = props_of(found)
    if ci_key(props, "policyRule") is not None:
        return "definition", props
    if ci_key(props, "policyDefinitions") is not None:
        return "initiative", props
    return None, None


def selector_problems(selectors: Any, ptr: str, kinds: tuple[str, ...]) -> Iterable[Hit]:
    if not isinstance(selectors, list) or not selectors:
        yield ptr, "selectors must be a non-empty array"
        return
    seen: set[str] = set()
    for j, s in enumerate(selectors):
        sp = f"{ptr}/{j}"
        kind = ci_get(s, "kind") if isinstance(s, dict) else None
        low = kind.lower() if isinstance(kind, str) else None
        if low not in kinds:
            yield sp, f"selector kind {kind!r} is not one of {', '.join(kinds)}"
            continue
        if low in seen:
            yield sp, f"selector kind {kind!r} appears twice"
        seen.add(low)
        has_in, has_not = ci_key(s, "in") is not None, ci_key(s, "notIn") is not None
        if has_in == has_not:
            yield sp, "a selector takes exactly one of 'in' or 'notIn'"
        else:
            vals = ci_get(s, "in" if has_in else "notIn")
            if not isinstance(vals, list) or len(vals) > 50:
                yield sp, "selector values are an array of at most 50 entries"
    if {"resourcelocation", "resourcewithoutlocation"} <= seen:
        yield ptr, "resourceLocation and resourceWithoutLocation are mutually exclusive"
