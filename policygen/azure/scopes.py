"""ARM scope ids: parse them once, so every caller agrees on what is a management group, subscription or RG.

ARM ids are case-insensitive; `key()` is the one normalisation used for comparing and indexing them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MG = re.compile(r"^/providers/microsoft\.management/managementgroups/([^/]+)$", re.I)
_SUB = re.compile(r"^/subscriptions/([^/]+)$", re.I)
_RG = re.compile(r"^/subscriptions/([^/]+)/resourcegroups/([^/]+)$", re.I)
_RES = re.compile(r"^/subscriptions/([^/]+)(?:/resourcegroups/([^/]+))?/providers/.+$", re.I)


def key(arm_id: str | None) -> str:
    """Comparison key of an ARM id or name (case-insensitive, no trailing slash)."""
    return (arm_id or "").strip().rstrip("/").lower()


@dataclass(frozen=True)
class Scope:
    """A parsed scope: `level` is mg, sub, rg or resource."""

    id: str
    level: str
    mg: str | None = None
    sub: str | None = None
    rg: str | None = None

    def __str__(self) -> str:
        return self.id

    @property
    def short(self) -> str:
        """Human name: `mg:contoso`, `sub:0000…0001`, `rg:sub/rg`."""
        if self.level == "mg":
            return f"mg:{self.mg}"
        if self.level == "sub":
            return f"sub:{self.sub}"
        if self.level == "rg":
            return f"rg:{self.rg}"
        return self.id


class ScopeError(ValueError):
    """A string that is not an ARM scope id."""


def parse_scope(scope_id: str) -> Scope:
    s = "/" + scope_id.strip().strip("/")
    if m := _MG.match(s):
        return Scope(s, "mg", mg=m.group(1))
    if m := _SUB.match(s):
        return Scope(s, "sub", sub=m.group(1))
    if m := _RG.match(s):
        return Scope(s, "rg", sub=m.group(1), rg=m.group(2))
    if m := _RES.match(s):
        return Scope(s, "resource", sub=m.group(1), rg=m.group(2))
    raise ScopeError(f"{scope_id!r} is not an ARM scope (management group, subscription, resource group, resource)")


def is_scope(value: object) -> bool:
    if not isinstance(value, str) or not value.startswith("/"):
        return False
    try:
        parse_scope(value)
    except ScopeError:
        return False
    return True


def scope_of_id(object_id: str) -> str:
    """The scope part of `{scope}/providers/Microsoft.Authorization/{type}/{name}`."""
    idx = object_id.lower().rfind("/providers/microsoft.authorization/")
    if idx < 0:
        idx = object_id.lower().rfind("/providers/microsoft.policyinsights/")
    return object_id[:idx] if idx >= 0 else ""


def name_of_id(object_id: str) -> str:
    return object_id.rstrip("/").rsplit("/", 1)[-1]
