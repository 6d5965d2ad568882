"""The ARM resource envelope of a request body, checked as ARM's front door does before any provider sees it.

ARM deserializes `location`, `tags`, `properties`, `identity`, `sku`, `kind`, `plan` and `zones` into typed
fields first, so a body such as `{"location": ["x"], "properties": 5}` is a 400 `InvalidRequestContent` for
every resource type (Microsoft.Authorization ones included), never a 201 or a 500.
"""

from __future__ import annotations

import json
from typing import Any

from policygen.emulator.core import Request, bad_request

_FIELDS: dict[str, type | tuple[type, ...]] = {
    "location": str,
    "tags": dict,
    "properties": dict,
    "identity": dict,
    "sku": dict,
    "kind": str,
    "plan": dict,
    "zones": list,
    "managedBy": str,
    "extendedLocation": dict,
}
_NAMES = {str: "a string", dict: "an object", list: "an array"}


def _deserialize_error(path: str, value: Any, wanted: str) -> Exception:
    shown = json.dumps(value)[:60]
    return bad_request(
        "InvalidRequestContent",
        f"The request content was invalid and could not be deserialized: 'Error converting value {shown} "
        f"to {wanted}. Path '{path}'.'",
        target=path,
    )


def check(body: dict) -> dict:
    """`body`, when its envelope fields have the types ARM deserializes them into (400 otherwise)."""
    for name, wanted in _FIELDS.items():
        value = body.get(name)
        if value is not None and not isinstance(value, wanted):
            raise _deserialize_error(name, value, _NAMES[wanted])  # type: ignore[index]
    for tag, value in (body.get("tags") or {}).items():
        if isinstance(value, (dict, list)):
            raise _deserialize_error(f"tags.{tag}", value, "a string")
    identity = body.get("identity") or {}
    if identity.get("userAssignedIdentities") is not None and not isinstance(identity["userAssignedIdentities"], dict):
        raise _deserialize_error("identity.userAssignedIdentities", identity["userAssignedIdentities"], "an object")
    return body


def body(req: Request) -> dict:
    """The request's JSON object, envelope checked."""
    return check(req.json())
