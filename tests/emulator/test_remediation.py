"""Remediation tasks that really change emulated resources: modify and deployIfNotExists."""

from __future__ import annotations

import uuid

import pytest
from azure.core.exceptions import HttpResponseError

from policygen.emulator import running_emulator

from .conftest import RG1, SA1, SA2, SUB, TAG_CONTRIBUTOR, audit_definition, tag_definition, tenant_seed, wait_terminal

API = "2023-01-01"
STORAGE_CONTRIBUTOR = "17d1049b-9a84-46fb-8f53-869881c3d3ab"


def assign_tags(clients, scope=f"/subscriptions/{SUB}", name="tags"):
    d = clients.policy.policy_definitions.create_or_update("add-tag", tag_definition())
    return clients.policy.policy_assignments.create(
        scope,
        name,
        {
            "location": "westeurope",
            "identity": {"type": "SystemAssigned"},
            "properties": {
                "policyDefinitionId": d.id,
                "parameters": {"tagName": {"value": "costCenter"}, "tagValue": {"value": "42"}},
            },
        },
    )


def grant(clients, principal: str, role: str, scope: str = f"/subscriptions/{SUB}") -> None:
    clients.authorization.role_assignments.create(
        scope,
        str(uuid.uuid4()),
        {
            "properties": {
                "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{role}",
                "principalId": principal,
                "principalType": "ServicePrincipal",
            }
        },
    )


def test_modify_remediation_changes_resources(clients):
    a = assign_tags(clients)
    grant(clients, a.identity.principal_id, TAG_CONTRIBUTOR)
    before = clients.insights.policy_states.summarize_for_subscription("latest", SUB).value[0]
    assert before.results.non_compliant_resources == 3

    rem = clients.insights.remediations
    created = rem.create_or_update_at_subscription("fix-tags", {"properties": {"policyAssignmentId": a.id}})
    assert created.provisioning_state == "Accepted"
    done = wait_terminal(lambda: rem.get_at_subscription("fix-tags"))
    assert done.provisioning_state == "Succeeded"
    assert done.deployment_status.total_deployments == 3 and done.deployment_status.successful_deployments == 3
    deployments = list(rem.list_deployments_at_subscription("fix-tags"))
    assert {d.remediated_resource_id.lower() for d in deployments} >= {SA1.lower(), SA2.lower()}
    assert all(d.status == "Succeeded" for d in deployments)

    assert clients.resources.resources.get_by_id(SA1, api_version=API).tags == {"costCenter": "42"}
    assert clients.resources.resources.get_by_id(SA2, api_version=API).tags == {"env": "prod", "costCenter": "42"}
    after = clients.insights.policy_states.summarize_for_subscription("latest", SUB).value[0]
    assert after.results.non_compliant_resources == 0
    assert [r.name for r in rem.list_for_subscription()] == ["fix-tags"]


def test_remediation_without_a_role_fails_per_resource(clients):
    a = assign_tags(clients)
    rem = clients.insights.remediations
    rem.create_or_update_at_resource_group("rg1", "fix", {"properties": {"policyAssignmentId": a.id}})
    done = wait_terminal(lambda: rem.get_at_resource_group("rg1", "fix"))
    assert done.provisioning_state == "Failed"
    assert done.deployment_status.failed_deployments == 2  # rg1 only: sa1 and vnet1
    assert {d.error.code for d in rem.list_deployments_at_resource_group("rg1", "fix")} == {"AuthorizationFailed"}
    assert clients.resources.resources.get_by_id(SA1, api_version=API).tags == {}


