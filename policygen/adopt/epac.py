"""Read an EPAC `Definitions/` tree: global settings, definitions, sets and assignment node trees.

EPAC's rules as its documentation states them: custom definitions and sets live at each pacEnvironment's
`deploymentRootScope` and are named by `policyDefinitionName`/`policySetName`; assignment files are trees
whose properties accumulate down each branch (`assignment` strings concatenated, `parameters` and `metadata`
merged, messages/overrides/selectors appended, `scope`/`notScopes`/`managedIdentityLocations` keyed by
pacSelector or `*`); EPAC stamps `pacOwnerId`, `deployedBy` and `assignedBy` itself. Every problem of every
file is reported at once as `file:line:col`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from policygen.adopt.estate import Estate, Item
from policygen.adopt.files import line_of, read_json, unescape
from policygen.errors import DiagnosticSink, InputError

ENGINE_KEYS = ("pacOwnerId", "deployedBy", "assignedBy", "roles")
SUFFIXES = (".json", ".jsonc")
RID = "/providers/Microsoft.Authorization/{}/{}"


def _files(root: Path, folder: str) -> list[Path]:
    base = root / folder
    return sorted(p for p in base.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()) if base.is_dir() else []


def read_tree(root: Path, env: str | None) -> Estate:
    root = Path(root)
    sink = DiagnosticSink()
    if not root.is_dir():
        raise InputError(f"{root}: not a folder (expected an EPAC Definitions/ tree)")
    settings_path = next((root / n for n in ("global-settings.jsonc", "global-settings.json") if (root / n).is_file()),
                         None)
    if settings_path is None:
        raise InputError(f"{root}: no global-settings.jsonc (an EPAC Definitions/ folder has one)")
    settings = read_json(settings_path, sink) or {}
    pac_envs = {str(e.get("pacSelector")): e for e in settings.get("pacEnvironments") or [] if isinstance(e, dict)}
    if not pac_envs and not sink.items:
        sink.add(str(settings_path), *line_of(settings_path, "pacEnvironments"), "no pacEnvironments")
    sink.raise_if_any()
    selector = env or next(iter(pac_envs))
    if selector not in pac_envs:
        raise InputError(f"{settings_path}: no pacSelector {selector!r}; declared: {', '.join(pac_envs)}")
    root_scope = str(pac_envs[selector].get("deploymentRootScope") or "")
    estate = Estate("epac", root_scope, owner_id=settings.get("pacOwnerId"), env=selector, engine_keys=ENGINE_KEYS)
    for sel, spec in pac_envs.items():
        cloud = spec.get("cloud") if spec.get("cloud") in ("AzureCloud", "AzureUSGovernment", "AzureChinaCloud") \
            else "AzureCloud"
        estate.environments[sel] = {
            "cloud": cloud, "tenantId": spec.get("tenantId"), "definitionScope": spec.get("deploymentRootScope"),
            "scopes": {}, "identityLocation": spec.get("managedIdentityLocation") or "westeurope",
            "strategy": (spec.get("desiredState") or {}).get("strategy") or "ownedOnly",
        }
    names: dict[str, set[str]] = {"definition": set(), "initiative": set()}
    for kind, folder, rtype in (("definition", "policyDefinitions", "policyDefinitions"),
                                ("initiative", "policySetDefinitions", "policySetDefinitions")):
        for path in _files(root, folder):
            doc = read_json(path, sink)
            if doc is None:
                continue
            item = _definition_item(kind, path, doc, root_scope, rtype, sink)
            if item is not None:
                estate.items.append(item)
                names[kind].add(item.name.lower())
    for item in estate.of("initiative"):
        _check_members(item, names["definition"], root, sink)
    for path in _files(root, "policyAssignments"):
        doc = read_json(path, sink)
        if doc is not None:
            _walk(doc, {}, path, estate, selector, pac_envs, names, sink)
    sink.raise_if_any()
    return estate


def _definition_item(kind: str, path: Path, doc: Any, root_scope: str, rtype: str,
                     sink: DiagnosticSink) -> Item | None:
    if not isinstance(doc, dict) or not isinstance(doc.get("properties"), dict) or not doc.get("name"):
        sink.add(str(path), 1, 1, f"not an EPAC policy {'set ' if kind == 'initiative' else ''}definition "
                 "(expected name and properties)")
        return None
    props = unescape(dict(doc["properties"]))
    meta = dict(props.get("metadata") or {})
    if isinstance(meta.get("policygenGroups"), list):  # group details policygen's export keeps for itself
        props["policyDefinitionGroups"] = meta.pop("policygenGroups")
    props["metadata"] = meta
    if kind == "initiative":
        members = []
        for m in props.get("policyDefinitions") or []:
            m = dict(m)
            if "policyDefinitionName" in m:
                m["policyDefinitionId"] = root_scope + RID.format("policyDefinitions", m.pop("policyDefinitionName"))
            members.append(m)
        props["policyDefinitions"] = members
    line, col = line_of(path, '"name"')
    body = {"name": str(doc["name"]), "id": root_scope + RID.format(rtype, doc["name"]), "properties": props}
    return Item(kind, body, f"{path}:{line}:{col}")


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


def _merge(acc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    out = dict(acc)
    for k, v in node.items():
        if k in ("children", "nodeName"):
            continue
        if k == "assignment":
            prev = dict(out.get("assignment") or {})
            for f in ("name", "displayName", "description"):
                if v.get(f):
                    prev[f] = str(prev.get(f, "")) + str(v[f])
            out[k] = prev
        elif k in ("parameters", "metadata"):
            out[k] = {**(out.get(k) or {}), **(v or {})}
        elif k in ("nonComplianceMessages", "overrides", "resourceSelectors"):
            out[k] = [*(out.get(k) or []), *(v or [])]
        elif k == "notScopes":
            out[k] = {s: [*((out.get(k) or {}).get(s) or []), *(vals or [])] for s, vals in
                      {**(out.get(k) or {}), **(v or {})}.items()}
        else:
            out[k] = v
    return out


def _for(value: Any, selector: str) -> Any:
    if not isinstance(value, dict):
        return None
    return value.get(selector, value.get("*"))


def _walk(node: Any, acc: dict[str, Any], path: Path, estate: Estate, selector: str, pac_envs: dict[str, Any],
          names: dict[str, set[str]], sink: DiagnosticSink, breadcrumb: str = "") -> None:
    if not isinstance(node, dict):
        sink.add(str(path), 1, 1, f"{breadcrumb or '/'}: an assignment node must be an object")
        return
    crumb = breadcrumb + str(node.get("nodeName") or "")
    merged = _merge(acc, node)
    children = node.get("children")
    if children:
        for child in children:
            _walk(child, merged, path, estate, selector, pac_envs, names, sink, crumb)
        return
    where = f"{path}:{line_of(path, str(node.get('nodeName') or ''))[0]}:1"
    for problem in ("parameterFile", "definitionEntryList"):
        if problem in merged:
            sink.add(where.rsplit(":", 2)[0], *line_of(path, f'"{problem}"'),
                     f"{crumb}: {problem} is not supported by `policygen import` (expand it to definitionEntry nodes)")
            return
    entry, naming = merged.get("definitionEntry") or {}, merged.get("assignment") or {}
    scopes = _for(merged.get("scope"), selector)
    if not entry or not naming.get("name") or scopes is None:
        if scopes is None and entry and naming.get("name") and not any(_for(merged.get("scope"), s) for s in pac_envs):
            sink.add(str(path), *line_of(path, str(node.get("nodeName") or "")),
                     f"{crumb}: a branch needs definitionEntry, assignment and scope")
        return
    policy_id = _policy_id(entry, estate.definition_scope, names, path, crumb, sink)
    if policy_id is None:
        return
    meta = dict(merged.get("metadata") or {})
    key_hint = (meta.get("policygen") or {}).get("scope") if isinstance(meta.get("policygen"), dict) else None
    for i, scope in enumerate(scopes if isinstance(scopes, list) else [scopes]):
        name = str(naming["name"]) + (f"-{i + 1}" if i else "")
        props: dict[str, Any] = {
            "displayName": naming.get("displayName") or name, "description": naming.get("description", ""),
            "policyDefinitionId": policy_id, "scope": scope,
            "notScopes": list(_for(merged.get("notScopes"), selector) or []),
            "parameters": {k: {"value": v} for k, v in (merged.get("parameters") or {}).items()},
            "enforcementMode": merged.get("enforcementMode") or "Default", "metadata": meta,
        }
        for k in ("nonComplianceMessages", "overrides", "resourceSelectors"):
            if merged.get(k):
                props[k] = merged[k]
        if entry.get("definitionVersion"):
            props["definitionVersion"] = entry["definitionVersion"]
        body: dict[str, Any] = {"name": name, "properties": props}
        uai, location = _for(merged.get("userAssignedIdentity"), selector), \
            _for(merged.get("managedIdentityLocations"), selector)
        if uai:
            body["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {uai: {}}}
        elif location:
            body["identity"] = {"type": "SystemAssigned"}
        if body.get("identity"):
            body["location"] = location or estate.environments[selector]["identityLocation"]
        estate.items.append(Item("assignment", body, where))
        _record_scopes(estate, merged, key_hint, scope, pac_envs)


def _record_scopes(estate: Estate, merged: dict[str, Any], hint: Any, scope: str, pac_envs: dict[str, Any]) -> None:
    """The scope key this assignment uses, in every pacEnvironment that places it."""
    stem = re.sub(r"[^a-z0-9-]+", "-", str(scope).rstrip("/").rsplit("/", 1)[-1].lower()).strip("-") or "scope"
    key_name = hint if isinstance(hint, str) and hint else stem
    for sel in pac_envs:
        placed = _for(merged.get("scope"), sel)
        if placed:
            value = placed[0] if isinstance(placed, list) else placed
            estate.environments[sel]["scopes"].setdefault(key_name, value)


def _policy_id(entry: dict[str, Any], root_scope: str, names: dict[str, set[str]], path: Path, crumb: str,
               sink: DiagnosticSink) -> str | None:
    for field, kind, rtype in (("policyName", "definition", "policyDefinitions"),
                               ("policySetName", "initiative", "policySetDefinitions")):
        if entry.get(field):
            name = str(entry[field])
            if name.lower() not in names[kind]:
                sink.add(str(path), *line_of(path, f'"{name}"'),
                         f"{crumb}: {field} {name!r} is not defined in this Definitions/ tree")
                return None
            return root_scope + RID.format(rtype, name)
    for field in ("policyId", "policySetId"):
        if entry.get(field):
            return str(entry[field])
    sink.add(str(path), *line_of(path, '"definitionEntry"'), f"{crumb}: definitionEntry names no policy or set")
    return None
