"""What issue #13 made the emulator answer as Azure does, through the real SDK clients and raw HTTP.

Sources: ARM's 401 without a token and the envelope's 400 (https://github.com/Azure/azure-resource-manager-rpc,
"Error response content"); names with spaces in Microsoft's own examples (createOrUpdatePolicyDefinition
examples name definitions like 'ResourceNaming'; https://learn.microsoft.com/rest/api/policy/policy-definitions/
create-or-update allows any name without `<>*%&:\\?+/`); versions
(https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics#version-preview);
checkPolicyRestrictions (https://learn.microsoft.com/rest/api/policyinsights/policy-restrictions);
policy events (https://learn.microsoft.com/rest/api/policyinsights/policy-events); attestations
(https://learn.microsoft.com/azure/governance/policy/concepts/attestation-structure); management groups
(https://learn.microsoft.com/rest/api/managementgroups/).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from policygen.azure.clients import build_clients
from policygen.emulator import running_emulator

from .conftest import BEARER, RG1, SA2, SUB, audit_definition, tenant_seed

AUTH = "/providers/Microsoft.Authorization"


def _raw(url: str, method: str, path: str, body: object = None, headers: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(
        f"{url}{quote(path)}?api-version=2023-04-01",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", **(BEARER if headers is None else headers)},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw, status = resp.read(), resp.status
    except urllib.error.HTTPError as err:
        raw, status = err.read(), err.code
    return status, (json.loads(raw) if raw else {})


def test_a_request_without_a_bearer_token_is_401(emulator):
    assert _raw(emulator, "GET", "/subscriptions", headers={})[1]["error"]["code"] == "AuthenticationFailed"
    status, body = _raw(emulator, "GET", "/subscriptions", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert status == 401 and body["error"]["code"] == "AuthenticationFailed"
    assert _raw(emulator, "GET", "/subscriptions")[0] == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (f"{RG1}/providers/Microsoft.Storage/storageAccounts/bad", {"location": ["x"], "properties": 5}),
        (f"{RG1}/providers/Microsoft.Storage/storageAccounts/bad", {"location": "westeurope", "tags": "x"}),
        (f"/subscriptions/{SUB}{AUTH}/policyAssignments/bad", {"properties": "x"}),
        (f"/subscriptions/{SUB}{AUTH}/roleAssignments/6a0d1c43-7a2b-4f59-9a51-1c1c1c1c1c1c", {"properties": [1]}),
        (f"/subscriptions/{SUB}{AUTH}/policyDefinitions/bad", {"properties": {"mode": "All"}, "identity": "x"}),
    ],
)
def test_bodies_arm_cannot_deserialize_are_400(emulator, path: str, body: dict):
    status, answer = _raw(emulator, "PUT", path, body)
    assert (status, answer["error"]["code"]) == (400, "InvalidRequestContent")
    assert _raw(emulator, "GET", path)[0] == 404  # nothing was stored


def test_names_with_spaces_and_apostrophes_round_trip_through_the_sdk(clients):
    name = "Audit a tag and it's value"
    pd = clients.policy.policy_definitions
    created = pd.create_or_update(name, audit_definition())
    assert created.name == name and created.id.endswith(f"/policyDefinitions/{name}")
    assert pd.get(name).name == name and name in {d.name for d in pd.list(filter="atExactScope()")}
    assignment = clients.policy.policy_assignments.create(
        f"/subscriptions/{SUB}", "tag audit (prod)", {"properties": {"policyDefinitionId": created.id}}
    )
    assert assignment.name == "tag audit (prod)"
    assert assignment.policy_definition_id == created.id
    clients.policy.policy_assignments.delete(f"/subscriptions/{SUB}", "tag audit (prod)")
    pd.delete(name)
    with pytest.raises(ResourceNotFoundError):
        pd.get(name)


def test_versions_are_filled_and_expanded_as_azure_does(clients):
    policy = clients.policy
    definition = policy.policy_definitions.create_or_update("https", audit_definition())
    assert definition.version == "1.0.0" and definition.versions == ["1.0.0"]
    initiative = policy.policy_set_definitions.create_or_update(
        "set", {"properties": {"policyDefinitions": [{"policyDefinitionId": definition.id}]}}
    )
    assert initiative.version == "1.0.0"
    assert initiative.policy_definitions[0].definition_version == "1.*.*"
    scope = f"/subscriptions/{SUB}"
    assigned = policy.policy_assignments.create(scope, "https", {"properties": {"policyDefinitionId": definition.id}})
    assert assigned.definition_version == "1.*.*"
    v2 = {"properties": {**audit_definition()["properties"], "version": "2.0.0"}}
    policy.policy_definitions.create_or_update("https", v2)
    listed = policy.policy_assignments.list(
        filter="atScope()", expand="LatestDefinitionVersion, EffectiveDefinitionVersion"
    )
    mine = next(a for a in listed if a.name == "https")
    assert (mine.latest_definition_version, mine.effective_definition_version) == ("2.0.0", "1.0.0")


def test_builtins_page_and_errors_carry_arm_codes(tmp_path):
    folder = tmp_path / "policyDefinitions" / "Storage"
    folder.mkdir(parents=True)
    for i in range(5):
        name = f"0000aaaa-0000-0000-0000-00000000000{i}"
        builtin = {**audit_definition(), "id": f"{AUTH}/policyDefinitions/{name}", "name": name}
        builtin["properties"]["policyType"] = "BuiltIn"
        (folder / f"{i}.json").write_text(json.dumps(builtin))
    with running_emulator(seed=tenant_seed(), builtins=tmp_path, page_size=2) as url:
        clients = build_clients(SUB, endpoint=url, retry_total=0)
        built_in = list(clients.policy.policy_definitions.list_built_in())
        pages = [r for r in url.requests if r["path"].endswith("/providers/Microsoft.Authorization/policyDefinitions")]
        assert len(built_in) == 5 and len(pages) == 3  # pages of 2, 2 and 1, followed through nextLink
        with pytest.raises(ResourceNotFoundError) as missing:
            clients.policy.policy_definitions.get_built_in("00000000-0000-0000-0000-00000000dead")
        assert missing.value.error.code == "PolicyDefinitionNotFound"
        broken = {"properties": {"mode": "All", "policyRule": {"if": {"field": "type"}, "then": {"effect": "audit"}}}}
        with pytest.raises(HttpResponseError) as bad:
            clients.policy.policy_definitions.create_or_update("broken", broken)
        assert (bad.value.status_code, bad.value.error.code) == (400, "InvalidPolicyRule")
        clients.close()


def _deny_locations(clients) -> None:
    rule = {"if": {"field": "location", "notIn": "[parameters('allowed')]"}, "then": {"effect": "deny"}}
    definition = clients.policy.policy_definitions.create_or_update(
        "allowed-locations",
        {"properties": {"mode": "Indexed", "parameters": {"allowed": {"type": "Array"}}, "policyRule": rule}},
    )
    clients.policy.policy_assignments.create(
        f"/subscriptions/{SUB}",
        "locations",
        {"properties": {"policyDefinitionId": definition.id, "parameters": {"allowed": {"value": ["westeurope"]}}}},
    )


def test_check_policy_restrictions_through_the_sdk(clients):
    _deny_locations(clients)
    result = clients.insights.policy_restrictions.check_at_subscription_scope(
        {
            "resourceDetails": {"resourceContent": {"type": "Microsoft.Storage/storageAccounts", "location": "eastus"}},
            "pendingFields": [{"field": "location", "values": ["westeurope", "eastus", "northeurope"]}],
        }
    )
    (restriction,) = result.field_restrictions
    assert restriction.field == "location"
    assert restriction.restrictions[0].result == "Deny"
    assert restriction.restrictions[0].values == ["eastus", "northeurope"]
    (evaluation,) = result.content_evaluation_result.policy_evaluations
    assert evaluation.evaluation_result == "NonCompliant"
    assert evaluation.evaluation_details.evaluated_expressions[0].expression == "location"
    assert evaluation.policy_info.policy_assignment_id.endswith("/policyAssignments/locations")


def test_policy_events_record_denials_and_audits(clients):
    _deny_locations(clients)
    accounts = clients.resources.resources
    with pytest.raises(HttpResponseError) as denied:
        accounts.begin_create_or_update_by_id(
            f"{RG1}/providers/Microsoft.Storage/storageAccounts/far", {"location": "eastus"}, api_version="2023-01-01"
        ).result()
    assert denied.value.error.code == "RequestDisallowedByPolicy"
    accounts.begin_create_or_update_by_id(
        f"{RG1}/providers/Microsoft.Storage/storageAccounts/near", {"location": "westeurope"}, api_version="2023-01-01"
    ).result()
    events = list(clients.insights.policy_events.list_query_results_for_subscription("default", SUB))
    by_resource = {e.resource_id.rsplit("/", 1)[-1]: e for e in events}
    assert by_resource["far"].is_compliant is False and by_resource["far"].policy_definition_action == "deny"
    assert by_resource["near"].is_compliant is True
    assert all(e.tenant_id and e.principal_oid for e in events)


def test_attestations_set_the_state_of_manual_policies(clients, emulator):
    rule = {"if": {"field": "type", "equals": "Microsoft.Storage/storageAccounts"}, "then": {"effect": "manual"}}
    definition = clients.policy.policy_definitions.create_or_update(
        "manual", {"properties": {"mode": "Indexed", "policyRule": rule}}
    )
    assignment = clients.policy.policy_assignments.create(
        f"/subscriptions/{SUB}", "manual", {"properties": {"policyDefinitionId": definition.id}}
    )
    states = clients.insights.policy_states
    before = {
        s.resource_id.rsplit("/", 1)[-1]: s.compliance_state
        for s in states.list_query_results_for_subscription("latest", SUB)
    }
    assert before == {"sa1": "Unknown", "sa2": "Unknown"}
    sa1 = f"{RG1}/providers/Microsoft.Storage/storageAccounts/sa1"
    status, attestation = _raw(
        emulator,
        "PUT",
        f"{sa1}/providers/Microsoft.PolicyInsights/attestations/audit-2026",
        {"properties": {"policyAssignmentId": assignment.id, "complianceState": "Compliant"}},
    )
    assert status == 201 and attestation["type"] == "Microsoft.PolicyInsights/attestations"
    after = {
        s.resource_id.rsplit("/", 1)[-1]: s.compliance_state
        for s in states.list_query_results_for_subscription("latest", SUB)
    }
    assert after == {"sa1": "Compliant", "sa2": "Unknown"}


def test_attestation_expiry_is_an_instant_whatever_its_offset(clients, emulator):
    # "expiresOn: The time the compliance state should expire" (ISO 8601 date-time), and an expired
    # attestation no longer sets the state:
    # https://learn.microsoft.com/azure/governance/policy/concepts/attestation-structure
    from datetime import UTC, datetime, timedelta, timezone

    rule = {"if": {"field": "type", "equals": "Microsoft.Storage/storageAccounts"}, "then": {"effect": "manual"}}
    definition = clients.policy.policy_definitions.create_or_update(
        "manual", {"properties": {"mode": "Indexed", "policyRule": rule}}
    )
    assignment = clients.policy.policy_assignments.create(
        f"/subscriptions/{SUB}", "manual", {"properties": {"policyDefinitionId": definition.id}}
    )
    now = datetime.now(UTC)
    # in two hours, written 10 hours behind UTC: as text it sorts before now
    later = (now + timedelta(hours=2)).astimezone(timezone(timedelta(hours=-10))).isoformat()
    # an hour ago, written 14 hours ahead of UTC: as text it sorts after now
    earlier = (now - timedelta(hours=1)).astimezone(timezone(timedelta(hours=14))).isoformat()
    for account, expires in ((f"{RG1}/providers/Microsoft.Storage/storageAccounts/sa1", later), (SA2, earlier)):
        status, body = _raw(
            emulator,
            "PUT",
            f"{account}/providers/Microsoft.PolicyInsights/attestations/a",
            {"properties": {"policyAssignmentId": assignment.id, "complianceState": "Compliant", "expiresOn": expires}},
        )
        assert status == 201, body
    states = {
        s.resource_id.rsplit("/", 1)[-1]: s.compliance_state
        for s in clients.insights.policy_states.list_query_results_for_subscription("latest", SUB)
    }
    assert states == {"sa1": "Compliant", "sa2": "Unknown"}
    status, body = _raw(
        emulator,
        "PUT",
        f"{RG1}/providers/Microsoft.Storage/storageAccounts/sa1/providers/Microsoft.PolicyInsights/attestations/b",
        {"properties": {"policyAssignmentId": assignment.id, "complianceState": "Compliant", "expiresOn": "soon"}},
    )
    assert (status, body["error"]["code"]) == (400, "InvalidAttestation")


def test_unsupported_policy_types_answer_arms_error_and_store_nothing(emulator):
    path = f"/subscriptions/{SUB}/providers/Microsoft.PolicyInsights/policyMetadata/x"
    status, body = _raw(emulator, "PUT", path, {"properties": {}})
    assert (status, body["error"]["code"]) == (400, "InvalidResourceType")
    listed = _raw(emulator, "GET", f"/subscriptions/{SUB}/resources")[1]["value"]
    assert listed and not [r for r in listed if "policymetadata" in r["id"].lower()]


def test_operations_lists_and_management_groups_through_the_sdk(clients):
    names = {o.name for o in clients.insights.operations.list().value}
    assert "Microsoft.PolicyInsights/policyStates/queryResults/action" in names
    mg = clients.management_groups
    taken = mg.check_name_availability({"name": "contoso", "type": "Microsoft.Management/managementGroups"})
    assert (taken.name_available, taken.reason) == (False, "AlreadyExists")
    assert mg.check_name_availability({"name": "fresh", "type": "Microsoft.Management/managementGroups"}).name_available
    contoso = next(e for e in mg.entities.list() if e.name == "contoso")
    assert (contoso.number_of_children, contoso.number_of_child_groups, contoso.number_of_descendants) == (2, 2, 4)
    kinds = {d.type for d in mg.management_groups.get_descendants("contoso")}
    assert kinds == {"Microsoft.Management/managementGroups", "Microsoft.Management/managementGroups/subscriptions"}
