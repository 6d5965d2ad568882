"""EPAC `Definitions/` tree: definitions, sets, and assignment node trees keyed by pacSelector.

EPAC stamps `pacOwnerId`/`deployedBy` itself from global-settings, so ownership travels through
`global-settings.jsonc` (our owner id becomes `pacOwnerId`), not through each file. Files follow EPAC's
published JSON Schemas: fields those schemas forbid (`properties.version`, group display names) are left
out, and every parameter carries the `metadata.displayName` the definition schema requires.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from policygen.artefacts import Build
from policygen.errors import InputError
from policygen.export.common import dump_json, local_name, without_owner
from policygen.render.assignments import place
from policygen.render.exemptions import place_exemption

SCHEMA_URL = "https://raw.githubusercontent.com/Azure/enterprise-azure-policy-as-code/main/Schemas/{}"
PLACEHOLDER_TENANT = "00000000-0000-0000-0000-000000000000"
ENGINE_KEYS = ("pacOwnerId", "deployedBy", "assignedBy", "roles")


def environments(build: Build, env: str | None) -> list[str]:
    """pacSelectors to emit: `env` alone when given, else every environment that is a real Azure cloud."""
    envs = build.pack.environments
    if env is not None:
        return [env]
    chosen = [name for name, spec in envs.items() if spec.get("cloud") != "local"]
    if not chosen:
        raise InputError(f"{Path(build.pack.root) / 'policygen.yaml'}: no Azure environment (cloud other than "
                         "local) to map to an EPAC pacEnvironment; add one or pass --env NAME")
    return chosen


def render(build: Build, env: str | None = None) -> dict[str, str]:
    """The tree for `build`, compiled for the first pacSelector (`env`, or the first Azure environment);
    the other selectors' scopes come from placing its assignments there (one compile per export)."""
    selectors = environments(build, env)
    placed = {sel: {name: place(art, sel, build.pack.environments[sel]) for name, art in build.assignments.items()}
              for sel in selectors}
    files: dict[str, str] = {"global-settings.jsonc": global_settings(build, selectors)}
    for name, art in sorted(build.definitions.items()):
        files[f"policyDefinitions/{name}.json"] = dump_json(definition_file(art.body))
    for name, art in sorted(build.initiatives.items()):
        files[f"policySetDefinitions/{name}.json"] = dump_json(set_file(build, art.body))
    for rel, tree in assignment_files(build, placed).items():
        files[rel] = dump_json(tree)
    for sel in selectors if build.exemptions else []:
        files[f"policyExemptions/{sel}/{build.pack.name}.json"] = dump_json(exemption_file(build, placed, sel))
    return files


def exemption_file(build: Build, placed: Placed, sel: str) -> dict[str, Any]:
    """EPAC's `{"exemptions": [...]}` for one pacSelector (policy-exemption-schema.json): each exemption
    with its scope and assignment id as placed in that environment; EPAC stamps pacOwnerId itself."""
    items = []
    for _key, art in sorted(build.exemptions.items()):  # one item per scope of a multi-scope exemption
        asg = (art.placement or {}).get("assignment")
        asg_scope = placed[sel][asg][0] if asg and asg in placed.get(sel, {}) else None
        scope, assignment_id = place_exemption(art, asg_scope, sel, build.pack.environments[sel])
        p = art.properties
        item: dict[str, Any] = {"name": art.name, "displayName": p["displayName"],
                                "description": p.get("description", ""),
                                "exemptionCategory": p["exemptionCategory"], "scope": scope,
                                "policyAssignmentId": assignment_id}
        for key in ("expiresOn", "policyDefinitionReferenceIds", "resourceSelectors", "assignmentScopeValidation"):
            if p.get(key):
                item[key] = p[key]
        metadata = without_owner(p.get("metadata"), *ENGINE_KEYS)
        if metadata:
            item["metadata"] = metadata
        items.append(item)
    return {"$schema": SCHEMA_URL.format("policy-exemption-schema.json"), "exemptions": items}