def dine_definition() -> dict:
    """Blob soft delete: deploy blobServices/default with deleteRetentionPolicy where it is missing."""
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"accountName": {"type": "string"}, "days": {"type": "int"}},
        "variables": {"service": "[concat(parameters('accountName'), '/default')]"},
        "resources": [
            {
                "type": "Microsoft.Storage/storageAccounts/blobServices",
                "apiVersion": "2023-01-01",
                "name": "[variables('service')]",
                "properties": {"deleteRetentionPolicy": {"enabled": True, "days": "[parameters('days')]"}},
            }
        ],
        "outputs": {"service": {"type": "string", "value": "[variables('service')]"}},
    }
    return {
        "properties": {
            "mode": "Indexed",
            "displayName": "Blob soft delete",
            "metadata": {"category": "Storage", "version": "1.0.0"},
            "parameters": {
                "retentionDays": {
                    "type": "Integer",
                    "defaultValue": 7,
                    "metadata": {"displayName": "Days", "description": "Days"},
                }
            },
            "policyRule": {
                "if": {"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
                "then": {
                    "effect": "deployIfNotExists",
                    "details": {
                        "type": "Microsoft.Storage/storageAccounts/blobServices",
                        "name": "default",
                        "roleDefinitionIds": [
                            f"/providers/Microsoft.Authorization/roleDefinitions/{STORAGE_CONTRIBUTOR}"
                        ],
                        "existenceCondition": {
                            "field": "Microsoft.Storage/storageAccounts/blobServices/deleteRetentionPolicy.enabled",
                            "equals": True,
                        },
                        "deployment": {
                            "properties": {
                                "mode": "incremental",
                                "template": template,
                                "parameters": {
                                    "accountName": {"value": "[field('name')]"},
                                    "days": {"value": "[parameters('retentionDays')]"},
                                },
                            }
                        },
                    },
                },
            },
        }
    }


def test_deploy_if_not_exists_remediation_deploys_the_template(clients):
    d = clients.policy.policy_definitions.create_or_update("soft-delete", dine_definition())
    a = clients.policy.policy_assignments.create(
        f"/subscriptions/{SUB}",
        "soft-delete",
        {
            "location": "westeurope",
            "identity": {"type": "SystemAssigned"},
            "properties": {"policyDefinitionId": d.id, "parameters": {"retentionDays": {"value": 14}}},
        },
    )
    grant(clients, a.identity.principal_id, STORAGE_CONTRIBUTOR)
    before = clients.insights.policy_states.summarize_for_subscription("latest", SUB).value[0]
    assert before.results.non_compliant_resources == 2

    rem = clients.insights.remediations
    rem.create_or_update_at_subscription(
        "soft", {"properties": {"policyAssignmentId": a.id, "resourceDiscoveryMode": "ReEvaluateCompliance"}}
    )
    done = wait_terminal(lambda: rem.get_at_subscription("soft"))
    assert done.provisioning_state == "Succeeded", [d.error for d in rem.list_deployments_at_subscription("soft")]
    service = clients.resources.resources.get_by_id(f"{SA1}/blobServices/default", api_version=API)
    assert service.properties["deleteRetentionPolicy"] == {"enabled": True, "days": 14}
    dep = next(iter(rem.list_deployments_at_subscription("soft")))
    record = clients.resources.resources.get_by_id(dep.deployment_id, api_version=API)
    assert record.properties["provisioningState"] == "Succeeded"
    after = clients.insights.policy_states.summarize_for_subscription("latest", SUB).value[0]
    assert after.results.non_compliant_resources == 0


def test_remediation_validation(clients):
    rem = clients.insights.remediations
    audit = clients.policy.policy_definitions.create_or_update("https-only", audit_definition())
    a = clients.policy.policy_assignments.create(
        f"/subscriptions/{SUB}", "https", {"properties": {"policyDefinitionId": audit.id}}
    )
    with pytest.raises(HttpResponseError) as err:
        rem.create_or_update_at_subscription("r", {"properties": {"policyAssignmentId": a.id}})
    assert err.value.error.code == "InvalidCreateRemediationRequest"
    tags = clients.policy.policy_definitions.create_or_update("add-tag", tag_definition())
    s = clients.policy.policy_set_definitions.create_or_update(
        "set",
        {
            "properties": {
                "policyDefinitions": [
                    {
                        "policyDefinitionId": tags.id,
                        "policyDefinitionReferenceId": "tag",
                        "parameters": {"tagName": {"value": "a"}, "tagValue": {"value": "b"}},
                    }
                ]
            }
        },
    )
    sa = clients.policy.policy_assignments.create(
        f"/subscriptions/{SUB}",
        "set",
        {"location": "westeurope", "identity": {"type": "SystemAssigned"}, "properties": {"policyDefinitionId": s.id}},
    )
    with pytest.raises(HttpResponseError) as err:
        rem.create_or_update_at_subscription("r", {"properties": {"policyAssignmentId": sa.id}})
    assert "policyDefinitionReferenceId" in err.value.error.message
    grant(clients, sa.identity.principal_id, TAG_CONTRIBUTOR)
    rem.create_or_update_at_subscription(
        "r", {"properties": {"policyAssignmentId": sa.id, "policyDefinitionReferenceId": "tag"}}
    )
    assert wait_terminal(lambda: rem.get_at_subscription("r")).provisioning_state == "Succeeded"
    with pytest.raises(HttpResponseError) as err:
        rem.cancel_at_subscription("r")
    assert err.value.status_code == 400


def test_cancel_a_running_remediation():
    with running_emulator(seed=tenant_seed(), remediation_step_s=0.5) as url:
        from policygen.azure.clients import build_clients

        clients = build_clients(SUB, endpoint=url, retry_total=0)
        a = assign_tags(clients)
        rem = clients.insights.remediations
        rem.create_or_update_at_management_group("contoso", "slow", {"properties": {"policyAssignmentId": a.id}})
        assert rem.cancel_at_management_group("contoso", "slow").provisioning_state == "Cancelling"
        assert wait_terminal(lambda: rem.get_at_management_group("contoso", "slow")).provisioning_state == "Canceled"
        assert clients.resources.resources.get_by_id(SA1, api_version=API).tags == {}
        assert rem.delete_at_management_group("contoso", "slow").name == "slow"


def test_filters_limit_the_resources(clients):
    a = assign_tags(clients)
    grant(clients, a.identity.principal_id, TAG_CONTRIBUTOR, RG1)
    rem = clients.insights.remediations
    rem.create_or_update_at_subscription(
        "north", {"properties": {"policyAssignmentId": a.id, "filters": {"locations": ["westeurope"]}}}
    )
    done = wait_terminal(lambda: rem.get_at_subscription("north"))
    assert done.deployment_status.total_deployments == 2  # sa2 is in northeurope


def test_deploy_if_not_exists_runs_for_new_resources(clients):
    d = clients.policy.policy_definitions.create_or_update("soft-delete", dine_definition())
    a = clients.policy.policy_assignments.create(
        f"/subscriptions/{SUB}",
        "soft-delete",
        {"location": "westeurope", "identity": {"type": "SystemAssigned"}, "properties": {"policyDefinitionId": d.id}},
    )
    new = f"{RG1}/providers/Microsoft.Storage/storageAccounts/sa7"
    body = {"location": "westeurope", "kind": "StorageV2", "properties": {"supportsHttpsTrafficOnly": True}}
    res = clients.resources.resources
    res.begin_create_or_update_by_id(new, body, api_version=API).result()
    assert not res.check_existence_by_id(f"{new}/blobServices/default", api_version=API)  # no role yet
    grant(clients, a.identity.principal_id, STORAGE_CONTRIBUTOR)
    res.begin_create_or_update_by_id(new, body, api_version=API).result()  # an update triggers it again
    service = res.get_by_id(f"{new}/blobServices/default", api_version=API)
    assert service.properties["deleteRetentionPolicy"] == {"enabled": True, "days": 7}


def test_private_endpoint_creates_an_approved_connection_on_its_target(clients):
    res = clients.resources.resources
    vnet = f"{RG1}/providers/Microsoft.Network/virtualNetworks/vnet1"
    pe = f"{RG1}/providers/Microsoft.Network/privateEndpoints/pe-sa1"
    res.begin_create_or_update_by_id(
        pe,
        {
            "location": "westeurope",
            "properties": {
                "subnet": {"id": f"{vnet}/subnets/pe"},
                "privateLinkServiceConnections": [
                    {"name": "c", "properties": {"privateLinkServiceId": SA1, "groupIds": ["blob"]}}
                ],
            },
        },
        api_version=API,
    ).result()
    target = res.get_by_id(SA1, api_version=API)
    (conn,) = target.properties["privateEndpointConnections"]
    assert conn["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
    child = res.get_by_id(conn["id"], api_version=API)
    assert child.type == "Microsoft.Storage/storageAccounts/privateEndpointConnections"
    assert child.properties["privateEndpoint"]["id"] == pe
