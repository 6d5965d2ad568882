"""Values known only during a real deployment (reference(), list*(), Key Vault parameters), kept symbolic."""

from __future__ import annotations

from typing import Any

SYMBOLIC = "<symbolic until deployment: "  # prefix of the placeholder a value known only at deployment becomes


class Symbolic(Exception):
    """An expression calls reference() or list*() and nothing resolves them (its value exists only in Azure)."""


def placeholder(what: str) -> str:
    return f"{SYMBOLIC}{what}>"


def has_symbolic(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith(SYMBOLIC)
    if isinstance(value, dict):
        return any(has_symbolic(v) for v in value.values())
    if isinstance(value, list):
        return any(has_symbolic(v) for v in value)
    return False
