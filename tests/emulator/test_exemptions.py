"""Policy exemptions over raw REST through the SDK pipeline (`client.send_request`), as policygen would
send them with azure-mgmt-resource-policy 1.0.0 (which has no exemptions operation group)."""

from __future__ import annotations

import pytest
from azure.core.rest import HttpRequest

from .conftest import RG1, SA1, SUB, audit_definition

API = "2022-07-01-preview"


def rest(clients, method: str, path: str, body: dict | None = None, **query: str):
    resp = clients.policy.send_request(HttpRequest(method, path, json=body, params={"api-version": API, **query}))
    return resp.status_code, (resp.json() if resp.content else None)


@pytest.fixture
def assignment(clients):
    d = clients.policy.policy_definitions.create_or_update("https-only", audit_definition("Deny"))
    return clients.policy.policy_assignments.create(
        f"/subscriptions/{SUB}", "https", {"properties": {"policyDefinitionId": d.id}}
    )


def test_exemption_makes_states_exempt_and_lifts_deny(clients, assignment):
    path = f"{RG1}/providers/Microsoft.Authorization/policyExemptions/waive-rg1"
    status, body = rest(
        clients, "PUT", path, {"properties": {"policyAssignmentId": assignment.id, "exemptionCategory": "Waiver"}}
    )
    assert status == 201 and body["properties"]["exemptionCategory"] == "Waiver"
    assert rest(clients, "GET", path)[0] == 200
    states = {
        s.resource_id: s.compliance_state
        for s in clients.insights.policy_states.list_query_results_for_subscription("latest", SUB)
    }
    assert states[SA1] == "Exempt"
    summary = clients.insights.policy_states.summarize_for_subscription("latest", SUB).value[0]
    assert summary.results.non_compliant_resources == 0
    # The deny assignment no longer blocks http-only storage in rg1.
    clients.resources.resources.begin_create_or_update_by_id(
        f"{RG1}/providers/Microsoft.Storage/storageAccounts/sa5",
        {"location": "westeurope", "properties": {"supportsHttpsTrafficOnly": False}},
        api_version="2023-01-01",
    ).result()

    listed = rest(clients, "GET", f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policyExemptions")[1]
    assert [e["name"] for e in listed["value"]] == ["waive-rg1"]
    at_scope = rest(
        clients,
        "GET",
        f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policyExemptions",
        **{"$filter": "atScope()"},
    )[1]
    assert at_scope["value"] == []  # the exemption is below the subscription
    assert rest(clients, "DELETE", path)[0] == 200
    assert rest(clients, "DELETE", path)[0] == 204
    assert rest(clients, "GET", path)[0] == 404


def test_exemption_validation(clients, assignment):
    base = f"{RG1}/providers/Microsoft.Authorization/policyExemptions/x"
    status, body = rest(clients, "PUT", base, {"properties": {"policyAssignmentId": assignment.id}})
    assert (status, body["error"]["code"]) == (400, "InvalidCreatePolicyExemptionRequest")
    status, body = rest(
        clients,
        "PUT",
        base,
        {"properties": {"policyAssignmentId": assignment.id + "-gone", "exemptionCategory": "Waiver"}},
    )
    assert (status, body["error"]["code"]) == (404, "PolicyAssignmentNotFound")
    expired = {
        "properties": {
            "policyAssignmentId": assignment.id,
            "exemptionCategory": "Mitigated",
            "expiresOn": "2020-01-01T00:00:00Z",
        }
    }
    assert rest(clients, "PUT", base, expired)[0] == 201
    states = {
        s.resource_id: s.compliance_state
        for s in clients.insights.policy_states.list_query_results_for_subscription("latest", SUB)
    }
    assert states[SA1] == "NonCompliant"  # expired exemptions do not count
