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

import json
import re
from pathlib import Path
from typing import Any

from policygen.artefacts import Artefact, Build
from policygen.errors import InputError
from policygen.export.common import dump_json, local_name, slug

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
    """The scope key the assignment (one scope's copy, for a multi-scope one) was placed by."""
    key = art.scope_as_written or art.scope or "root"
    return key.rstrip("/").rsplit("/", 1)[-1]


def render(build: Build) -> dict[str, str]:
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
    written: dict[str, str] = {}  # assignment name -> the intent file whose assignment file holds it
    for art in (build.assignments[k] for k in sorted(build.assignments)):
        name = art.name  # an assignment at several scopes: one file, listed by each scope's archetype
        arch = archetypes.setdefault(f"{base}_{slug(scope_key(art)).lower()}", {})
        if art.key != name and name in written:
            if written[name] != art.source.file:
                problems.append(f"{art.source}: assignment name {name!r} is also assigned by {written[name]}; an "
                                "ALZ library names each assignment once (give one of them another name)")
            else:
                arch.setdefault("policy_assignments", []).append(name)
            continue
        written[name] = art.source.file
        if len(name) > MAX_MG_ASSIGNMENT_NAME:
            problems.append(f"{art.source}: assignment name {name!r} is {len(name)} characters; ALZ archetypes assign "
                            f"at management groups, where Azure allows {MAX_MG_ASSIGNMENT_NAME}")
            continue
        props = dict(art.properties)
        props["policyDefinitionId"] = placeholder_id(build, props["policyDefinitionId"])
        props["scope"] = PLACEHOLDER_MG
        body: dict[str, Any] = {"name": name, "type": TYPES["assignment"], "properties": props,
                                "location": DEFAULT_LOCATION, "identity": art.body.get("identity") or {"type": "None"}}
        files[f"{FOLDER['assignment']}/{file_name('assignment', body)}"] = dump_json(body)
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
    """A default per resource-id/location parameter the assignments set, so a consumer supplies each value
    once (`policy_default_values`) instead of editing assignments. Assignments that set the same value
    share a default; where values differ (dev vs prod) each scope key gets its own (`<param>_<key>`)."""
    groups: dict[str, dict[str, list[tuple[str, str]]]] = {}  # param -> value (json) -> [(assignment, key)]
    for _key, art in sorted(build.assignments.items()):
        target = local_name(build, art.properties["policyDefinitionId"])
        if target is None:
            continue
        declared = (build.initiatives if target[0] == "initiative" else build.definitions)[target[1]] \
            .properties.get("parameters") or {}
        for pname, given in sorted((art.properties.get("parameters") or {}).items()):
            if (declared.get(pname) or {}).get("metadata", {}).get("strongType"):
                value = json.dumps(given.get("value"), sort_keys=True)
                groups.setdefault(pname, {}).setdefault(value, []).append((art.name, scope_key(art)))
    defaults = []
    for pname, by_value in sorted(groups.items()):
        for users in sorted(by_value.values()):
            default = snake(pname)
            if len(by_value) > 1:
                keys = sorted({key for _name, key in users})
                default += "_" + "_".join(snake(k) for k in keys)
            defaults.append({"default_name": default, "description": f"Value of parameter {pname}",
                             "policy_assignments": [{"policy_assignment_name": n, "parameter_names": [pname]}
                                                    for n in dict.fromkeys(n for n, _key in users)]})
    seen: dict[str, int] = {}
    for d in sorted(defaults, key=lambda d: d["default_name"]):  # distinct values within one scope key
        seen[d["default_name"]] = seen.get(d["default_name"], 0) + 1
        if seen[d["default_name"]] > 1:
            d["default_name"] += f"_{seen[d['default_name']]}"
    return {"defaults": sorted(defaults, key=lambda d: d["default_name"])}


