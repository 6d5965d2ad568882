"""Parameter schemas that are fine beyond doubt, told without jsonschema (PAR-06's fast path).

A built-in's `schema` on an object parameter uses a dozen JSON Schema keywords, and its defaultValue and
allowedValues satisfy it; importing jsonschema to confirm that cost ~50 ms of every validate run that met
one (in every worker process). `certainly_fine` answers True only when the schema is plainly a valid
Draft 2019-09 schema (its meta-schema, with the `regex` format checked as jsonschema checks it) and every
instance plainly satisfies it; anything else answers False and jsonschema decides, so every message still
comes from jsonschema. Keywords: https://json-schema.org/draft/2019-09/json-schema-validation and
https://json-schema.org/draft/2019-09/json-schema-core (applicators).
"""

from __future__ import annotations

import re
from typing import Any

_SIMPLE_TYPES = frozenset({"array", "boolean", "integer", "null", "number", "object", "string"})
# JSON types a Python value certainly has (an integral float is also an "integer": left to jsonschema).
_TYPES: dict[type, frozenset[str]] = {
    str: frozenset({"string"}), bool: frozenset({"boolean"}), int: frozenset({"integer", "number"}),
    float: frozenset({"number"}), list: frozenset({"array"}), dict: frozenset({"object"}),
    type(None): frozenset({"null"}),
}  # fmt: skip
_STRING_KEYWORDS = frozenset({"description", "title", "format", "$comment"})
_COUNTS = frozenset({"minItems", "maxItems", "minProperties", "maxProperties", "minLength", "maxLength"})
_BOUNDS = frozenset({"minimum", "maximum"})
_SCALARS = (str, bool, int, type(None))


def certainly_fine(schema: Any, instances: list[Any]) -> bool:
    """True only if `schema` is a valid Draft 2019-09 schema and every instance is valid against it."""
    return valid_schema(schema) and all(satisfies(value, schema) for value in instances)


def _is_count(value: Any) -> bool:
    return type(value) is int and value >= 0


def _is_number(value: Any) -> bool:
    return type(value) is int or type(value) is float


def valid_schema(schema: Any) -> bool:
    """The schema certainly passes the 2019-09 meta-schema (only the keywords read here; `x-` extensions)."""
    if type(schema) is bool:
        return True
    if type(schema) is not dict:
        return False
    for key, value in schema.items():
        if key in _STRING_KEYWORDS:
            ok = type(value) is str
        elif key == "type":
            ok = value in _SIMPLE_TYPES if type(value) is str else (
                type(value) is list and bool(value) and all(type(t) is str and t in _SIMPLE_TYPES for t in value)
                and len(set(value)) == len(value)
            )  # fmt: skip
        elif key in ("enum", "examples"):
            ok = type(value) is list
        elif key == "required":
            ok = type(value) is list and all(type(k) is str for k in value) and len(set(value)) == len(value)
        elif key in _COUNTS:
            ok = _is_count(value)
        elif key in _BOUNDS:
            ok = _is_number(value)
        elif key == "pattern":
            ok = type(value) is str and _compiles(value)
        elif key == "properties":
            ok = type(value) is dict and all(valid_schema(sub) for sub in value.values())
        elif key in ("items", "additionalProperties"):
            ok = valid_schema(value)
        elif key == "default" or key.startswith("x-"):
            ok = True  # any value: an annotation, or a keyword the meta-schema does not know
        else:
            return False
        if not ok:
            return False
    return True


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def satisfies(instance: Any, schema: Any) -> bool:
    """The instance certainly has no error against a schema `valid_schema` accepted (format: annotation)."""
    if type(schema) is bool:
        return schema
    kind = type(instance)
    types = _TYPES.get(kind)
    if types is None:
        return False
    for key, want in schema.items():
        if key == "type":
            if not (want in types if type(want) is str else any(t in types for t in want)):
                return False
        elif key == "enum":
            if kind not in _SCALARS or not any(type(e) is kind and e == instance for e in want):
                return False
        elif key == "required":
            if kind is dict and not all(k in instance for k in want):
                return False
        elif key == "properties":
            if kind is dict and not all(k not in want or satisfies(v, want[k]) for k, v in instance.items()):
                return False
        elif key == "additionalProperties":
            if kind is dict:
                props = schema.get("properties", {})
                if not all(satisfies(v, want) for k, v in instance.items() if k not in props):
                    return False
        elif key == "items":
            if kind is list and not all(satisfies(item, want) for item in instance):
                return False
        elif key in _COUNTS:
            if not _count_ok(key, want, instance, kind):
                return False
        elif key in _BOUNDS:
            if (kind is int or kind is float) and (instance < want if key == "minimum" else instance > want):
                return False
        elif key == "pattern" and kind is str and not re.search(want, instance):
            return False
    return True


def _count_ok(key: str, bound: int, instance: Any, kind: type) -> bool:
    if key.endswith("Items"):
        applies = kind is list
    elif key.endswith("Properties"):
        applies = kind is dict
    else:
        applies = kind is str
    if not applies:
        return True
    size = len(instance)  # a string's length in code points, as jsonschema counts it
    return size >= bound if key.startswith("min") else size <= bound
