"""Read an Azure Landing Zones library member (or Enterprise-Scale's `src/resources`) as an estate.

Assets are recognised by their `type` (the library's file-name suffixes say the same); Enterprise-Scale files
are ARM-template escaped (`[[parameters('x')]`) and are unescaped. Custom definitions are referenced by the
library's placeholder management group (or whatever management group the files use); it becomes the
definition scope. Archetypes become scope keys: each assignment an archetype lists is assigned at the scope
key named after the archetype (`<pack>_<key>` as policygen's export names them gives `<key>`), at a
management group of that name until policygen.yaml says otherwise. An archetype naming an asset the folder
does not hold is an error at its line.
"""

from __future__ import annotations

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
CLOUD_VARIANT = re.compile(r"\.(AzureChinaCloud|AzureUSGovernment)\.json$", re.IGNORECASE)
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


def read_library(root: Path, env: str | None = None) -> Estate:
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: not a folder (expected an ALZ library member or Enterprise-Scale src/)")
    sink = DiagnosticSink()
    paths = sorted((p for p in root.rglob("*.json") if p.is_file()),
                   key=lambda p: (bool(CLOUD_VARIANT.search(p.name)), str(p)))
    items: list[Item] = []
    archetypes: list[tuple[Path, dict[str, Any]]] = []
    for path in paths:
        if path.name.endswith(".alz_archetype_definition.json"):
            doc = read_json(path, sink)
            if isinstance(doc, dict):
                archetypes.append((path, doc))
            continue
        if path.name in ("alz_library_metadata.json", "alz_policy_default_values.json") \
                or path.name.endswith((".alz_architecture_definition.json", ".alz_archetype_override.json",
                                       ".alz_role_definition.json")):
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
    estate = Estate("alz", definition_scope, env=env or "alz", stamp_keys=STAMP_KEYS)
    estate.environments[estate.env] = {"cloud": "AzureCloud", "definitionScope": definition_scope, "scopes": {}}
    names = {(i.kind, i.name.lower()) for i in items}
    placed = _archetypes(archetypes, names, sink)
    sink.raise_if_any()
    scopes = estate.environments[estate.env]["scopes"]
    for item in items:
        if item.kind == "assignment":
            scope_key = placed.get(item.name.lower(), "root")
            scope = scopes.setdefault(scope_key, MG_PREFIX + scope_key)
            item.body["properties"] = {**item.props, "scope": scope}
            meta = dict(item.props.get("metadata") or {})
            item.body["properties"]["metadata"] = meta
        estate.items.append(item)
    return estate


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


def _archetypes(archetypes: list[tuple[Path, dict[str, Any]]], names: set[tuple[str, str]],
                sink: DiagnosticSink) -> dict[str, str]:
    """Assignment name → scope key; every name an archetype lists must exist in the folder."""
    placed: dict[str, str] = {}
    base = min((str(doc.get("name", "")) for _, doc in archetypes), key=len, default="")
    for path, doc in archetypes:
        arch = str(doc.get("name") or path.name.split(".", 1)[0])
        scope_key = arch[len(base) + 1:] if base and arch.startswith(base + "_") else arch
        for field, kind in ARCHETYPE_LISTS.items():
            for name in doc.get(field) or []:
                if (kind, str(name).lower()) not in names:
                    sink.add(str(path), *line_of(path, f'"{name}"'),
                             f"archetype {arch!r} lists {field[:-1].replace('_', ' ')} {name!r}, which this "
                             "library does not define")
                elif kind == "assignment":
                    placed[str(name).lower()] = scope_key
    return placed
