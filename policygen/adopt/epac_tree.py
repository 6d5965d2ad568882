"""EPAC assignment files: node trees whose properties accumulate down each branch into assignments.

The rules as EPAC's documentation and planner state them
(https://azure.github.io/enterprise-azure-policy-as-code/policy-assignments/; Build-AssignmentDefinitionNode,
-AtLeaf and -Entry in Scripts/Helpers): `assignment` strings concatenate (a `definitionEntryList` item's own
part is appended when `append` is true, else prepended); `parameters` and `metadata` are unions (deeper wins);
`overrides`, `resourceSelectors` and `nonComplianceMessages` accumulate; `scope` appears once per branch
(the pacSelector's list plus `*`), `notScopes` only above it; `managedIdentityLocations` and
`userAssignedIdentity` take the pacSelector's value or `*`, the deepest wins; `enforcementMode` and
`definitionVersion`, the deepest wins. An assignment gets a managed identity when the rules it runs name
`roleDefinitionIds`. Parameters a definition does not declare are dropped, as EPAC drops them.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policygen.adopt import epac_csv
from policygen.adopt.epac_details import GUID, Library, filter_parameters
from policygen.adopt.estate import Estate, Item
from policygen.adopt.files import line_of
from policygen.errors import DiagnosticSink

RID = "/providers/Microsoft.Authorization/{}/{}"
BAD_NAME = re.compile(r"[%&\\?/<>:#*+\x00-\x1f]|\s$")
ENTRY_KEYS = {"policyName": "definition", "policyId": "definition", "policySetName": "initiative",
              "policySetId": "initiative", "initiativeName": "initiative", "initiativeId": "initiative"}
MAX_DEPTH = 64


@dataclass
class Branch:
    """What a branch has accumulated from the root to the current node."""

    crumb: str = ""
    assignment: dict[str, str] = field(default_factory=lambda: {"name": "", "displayName": "", "description": ""})
    entries: list[dict[str, Any]] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    overrides: list[Any] = field(default_factory=list)
    selectors: list[Any] = field(default_factory=list)
    messages: list[Any] = field(default_factory=list)
    message_column: str | None = None
    parameter_selector: str | None = None
    table: epac_csv.Table | None = None
    enforcement: str = "Default"
    version: str | None = None
    scopes: list[str] | None = None
    not_selected: bool = False
    not_scopes: list[str] = field(default_factory=list)
    location: str | None = None
    uai: Any = None
    extra_roles: bool = False
    ignore: bool = False


@dataclass
class Walker:
    path: Path
    estate: Estate
    selector: str
    pac_envs: dict[str, Any]
    library: Library
    names: dict[str, set[str]]
    sink: DiagnosticSink
    csv_cache: dict[Path, epac_csv.Table | None] = field(default_factory=dict)
    notes: set[str] = field(default_factory=set)
    text: str | None = None
    anchor: str = ""  # the current node's `"nodeName"` value, quoted: errors point into that node

    # ------------------------------------------------------------------ positions and messages

    def at(self, needle: str) -> tuple[int, int]:
        """Where `needle` first appears in the current node (or after it), else anywhere in the file."""
        if self.text is None:
            try:
                self.text = self.path.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError):
                self.text = ""
        text = self.text
        start = text.find('"nodeName"') if not self.anchor else max(text.find(self.anchor), 0)
        at = text.find(needle, max(start, 0))
        if at < 0:
            return line_of(self.path, needle)
        return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1

    def error(self, needle: str, crumb: str, message: str) -> None:
        self.sink.add(str(self.path), *self.at(needle), f"{crumb or '/'}: {message}")

    # ------------------------------------------------------------------ the walk

    def walk(self, node: Any, acc: Branch, depth: int = 0) -> None:
        if not isinstance(node, dict):
            self.sink.add(str(self.path), 1, 1, f"{acc.crumb or '/'}: an assignment node must be a JSON object")
            return
        if depth > MAX_DEPTH:
            self.error('"children"', acc.crumb, f"assignment tree deeper than {MAX_DEPTH} levels")
            return
        b = copy.deepcopy(acc) if depth else acc
        node_name = node.get("nodeName")
        if not isinstance(node_name, str) or not node_name:
            self.error('"children"' if depth else "{", b.crumb, "every node needs a nodeName")
            b.crumb += "//Unknown//"
        else:
            b.crumb += node_name
        needle = f'"{node_name}"' if isinstance(node_name, str) and node_name else "{"
        self.anchor = needle if needle != "{" else self.anchor
        ok = self._node(node, b, needle)
        children = node.get("children")
        if children:
            if not isinstance(children, list):
                self.error('"children"', b.crumb, "children must be a list of nodes")
                return
            for child in children:
                self.walk(child, b, depth + 1)
        elif ok and not b.ignore and not b.not_selected:
            self._leaf(b, needle)

    def _node(self, node: dict[str, Any], b: Branch, needle: str) -> bool:
        ok = True
        if node.get("ignoreBranch"):
            b.ignore = True
        if "enforcementMode" in node:
            if node["enforcementMode"] in ("Default", "DoNotEnforce"):
                b.enforcement = node["enforcementMode"]
            else:
                self.error('"enforcementMode"', b.crumb, f"enforcementMode must be Default or DoNotEnforce, not "
                           f"{node['enforcementMode']!r}")
                ok = False
        part = node.get("assignment")
        if part is not None:
            if isinstance(part, dict) and _text(part.get("name")) and _text(part.get("displayName")):
                for f in ("name", "displayName", "description"):
                    b.assignment[f] += str(part.get(f) or "")
            else:
                self.error('"assignment"', b.crumb, "an assignment block needs a name and a displayName")
                ok = False
        if "definitionEntry" in node or "definitionEntryList" in node:
            ok = self._entries(node, b) and ok
        for key in ("metadata", "parameters"):
            if key in node:
                if isinstance(node[key], dict):
                    getattr(b, key).update(copy.deepcopy(node[key]))
                else:
                    self.error(f'"{key}"', b.crumb, f"{key} must be a JSON object")
                    ok = False
        for key in ("parameterSelector", "parameterFile", "nonComplianceMessageColumn"):
            if key in node and not _text(node[key]):
                self.error(f'"{key}"', b.crumb, f"{key} must be a non-empty string")
                ok = False
        if _text(node.get("parameterSelector")):
            b.parameter_selector = node["parameterSelector"]
        if _text(node.get("parameterFile")):
            b.table = self._table(node["parameterFile"], b.crumb)
            ok = ok and b.table is not None
        for key, attr in (("overrides", "overrides"), ("resourceSelectors", "selectors"),
                          ("nonComplianceMessages", "messages")):
            if key in node:
                if isinstance(node[key], list):
                    getattr(b, attr).extend(copy.deepcopy(node[key]))
                else:
                    self.error(f'"{key}"', b.crumb, f"{key} must be a list")
                    ok = False
        if _text(node.get("nonComplianceMessageColumn")):
            b.message_column = node["nonComplianceMessageColumn"]
        if node.get("definitionVersion"):
            b.version = str(node["definitionVersion"])
        ok = self._scopes(node, b) and ok
        if "managedIdentityLocations" in node:
            value = _selected(node["managedIdentityLocations"], self.selector)
            if value is not None:
                b.location = str(value)
        if "userAssignedIdentity" in node:
            value = _selected(node["userAssignedIdentity"], self.selector)
            if value is not None:
                b.uai = value
        if _pick(node.get("additionalRoleAssignments"), self.selector):
            b.extra_roles = True
        return ok

    def _entries(self, node: dict[str, Any], b: Branch) -> bool:
        if b.entries is not None or ("definitionEntry" in node and "definitionEntryList" in node):
            self.error('"definitionEntry', b.crumb, "only one definitionEntry or definitionEntryList per branch")
            return False
        raw = node.get("definitionEntryList") if "definitionEntryList" in node else [node.get("definitionEntry")]
        if not isinstance(raw, list) or not raw:
            self.error('"definitionEntryList"', b.crumb, "definitionEntryList must be a non-empty list")
            return False
        entries, ok = [], True
        for entry in raw:
            normal = self._entry(entry, b.crumb, must_name=len(raw) > 1)
            if normal is None:
                ok = False
            else:
                entries.append(normal)
        b.entries = entries
        return ok

    def _entry(self, entry: Any, crumb: str, *, must_name: bool) -> dict[str, Any] | None:
        if not isinstance(entry, dict):
            self.error('"definitionEntry', crumb, "a definition entry must be a JSON object")
            return None
        given = [k for k in ENTRY_KEYS if entry.get(k)]
        if len(given) != 1:
            self.error('"definitionEntry', crumb, "a definition entry names exactly one of policyName, policyId, "
                       "policySetName, policySetId")
            return None
        field_name = given[0]
        kind, value = ENTRY_KEYS[field_name], str(entry[field_name])
        policy_id = self._resolve(field_name, kind, value, crumb)
        if policy_id is None:
            return None
        part = entry.get("assignment")
        if part is not None and not (isinstance(part, dict) and _text(part.get("name"))
                                     and _text(part.get("displayName"))):
            self.error(f'"{value}"', crumb, "the entry's assignment block needs a name and a displayName")
            return None
        if part is None and must_name:
            self.error(f'"{value}"', crumb, "each item of a definitionEntryList with more than one item needs an "
                       "assignment block (its part of the name)")
            return None
        return {"id": policy_id, "kind": kind, "field": field_name, "value": value, "assignment": part or {},
                "messages": _listed(entry.get("nonComplianceMessages")), "version": entry.get("definitionVersion"),
                "selectors": _listed(entry.get("resourceSelectors")), "needle": f'"{value}"'}

    def _resolve(self, field_name: str, kind: str, value: str, crumb: str) -> str | None:
        rtype = "policySetDefinitions" if kind == "initiative" else "policyDefinitions"
        if field_name.endswith("Id"):
            return value
        if value.lower() in self.names[kind]:
            return self.estate.definition_scope + RID.format(rtype, value)
        builtin = RID.format(rtype, value)
        if self.library.known(builtin) or (self.library.builtins_dir is None and GUID.match(value)):
            return builtin  # EPAC finds built-ins by name too
        self.error(f'"{value}"', crumb, f"{field_name} {value!r} is not defined in this Definitions/ tree"
                   + ("" if self.library.builtins_dir else " (nor a built-in GUID)"))
        return None

    def _table(self, name: str, crumb: str) -> epac_csv.Table | None:
        """EPAC's lookup (Resolve-ParameterFilePath): a CSV under policyAssignments/ by its file name, else a
        path relative to the assignment file, absolute, or relative to the working folder."""
        root = self.path
        while root.name != "policyAssignments" and root.parent != root:
            root = root.parent
        found = None
        if root.name == "policyAssignments":
            found = next((p for p in sorted(root.rglob("*.csv")) if p.name == name.strip() and p.is_file()), None)
        for candidate in (self.path.parent / name.strip(), Path(name.strip())):
            try:
                if found is None and candidate.is_file():
                    found = candidate
            except (OSError, ValueError):  # a name no file system takes is simply not found
                continue
        if found is None:
            self.error('"parameterFile"', crumb, f"parameterFile {name!r} does not exist")
            return None
        if found.suffix.lower() in (".json", ".jsonc"):
            self.error('"parameterFile"', crumb, f"parameterFile {name!r}: JSON parameter files are not read by "
                       "`policygen import` yet; use a CSV file or `parameters`")
            return None
        found = found.resolve()
        if found not in self.csv_cache:
            self.csv_cache[found] = epac_csv.read_csv(found, self.sink)
        return self.csv_cache[found]

    def _scopes(self, node: dict[str, Any], b: Branch) -> bool:
        has_scope, ok = b.scopes is not None or b.not_selected, True
        for key in ("notScope", "notScopes"):
            if key in node:
                if has_scope:
                    self.error(f'"{key}"', b.crumb, f"{key} below the node that sets scope")
                    ok = False
                else:
                    b.not_scopes += [str(s) for s in _pick(node[key], self.selector)]
        if "scope" in node:
            if has_scope:
                self.error('"scope"', b.crumb, "scope is set at two levels of this branch")
                return False
            if not isinstance(node["scope"], dict):
                self.error('"scope"', b.crumb, "scope must map pacSelectors (or *) to scope ids")
                return False
            scopes = [str(s) for s in _pick(node["scope"], self.selector)]
            if scopes:
                b.scopes = scopes
            else:
                b.not_selected = True
        return ok

    # ------------------------------------------------------------------ the leaf: one assignment per entry and scope

    def _leaf(self, b: Branch, needle: str) -> None:
        if not b.entries:
            self.error(needle, b.crumb, "this branch has no definitionEntry or definitionEntryList")
            return
        if b.scopes is None:
            self.error(needle, b.crumb, "this branch has no scope")
            return
        if not self._leaf_checks(b, needle):
            return
        processed: dict[str, str] = {}
        flat = None
        set_ids = [e["id"] for e in b.entries if e["kind"] == "initiative"]
        if b.table is not None and b.parameter_selector:
            flat = epac_csv.flat_list(set_ids, self.library)
            if flat is None:
                self.error('"parameterFile"', b.crumb, "reading the CSV parameter file needs the definitions of "
                           f"{', '.join(set_ids)} and their members; pass --builtins DIR (azure-policy layout) "
                           "for built-ins")
                return
            if not epac_csv.check_columns(b.table, b.parameter_selector, b.message_column, self.sink):
                return
        for entry in b.entries:
            self._assign(b, entry, needle, flat, processed)

    def _leaf_checks(self, b: Branch, needle: str) -> bool:
        ok = True
        if b.table is not None:
            if not any(e["kind"] == "initiative" for e in b.entries or []):
                self.error('"parameterFile"', b.crumb, "parameterFile applies to policy sets; this branch assigns none")
                ok = False
            if b.overrides:
                self.error('"parameterFile"', b.crumb, "parameterFile and explicit overrides in the same branch")
                ok = False
            if b.message_column and (b.messages or any(e["messages"] for e in b.entries or [])):
                self.error('"nonComplianceMessageColumn"', b.crumb, "nonComplianceMessageColumn and explicit "
                           "nonComplianceMessages in the same branch")
                ok = False
            if not b.parameter_selector:
                self.error('"parameterFile"', b.crumb, "a CSV parameterFile needs a parameterSelector")
                ok = False
        elif b.parameter_selector or b.message_column:
            self.error('"parameterSelector"' if b.parameter_selector else '"nonComplianceMessageColumn"', b.crumb,
                       "parameterSelector and nonComplianceMessageColumn need a parameterFile")
            ok = False
        for reserved in ("pacOwnerId", "roles"):
            if reserved in b.metadata:
                self.error(f'"{reserved}"', b.crumb, f"metadata.{reserved} is reserved for EPAC")
                ok = False
        if len(b.entries or []) > 1 and b.messages:
            self.error('"nonComplianceMessages"', b.crumb, "with a definitionEntryList, nonComplianceMessages go in "
                       "each entry (or a CSV column)")
            ok = False
        return ok

    def _assign(self, b: Branch, entry: dict[str, Any], needle: str, flat: epac_csv.Flat | None,
                processed: dict[str, str]) -> None:
        own = entry["assignment"]
        parts = [b.assignment, own] if own.get("append") else [own, b.assignment]
        name, display, description = ("".join(str(p.get(f) or "") for p in parts)
                                      for f in ("name", "displayName", "description"))
        if not name or not display:
            self.error(needle, b.crumb, "this branch has no assignment name and displayName")
            return
        if BAD_NAME.search(name):
            self.error(needle, b.crumb, f"assignment name {name!r} has a character Azure does not allow "
                       "(% & \\ ? / < > : # * +, control characters, a trailing space)")
            return
        policy_id, is_set = entry["id"], entry["kind"] == "initiative"
        values: dict[str, Any] = dict(b.parameters)
        extra: dict[str, Any] = {}
        if flat is not None and is_set and b.table is not None and b.parameter_selector:
            merged = epac_csv.apply_csv(b.table, b.parameter_selector, b.message_column, policy_id, flat,
                                        self.estate.definition_scope, self.library, values, processed,
                                        b.crumb, self.sink)
            if merged is None:
                return
            values = merged.pop("parameters")
            extra = merged
        messages = [*entry["messages"], *b.messages, *extra.pop("nonComplianceMessages", [])]
        if not all(isinstance(m, dict) and _text(m.get("message")) for m in messages):
            self.error('"nonComplianceMessages"', b.crumb, "each nonComplianceMessage needs a message string")
            return
        overrides = extra.pop("overrides", None) or self._overrides(b, entry, needle)
        if overrides is None:
            return
        props: dict[str, Any] = {
            "displayName": display, "description": description, "policyDefinitionId": policy_id,
            "enforcementMode": b.enforcement, "metadata": dict(b.metadata),
            "parameters": {k: {"value": v} for k, v in
                           filter_parameters(values, self.library.parameters(policy_id)).items()},
        }
        if messages:
            props["nonComplianceMessages"] = messages
        selectors = self._selectors(b, entry)
        if selectors is None:
            return
        if selectors:
            props["resourceSelectors"] = selectors
        if overrides:
            props["overrides"] = overrides
        version = entry["version"] or b.version
        if version:
            props["definitionVersion"] = str(version)
        identity = self._identity(b, entry, policy_id)
        line = self.at(needle)[0]
        for scope in b.scopes or []:  # one assignment per scope, all named alike (the pack: `scope: [..]`)
            body: dict[str, Any] = {"name": name, "properties": {**copy.deepcopy(props), "scope": scope,
                                                                 "notScopes": list(b.not_scopes)}}
            if identity:
                body.update(copy.deepcopy(identity))
            self.estate.items.append(Item("assignment", body, f"{self.path}:{line}:1"))
        if b.extra_roles:
            self.estate.notes.append(f"{self.path}:{line}:1: {b.crumb}: additionalRoleAssignments are not imported "
                                     "(policygen grants only the roles the definitions name)")

    def _overrides(self, b: Branch, entry: dict[str, Any], needle: str) -> list[Any] | None:
        out, many = [], len(b.entries or []) > 1
        for o in b.overrides:
            if not isinstance(o, dict) or o.get("kind") is None or o.get("value") is None:
                self.error('"overrides"', b.crumb, "each override needs a kind and a value")
                return None
            named = [k for k in ("policySetName", "policySetId", "policyName", "policyId") if o.get(k)]
            if many and not named:
                self.error('"overrides"', b.crumb, "with a definitionEntryList, each override names its entry "
                           "(policySetName, policySetId, policyName or policyId)")
                return None
            if named and not _matches(o, entry):
                continue
            clean = {k: o[k] for k in ("kind", "value", "selectors") if k in o}
            if entry["kind"] == "initiative" and "selectors" not in clean:
                self.error('"overrides"', b.crumb, "an override of a policy set assignment needs selectors")
                return None
            if entry["kind"] == "definition" and "selectors" in clean:
                self.error('"overrides"', b.crumb, "an override of a single policy assignment takes no selectors")
                return None
            out.append(clean)
        return out

    def _selectors(self, b: Branch, entry: dict[str, Any]) -> list[Any] | None:
        out = []
        for s in [*entry["selectors"], *b.selectors]:
            if not (isinstance(s, dict) and _text(s.get("name")) and isinstance(s.get("selectors"), list)):
                self.error('"resourceSelectors"', b.crumb, "each resource selector needs a name and a selectors list")
                return None
            if not any(s.get(k) for k in ("policySetName", "policySetId", "policyName", "policyId")) \
                    or _matches(s, entry):
                out.append({"name": s["name"], "selectors": s["selectors"]})
        return out

    def _identity(self, b: Branch, entry: dict[str, Any], policy_id: str) -> dict[str, Any] | None:
        roles = self.library.roles(policy_id)
        uai = b.uai
        if isinstance(uai, list):
            uai = next((u.get("identity") for u in uai if isinstance(u, dict) and _matches(u, entry)), None)
        if roles is None:  # a built-in without --builtins: the tree's own identity settings decide
            self.notes.add(f"{policy_id}: whether it needs a managed identity is read from the tree's "
                           "managedIdentityLocations/userAssignedIdentity (pass --builtins DIR to read its rules)")
            if not (uai or b.location):
                return None
        elif not roles:
            return None
        env = self.estate.environments[self.selector]
        location = b.location or env.get("identityLocation") or "westeurope"
        if isinstance(uai, str) and uai:
            return {"identity": {"type": "UserAssigned", "userAssignedIdentities": {uai: {}}}, "location": location}
        return {"identity": {"type": "SystemAssigned"}, "location": location}


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value else []


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _pick(value: Any, selector: str) -> list[Any]:
    """EPAC's Add-SelectedPacArray: the pacSelector's list, then `*`'s."""
    if not isinstance(value, dict):
        return []
    out: list[Any] = []
    for key in (selector, "*"):
        got = value.get(key)
        if got is not None:
            out += got if isinstance(got, list) else [got]
    return out


def _selected(value: Any, selector: str) -> Any:
    """EPAC's Add-SelectedPacValue: the pacSelector's value, else `*`'s."""
    if not isinstance(value, dict):
        return None
    return value.get(selector) if value.get(selector) is not None else value.get("*")


def _matches(item: dict[str, Any], entry: dict[str, Any]) -> bool:
    """Whether an override / resource selector / identity naming a definition belongs to this entry."""
    last = entry["id"].rstrip("/").rsplit("/", 1)[-1].lower()
    for key in ("policySetName", "policyName"):
        if item.get(key):
            return str(item[key]).lower() == last and (key == "policySetName") == (entry["kind"] == "initiative")
    for key in ("policySetId", "policyId"):
        if item.get(key):
            return str(item[key]).lower() == entry["id"].lower()
    return False
