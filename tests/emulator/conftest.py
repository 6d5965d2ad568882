"""Fixtures: an in-process emulator on a free port, seeded with a small tenant, and real SDK clients for it."""

from __future__ import annotations

import time

import pytest

from policygen.azure.clients import build_clients
from policygen.emulator import running_emulator

SUB = "11111111-1111-1111-1111-111111111111"
SUB2 = "22222222-2222-2222-2222-222222222222"
RG1 = f"/subscriptions/{SUB}/resourceGroups/rg1"
RG2 = f"/subscriptions/{SUB}/resourceGroups/rg2"
SA1 = f"{RG1}/providers/Microsoft.Storage/storageAccounts/sa1"
SA2 = f"{RG2}/providers/Microsoft.Storage/storageAccounts/sa2"
MG = "/providers/Microsoft.Management/managementGroups"
# ARM answers 401 without a bearer token (any token does locally); raw-HTTP tests send this header.
BEARER = {"Authorization": "Bearer policygen-test"}
TAG_CONTRIBUTOR = "4a9ae827-6dc8-4573-8ac7-8239d42aa03f"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"


def storage(rid: str, location: str, https: bool, tags: dict | None = None) -> dict:
    return {
        "id": rid,
        "name": rid.rsplit("/", 1)[-1],
        "type": "Microsoft.Storage/storageAccounts",
        "location": location,
        "kind": "StorageV2",
        "sku": {"name": "Standard_LRS"},
        "tags": tags or {},
        "properties": {"supportsHttpsTrafficOnly": https, "minimumTlsVersion": "TLS1_2"},
    }


def tenant_seed() -> dict:
    """contoso → {prod → SUB (rg1, rg2), dev → SUB2}; two storage accounts and a vnet."""
    return {
        "managementGroups": [
            {
                "name": "contoso",
                "displayName": "Contoso",
                "children": [
                    {
                        "name": "prod",
                        "subscriptions": [
                            {
                                "id": SUB,
                                "displayName": "Production",
                                "resourceGroups": [
                                    {"name": "rg1", "location": "westeurope"},
                                    {"name": "rg2", "location": "northeurope"},
                                ],
                            }
                        ],
                    },
                    {"name": "dev", "subscriptions": [{"id": SUB2, "displayName": "Development"}]},
                ],
            }
        ],
        "resources": [
            storage(SA1, "westeurope", False),
            storage(SA2, "northeurope", True, {"env": "prod"}),
            {
                "id": f"{RG1}/providers/Microsoft.Network/virtualNetworks/vnet1",
                "name": "vnet1",
                "type": "Microsoft.Network/virtualNetworks",
                "location": "westeurope",
                "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}},
            },
        ],
    }


@pytest.fixture
def emulator():
    with running_emulator(seed=tenant_seed(), page_size=5, remediation_step_s=0.01) as url:
        yield url


@pytest.fixture
def clients(emulator):
    c = build_clients(SUB, endpoint=emulator, retry_total=0)
    yield c
    c.close()


def audit_definition(effect: str = "Audit") -> dict:
    """Storage accounts must use https only (parameterised effect)."""
    return {
        "properties": {
            "mode": "Indexed",
            "displayName": "Storage https only",
            "metadata": {"category": "Storage", "version": "1.0.0"},
            "parameters": {
                "effect": {
                    "type": "String",
                    "allowedValues": ["Audit", "Deny", "Disabled"],
                    "defaultValue": effect,
                    "metadata": {"displayName": "Effect", "description": "Effect"},
                }
            },
            "policyRule": {
                "if": {
                    "allOf": [
                        {"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
                        {"field": "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly", "notEquals": True},
                    ]
                },
                "then": {"effect": "[parameters('effect')]"},
            },
        }
    }


def tag_assignment(definition_id: str, tag_value: str) -> dict:
    """Assignment body for `tag_definition` with a system-assigned identity (tag `env` = tag_value)."""
    return {
        "location": "westeurope",
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "policyDefinitionId": definition_id,
            "parameters": {"tagName": {"value": "env"}, "tagValue": {"value": tag_value}},
        },
    }


def tag_definition() -> dict:
    """Modify: add tag `tagName` = `tagValue` where it is missing."""
    return {
        "properties": {
            "mode": "Indexed",
            "displayName": "Add a tag",
            "metadata": {"category": "Tags", "version": "1.0.0"},
            "parameters": {
                "tagName": {"type": "String", "metadata": {"displayName": "Tag name", "description": "Tag"}},
                "tagValue": {"type": "String", "metadata": {"displayName": "Tag value", "description": "Value"}},
            },
            "policyRule": {
                "if": {"field": "[concat('tags[', parameters('tagName'), ']')]", "exists": "false"},
                "then": {
                    "effect": "modify",
                    "details": {
                        "roleDefinitionIds": [f"/providers/Microsoft.Authorization/roleDefinitions/{TAG_CONTRIBUTOR}"],
                        "operations": [
                            {
                                "operation": "addOrReplace",
                                "field": "[concat('tags[', parameters('tagName'), ']')]",
                                "value": "[parameters('tagValue')]",
                            }
                        ],
                    },
                },
            },
        }
    }


def wait_terminal(get, timeout: float = 10.0):
    """Poll a remediation until it reaches a terminal provisioning state."""
    deadline = time.monotonic() + timeout
    while True:
        rem = get()
        if rem.provisioning_state in ("Succeeded", "Failed", "Canceled", "Complete") or time.monotonic() > deadline:
            return rem
        time.sleep(0.02)
