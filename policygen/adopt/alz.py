"""Read an Azure Landing Zones library member (or Enterprise-Scale's `src/resources`) as an estate.

Assets are recognised by their `type` (the library's file-name suffixes say the same); Enterprise-Scale files
are ARM-template escaped (`[[parameters('x')]`) and are unescaped. Custom definitions are referenced by the
library's placeholder management group (or whatever management group the files use); it becomes the
definition scope.

Where assignments go: an architecture definition (`*.alz_architecture_definition.json`) maps management group
ids to archetypes (or archetype overrides: a base archetype with `*_to_add`/`*_to_remove`); each assignment an
archetype lists is assigned at the scope key named after that management group. Without one, the scope key is
the archetype's name (`<pack>_<key>` as policygen's export names them gives `<key>`), at a management group of
that name, and the import says so. An archetype naming an asset the folder does not hold is an error at its
line.

Clouds: Enterprise-Scale keeps a cloud's variant of an asset in `<name>.<cloud>.json`. An import is for one
cloud (AzureCloud unless asked): the unsuffixed files, with that cloud's variants replacing the asset of the
same name; other clouds' files are named in a note, not read.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from policygen.adopt.estate import Estate, Item
from policygen.adopt.files import line_of, read_json, unescape
from policygen.errors import DiagnosticSink, InputError

PLACEHOLDER_MG = "/providers/Microsoft.Management/managementGroups/placeholder"
MG_PREFIX = "/providers/Microsoft.Management/managementGroups/"
TYPES = {"microsoft.authorization/policydefinitions": "definition",
         "microsoft.authorization/policysetdefinitions": "initiative",
         "microsoft.authorization/policyassignments": "assignment"}
ARCHETYPE_LISTS = {"policy_definitions": "definition", "policy_set_definitions": "initiative",
                   "policy_assignments": "assignment"}
CLOUD_VARIANT = re.compile(r"\.(AzureChinaCloud|AzureUSGovernment|AzureCloud)\.json$", re.IGNORECASE)
ARCHETYPE, OVERRIDE, ARCHITECTURE = (".alz_archetype_definition.json", ".alz_archetype_override.json",
                                     ".alz_architecture_definition.json")
SPECIAL = (ARCHETYPE, OVERRIDE, ARCHITECTURE, ".alz_role_definition.json")
# policygen stamps these on what it renders; the library has none (`policygen plan` compares them, export keeps)
STAMP_KEYS = ("pacOwnerId", "policygen")


def is_escaped(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith("[[")
    if isinstance(value, dict):
        return any(is_escaped(v) for v in value.values())
    if isinstance(value, list):
        return any(is_escaped(v) for v in value)
    return False


CLOUDS = ("AzureCloud", "AzureChinaCloud", "AzureUSGovernment")


def read_library(root: Path, env: str | None = None, cloud: str | None = None) -> Estate:
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: not a folder (expected an ALZ library member or Enterprise-Scale src/)")
    cloud = cloud or "AzureCloud"
    if cloud not in CLOUDS:
        raise InputError(f"cloud {cloud!r}: expected one of {', '.join(CLOUDS)}")
    sink = DiagnosticSink()
    notes: list[str] = []
    paths = _cloud_paths(root, cloud, notes)
    items: list[Item] = []
    archetypes: dict[str, tuple[Path, dict[str, Any]]] = {}
    overrides: dict[str, tuple[Path, dict[str, Any]]] = {}
    architectures: list[tuple[Path, dict[str, Any]]] = []
    for path in paths:
        special = next((k for k in SPECIAL if path.name.endswith(k)), None)
        if special is not None or path.name in ("alz_library_metadata.json", "alz_policy_default_values.json"):
            doc = read_json(path, sink) if special in (ARCHETYPE, OVERRIDE, ARCHITECTURE) else None
            if not isinstance(doc, dict):
                continue
            name = str(doc.get("name") or path.name.split(".", 1)[0])
            if special == ARCHETYPE:
                archetypes.setdefault(name, (path, doc))
            elif special == OVERRIDE:
                overrides.setdefault(name, (path, doc))
            else:
                architectures.append((path, doc))
            continue
        doc = read_json(path, sink)
        if not isinstance(doc, dict):
            continue
        kind = TYPES.get(str(doc.get("type", "")).lower())
        if kind is None or not doc.get("name") or not isinstance(doc.get("properties"), dict):
            continue
        body = {k: doc[k] for k in ("name", "properties", "identity", "location") if doc.get(k) is not None}
        body = unescape(body) if is_escaped(body) else body
        line, col = line_of(path, '"name"')
        items.append(Item(kind, body, f"{path}:{line}:{col}"))
    definition_scope = _definition_scope(items)
    estate = Estate("alz", definition_scope, env=env or "alz", stamp_keys=STAMP_KEYS, notes=notes)
    estate.environments[estate.env] = {"cloud": cloud, "definitionScope": definition_scope, "scopes": {}}
    names = {(i.kind, i.name.lower()) for i in items}
    lists = _resolve_overrides(archetypes, overrides, names, sink)
    placed, top = _placements(lists, architectures, env, notes)
    sink.raise_if_any()
    scopes = estate.environments[estate.env]["scopes"]
    unplaced = sorted(i.name for i in items if i.kind == "assignment" and i.name.lower() not in placed)
    if unplaced:
        notes.append(f"assignments no archetype lists, placed at {top!r}: {', '.join(unplaced)}")
    for item in items:
        if item.kind != "assignment":
            estate.items.append(item)
            continue
        for scope_key in placed.get(item.name.lower(), [top]):  # one assignment per management group, one name
            scope = scopes.setdefault(scope_key, MG_PREFIX + scope_key)
            props = copy.deepcopy(item.props)
            estate.items.append(Item("assignment", {**copy.deepcopy(item.body),
                                                    "properties": {**props, "scope": scope,
                                                                   "metadata": dict(props.get("metadata") or {})}},
                                     item.where, item.remediation))
    return estate


def _cloud_paths(root: Path, cloud: str, notes: list[str]) -> list[Path]:
    """The JSON files of one cloud: unsuffixed ones, a `<name>.<cloud>.json` replacing `<name>.json`."""
    chosen: dict[Path, Path] = {}
    others: dict[str, int] = {}
    for path in sorted(p for p in root.rglob("*.json") if p.is_file()):
        variant = CLOUD_VARIANT.search(path.name)
        if variant is None:
            chosen.setdefault(path, path)
            continue
        if variant.group(1).lower() != cloud.lower():
            others[variant.group(1)] = others.get(variant.group(1), 0) + 1
            continue
        chosen[path.with_name(path.name[: variant.start()] + ".json")] = path
    for other, count in sorted(others.items()):
        notes.append(f"{count} {other} variant file(s) not read (this import is for {cloud}; "
                     f"`--cloud {other}` imports that cloud's)")
    return sorted(chosen.values(), key=str)


def _definition_scope(items: list[Item]) -> str:
    """The management group the library's own references use (placeholder in the published library)."""
    for item in items:
        refs = [m.get("policyDefinitionId") for m in item.props.get("policyDefinitions") or []] + \
            [item.props.get("policyDefinitionId")]
        for ref in refs:
            low = str(ref or "").lower()
            if low.startswith(MG_PREFIX.lower()) and "/providers/microsoft.authorization/" in low:
                return str(ref)[: low.index("/providers/microsoft.authorization/")]
    return PLACEHOLDER_MG


