"""Settings that are valid beyond doubt, told without jsonschema.

A kind's settings schema (kinds.yaml) uses a handful of JSON Schema keywords, and almost every intent's
settings satisfy it; importing jsonschema to confirm that costs more than rendering a pack (~45 ms of every
`build`, `impact` and `plan`). `certainly_valid` answers True only when the JSON Schema 2020-12 meaning of
every keyword it meets is plainly met; whenever a value fails or the schema says anything else it answers
False and jsonschema decides, so every message still comes from jsonschema.
https://json-schema.org/draft/2020-12/json-schema-validation (type, enum, length and size keywords)
"""

from __future__ import annotations

from typing import Any

# JSON types a Python value certainly has (an integral float is also an "integer": left to jsonschema).
_TYPES: dict[type, tuple[str, ...]] = {
    str: ("string",), bool: ("boolean",), int: ("integer", "number"), float: ("number",),
    list: ("array",), dict: ("object",), type(None): ("null",),
}
_KNOWN = frozenset(t for names in _TYPES.values() for t in names)  # an unknown name makes jsonschema raise
_ANNOTATIONS = frozenset({"default", "description", "title", "examples", "$comment", "deprecated", "readOnly",
                          "writeOnly"})
_ENUM_SCALARS = (str, bool, int, type(None))


def certainly_valid(instance: Any, schema: Any) -> bool:
    """True only if `instance` is valid against `schema`; False means "ask jsonschema"."""
    if schema is True:
        return True
    if type(schema) is not dict:
        return False
    kind = type(instance)
    types = _TYPES.get(kind)
    if types is None:
        return False
    for key, want in schema.items():
        if key in _ANNOTATIONS:
            continue
        if key == "type":
            if not (want in types if type(want) is str else type(want) is list
                    and all(type(t) is str and t in _KNOWN for t in want) and any(t in types for t in want)):
                return False
        elif key == "enum":
            if (kind not in _ENUM_SCALARS or type(want) is not list
                    or not any(type(e) is kind and e == instance for e in want)):
                return False
        elif key in ("minLength", "maxLength"):
            if not _size_ok(key, want, len(instance) if kind is str else None):
                return False
        elif key in ("minItems", "maxItems"):
            if not _size_ok(key, want, len(instance) if kind is list else None):
                return False
        elif key == "items":
            if kind is list and not all(certainly_valid(item, want) for item in instance):
                return False
        elif key == "properties":
            if type(want) is not dict:
                return False
            if kind is dict and not all(k not in want or certainly_valid(v, want[k]) for k, v in instance.items()):
                return False
        elif key == "additionalProperties":
            if want is True:
                continue
            props = schema.get("properties", {})
            if want is not False or type(props) is not dict:
                return False
            if kind is dict and not all(k in props for k in instance):
                return False
        elif key == "required":
            if type(want) is not list or (kind is dict and not all(k in instance for k in want)):
                return False
        else:
            return False  # a keyword not read here
    return True


def _size_ok(key: str, bound: Any, size: int | None) -> bool:
    if type(bound) is not int:
        return False
    if size is None:  # the keyword does not apply to this type
        return True
    return size >= bound if key.startswith("min") else size <= bound
