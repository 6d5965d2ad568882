"""Value helpers shared by operators and functions: Azure's case-insensitive comparison rules.

Azure compares strings with `InvariantCultureIgnoreCase`, numbers and booleans by their string form
(`"5.0"` != `"5"`, `true` == `"True"`), and objects/arrays structurally.
"""

from __future__ import annotations

import json
from typing import Any


class _Missing:
    """A property absent from the payload (distinct from an explicit JSON null only for `exists`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


def canon(value: Any) -> str | None:
    """Lower-case string form of a scalar for case-insensitive comparison; None for arrays/objects."""
    t = type(value)
    if t is str:
        return value.lower()
    if value is None or value is MISSING:
        return ""
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return str(value)
    if t is float:
        return repr(value).lower()
    return None


def loose_equals(a: Any, b: Any) -> bool:
    """`equals` semantics: scalars by case-insensitive string form, containers structurally."""
    ca = canon(a)
    if ca is not None:
        cb = canon(b)
        return cb is not None and ca == cb
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(loose_equals(x, y) for x, y in zip(a, b, strict=False))
    if isinstance(a, dict):
        if not isinstance(b, dict) or len(a) != len(b):
            return False
        lb = {str(k).lower(): v for k, v in b.items()}
        return all(str(k).lower() in lb and loose_equals(v, lb[str(k).lower()]) for k, v in a.items())
    return False


_LOWMAPS: dict[int, tuple[dict, int, dict]] = {}


def reset_key_cache() -> None:
    """Forget lower-case key maps; called before each resource is evaluated (payloads may change)."""
    _LOWMAPS.clear()


def get_ci(obj: dict, key: str, low: str | None = None) -> Any:
    """Case-insensitive key lookup (ARM property names are case-insensitive); MISSING when absent.

    The exact spelling is tried first; on a miss, a lower-case key map of the object is built once and
    reused by every other policy evaluating the same resource (see `reset_key_cache`): a lean resource
    misses on most of the properties its policies test, so the map, not a scan of the keys, answers."""
    v = obj.get(key, MISSING)
    if v is not MISSING:
        return v
    return ci_miss(obj, low or key.lower())


def ci_miss(obj: dict, low: str) -> Any:
    """`get_ci` once the exact spelling has missed (`low`: the lower-case key): the key map answers."""
    ent = _LOWMAPS.get(id(obj))
    if ent is None or ent[0] is not obj or ent[1] != len(obj):
        if len(_LOWMAPS) > 4096:
            _LOWMAPS.clear()
        # keys differing only in case: the first wins in a small object, the last in a larger one (as
        # the scan of small objects and the map of larger ones did before)
        keys = reversed(obj) if len(obj) <= 6 else obj
        ent = (obj, len(obj), {k.lower(): k for k in keys if type(k) is str})
        _LOWMAPS[id(obj)] = ent
    k = ent[2].get(low)
    return MISSING if k is None else obj[k]


def type_name(value: Any) -> str:
    if value is None or value is MISSING:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def show(value: Any, limit: int = 80) -> str:
    """Short JSON rendering for traces."""
    if value is MISSING:
        return "<missing>"
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def normalize_location(value: Any) -> Any:
    """`East US 2` == `eastus2`: Azure normalises location values before comparing."""
    if isinstance(value, str):
        return value.replace(" ", "").lower()
    if isinstance(value, list):
        return [normalize_location(v) for v in value]
    return value
