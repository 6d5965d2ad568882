"""A small typed client for policy exemptions (`Microsoft.Authorization/policyExemptions`).

Why not an SDK operation group: azure-mgmt-resource-policy 1.0.0 (the policy SDK we use) has no exemptions
operations, and the last azure-mgmt-resource that had them (<= 23, `PolicyClient.policy_exemptions`) is the
package the policy SDK was split out of; pinning it back would downgrade every other client. So the calls go
through the policy client's own pipeline (`PolicyClient.send_request`): the same credential and token
audience, endpoint, per-call policies (plain-http bearer for the emulator, failed-request naming) and
transport pool as every other call; retries are ours (`Arm._call` with the SDK's own switched off).

REST: https://learn.microsoft.com/rest/api/policy/policy-exemptions (api-version 2022-07-01-preview, the
version that knows resourceSelectors and assignmentScopeValidation).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    map_error,
)
from azure.core.rest import HttpRequest

from policygen.arm.scopes import key

API_VERSION = "2022-07-01-preview"
SEGMENT = "/providers/Microsoft.Authorization/policyExemptions"
ERRORS = {401: ClientAuthenticationError, 404: ResourceNotFoundError, 409: ResourceExistsError}
MAX_PAGES = 1000  # a nextLink loop must end


@dataclass
class ExemptionsClient:
    """List (exactly at a scope), create-or-update and delete exemptions through an SDK client's pipeline."""

    client: Any  # any azure-mgmt client: only its `send_request` pipeline is used

    def _send(self, method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode("utf-8")
        response = self.client.send_request(HttpRequest(method, url, headers=headers, content=data),
                                            retry_total=0)
        if response.status_code >= 400:
            map_error(response.status_code, response, ERRORS)
            raise HttpResponseError(response=response)
        if response.status_code == 204 or not response.content:
            return {}
        return response.json()

    def _pages(self, url: str | None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            if not url:
                break
            page = self._send("GET", url)
            out.extend(page.get("value") or [])
            url = page.get("nextLink")
        return out

    def list(self, scope: str, assignment_id: str | None = None) -> list[dict[str, Any]]:
        """Exemptions made exactly at `scope` (`$filter=atExactScope()`), or those of one assignment at and
        below its scope (`$filter=policyAssignmentId eq '...'`), every page."""
        flt = quote(f"policyAssignmentId eq '{assignment_id}'" if assignment_id else "atExactScope()", safe="()'")
        out = self._pages(f"{_scope_path(scope)}{SEGMENT}?api-version={API_VERSION}&$filter={flt}")
        if assignment_id:
            return [e for e in out if str((e.get("properties") or {}).get("policyAssignmentId", "")).lower()
                    == assignment_id.lower()]
        want = scope.rstrip("/").lower() + SEGMENT.lower() + "/"
        return [e for e in out if str(e.get("id", "")).lower().startswith(want)]

    def list_of(self, scope: str, assignment_ids: Iterable[str]) -> list[dict[str, Any]]:
        """The exemptions of these assignments (all made at `scope`) wherever they are, in one listing: the
        unfiltered list holds a scope's exemptions, those of its ancestors and those of every scope below it
        (`$filter=atScope()` is "everything in the unfiltered list except those applied to sub scopes";
        https://learn.microsoft.com/javascript/api/@azure/arm-policy/policyexemptionslistformanagementgroupoptionalparams),
        and an exemption lies at or below its assignment's scope."""
        wanted = {key(i) for i in assignment_ids}
        out = self._pages(f"{_scope_path(scope)}{SEGMENT}?api-version={API_VERSION}")
        return [e for e in out if key((e.get("properties") or {}).get("policyAssignmentId")) in wanted]

    def put(self, scope: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._send("PUT", f"{_scope_path(scope)}{SEGMENT}/{quote(name, safe='')}?api-version={API_VERSION}",
                          body)

    def delete(self, scope: str, name: str) -> None:
        self._send("DELETE", f"{_scope_path(scope)}{SEGMENT}/{quote(name, safe='')}?api-version={API_VERSION}")


def _scope_path(scope: str) -> str:
    """The scope as a URL path (ids are ASCII path segments; spaces and the like are quoted)."""
    return quote("/" + scope.strip("/"), safe="/")
