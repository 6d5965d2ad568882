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

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from policygen.arm.scopes import key
from policygen.azure.rest import pages, scope_path, send

API_VERSION = "2022-07-01-preview"
SEGMENT = "/providers/Microsoft.Authorization/policyExemptions"


@dataclass
class ExemptionsClient:
    """List (exactly at a scope), create-or-update and delete exemptions through an SDK client's pipeline."""

    client: Any  # any azure-mgmt client: only its `send_request` pipeline is used

    def _send(self, method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return send(self.client, method, url, body)

    def _pages(self, url: str) -> list[dict[str, Any]]:
        return pages(self.client, url, API_VERSION)

    def list(self, scope: str, assignment_id: str | None = None) -> list[dict[str, Any]]:
        """Exemptions made exactly at `scope` (`$filter=atExactScope()`), or those of one assignment at and
        below its scope (`$filter=policyAssignmentId eq '...'`), every page."""
        flt = quote(f"policyAssignmentId eq '{assignment_id}'" if assignment_id else "atExactScope()", safe="()'")
        out = self._pages(f"{scope_path(scope)}{SEGMENT}?api-version={API_VERSION}&$filter={flt}")
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
        out = self._pages(f"{scope_path(scope)}{SEGMENT}?api-version={API_VERSION}")
        return [e for e in out if key((e.get("properties") or {}).get("policyAssignmentId")) in wanted]

    def put(self, scope: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._send("PUT", f"{scope_path(scope)}{SEGMENT}/{quote(name, safe='')}?api-version={API_VERSION}",
                          body)

    def delete(self, scope: str, name: str) -> None:
        self._send("DELETE", f"{scope_path(scope)}{SEGMENT}/{quote(name, safe='')}?api-version={API_VERSION}")