def _resolve_overrides(archetypes: dict[str, tuple[Path, dict[str, Any]]],
                       overrides: dict[str, tuple[Path, dict[str, Any]]], names: set[tuple[str, str]],
                       sink: DiagnosticSink) -> dict[str, dict[str, list[str]]]:
    """Archetype (or override) name → its lists (`policy_assignments`, ...), every name checked to exist."""
    out: dict[str, dict[str, list[str]]] = {}
    for arch, (path, doc) in archetypes.items():
        out[arch] = {f: [str(n) for n in doc.get(f) or []] for f in ARCHETYPE_LISTS}
        _check_names(arch, path, out[arch], names, sink)
    for name, (path, doc) in overrides.items():
        base = str(doc.get("base_archetype") or "")
        if base not in out:
            sink.add(str(path), *line_of(path, '"base_archetype"'),
                     f"archetype override {name!r} is based on archetype {base!r}, which this library does not define")
            continue
        lists = {}
        for field in ARCHETYPE_LISTS:
            remove = {str(n).lower() for n in doc.get(f"{field}_to_remove") or []}
            lists[field] = [n for n in out[base][field] if n.lower() not in remove] + \
                [str(n) for n in doc.get(f"{field}_to_add") or []]
        _check_names(name, path, {f: [str(n) for n in doc.get(f"{f}_to_add") or []] for f in ARCHETYPE_LISTS},
                      names, sink, "_to_add")
        out.setdefault(name, lists)
    return out