def global_settings(build: Build, selectors: list[str]) -> str:
    pac_envs = []
    for name in selectors:
        spec = build.pack.environments[name]
        cloud = spec.get("cloud") if spec.get("cloud") != "local" else "AzureCloud"
        pac_envs.append({
            "pacSelector": name,
            "cloud": cloud,
            "tenantId": spec.get("tenantId") or PLACEHOLDER_TENANT,
            "deploymentRootScope": spec.get("definitionScope") or build.pack.definition_scope,
            "managedIdentityLocation": spec.get("identityLocation") or "westeurope",
            "desiredState": {"strategy": spec.get("strategy") or "ownedOnly", "keepDfcSecurityAssignments": True},
        })
    body = {"$schema": SCHEMA_URL.format("global-settings-schema.json"), "pacOwnerId": build.pack.owner_id,
            "pacEnvironments": pac_envs}
    header = ("// Generated by `policygen export --format epac`: a skeleton. Check tenantId and\n"
              "// deploymentRootScope per pacSelector; pacOwnerId is the pack's owner id, so EPAC stamps\n"
              "// the same ownership marker policygen uses.\n")
    return header + dump_json(body)


def _parameters(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for pname, spec in sorted((params or {}).items()):
        spec = dict(spec)
        meta = dict(spec.get("metadata") or {})
        meta.setdefault("displayName", pname)
        spec["metadata"] = meta
        out[pname] = spec
    return out


def definition_file(body: dict[str, Any]) -> dict[str, Any]:
    p = body["properties"]
    props = {
        "displayName": p["displayName"],
        "description": p.get("description", ""),
        "mode": p.get("mode", "All"),
        "metadata": without_owner(p.get("metadata"), *ENGINE_KEYS),
        "parameters": _parameters(p.get("parameters") or {}),
        "policyRule": p["policyRule"],
    }
    return {"$schema": SCHEMA_URL.format("policy-definition-schema.json"), "name": body["name"], "properties": props}


def set_file(build: Build, body: dict[str, Any]) -> dict[str, Any]:
    p = body["properties"]
    members = []
    for m in p["policyDefinitions"]:
        entry: dict[str, Any] = {"policyDefinitionReferenceId": m["policyDefinitionReferenceId"]}
        local = local_name(build, m["policyDefinitionId"])
        if local:
            entry["policyDefinitionName"] = local[1]
        else:
            entry["policyDefinitionId"] = m["policyDefinitionId"]
        for key in ("definitionVersion", "parameters", "groupNames"):
            if m.get(key) not in (None, [], {}):
                entry[key] = m[key]
        members.append(entry)
    props: dict[str, Any] = {
        "displayName": p["displayName"],
        "description": p.get("description", ""),
        "metadata": without_owner(p.get("metadata"), *ENGINE_KEYS),
        "parameters": p.get("parameters") or {},
        "policyDefinitions": members,
    }
    full = p.get("policyDefinitionGroups") or []
    groups = [{k: g[k] for k in ("name", "additionalMetadataId") if k in g} for g in full]
    if groups:
        props["policyDefinitionGroups"] = groups
    if full != groups:  # EPAC's schema allows only names: keep the rest where `policygen import` finds it
        props["metadata"] = {**props["metadata"], "policygenGroups": full}
    schema = SCHEMA_URL.format("policy-set-definition-schema.json")
    return {"$schema": schema, "name": body["name"], "properties": props}


def _entry(build: Build, policy_id: str, display: str) -> dict[str, Any]:
    local = local_name(build, policy_id)
    if local:
        key = "policySetName" if local[0] == "initiative" else "policyName"
        return {key: local[1], "displayName": display}
    key = "policySetId" if "/policysetdefinitions/" in policy_id.lower() else "policyId"
    return {key: policy_id, "displayName": display}


Placed = dict[str, dict[str, tuple[str, list[str], str | None]]]  # selector -> assignment -> placement


def assignment_files(build: Build, placed: Placed) -> dict[str, dict[str, Any]]:
    """One tree per assigned policy or set: the root names the definition, one child per assignment
    intent (EPAC's idiom for "same initiative, different scopes and effects")."""
    groups: dict[str, list[str]] = {}
    multi: set[tuple[str, str]] = set()
    for name, art in sorted(build.assignments.items()):
        if art.key != art.name:  # one scope's copy of a multi-scope intent: the first's node holds them all
            if (art.name, art.source.file) in multi:
                continue
            multi.add((art.name, art.source.file))
        groups.setdefault(art.properties["policyDefinitionId"], []).append(name)
    files: dict[str, dict[str, Any]] = {}
    for policy_id, names in sorted(groups.items(), key=lambda kv: kv[1][0]):
        target = local_name(build, policy_id)
        stem = target[1] if target else policy_id.rsplit("/", 1)[-1]
        if target:
            target_art = (build.initiatives if target[0] == "initiative" else build.definitions)[target[1]]
            display = target_art.properties["displayName"]
        else:
            display = stem
        rel = f"policyAssignments/{stem}.json"
        if rel in files:  # a definition and an initiative share the name
            rel = f"policyAssignments/{stem}.{'policy' if target and target[0] == 'definition' else 'set'}.json"
        files[rel] = {
            "$schema": SCHEMA_URL.format("policy-assignment-schema.json"),
            "nodeName": f"/{stem}/",
            "definitionEntry": _entry(build, policy_id, display),
            "children": [assignment_node(build, placed, name) for name in names],
        }
        pins = {build.assignments[n].properties.get("definitionVersion") for n in names}
        if len(pins) == 1 and None not in pins:  # EPAC pins on the one definitionEntry of the branch
            files[rel]["definitionEntry"]["definitionVersion"] = pins.pop()
    return files


def assignment_node(build: Build, placed: Placed, label: str) -> dict[str, Any]:
    """A leaf: the assignment's naming block, values, and scope/identity keyed by pacSelector. An assignment
    at several scopes (one name) is one node listing each scope, as EPAC assigns a node at every scope of a
    pacSelector; its notScopes are the union of the copies' (EPAC gives a node's notScopes to every scope)."""
    art = build.assignments[label]
    name = art.name
    keys = [label] if label == name else [k for k, a in build.assignments.items()  # in the intent's order
                                          if a.name == name and a.key != name and a.source.file == art.source.file]
    p = art.properties
    node: dict[str, Any] = {
        "nodeName": f"{name}/",
        "assignment": {"name": name, "displayName": p["displayName"], "description": p.get("description", "")},
        "enforcementMode": p.get("enforcementMode", "Default"),
        "parameters": {k: v["value"] for k, v in sorted((p.get("parameters") or {}).items())},
    }
    metadata = without_owner(p.get("metadata"), *ENGINE_KEYS)
    if metadata:
        node["metadata"] = metadata
    if p.get("nonComplianceMessages"):
        node["nonComplianceMessages"] = p["nonComplianceMessages"]
    for key in ("overrides", "resourceSelectors"):  # rollout stages arrive here expanded
        if p.get(key):
            node[key] = p[key]
    node["scope"] = {sel: [at[k][0] for k in keys] for sel, at in placed.items()}
    not_scopes = {sel: list(dict.fromkeys(ns for k in keys for ns in at[k][1])) for sel, at in placed.items()}
    if any(not_scopes.values()):
        node["notScopes"] = {sel: v or [] for sel, v in not_scopes.items()}
    identity = art.body.get("identity") or {}
    if identity.get("type") in ("SystemAssigned", "UserAssigned"):
        node["managedIdentityLocations"] = {sel: at[label][2] for sel, at in placed.items()}
    if identity.get("type") == "UserAssigned":
        uai = next(iter(identity.get("userAssignedIdentities") or {}), "")
        node["userAssignedIdentity"] = {sel: uai for sel in placed}
    return node