def check_library(root: Path | str) -> list[str]:
    """The offline checks `alzlibtool check library --offline` documents, on a library member folder:
    file names match `name` (+ `properties.version`), names are unique per asset type, every definition
    and set is referenced by an archetype and everything an archetype lists exists, defaults point at
    existing assignments and parameters, metadata is present. Returns the problems found (empty = clean)."""
    root = Path(root)
    problems: list[str] = []
    assets: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in (*SUFFIX, "archetype")}
    suffixes = {**{v: k for k, v in SUFFIX.items()}, "alz_archetype_definition": "archetype"}
    for path in sorted(root.rglob("*.json")):
        rel = path.relative_to(root).as_posix()
        parts = path.name.split(".")
        kind = suffixes.get(parts[-2]) if len(parts) >= 3 else None
        if kind is None:
            if path.name not in ("alz_library_metadata.json", "alz_policy_default_values.json"):
                problems.append(f"{rel}: not a library asset name (ignored by alzlib)")
            continue
        body = json.loads(path.read_text(encoding="utf-8"))
        name = body.get("name")
        expected = f"{name}.alz_archetype_definition.json"
        if kind != "archetype":
            expected = file_name(kind, body)
            if body.get("type") != TYPES[kind]:
                problems.append(f"{rel}: type {body.get('type')!r}, expected {TYPES[kind]!r}")
        if path.name != expected:
            problems.append(f"{rel}: file name does not match its name/version (expected {expected})")
        key = f"{name}@{(body.get('properties') or {}).get('version', '')}"
        if key in assets[kind]:
            problems.append(f"{rel}: duplicate {kind} name {name!r}")
        assets[kind][key] = body
    names = {k: {b["name"] for b in v.values()} for k, v in assets.items()}
    listed = {"policy_definitions": "definition", "policy_set_definitions": "initiative",
              "policy_assignments": "assignment"}
    referenced: dict[str, set[str]] = {k: set() for k in listed.values()}
    for arch in assets["archetype"].values():
        for field, kind in listed.items():
            for item in arch.get(field) or []:
                referenced[kind].add(item)
                if item not in names[kind]:
                    problems.append(f"archetype {arch['name']}: {field} lists {item!r}, which is not in the library")
    for kind in ("definition", "initiative"):
        for name in sorted(names[kind] - referenced[kind]):
            problems.append(f"{kind} {name!r} is not referenced by any archetype")
    for body in assets["initiative"].values():
        for m in body["properties"].get("policyDefinitions") or []:
            pid = m.get("policyDefinitionId", "")
            if pid.startswith(PLACEHOLDER_MG) and pid.rsplit("/", 1)[-1] not in names["definition"]:
                problems.append(f"set {body['name']}: member {pid} is not a definition of the library")
    if not (root / "alz_library_metadata.json").is_file():
        problems.append("alz_library_metadata.json is missing")
    defaults_file = root / "alz_policy_default_values.json"
    if defaults_file.is_file():
        by_name = {b["name"]: b for b in assets["assignment"].values()}
        for default in json.loads(defaults_file.read_text(encoding="utf-8")).get("defaults") or []:
            for ref in default.get("policy_assignments") or []:
                body = by_name.get(ref.get("policy_assignment_name"))
                if body is None:
                    missing = ref.get("policy_assignment_name")
                    problems.append(f"default {default['default_name']}: no assignment {missing!r}")
                    continue
                params = _declared_parameters(assets, body)
                for pname in ref.get("parameter_names") or []:
                    if params is not None and pname not in params:
                        problems.append(f"default {default['default_name']}: {body['name']} has no parameter {pname!r}")
    return problems


def _declared_parameters(assets: dict[str, dict[str, dict[str, Any]]], assignment: dict[str, Any]) -> set[str] | None:
    pid = assignment["properties"].get("policyDefinitionId", "")
    kind = "initiative" if "/policysetdefinitions/" in pid.lower() else "definition"
    name = pid.rsplit("/", 1)[-1]
    for body in assets[kind].values():
        if body["name"] == name:
            return set(body["properties"].get("parameters") or {})
    return None  # a built-in: parameters unknown offline