def _check_names(arch: str, path: Path, lists: dict[str, list[str]], names: set[tuple[str, str]],
                 sink: DiagnosticSink, suffix: str = "") -> None:
    for field, kind in ARCHETYPE_LISTS.items():
        for name in lists[field]:
            if (kind, name.lower()) not in names:
                via = f" ({field}{suffix})" if suffix else ""
                sink.add(str(path), *line_of(path, f'"{name}"'),
                         f"archetype {arch!r} lists {field[:-1].replace('_', ' ')} {name!r}{via}, "
                         "which this library does not define")


def _placements(lists: dict[str, dict[str, list[str]]], architectures: list[tuple[Path, dict[str, Any]]],
                env: str | None, notes: list[str]) -> tuple[dict[str, list[str]], str]:
    """(assignment name → scope keys, the key for what no archetype lists): the management groups an
    architecture puts the archetypes listing it at (several: one assignment at each, one name), else (noted)
    the archetype's own name; the architecture's top management group (no parent), else `root`."""
    chosen = [a for a in architectures if env and str(a[1].get("name")) == env] or architectures
    at: dict[str, list[str]] = {}  # archetype -> management group ids
    top = ""
    for path, doc in chosen:
        mine: dict[str, list[str]] = {}
        for mg in doc.get("management_groups") or []:
            if not isinstance(mg, dict) or not isinstance(mg.get("id"), str):
                continue
            if mg.get("parent_id") is None and not top:
                top = mg["id"]
            for arch in mg.get("archetypes") or []:  # an archetype at several groups: its assignments at each
                if mg["id"] not in mine.setdefault(str(arch), []):
                    mine[str(arch)].append(mg["id"])
        for arch, groups in mine.items():  # another architecture is another estate: the first one's wins
            if arch in at:
                if at[arch] != groups:
                    notes.append(f"{path}: archetype {arch!r} is also used at management group {groups[0]!r}; "
                                 f"its assignments are imported at {', '.join(repr(g) for g in at[arch])}")
                continue
            at[arch] = groups
    base = min(lists, key=len, default="")
    guessed = []
    placed: dict[str, list[str]] = {}
    for arch, fields in lists.items():
        if arch in at:
            scope_keys = at[arch]
        else:
            scope_keys = [arch[len(base) + 1:] if base and arch.startswith(base + "_") else arch]
            if fields["policy_assignments"]:
                guessed.append(f"{arch} -> {scope_keys[0]}")
        for name in fields["policy_assignments"]:
            for scope_key in scope_keys:
                if scope_key not in placed.setdefault(name.lower(), []):
                    placed[name.lower()].append(scope_key)
    if guessed:
        where = "no architecture definition" if not chosen else "no architecture definition uses them"
        notes.append(f"{where}: archetypes placed at the management group named after them "
                     f"({', '.join(guessed)}); set the scope keys in policygen.yaml")
    return placed, top or "root"
