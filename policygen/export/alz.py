"""Azure Landing Zones library member: suffix-named assets, archetypes, metadata, default values.

Rules followed (what `alzlibtool check library --offline` enforces, see docs/export.md):
- file name = `<name>[.<properties.version>].<asset suffix>.json` and the `name` inside matches it;
- every definition and set is listed by an archetype. Definitions and sets go in the base archetype
  `<pack>` (deployed where definitions live); assignments go in one archetype per assignment scope key
  (`<pack>_<key>`), because an archetype assigns everything it lists at every management group using it;
- scopes and ids use the library's placeholders (`/providers/Microsoft.Management/managementGroups/placeholder`,
  `${default_location}`); the provider rewrites them per management group;
- expressions stay unescaped (`[parameters('x')]`), as the library stores them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from policygen.artefacts import Artefact, Build
from policygen.errors import InputError
from policygen.export.common import dump_json, local_name, slug
from policygen.render import compile_pack

PLACEHOLDER_MG = "/providers/Microsoft.Management/managementGroups/placeholder"
DEFAULT_LOCATION = "${default_location}"
# The platform library release this member was checked against (a CalVer tag of the ALZ library).
ALZ_PLATFORM = {"path": "platform/alz", "ref": "2026.04.2"}
MAX_MG_ASSIGNMENT_NAME = 24
SUFFIX = {"definition": "alz_policy_definition", "initiative": "alz_policy_set_definition",
          "assignment": "alz_policy_assignment"}
FOLDER = {"definition": "policy_definitions", "initiative": "policy_set_definitions",
          "assignment": "policy_assignments"}
TYPES = {"definition": "Microsoft.Authorization/policyDefinitions",
         "initiative": "Microsoft.Authorization/policySetDefinitions",
         "assignment": "Microsoft.Authorization/policyAssignments"}


def file_name(kind: str, body: dict[str, Any]) -> str:
    """`<name>.<version>.<suffix>.json` when the resource has properties.version, else `<name>.<suffix>.json`."""
    version = (body.get("properties") or {}).get("version")
    middle = f".{version}" if version else ""
    return f"{body['name']}{middle}.{SUFFIX[kind]}.json"


def placeholder_id(build: Build, policy_id: str) -> str:
    local = local_name(build, policy_id)
    if local is None:
        return policy_id
    rtype = "policySetDefinitions" if local[0] == "initiative" else "policyDefinitions"
    return f"{PLACEHOLDER_MG}/providers/Microsoft.Authorization/{rtype}/{local[1]}"


def scope_key(art: Artefact) -> str:
    key = ((art.properties.get("metadata") or {}).get("policygen") or {}).get("scope") or art.scope or "root"
    return key.rstrip("/").rsplit("/", 1)[-1]


def render(pack_dir: Path, env: str | None) -> dict[str, str]:
    build = compile_pack(pack_dir, env)
    files: dict[str, str] = {}
    base = slug(build.pack.name).lower()
    archetypes: dict[str, dict[str, list[str]]] = {base: {"policy_definitions": [], "policy_set_definitions": []}}
    for name, art in sorted(build.definitions.items()):
        body = {"name": name, "type": TYPES["definition"], "properties": art.properties}
        files[f"{FOLDER['definition']}/{file_name('definition', body)}"] = dump_json(body)
        archetypes[base]["policy_definitions"].append(name)
    for name, art in sorted(build.initiatives.items()):
        props = dict(art.properties)
        props["policyDefinitions"] = [{**m, "policyDefinitionId": placeholder_id(build, m["policyDefinitionId"])}
                                      for m in props["policyDefinitions"]]
        body = {"name": name, "type": TYPES["initiative"], "properties": props}
        files[f"{FOLDER['initiative']}/{file_name('initiative', body)}"] = dump_json(body)
        archetypes[base]["policy_set_definitions"].append(name)
    problems = []
    for name, art in sorted(build.assignments.items()):
        if len(name) > MAX_MG_ASSIGNMENT_NAME:
            problems.append(f"{art.source}: assignment name {name!r} is {len(name)} characters; ALZ archetypes assign "
                            f"at management groups, where Azure allows {MAX_MG_ASSIGNMENT_NAME}")
            continue
        props = dict(art.properties)
        props["policyDefinitionId"] = placeholder_id(build, props["policyDefinitionId"])
        props["scope"] = PLACEHOLDER_MG
        props["notScopes"] = []  # concrete child scopes cannot be known by a library; set per MG in the consumer
        body: dict[str, Any] = {"name": name, "type": TYPES["assignment"], "properties": props,
                                "location": DEFAULT_LOCATION, "identity": art.body.get("identity") or {"type": "None"}}
        files[f"{FOLDER['assignment']}/{file_name('assignment', body)}"] = dump_json(body)
        arch = archetypes.setdefault(f"{base}_{slug(scope_key(art)).lower()}", {})
        arch.setdefault("policy_assignments", []).append(name)
    if problems:
        raise InputError(problems)
    for arch, lists in sorted(archetypes.items()):
        body = {"name": arch, "policy_assignments": [], "policy_definitions": [], "policy_set_definitions": [],
                "role_definitions": [], **{k: sorted(v) for k, v in lists.items()}}
        files[f"archetype_definitions/{arch}.alz_archetype_definition.json"] = dump_json(body)
    files["alz_library_metadata.json"] = dump_json({
        "name": build.pack.name,
        "display_name": build.pack.name.replace("-", " ").title(),
        "description": f"Azure Policy generated by policygen from the {build.pack.name} pack "
                       f"(version {build.pack.version}).",
        "dependencies": [dict(ALZ_PLATFORM)],
    })
    files["alz_policy_default_values.json"] = dump_json(default_values(build))
    return files


def snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()).strip("_")


def default_values(build: Build) -> dict[str, Any]:
    """One default per resource-id/location parameter an assignment sets, so a consumer supplies it once
    (`policy_default_values`) instead of editing each assignment."""
    users: dict[str, list[dict[str, Any]]] = {}
    for name, art in sorted(build.assignments.items()):
        target = local_name(build, art.properties["policyDefinitionId"])
        if target is None:
            continue
        declared = (build.initiatives if target[0] == "initiative" else build.definitions)[target[1]] \
            .properties.get("parameters") or {}
        for pname in sorted(art.properties.get("parameters") or {}):
            if (declared.get(pname) or {}).get("metadata", {}).get("strongType"):
                users.setdefault(pname, []).append({"policy_assignment_name": name, "parameter_names": [pname]})
    return {"defaults": [{"default_name": snake(p), "description": f"Value of parameter {p}",
                          "policy_assignments": refs} for p, refs in sorted(users.items())]}
