"""Helpers shared by the PAR rules."""

from __future__ import annotations

from policygen.arm.expressions import is_expression
from policygen.rules.model import Doc
from policygen.rules.nodes import esc

PARAMS = "https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-parameters"

PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "array": (list,),
    "object": (dict,),
    "boolean": (bool,),
    "integer": (int,),
    "float": (int, float),
    "datetime": (str,),
}


def value_matches_type(value: object, ptype: str | None) -> bool:
    """Does a JSON value fit a parameter type? (bool is not an integer; unknown types accept anything)."""
    if ptype is None or ptype not in PY_TYPES:
        return True
    if isinstance(value, bool) and ptype in ("integer", "float"):
        return False
    if is_expression(value):
        return True  # an expression; its type is known only at evaluation
    return isinstance(value, PY_TYPES[ptype])


def in_allowed(value: object, allowed: list) -> bool:
    """Azure compares allowed values case-sensitively; arrays are checked element by element."""
    if value in allowed:
        return True
    if isinstance(value, list):
        return all(v in allowed for v in value)
    return False


def iter_params(doc: Doc) -> list[tuple[str, dict, str, dict[str, str]]]:
    """(name, declaration, pointer, lower-case key → key) of each parameter, computed once per document."""
    cached = doc.cache.get("params")
    if cached is None:
        base = doc.params_ptr + "/"
        cached = [
            (name, spec, base + esc(name), {k.lower(): k for k in spec})
            for name, spec in doc.params.items()
            if isinstance(spec, dict)
        ]
        doc.cache["params"] = cached
    return cached


def params_with(doc: Doc, key: str) -> list[tuple[str, dict, str, dict[str, str]]]:
    """`iter_params` entries whose declaration has `key` (lower-case), in order: initiatives declare
    hundreds of parameters and most rules look at one key of a few (memoised per document)."""
    index = doc.cache.get("params_by_key")
    if index is None:
        index = {}
        for entry in iter_params(doc):
            for low in entry[3]:
                index.setdefault(low, []).append(entry)
        doc.cache["params_by_key"] = index
    return index.get(key, [])


def params_with_meta(doc: Doc, key: str) -> list[tuple[str, dict, str, dict[str, str]]]:
    """`iter_params` entries whose metadata object has `key` (lower-case), in order (memoised)."""
    index = doc.cache.get("params_by_meta_key")
    if index is None:
        index = {}
        metas = param_meta(doc)
        for entry in iter_params(doc):
            found = metas.get(entry[0])
            if found is not None:
                for low in found[2]:
                    index.setdefault(low, []).append(entry)
        doc.cache["params_by_meta_key"] = index
    return index.get(key, [])


def param_meta(doc: Doc) -> dict[str, tuple[str, dict, dict[str, str]]]:
    """name → (metadata key, metadata, its lower-case key map) for parameters with metadata (memoised)."""
    cached = doc.cache.get("param_meta")
    if cached is None:
        cached = {}
        for name, spec, _ptr, lk in iter_params(doc):
            mk = lk.get("metadata")
            meta = spec.get(mk) if mk else None
            if isinstance(meta, dict):
                cached[name] = (mk, meta, {k.lower(): k for k in meta})
        doc.cache["param_meta"] = cached
    return cached
