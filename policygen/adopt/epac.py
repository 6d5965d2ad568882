"""Read an EPAC `Definitions/` tree: global settings, definitions, sets and assignment node trees.

EPAC's rules as its documentation states them (https://azure.github.io/enterprise-azure-policy-as-code/):
`global-settings.jsonc` pacEnvironments become policygen.yaml environments; custom definitions and sets live at
each pacEnvironment's `deploymentRootScope` and are named by `policyDefinitionName`/`policySetName`;
assignment trees (with CSV parameter files) are read by `epac_tree`, exemptions by `epac_exemptions`;
EPAC stamps `pacOwnerId`, `deployedBy` and `assignedBy` itself. Every problem of every file is reported at
once as `file:line:col`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from policygen.adopt.epac_details import Library
from policygen.adopt.epac_exemptions import read_exemptions
from policygen.adopt.epac_tree import Branch, Walker
from policygen.adopt.estate import Estate, Item
from policygen.adopt.files import line_of, read_json, unescape
from policygen.errors import DiagnosticSink, InputError

ENGINE_KEYS = ("pacOwnerId", "deployedBy", "assignedBy", "roles")
SUFFIXES = (".json", ".jsonc")
RID = "/providers/Microsoft.Authorization/{}/{}"
BUILTIN_SETS = "/providers/Microsoft.Authorization/policySetDefinitions/"
CLOUDS = ("AzureCloud", "AzureUSGovernment", "AzureChinaCloud")


def _files(root: Path, folder: str) -> list[Path]:
    base = root / folder
    return sorted(p for p in base.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()) if base.is_dir() else []


def read_tree(root: Path, env: str | None, builtins: Path | None = None) -> Estate:
    """The estate of one pacSelector (`env`, default the first); `builtins` is the azure-policy layout
    folder EPAC would read built-ins from Azure for (CSV parameter files of built-in sets need it)."""
    root = Path(root)
    sink = DiagnosticSink()
    if not root.is_dir():
        raise InputError(f"{root}: not a folder (expected an EPAC Definitions/ tree)")
    settings_path = next((root / n for n in ("global-settings.jsonc", "global-settings.json") if (root / n).is_file()),
                         None)
    if settings_path is None:
        raise InputError(f"{root}: no global-settings.jsonc (an EPAC Definitions/ folder has one)")
    settings = read_json(settings_path, sink)
    if settings is not None and not isinstance(settings, dict):
        sink.add(str(settings_path), 1, 1, "global settings must be a JSON object with pacOwnerId and pacEnvironments")
    settings = settings if isinstance(settings, dict) else {}
    if not isinstance(settings.get("pacEnvironments") or [], list):
        sink.add(str(settings_path), *line_of(settings_path, '"pacEnvironments"'), "pacEnvironments must be a list")
        settings["pacEnvironments"] = []
    pac_envs = _pac_environments(settings, settings_path, sink)
    if not pac_envs and not sink.items:
        sink.add(str(settings_path), *line_of(settings_path, "pacEnvironments"), "no pacEnvironments")
    sink.raise_if_any()
    selector = env or next(iter(pac_envs))
    if selector not in pac_envs:
        raise InputError(f"{settings_path}: no pacSelector {selector!r}; declared: {', '.join(pac_envs)}")
    root_scope = str(pac_envs[selector]["deploymentRootScope"])
    cloud = str(pac_envs[selector].get("cloud") or "AzureCloud")
    owner = settings.get("pacOwnerId") if isinstance(settings.get("pacOwnerId"), str) else None
    estate = Estate("epac", root_scope, owner_id=owner, env=selector, engine_keys=ENGINE_KEYS)
    for sel, spec in pac_envs.items():
        desired = spec.get("desiredState") if isinstance(spec.get("desiredState"), dict) else {}
        estate.environments[sel] = {
            "cloud": spec["cloud"] if spec.get("cloud") in CLOUDS else "AzureCloud",
            "tenantId": _str(spec.get("tenantId")), "definitionScope": spec["deploymentRootScope"], "scopes": {},
            "identityLocation": _str(spec.get("managedIdentityLocation")) or "westeurope",
            "strategy": desired.get("strategy") if desired.get("strategy") in ("full", "ownedOnly") else "ownedOnly",
        }
    names: dict[str, set[str]] = {"definition": set(), "initiative": set()}
    for kind, folder, rtype in (("definition", "policyDefinitions", "policyDefinitions"),
                                ("initiative", "policySetDefinitions", "policySetDefinitions")):
        for path in _files(root, folder):
            doc = read_json(path, sink)
            if doc is None:
                continue
            item = _definition_item(kind, path, doc, root_scope, rtype, sink)
            if item is not None and not _for_cloud(item.props.get("metadata"), cloud):
                estate.notes.append(f"{item.where}: {kind} {item.name!r} is not deployed to {cloud} "
                                    "(metadata.epacCloudEnvironments); not imported")
            elif item is not None:
                estate.items.append(item)
                names[kind].add(item.name.lower())
    for item in estate.of("initiative"):
        _check_members(item, names["definition"], root, sink)
    library = Library(customs={i.body["id"].lower(): i.props for i in estate.items}, builtins_dir=builtins)
    for item in estate.of("initiative"):
        _groups(item, library, sink, estate.notes)
    trees = [(path, doc) for path in _files(root, "policyAssignments") if (doc := read_json(path, sink)) is not None]
    notes: set[str] = set()
    for path, doc in list(trees):
        if isinstance(doc, dict) and not _for_cloud(doc, cloud):
            estate.notes.append(f"{path}: its epacCloudEnvironments leave out {cloud}; not imported")
            trees.remove((path, doc))
            continue
        walker = Walker(path, estate, selector, pac_envs, library, names, sink)
        walker.walk(doc, Branch())
        notes |= walker.notes
    read_exemptions(root, selector, estate, library, sink)
    sink.raise_if_any()
    estate.notes.extend(sorted(notes))
    _scope_keys(estate, trees, selector, pac_envs, library, names)
    estate.notes.extend(_unread(root, settings, pac_envs[selector]))
    return estate


def _scope_keys(estate: Estate, trees: list[tuple[Path, Any]], selector: str, pac_envs: dict[str, Any],
                library: Library, names: dict[str, set[str]]) -> None:
    """Scope keys of every environment: an assignment's key (policygen's own hint, else the last segment of
    its scope here) maps, in each pacEnvironment, to where that pacSelector's branch places it."""
    def scopes_by_name(items: list[Item]) -> dict[str, list[str]]:  # a name may be assigned at several scopes
        out: dict[str, list[str]] = {}
        for a in items:
            out.setdefault(a.name, []).append(str(a.props.get("scope")))
        return out

    placed: dict[str, dict[str, list[str]]] = {selector: scopes_by_name(estate.of("assignment"))}
    for sel in pac_envs:
        if sel != selector:
            other = Estate("epac", estate.definition_scope, environments=estate.environments, env=sel)
            for path, doc in trees:
                Walker(path, other, sel, pac_envs, library, names, DiagnosticSink()).walk(doc, Branch())
            placed[sel] = scopes_by_name(other.of("assignment"))
    nth: dict[str, int] = {}
    for item in estate.of("assignment"):
        i = nth[item.name] = nth.get(item.name, -1) + 1
        meta = item.props.get("metadata") or {}
        hint = (meta.get("policygen") or {}).get("scope") if isinstance(meta.get("policygen"), dict) else None
        if isinstance(hint, list):  # a multi-scope intent's: the scopes in the order its node lists them
            hint = hint[i] if i < len(hint) else None
        scope = str(item.props.get("scope"))
        stem = re.sub(r"[^a-z0-9-]+", "-", scope.rstrip("/").rsplit("/", 1)[-1].lower()).strip("-") or "scope"
        name = hint if isinstance(hint, str) and hint else stem
        for sel, where in placed.items():
            if i < len(where.get(item.name, [])):
                estate.environments[sel]["scopes"].setdefault(name, where[item.name][i])


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _pac_environments(settings: dict[str, Any], path: Path, sink: DiagnosticSink) -> dict[str, dict[str, Any]]:
    """pacSelector -> pacEnvironment, each with the pacSelector and deploymentRootScope EPAC requires."""
    out: dict[str, dict[str, Any]] = {}
    for i, spec in enumerate(settings.get("pacEnvironments") or []):
        sel = spec.get("pacSelector") if isinstance(spec, dict) else None
        where = line_of(path, f'"{sel}"') if isinstance(sel, str) and sel else line_of(path, '"pacEnvironments"')
        if not isinstance(spec, dict) or not _str(sel):
            sink.add(str(path), *where, f"pacEnvironments[{i}] needs a pacSelector (a string)")
            continue
        root = spec.get("deploymentRootScope")
        if not (isinstance(root, str) and root.startswith("/")):
            sink.add(str(path), *where, f"pacEnvironment {sel!r} needs a deploymentRootScope (a management group or "
                     "subscription id)")
            continue
        if sel in out:
            sink.add(str(path), *where, f"pacSelector {sel!r} is declared twice")
            continue
        out[sel] = spec
    return out


