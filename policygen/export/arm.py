"""ARM deployment template at management-group scope (`az deployment mg create`).

Definitions and initiatives are created at the management group the template is deployed to (member ids
are `managementGroupResourceId(...)` expressions, so the same template works at any root); each assignment
is a nested deployment scoped to its own management group, subscription or resource group, carrying the
role assignments its system-assigned identity needs; each exemption is a nested deployment at its own scope
after its assignment's. Every string of policy content that ARM would read
as an expression (`[...]`) is escaped as `[[...]`; strings that start with `[` but do not end with `]` are
literals to ARM and are left alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from policygen.arm.scopes import ScopeKind, parse_scope
from policygen.artefacts import Build
from policygen.errors import InputError
from policygen.export.common import (
    deployment_name,
    dump_json,
    local_name,
    role_definition_ids,
    scope_kind,
    scope_name,
)

MG_SCHEMA = "https://schema.management.azure.com/schemas/2019-08-01/managementGroupDeploymentTemplate.json#"
SUB_SCHEMA = "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#"
RG_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
POLICY_API = "2023-04-01"
ASSIGNMENT_API = "2024-04-01"
ROLE_API = "2022-04-01"
DEPLOYMENT_API = "2022-09-01"
EXEMPTION_API = "2022-07-01-preview"  # the version with resourceSelectors and assignmentScopeValidation
MAX_TEMPLATE_BYTES = 4 * 1024 * 1024


def escape(value: Any) -> Any:
    """Escape every string ARM would evaluate: `[x]` → `[[x]` (recursively, keys untouched)."""
    if isinstance(value, str):
        return "[" + value if value.startswith("[") and value.endswith("]") else value
    if isinstance(value, list):
        return [escape(v) for v in value]
    if isinstance(value, dict):
        return {k: escape(v) for k, v in value.items()}
    return value


def unescape(value: Any) -> Any:
    """What ARM hands to the resource provider for an escaped literal: `[[x]` → `[x]`."""
    if isinstance(value, str):
        return value[1:] if value.startswith("[[") and value.endswith("]") else value
    if isinstance(value, list):
        return [unescape(v) for v in value]
    if isinstance(value, dict):
        return {k: unescape(v) for k, v in value.items()}
    return value


def _mg_ref(kind: str, name: str) -> str:
    rtype = "policySetDefinitions" if kind == "initiative" else "policyDefinitions"
    return f"[managementGroupResourceId('Microsoft.Authorization/{rtype}', '{name}')]"


def require_mg_root(build: Build) -> None:
    if scope_kind(build.pack.definition_scope) != "managementGroup":
        raise InputError(f"{Path(build.pack.root) / 'policygen.yaml'}: definitionScope "
                         f"{build.pack.definition_scope} is not a management group; ARM and Bicep exports deploy "
                         "definitions at a management group")


def template(build: Build) -> dict[str, Any]:
    require_mg_root(build)
    resources: list[dict[str, Any]] = []
    for name, art in sorted(build.definitions.items()):
        resources.append({"type": "Microsoft.Authorization/policyDefinitions", "apiVersion": POLICY_API,
                          "name": name, "properties": escape(art.properties)})
    for name, art in sorted(build.initiatives.items()):
        props = escape(art.properties)
        depends = []
        for member in props["policyDefinitions"]:
            local = local_name(build, member["policyDefinitionId"])
            if local:
                member["policyDefinitionId"] = _mg_ref(*local)
                depends.append(_mg_ref(*local))
        resources.append({"type": "Microsoft.Authorization/policySetDefinitions", "apiVersion": POLICY_API,
                          "name": name, "dependsOn": sorted(set(depends)), "properties": props})
    for name in sorted(build.assignments):
        resources.append(assignment_deployment(build, name))
    for name in sorted(build.exemptions):
        resources.append(exemption_deployment(build, name))
    return {
        "$schema": MG_SCHEMA,
        "contentVersion": "1.0.0.0",
        "metadata": {"generator": "policygen", "pack": build.pack.name, "packVersion": build.pack.version,
                     "ownerId": build.pack.owner_id},
        "parameters": {},
        "resources": resources,
    }


def assignment_deployment(build: Build, label: str) -> dict[str, Any]:
    """One nested deployment per assignment (`label` is the build key: `name@scope` for one scope's copy of
    a multi-scope assignment; the resource keeps the ARM name)."""
    art = build.assignments[label]
    name = art.name
    scope = art.scope or ""
    kind = scope_kind(scope)
    local = local_name(build, art.properties["policyDefinitionId"])
    policy_id = _mg_ref(*local) if local else art.properties["policyDefinitionId"]
    inner_ref, scope_fn, schema = {
        "managementGroup": ("[extensionResourceId(managementGroup().id, "
                            f"'Microsoft.Authorization/policyAssignments', '{name}')]",
                            "managementGroup().id", MG_SCHEMA),
        "subscription": (f"[subscriptionResourceId('Microsoft.Authorization/policyAssignments', '{name}')]",
                         "subscription().id", SUB_SCHEMA),
        "resourceGroup": (f"[resourceId('Microsoft.Authorization/policyAssignments', '{name}')]",
                          "resourceGroup().id", RG_SCHEMA),
    }[kind]
    props = escape(art.properties)
    props["policyDefinitionId"] = "[parameters('policyDefinitionId')]"
    assignment: dict[str, Any] = {"type": "Microsoft.Authorization/policyAssignments", "apiVersion": ASSIGNMENT_API,
                                  "name": name, "properties": props}
    for key in ("identity", "location"):
        if key in art.body:
            assignment[key] = escape(art.body[key])
    inner: list[dict[str, Any]] = [assignment]
    for role in role_definition_ids(build, art):
        guid = role.rsplit("/", 1)[-1]
        # built-in role ids: tenant form at management groups, subscription form below them
        role_id = role if kind == "managementGroup" else \
            f"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{guid}')]"
        inner.append({
            "type": "Microsoft.Authorization/roleAssignments", "apiVersion": ROLE_API,
            "name": f"[guid({scope_fn}, '{name}', '{guid}')]",
            "dependsOn": [inner_ref],
            "properties": {
                "roleDefinitionId": role_id,
                "principalId": f"[reference({inner_ref[1:-1]}, '{ASSIGNMENT_API}', 'full').identity.principalId]",
                "principalType": "ServicePrincipal",
                "description": f"policygen: managed identity of policy assignment {name}",
            },
        })
    deployment: dict[str, Any] = {
        "type": "Microsoft.Resources/deployments", "apiVersion": DEPLOYMENT_API,
        "name": deployment_name("policygen-", label),
        "dependsOn": [policy_id] if local else [],
        "properties": {
            "mode": "Incremental",
            "expressionEvaluationOptions": {"scope": "inner"},
            "parameters": {"policyDefinitionId": {"value": policy_id}},
            "template": {"$schema": schema, "contentVersion": "1.0.0.0",
                         "parameters": {"policyDefinitionId": {"type": "string"}}, "resources": inner},
        },
    }
    parts = scope.strip("/").split("/")
    if kind == "managementGroup":
        deployment["scope"] = f"Microsoft.Management/managementGroups/{scope_name(scope)}"
        deployment["location"] = "[deployment().location]"
    elif kind == "subscription":
        deployment["subscriptionId"] = parts[1]
        deployment["location"] = "[deployment().location]"
    else:
        deployment["subscriptionId"] = parts[1]
        deployment["resourceGroup"] = parts[3]
    return deployment


def exemption_deployment(build: Build, name: str) -> dict[str, Any]:
    """A nested deployment at the exemption's management group, subscription or resource group (a resource
    exemption is an extension resource with `scope` set to the resource, relative to its group)."""
    art = build.exemptions[name]
    scope = parse_scope(art.scope or "")
    holder = scope
    exemption: dict[str, Any] = {"type": "Microsoft.Authorization/policyExemptions", "apiVersion": EXEMPTION_API,
                                 "name": art.name, "properties": escape(art.properties)}
    if scope.kind is ScopeKind.RESOURCE:
        holder = parse_scope(f"/subscriptions/{scope.subscription}/resourceGroups/{scope.resource_group}")
        exemption["scope"] = scope.id.split("/providers/", 1)[1]
    kind = scope_kind(holder.id)
    schema = {"managementGroup": MG_SCHEMA, "subscription": SUB_SCHEMA, "resourceGroup": RG_SCHEMA}[kind]
    asg = (art.placement or {}).get("assignment")
    deployment: dict[str, Any] = {
        "type": "Microsoft.Resources/deployments", "apiVersion": DEPLOYMENT_API,
        "name": deployment_name("policygen-exemption-", name),
        "dependsOn": [deployment_name("policygen-", asg)] if asg in build.assignments else [],
        "properties": {"mode": "Incremental", "expressionEvaluationOptions": {"scope": "inner"},
                       "template": {"$schema": schema, "contentVersion": "1.0.0.0", "resources": [exemption]}},
    }
    if kind == "managementGroup":
        deployment["scope"] = f"Microsoft.Management/managementGroups/{holder.management_group}"
        deployment["location"] = "[deployment().location]"
    elif kind == "subscription":
        deployment["subscriptionId"] = holder.subscription
        deployment["location"] = "[deployment().location]"
    else:
        deployment["subscriptionId"] = holder.subscription
        deployment["resourceGroup"] = holder.resource_group
    return deployment


def render(build: Build) -> dict[str, str]:
    text = dump_json(template(build))
    if len(text.encode("utf-8")) > MAX_TEMPLATE_BYTES:
        raise InputError(f"{build.pack.root}: the ARM template is {len(text.encode())} bytes; Azure accepts at most "
                         f"{MAX_TEMPLATE_BYTES} (JobSizeExceededException). Split the pack or use another format")
    return {"azuredeploy.json": text}
