"""Wire-level building blocks shared by every resource family: requests, ARM errors, paging, scopes.

ARM is case-insensitive on ids and names, so everything is keyed on `key(id)` (lower-cased) while the
case used at creation is echoed back. Scopes are `policygen.arm.scopes.Scope` values, parsed once (routing
parses the request's scope; `parse_scope` only adds ARM's error answer).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from policygen.arm import json_text, scopes
from policygen.arm.scopes import Scope, ScopeError
from policygen.arm.scopes import key as key  # re-exported: the one id normalisation

NAMESPACE = uuid.UUID("5b0d3c3e-8f7e-4f5e-9c38-6f2c1c0e7a11")
DEFAULT_TENANT = "00000000-0000-0000-0000-0000000000aa"
EMULATOR_USER = "policygen-emulator@local"


class ArmError(Exception):
    """An ARM error response: `{"error": {"code", "message", "details"}}` with an HTTP status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: list[dict] | None = None,
        headers: dict[str, str] | None = None,
        target: str | None = None,
    ):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.details = details or []
        self.headers = headers or {}
        self.target = target

    def body(self) -> dict:
        err: dict[str, Any] = {"code": self.code, "message": self.message, "details": self.details}
        if self.target:
            err["target"] = self.target
        return {"error": err}


def bad_request(code: str, message: str, **kw: Any) -> ArmError:
    return ArmError(400, code, message, **kw)


@dataclass
class Request:
    """One parsed HTTP request; `query` keeps the first value of each parameter, case-insensitively."""

    method: str
    path: str
    raw_query: str
    headers: dict[str, str]
    body_bytes: bytes = b""
    base_url: str = ""
    query: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for k, v in parse_qsl(self.raw_query, keep_blank_values=True):
            self.query.setdefault(k.lower(), v)

    @property
    def api_version(self) -> str | None:
        return self.query.get("api-version")

    def q(self, name: str, default: str | None = None) -> str | None:
        return self.query.get(name.lower(), default)

    def json(self, required: bool = True) -> dict:
        if not self.body_bytes.strip():
            if required:
                raise bad_request(
                    "InvalidRequestContent",
                    "The request content was invalid and could not be deserialized: the body is empty.",
                )
            return {}
        try:  # bounded depth and no duplicate keys (policygen.arm.json_text): ARM's 400, never a 500
            data = json_text.loads(self.body_bytes)
        except json_text.JsonTextError as exc:
            where = f" (line {exc.line}, column {exc.col})" if exc.line else ""
            raise bad_request(
                "InvalidRequestContent",
                f"The request content was invalid and could not be deserialized: {exc.message}{where}.",
            ) from None
        if not isinstance(data, dict):
            raise bad_request("InvalidRequestContent", "The request content must be a JSON object.")
        return data


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def guid(*parts: str) -> str:
    """A deterministic GUID from its parts, so replays of a seed produce the same ids."""
    return str(uuid.uuid5(NAMESPACE, "|".join(p.lower() for p in parts)))


def system_data(previous: dict | None = None) -> dict:
    stamp = now_iso()
    created = (previous or {}).get("systemData", {})
    return {
        "createdBy": created.get("createdBy", EMULATOR_USER),
        "createdByType": "User",
        "createdAt": created.get("createdAt", stamp),
        "lastModifiedBy": EMULATOR_USER,
        "lastModifiedByType": "User",
        "lastModifiedAt": stamp,
    }


# --------------------------------------------------------------------------- scopes


def parse_scope(scope: str) -> Scope:
    """policygen.arm's scope parser, answering ARM's 400 InvalidScope for what is not a scope."""
    try:
        return scopes.parse_scope(scope)
    except ScopeError:
        raise bad_request("InvalidScope", f"The scope '{scope}' is not a valid ARM scope.") from None


def resource_type_of(resource_id: str) -> str:
    """`Microsoft.Storage/storageAccounts/blobServices` from a full resource id ('' when it names none)."""
    return scopes.resource_type_of(resource_id) or ""


class Match:
    """A routed request's path parameters, and its scope parsed once for every step that needs it.

    The scope is the route's `scope` group, or the subscription and resource group of a route that names
    them. A scope that does not parse raises ARM's 400 only when a handler asks for it, as before.
    """

    __slots__ = ("groups", "scope_text", "_scope", "_error")

    def __init__(self, groups: dict[str, str | None]):
        # Routing matches the path as sent (names percent-encoded, so an encoded '/' never splits a segment);
        # ARM names are the decoded text: 'Audit%20a%20tag' is the definition 'Audit a tag'.
        self.groups = {k: unquote(v) if v else v for k, v in groups.items()}
        groups = self.groups
        if "scope" in groups:
            text = (groups["scope"] or "").rstrip("/")
        elif groups.get("sub"):
            text = f"/subscriptions/{groups['sub']}" + (f"/resourceGroups/{groups['rg']}" if groups.get("rg") else "")
        else:
            text = ""
        self.scope_text = text  # as requested, without a trailing slash ('' is the tenant)
        self._scope: Scope | None = None
        self._error: ArmError | None = None
        try:
            self._scope = parse_scope(text)
        except ArmError as err:
            self._error = err

    @property
    def scope(self) -> Scope:
        if self._scope is None:
            raise self._error or bad_request("InvalidScope", "No scope.")
        return self._scope

    def __getitem__(self, name: str) -> str:
        return self.groups[name] or ""

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.groups.get(name) or default


# --------------------------------------------------------------------------- paging


def paged(
    req: Request, items: list[dict], *, default_top: int, next_key: str = "nextLink", post: bool = False
) -> Response:
    """One page of `items` with an absolute `nextLink` (built from the Host header) holding `$skiptoken`."""
    try:
        skip = int(req.q("$skiptoken") or req.q("$skipToken") or 0)
    except ValueError:
        raise bad_request("InvalidSkipToken", "The $skiptoken value is not valid.") from None
    top = default_top
    if req.q("$top"):
        try:
            top = max(1, min(int(req.q("$top")), default_top if default_top > 0 else 1000))
        except ValueError:
            raise bad_request("InvalidTop", "The $top value must be an integer.") from None
    page = items[skip : skip + top]
    body: dict[str, Any] = {"value": page}
    if skip + top < len(items):
        params = {k: v for k, v in parse_qsl(req.raw_query, keep_blank_values=True) if k.lower() not in ("$skiptoken",)}
        params["$skiptoken"] = str(skip + top)
        body[next_key] = f"{req.base_url}{quote(unquote(req.path))}?{urlencode(params)}"
    else:
        body[next_key] = None
    return Response(200, body)


def copy_json(value: Any) -> Any:
    return json.loads(json.dumps(value))
