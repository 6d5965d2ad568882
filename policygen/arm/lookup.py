"""Case-insensitive lookup: ARM property names, parameter names and effect names ignore case.

The author's spelling matters for messages and JSON pointers, so these helpers find the key as written
rather than lower-casing the document. The exact spelling is tried first: the common case costs one hash.
https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-object#tryget
(ARM resolves property names case-insensitively.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ci_get", "ci_key"]


def ci_key(obj: Mapping[str, Any], key: str) -> str | None:
    """The spelling of `key` in `obj` (case-insensitive), or None."""
    if key in obj:
        return key
    n = len(key)
    low = key.lower()
    for k in obj:
        if isinstance(k, str) and len(k) == n and k.lower() == low:
            return k
    return None


def ci_get(obj: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """`obj[key]` with the key matched case-insensitively; `default` when absent.

    One pass rather than `ci_key` then a lookup: the validator calls this ~260,000 times per corpus run.
    """
    if key in obj:
        return obj[key]
    n = len(key)
    low = key.lower()
    for k, v in obj.items():
        if isinstance(k, str) and len(k) == n and k.lower() == low:
            return v
    return default