def _for_cloud(holder: Any, cloud: str) -> bool:
    """EPAC's `epacCloudEnvironments` (definition metadata, an assignment file's root): the clouds it goes to."""
    clouds = holder.get("epacCloudEnvironments") if isinstance(holder, dict) else None
    return not isinstance(clouds, list) or not clouds or cloud.lower() in {str(c).lower() for c in clouds}


def _unread(root: Path, settings: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    """What EPAC reads that has no counterpart in a pack, said once."""
    notes = []
    if spec.get("globalNotScopes") or settings.get("globalNotScopes"):
        notes.append(f"{root}: globalNotScopes are not added to assignments (EPAC adds those under each "
                     "assignment's scope, which needs the management-group tree); add them to notScopes")
    for folder, what in (("policyDocumentations", "documentation specifications (use `policygen docs`)"),
                         ("policyEnrollments", "policy enrollments (preview)"),
                         ("policyStructures", "ALZ policy structure files (import the ALZ library with --from alz)")):
        if (root / folder).is_dir() and any((root / folder).rglob("*.json*")):
            notes.append(f"{root / folder}: {what} are not imported")
    return notes


def _definition_item(kind: str, path: Path, doc: Any, root_scope: str, rtype: str,
                     sink: DiagnosticSink) -> Item | None:
    what = f"an EPAC policy {'set ' if kind == 'initiative' else ''}definition"
    if not isinstance(doc, dict) or not isinstance(doc.get("properties"), dict) or not _str(doc.get("name")):
        sink.add(str(path), 1, 1, f"not {what} (expected a name string and a properties object)")
        return None
    props = unescape(dict(doc["properties"]))
    problems = [k for k, t in (("metadata", dict), ("parameters", dict), ("policyDefinitionGroups", list))
                if props.get(k) is not None and not isinstance(props[k], t)]
    if kind == "definition":
        rule = props.get("policyRule")
        if not (isinstance(rule, dict) and isinstance(rule.get("if"), dict) and isinstance(rule.get("then"), dict)):
            problems.append("policyRule")
    elif not _members_ok(props.get("policyDefinitions")):
        problems.append("policyDefinitions")
    for key in problems:
        sink.add(str(path), *line_of(path, f'"{key}"'), f"{what}: {key} has the wrong shape (see EPAC's "
                 f"{'policy-set-definition' if kind == 'initiative' else 'policy-definition'}-schema.json)")
    if problems:
        return None
    meta = dict(props.get("metadata") or {})
    if isinstance(meta.get("policygenGroups"), list):  # group details policygen's export keeps for itself
        props["policyDefinitionGroups"] = meta.pop("policygenGroups")
    props["metadata"] = meta
    if kind == "initiative":
        members = []
        for m in props["policyDefinitions"]:
            m = dict(m)
            if "policyDefinitionName" in m:
                m["policyDefinitionId"] = root_scope + RID.format("policyDefinitions", m.pop("policyDefinitionName"))
            members.append(m)
        props["policyDefinitions"] = members
    line, col = line_of(path, '"name"')
    body = {"name": doc["name"], "id": root_scope + RID.format(rtype, doc["name"]), "properties": props}
    return Item(kind, body, f"{path}:{line}:{col}")


def _members_ok(members: Any) -> bool:
    """A non-empty list of members, each with a reference id and exactly one policyDefinitionName / -Id."""
    return isinstance(members, list) and bool(members) and all(
        isinstance(m, dict) and _str(m.get("policyDefinitionReferenceId"))
        and sum(bool(_str(m.get(k))) for k in ("policyDefinitionName", "policyDefinitionId")) == 1
        and isinstance(m.get("parameters") or {}, dict) and isinstance(m.get("groupNames") or [], list)
        for m in members)


def _groups(item: Item, library: Library, sink: DiagnosticSink, notes: list[str]) -> None:
    """EPAC's policyDefinitionGroups: the set's own, plus those its members use taken from the built-in sets
    `importPolicyDefinitionGroups` names (Build-PolicySetPlan.ps1), sorted by name as EPAC deploys them."""
    props = item.props
    imports = props.pop("importPolicyDefinitionGroups", None)
    groups = [g for g in props.get("policyDefinitionGroups") or [] if isinstance(g, dict) and g.get("name")]
    by_name = {}
    for g in groups:
        by_name.setdefault(str(g["name"]), g)
    used = {str(n) for m in props.get("policyDefinitions") or [] if isinstance(m, dict)
            for n in (m.get("groupNames") or []) if isinstance(m.get("groupNames"), list)} - set(by_name)
    for ref in imports if isinstance(imports, list) else []:
        if not used:
            break
        sid = str(ref) if str(ref).lower().startswith(BUILTIN_SETS.lower()) else BUILTIN_SETS + str(ref)
        source = library.get(sid)
        if source is None:
            path = Path(item.where.rsplit(":", 2)[0])
            if library.builtins_dir is None:
                notes.append(f"{item.where}: importPolicyDefinitionGroups {sid}: its groups need --builtins DIR; "
                             "only the set's own groups are imported")
            else:
                sink.add(str(path), *line_of(path, str(ref)), f"importPolicyDefinitionGroups: {sid} is not a built-in "
                         "policy set")
            continue
        for g in source.get("policyDefinitionGroups") or []:
            if isinstance(g, dict) and g.get("name") in used:
                used.discard(g["name"])
                by_name[g["name"]] = g
    if imports and len(by_name) > len(groups):  # EPAC sorts the list it deploys; a set's own order is kept
        props["policyDefinitionGroups"] = [by_name[n] for n in sorted(by_name)]  # otherwise (round trips)


def _check_members(item: Item, defined: set[str], root: Path, sink: DiagnosticSink) -> None:
    path = Path(item.where.rsplit(":", 2)[0])
    for m in item.props.get("policyDefinitions") or []:
        pid = str(m.get("policyDefinitionId") or "")
        if pid.lower().startswith("/providers/microsoft.authorization/"):
            continue
        name = pid.rsplit("/", 1)[-1]
        if name.lower() not in defined:
            sink.add(str(path), *line_of(path, f'"{name}"'),
                     f"policyDefinitionName {name!r} is not defined under {root / 'policyDefinitions'}")
