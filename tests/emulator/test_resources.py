"""Generic ARM resources through ResourceManagementClient, and request-time policy (deny, modify)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from .conftest import RG1, SA1, SUB, audit_definition, tag_definition

API = "2023-01-01"


def test_generic_resource_crud(clients):
    res = clients.resources.resources
    rid = f"{RG1}/providers/Microsoft.KeyVault/vaults/kv1"
    created = res.begin_create_or_update_by_id(
        rid, {"location": "westeurope", "properties": {"enableRbacAuthorization": True}}, api_version=API
    ).result()
    assert created.id == rid and created.type == "Microsoft.KeyVault/vaults"
    got = res.get_by_id(rid, api_version=API)
    assert got.properties["enableRbacAuthorization"] is True
    child = res.begin_create_or_update_by_id(
        f"{rid}/secrets/s1", {"properties": {"value": "x"}}, api_version=API
    ).result()
    assert child.type == "Microsoft.KeyVault/vaults/secrets"
    with pytest.raises(ResourceNotFoundError) as err:
        res.begin_create_or_update_by_id(
            f"{RG1}/providers/Microsoft.KeyVault/vaults/nope/secrets/s1", {"properties": {}}, api_version=API
        ).result()
    assert err.value.error.code == "ParentResourceNotFound"
    assert {r.name for r in res.list_by_resource_group("rg1")} == {"sa1", "vnet1", "kv1", "s1"}
    assert [r.name for r in res.list(filter="resourceType eq 'Microsoft.KeyVault/vaults'")] == ["kv1"]
    res.begin_delete_by_id(rid, api_version=API).result()
    assert not res.check_existence_by_id(f"{rid}/secrets/s1", api_version=API)  # children go with the parent


def test_deny_assignment_blocks_requests_unless_do_not_enforce(clients):
    d = clients.policy.policy_definitions.create_or_update("https-only", audit_definition("Deny"))
    scope = f"/subscriptions/{SUB}"
    clients.policy.policy_assignments.create(scope, "deny-http", {"properties": {"policyDefinitionId": d.id}})
    res = clients.resources.resources
    body = {"location": "westeurope", "kind": "StorageV2", "properties": {"supportsHttpsTrafficOnly": False}}
    with pytest.raises(HttpResponseError) as err:
        res.begin_create_or_update_by_id(
            f"{RG1}/providers/Microsoft.Storage/storageAccounts/sa9", body, api_version=API
        ).result()
    assert (err.value.status_code, err.value.error.code) == (403, "RequestDisallowedByPolicy")
    body["properties"]["supportsHttpsTrafficOnly"] = True
    res.begin_create_or_update_by_id(
        f"{RG1}/providers/Microsoft.Storage/storageAccounts/sa9", body, api_version=API
    ).result()
    clients.policy.policy_assignments.create(
        scope, "deny-http", {"properties": {"policyDefinitionId": d.id, "enforcementMode": "DoNotEnforce"}}
    )
    body["properties"]["supportsHttpsTrafficOnly"] = False
    res.begin_create_or_update_by_id(
        f"{RG1}/providers/Microsoft.Storage/storageAccounts/sa10", body, api_version=API
    ).result()


def test_modify_applies_on_create(clients):
    d = clients.policy.policy_definitions.create_or_update("add-tag", tag_definition())
    clients.policy.policy_assignments.create(
        f"/subscriptions/{SUB}",
        "tags",
        {
            "location": "westeurope",
            "identity": {"type": "SystemAssigned"},
            "properties": {
                "policyDefinitionId": d.id,
                "parameters": {"tagName": {"value": "costCenter"}, "tagValue": {"value": "42"}},
            },
        },
    )
    made = clients.resources.resources.begin_create_or_update_by_id(
        f"{RG1}/providers/Microsoft.Storage/storageAccounts/sa3",
        {"location": "westeurope", "properties": {"supportsHttpsTrafficOnly": True}},
        api_version=API,
    ).result()
    assert made.tags == {"costCenter": "42"}
    # Existing resources are untouched until a remediation runs.
    assert clients.resources.resources.get_by_id(SA1, api_version=API).tags == {}


def test_a_deny_names_the_assignments_non_compliance_message(clients):
    """Learn, "Azure Policy assignment structure — non-compliance messages": a denied request's error carries
    the assignment's message (ARM: "was disallowed by policy. Reasons: '<message>'")."""
    d = clients.policy.policy_definitions.create_or_update("https-only-msg", audit_definition("Deny"))
    scope = f"/subscriptions/{SUB}"
    message = "Storage accounts must accept HTTPS only: set supportsHttpsTrafficOnly."
    clients.policy.policy_assignments.create(
        scope,
        "deny-http-msg",
        {"properties": {"policyDefinitionId": d.id, "nonComplianceMessages": [{"message": message}]}},
    )
    body = {"location": "westeurope", "kind": "StorageV2", "properties": {"supportsHttpsTrafficOnly": False}}
    with pytest.raises(HttpResponseError) as err:
        clients.resources.resources.begin_create_or_update_by_id(
            f"{RG1}/providers/Microsoft.Storage/storageAccounts/sa11", body, api_version=API
        ).result()
    assert err.value.error.code == "RequestDisallowedByPolicy"
    assert f"Reasons: '{message}'" in err.value.error.message
