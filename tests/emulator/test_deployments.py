"""ARM template deployments over REST (azure-mgmt-resource 26 has no deployments group: `send_request`)."""

from __future__ import annotations

from azure.core.rest import HttpRequest

from .conftest import MG, RG1, SUB, TAG_CONTRIBUTOR, tag_definition

API = "2022-09-01"


def put(clients, path: str, body: dict):
    resp = clients.resources.send_request(HttpRequest("PUT", path, params={"api-version": API}, json=body))
    return resp.status_code, resp.json()


def escaped(value):
    """ARM evaluates every string in a template: policy expressions are escaped as `[[`, as exports do."""
    if isinstance(value, str):
        return "[" + value if value.startswith("[") else value
    if isinstance(value, list):
        return [escaped(v) for v in value]
    if isinstance(value, dict):
        return {k: escaped(v) for k, v in value.items()}
    return value


def policy_template() -> dict:
    """What `policygen export --format arm` produces, in small: definition, nested assignment + role."""
    assignment = {
        "type": "Microsoft.Authorization/policyAssignments",
        "apiVersion": "2024-04-01",
        "name": "tags",
        "location": "westeurope",
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "policyDefinitionId": "[parameters('definitionId')]",
            "parameters": {"tagName": {"value": "env"}, "tagValue": {"value": "prod"}},
        },
    }
    role = {
        "type": "Microsoft.Authorization/roleAssignments",
        "apiVersion": "2022-04-01",
        "name": f"[guid(managementGroup().id, 'tags', '{TAG_CONTRIBUTOR}')]",
        "dependsOn": [
            "[extensionResourceId(managementGroup().id, 'Microsoft.Authorization/policyAssignments', 'tags')]"
        ],
        "properties": {
            "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{TAG_CONTRIBUTOR}",
            "principalType": "ServicePrincipal",
            "principalId": "[reference(extensionResourceId(managementGroup().id, "
            "'Microsoft.Authorization/policyAssignments', 'tags'), '2024-04-01', 'full')"
            ".identity.principalId]",
        },
    }
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-08-01/managementGroupDeploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [
            {
                "type": "Microsoft.Authorization/policyDefinitions",
                "apiVersion": "2023-04-01",
                "name": "add-tag",
                "properties": escaped(tag_definition()["properties"]),
            },
            {
                "type": "Microsoft.Resources/deployments",
                "apiVersion": API,
                "name": "assign-prod",
                "scope": "Microsoft.Management/managementGroups/prod",
                "location": "[deployment().location]",
                "dependsOn": ["[managementGroupResourceId('Microsoft.Authorization/policyDefinitions', 'add-tag')]"],
                "properties": {
                    "mode": "Incremental",
                    "expressionEvaluationOptions": {"scope": "inner"},
                    "parameters": {
                        "definitionId": {
                            "value": "[managementGroupResourceId("
                            "'Microsoft.Authorization/policyDefinitions', "
                            "'add-tag')]"
                        }
                    },
                    "template": {"parameters": {"definitionId": {"type": "string"}}, "resources": [assignment, role]},
                },
            },
        ],
        "outputs": {
            "definition": {
                "type": "string",
                "value": "[managementGroupResourceId('Microsoft.Authorization/policyDefinitions', 'add-tag')]",
            }
        },
    }


def test_management_group_deployment_of_policy_objects(clients):
    status, body = put(
        clients,
        f"{MG}/contoso/providers/Microsoft.Resources/deployments/pack",
        {"location": "westeurope", "properties": {"mode": "Incremental", "template": policy_template()}},
    )
    assert status == 201 and body["properties"]["provisioningState"] == "Succeeded"
    assert body["properties"]["outputs"]["definition"]["value"].endswith("/policyDefinitions/add-tag")
    d = clients.policy.policy_definitions.get_at_management_group("contoso", "add-tag")
    assert d.policy_rule["if"]["field"] == "[concat('tags[', parameters('tagName'), ']')]"  # unescaped
    a = clients.policy.policy_assignments.get(f"{MG}/prod", "tags")
    assert a.policy_definition_id == f"{MG}/contoso/providers/Microsoft.Authorization/policyDefinitions/add-tag"
    (ra,) = clients.authorization.role_assignments.list_for_scope(f"{MG}/prod")
    assert ra.principal_id == a.identity.principal_id
    # The same validation as the REST API: a bad rule fails the deployment with the inner error.
    bad = policy_template()
    bad["resources"][0]["properties"]["policyRule"].pop("then")
    status, body = put(
        clients,
        f"{MG}/contoso/providers/Microsoft.Resources/deployments/bad",
        {"location": "westeurope", "properties": {"mode": "Incremental", "template": bad}},
    )
    assert body["properties"]["provisioningState"] == "Failed"
    assert body["properties"]["error"]["details"][0]["code"] == "InvalidPolicyRule"


def test_resource_group_deployment_and_template_errors(clients):
    template = {
        "parameters": {"name": {"type": "string"}},
        "resources": [
            {
                "type": "Microsoft.Network/networkSecurityGroups",
                "apiVersion": "2023-01-01",
                "name": "[parameters('name')]",
                "location": "[resourceGroup().location]",
                "properties": {},
            }
        ],
    }
    path = f"{RG1}/providers/Microsoft.Resources/deployments/nsg"
    status, body = put(
        clients,
        path,
        {"properties": {"mode": "Incremental", "template": template, "parameters": {"name": {"value": "nsg1"}}}},
    )
    assert status == 201
    assert body["properties"]["outputResources"] == [
        {"id": f"{RG1}/providers/Microsoft.Network/networkSecurityGroups/nsg1"}
    ]
    got = clients.resources.resources.get_by_id(
        f"{RG1}/providers/Microsoft.Network/networkSecurityGroups/nsg1", api_version="2023-01-01"
    )
    assert got.location == "westeurope"
    status, body = put(clients, path, {"properties": {"mode": "Incremental", "template": template}})
    assert (status, body["error"]["code"]) == (400, "InvalidTemplate")  # parameter without a value
    status, body = put(
        clients,
        f"/subscriptions/{SUB}/providers/Microsoft.Resources/deployments/x",
        {"properties": {"template": template}},
    )
    assert (status, body["error"]["code"]) == (400, "InvalidDeploymentLocation")
