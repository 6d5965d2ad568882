"""Small EPAC `Definitions/` trees written the way EPAC's documentation writes them (our own fixtures).

Layout and global settings: https://azure.github.io/enterprise-azure-policy-as-code/definitions-and-global-settings/
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MG = "/providers/Microsoft.Management/managementGroups/"
SUB = "/subscriptions/11111111-2222-3333-4444-555555555555"


def settings(*selectors: tuple[str, str]) -> dict[str, Any]:
    """global-settings.jsonc with one pacEnvironment per (pacSelector, deploymentRootScope MG)."""
    return {"pacOwnerId": "7b1a5d9c-0000-4000-8000-000000000001", "pacEnvironments": [
        {"pacSelector": sel, "cloud": "AzureCloud", "tenantId": "00000000-0000-0000-0000-000000000000",
         "deploymentRootScope": MG + root, "managedIdentityLocation": "eastus2",
         "desiredState": {"strategy": "ownedOnly", "keepDfcSecurityAssignments": False}} for sel, root in selectors]}


def definition(name: str, effect: Any = "[parameters('effect')]", allowed: list[str] | None = None,
               default: str | None = "Audit", extra: dict[str, Any] | None = None,
               details: Any = None) -> dict[str, Any]:
    """A custom definition file: a storage-account rule with an `effect` parameter (or a fixed effect)."""
    params: dict[str, Any] = {}
    if isinstance(effect, str) and effect.startswith("[parameters("):
        spec: dict[str, Any] = {"type": "String", "metadata": {"displayName": "Effect"},
                                "allowedValues": allowed or ["Audit", "Deny", "Disabled"]}
        if default is not None:
            spec["defaultValue"] = default
        params["effect"] = spec
    params.update(extra or {})
    then: dict[str, Any] = {"effect": effect}
    if details is not None:
        then["details"] = details
    return {"name": name, "properties": {
        "displayName": f"{name} display", "description": f"{name} description", "mode": "Indexed",
        "metadata": {"category": "Storage", "version": "1.0.0"}, "parameters": params,
        "policyRule": {"if": {"field": "type", "equals": "Microsoft.Storage/storageAccounts"}, "then": then}}}


def policy_set(name: str, members: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "properties": {"displayName": f"{name} display", "description": "",
                                         "metadata": {"category": "Storage"}, "parameters": params,
                                         "policyDefinitions": members}}


def write_tree(root: Path, files: dict[str, Any]) -> Path:
    """Write `files` (relative path -> JSON value, or str for CSV/raw text) under `root`; returns `root`."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = content if isinstance(content, str) else json.dumps(content, indent=2)
        path.write_text(text, encoding="utf-8")
    return root


def assignments(estate: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """(scope, name) -> REST body of every assignment read."""
    return {(a.props["scope"], a.name): a.body for a in estate.of("assignment")}


# A custom set whose CSV parameter file exercises every effect route (test_epac_csv, test_epac_exemptions).
HEADER = ("name,referencePath,policyType,category,displayName,description,groupNames,policySets,allowedEffects,"
          "prodEffect,prodParameters,nonprodEffect,nonprodParameters,nonComplianceMessages\n")
ROWS = ('storage-https,,Custom,Storage,HTTPS,,,storage-baseline,"Audit,Deny,Disabled",Deny,,Audit,,HTTPS only\n'
        "storage-tls,,Custom,Storage,TLS,,,storage-baseline,\"Disabled,Audit,Deny\",Audit,,Disabled,,\n"
        'storage-cmk,,Custom,Storage,CMK,,,storage-baseline,"Audit,Disabled",Disabled,"{""keyType"": ""CMK""}",'
        'Audit,"{""keyType"": ""MMK""}",Use CMK\n')
SURFACED = {"type": "String", "allowedValues": ["Audit", "Deny", "Disabled"], "defaultValue": "Audit",
            "metadata": {"displayName": "Effect"}}


def storage_tree(root: Path, csv_text: str = HEADER + ROWS, **node: object) -> Path:
    key = {"type": "String", "metadata": {"displayName": "Key type"}}
    baseline = policy_set("storage-baseline", [
        {"policyDefinitionReferenceId": "https", "policyDefinitionName": "storage-https",
         "parameters": {"effect": {"value": "[parameters('httpsEffect')]"}}},
        {"policyDefinitionReferenceId": "tls", "policyDefinitionName": "storage-tls"},
        {"policyDefinitionReferenceId": "cmk", "policyDefinitionName": "storage-cmk",
         "parameters": {"keyType": {"value": "[parameters('keyType')]"}}}],
        {"httpsEffect": SURFACED, "keyType": key})
    extra = policy_set("storage-extra", [
        {"policyDefinitionReferenceId": "https", "policyDefinitionName": "storage-https",
         "parameters": {"effect": {"value": "[parameters('extraHttpsEffect')]"}}}], {"extraHttpsEffect": SURFACED})
    tree = {"nodeName": "/storage/", "parameterFile": "storage.csv",
            "nonComplianceMessageColumn": "nonComplianceMessages",
            "definitionEntryList": [
                {"policySetName": "storage-baseline", "assignment": {"append": True, "name": "base",
                                                                     "displayName": "Storage baseline"}},
                {"policySetName": "storage-extra", "assignment": {"append": True, "name": "extra",
                                                                  "displayName": "Storage extra"}}],
            "children": [
                {"nodeName": "prod/", "parameterSelector": "prod", "assignment": {"name": "pr-", "displayName": "Prod "},
                 "scope": {"tenant": [MG + "Contoso-Prod"]}},
                {"nodeName": "nonprod/", "parameterSelector": "nonprod",
                 "assignment": {"name": "np-", "displayName": "NonProd "},
                 "scope": {"tenant": [MG + "Contoso-NonProd"]}}], **node}
    return write_tree(root, {
        "global-settings.jsonc": settings(("tenant", "Contoso-Root")),
        "policyDefinitions/https.json": definition("storage-https"),
        "policyDefinitions/tls.json": definition("storage-tls", effect="deny"),
        "policyDefinitions/cmk.json": definition("storage-cmk", allowed=["Audit", "Disabled"], extra={"keyType": key}),
        "policySetDefinitions/baseline.json": baseline,
        "policySetDefinitions/extra.json": extra,
        "policyAssignments/storage.jsonc": tree,
        "policyAssignments/storage.csv": csv_text})
