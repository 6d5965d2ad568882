"""Helpers shared by the DEF rules."""

from __future__ import annotations

import re

BASICS = "https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics"

LIMITS = "https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#azure-policy-limits"

FORBIDDEN_NAME_CHARS = re.compile(r"[<>*%&:\\?.+/\x00-\x1f\x7f]")

SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")

SAFE_NAME = re.compile(r"[A-Za-z0-9_()\[\]-]+")


def name_problems(name: object, max_len: int, what: str = "name") -> list[str]:
    """Problems of an Authorization resource name (shared with assignments)."""
    if type(name) is str and len(name) <= max_len and SAFE_NAME.fullmatch(name):
        return []  # the common case (GUIDs, kebab-case) in one regex call
    if not isinstance(name, str):
        return [f"{what} must be a string"]
    out = []
    if not 1 <= len(name) <= max_len:
        out.append(f"{what} {name!r} has {len(name)} characters; Azure allows 1-{max_len}")
    bad = sorted(set(FORBIDDEN_NAME_CHARS.findall(name.rstrip("."))))
    if bad:
        out.append(f"{what} {name!r} contains forbidden characters {' '.join(map(repr, bad))}")
    if name.endswith((".", " ")):
        out.append(f"{what} {name!r} must not end with a period or a space")
    return out
