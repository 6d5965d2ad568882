"""Policy assignments at every scope, identities and Azure's assignment-time validation."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from .conftest import MG, RG1, SUB, audit_definition, tag_definition


@pytest.fixture
def definitions(clients):
    pd = clients.policy.policy_definitions
    return {
        "audit": pd.create_or_update_at_management_group("contoso", "https-only", audit_definition()).id,
        "tag": pd.create_or_update_at_management_group("contoso", "add-tag", tag_definition()).id,
    }


@pytest.mark.parametrize("scope", [f"{MG}/prod", f"/subscriptions/{SUB}", RG1])
def test_assignment_crud_at_every_scope(clients, definitions, scope):
    pa = clients.policy.policy_assignments
    created = pa.create(
        scope,
        "https",
        {"properties": {"policyDefinitionId": definitions["audit"], "parameters": {"effect": {"value": "Audit"}}}},
    )
    assert created.id == f"{scope}/providers/Microsoft.Authorization/policyAssignments/https"
    assert created.scope == scope and created.enforcement_mode == "Default"
    updated = pa.create(
        scope, "https", {"properties": {"policyDefinitionId": definitions["audit"], "enforcementMode": "DoNotEnforce"}}
    )  # 201 again
    assert updated.enforcement_mode == "DoNotEnforce"
    assert pa.get_by_id(created.id).name == "https"
    deleted = pa.delete(scope, "https")
    assert deleted.name == "https"  # DELETE returns the assignment
    assert pa.delete(scope, "https") is None  # then 204
    with pytest.raises(ResourceNotFoundError) as err:
        pa.get(scope, "https")
    assert err.value.error.code == "PolicyAssignmentNotFound"


def test_list_filters(clients, definitions):
    pa = clients.policy.policy_assignments
    body = {"properties": {"policyDefinitionId": definitions["audit"]}}
    pa.create(f"{MG}/contoso", "at-contoso", body)
    pa.create(f"/subscriptions/{SUB}", "at-sub", body)
    pa.create(RG1, "at-rg", body)
    assert {a.name for a in pa.list()} == {"at-contoso", "at-sub", "at-rg"}  # ancestors + children
    assert {a.name for a in pa.list(filter="atScope()")} == {"at-contoso", "at-sub"}
    assert {a.name for a in pa.list(filter="atExactScope()")} == {"at-sub"}
    assert {a.name for a in pa.list_for_resource_group("rg1", filter="atScope()")} == {"at-contoso", "at-sub", "at-rg"}
    assert {a.name for a in pa.list_for_management_group("prod", filter="atScope()")} == {"at-contoso"}
    by_def = pa.list(filter=f"policyDefinitionId eq '{definitions['audit']}'")
    assert len(list(by_def)) == 3


def test_system_assigned_identity(clients, definitions):
    pa = clients.policy.policy_assignments
    body = {
        "location": "westeurope",
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "policyDefinitionId": definitions["tag"],
            "parameters": {"tagName": {"value": "env"}, "tagValue": {"value": "prod"}},
        },
    }
    a = pa.create(f"/subscriptions/{SUB}", "tags", body)
    assert a.identity.type == "SystemAssigned" and a.identity.principal_id and a.identity.tenant_id
    # Re-PUT keeps the principal; the location cannot change.
    assert pa.create(f"/subscriptions/{SUB}", "tags", body).identity.principal_id == a.identity.principal_id
    moved = dict(body, location="eastus")
    with pytest.raises(HttpResponseError) as err:
        pa.create(f"/subscriptions/{SUB}", "tags", moved)
    assert err.value.error.code == "InvalidLocationUpdate"
    # Deleting and recreating yields a new principal, as in Azure.
    pa.delete(f"/subscriptions/{SUB}", "tags")
    assert pa.create(f"/subscriptions/{SUB}", "tags", body).identity.principal_id != a.identity.principal_id


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            {"properties": {"parameters": {"tagName": {"value": "env"}, "tagValue": {"value": "x"}}}},
            "ResourceIdentityRequired",
        ),
        (
            {
                "identity": {"type": "SystemAssigned"},
                "properties": {"parameters": {"tagName": {"value": "env"}, "tagValue": {"value": "x"}}},
            },
            "LocationRequired",
        ),
        (
            {
                "location": "westeurope",
                "identity": {"type": "SystemAssigned"},
                "properties": {
                    "parameters": {"tagName": {"value": "env"}, "tagValue": {"value": "x"}, "colour": {"value": 1}}
                },
            },
            "UndefinedPolicyParameter",
        ),
        (
            {
                "location": "westeurope",
                "identity": {"type": "SystemAssigned"},
                "properties": {"parameters": {"tagName": {"value": "env"}}},
            },
            "MissingPolicyParameter",
        ),
    ],
)
def test_assignment_validation(clients, definitions, body, code):
    body["properties"]["policyDefinitionId"] = definitions["tag"]
    with pytest.raises(HttpResponseError) as err:
        clients.policy.policy_assignments.create(f"/subscriptions/{SUB}", "bad", body)
    assert (err.value.status_code, err.value.error.code) == (400, code)


def test_management_group_assignment_names_are_limited_to_24_characters(clients, definitions):
    body = {"properties": {"policyDefinitionId": definitions["audit"]}}
    with pytest.raises(HttpResponseError) as err:
        clients.policy.policy_assignments.create(f"{MG}/prod", "x" * 25, body)
    assert err.value.error.code == "InvalidPolicyAssignmentName"
    clients.policy.policy_assignments.create(f"/subscriptions/{SUB}", "x" * 25, body)


def test_assigned_definition_cannot_be_deleted(clients, definitions):
    clients.policy.policy_assignments.create(
        f"/subscriptions/{SUB}", "a", {"properties": {"policyDefinitionId": definitions["audit"]}}
    )
    with pytest.raises(HttpResponseError) as err:
        clients.policy.policy_definitions.delete_at_management_group("contoso", "https-only")
    assert err.value.error.code == "InvalidDeletePolicyDefinitionRequest"


def test_missing_scope_and_missing_definition(clients, definitions):
    with pytest.raises(ResourceNotFoundError) as err:
        clients.policy.policy_assignments.create(
            f"/subscriptions/{SUB}/resourceGroups/nope",
            "a",
            {"properties": {"policyDefinitionId": definitions["audit"]}},
        )
    assert err.value.error.code == "ResourceGroupNotFound"
    with pytest.raises(ResourceNotFoundError) as err:
        clients.policy.policy_assignments.create(
            f"/subscriptions/{SUB}", "a", {"properties": {"policyDefinitionId": definitions["audit"] + "-gone"}}
        )
    assert err.value.error.code == "PolicyDefinitionNotFound"
