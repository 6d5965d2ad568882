"""Alias records and the file shapes they come in: dump CSV, Azure's provider JSON, our per-type document.

One alias name can belong to several resource types with different paths (`Microsoft.Compute/imagePublisher`
is `properties.storageProfile.imageReference.publisher` on virtual machines and
`properties.virtualMachineProfile.storageProfile.imageReference.publisher` on scale sets), and Azure picks a
path by the request's API version. So a record is (resource type, alias) with a default path, the
per-API-version paths when known, and the Modifiable attribute when known
(https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-alias).

The per-type document (`FORMAT`) is what the package ships (one member per namespace in a zip) and what
`policygen aliases sync` writes: `{"format", "source", "date", "types": {type: {alias: path | detail}}}`
where `detail` is `{"defaultPath", "paths": [{"path", "apiVersions", "modifiable"}], "modifiable"}`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

FORMAT = "policygen.aliases/1"


@dataclass(frozen=True, slots=True)
class AliasPath:
    path: str
    api_versions: tuple[str, ...]  # lower-case
    modifiable: bool | None = None


class Alias(NamedTuple):
    """One (resource type, alias) record (a tuple: the shipped catalogue builds 65,000 of them)."""

    name: str
    path: str  # default path, relative to the resource root: "properties.publicNetworkAccess"
    rtype: str = ""  # the resource type that has it; "" means the type the name spells
    paths: tuple[AliasPath, ...] = ()
    modifiable: bool | None = None  # None: the source does not say

    @property
    def resource_type(self) -> str:
        return self.rtype or resource_type_of_alias(self.name)

    def path_for(self, api_version: str | None) -> str:
        """The path Azure reads for a request of `api_version` (the default path when none lists it)."""
        if api_version and self.paths:
            low = api_version.lower()
            for p in self.paths:
                if low in p.api_versions:
                    return p.path
        return self.path

    def modifiable_for(self, api_version: str | None) -> bool | None:
        if api_version and self.paths:
            low = api_version.lower()
            for p in self.paths:
                if low in p.api_versions and p.modifiable is not None:
                    return p.modifiable
        return self.modifiable


def resource_type_of_alias(alias: str) -> str:
    """`Microsoft.X/a/b/prop.sub[*].y` → `Microsoft.X/a/b` (the last '/' before any '.' or '[')."""
    cut = len(alias)
    for ch in ".[":
        pos = alias.find(ch, alias.find("/") + 1)
        if pos != -1:
            cut = min(cut, pos)
    head = alias[:cut]
    return head.rsplit("/", 1)[0] if "/" in head else head


def namespace_of(name: str) -> str:
    """`Microsoft.Compute/virtualMachines/...` → `microsoft.compute` (the key catalogues shard by)."""
    return name.split("/", 1)[0].strip().lower()


# ---------------------------------------------------------------------------------------------- CSV


def aliases_from_csv(lines: Iterable[str]) -> Iterator[Alias]:
    """`alias,defaultPath` rows (Get-AzPolicyAlias dumps, `--aliases` CSV files).

    The dump has no type column and lists aliases type by type; an alias named after its namespace only
    (`Microsoft.Compute/licenseType`) belongs to the type whose rows follow it (or surround it), so that
    is the type it gets here."""
    rows = [
        (row[0].strip(), row[1].strip())
        for row in csv.reader(line for line in lines if line.strip() and not line.startswith("#"))
        if len(row) >= 2 and row[0] != "alias" and "/" in row[0] and row[1].strip()
    ]
    types = [resource_type_of_alias(name) for name, _ in rows]
    pending: list[int] = []
    previous = ""
    for i, (name, path) in enumerate(rows):
        if "/" not in types[i]:
            pending.append(i)
            continue
        for j in pending:
            yield Alias(rows[j][0], rows[j][1], _same_namespace(types[i], rows[j][0]) or previous)
        pending.clear()
        previous = types[i]
        yield Alias(name, path, types[i])
    for j in pending:
        yield Alias(rows[j][0], rows[j][1], _same_namespace(previous, rows[j][0]))


def _same_namespace(rtype: str, alias: str) -> str:
    return rtype if rtype and namespace_of(rtype) == namespace_of(alias) else ""


# ----------------------------------------------------------------------------- Azure's provider JSON


def aliases_from_provider_json(data: object) -> Iterator[Alias]:
    """`GET /subscriptions/{id}/providers?$expand=resourceTypes/aliases` (or `az provider list --expand
    resourceTypes/aliases`): a list of providers, `{"value": [...]}` or one provider. Other shapes are
    skipped, never a crash."""
    providers = data if isinstance(data, list) else data.get("value", [data]) if isinstance(data, dict) else []
    for provider in _dicts(providers):
        ns = provider.get("namespace")
        for rt in _dicts(provider.get("resourceTypes")):
            sub = rt.get("resourceType")
            rtype = f"{ns}/{sub}" if isinstance(ns, str) and isinstance(sub, str) and ns and sub else ""
            for alias in _dicts(rt.get("aliases")):
                rec = _rest_alias(alias, rtype)
                if rec is not None:
                    yield rec


def provider_alias_objects(data: object) -> Iterator[dict]:
    """Every alias object in the provider JSON, whatever else the document holds."""
    providers = data if isinstance(data, list) else data.get("value", [data]) if isinstance(data, dict) else []
    for provider in _dicts(providers):
        for rt in _dicts(provider.get("resourceTypes")):
            yield from _dicts(rt.get("aliases"))


def _rest_alias(alias: dict, rtype: str) -> Alias | None:
    name = alias.get("name")
    paths = tuple(
        AliasPath(p["path"], _versions(p.get("apiVersions")), _modifiable(p.get("metadata")))
        for p in _dicts(alias.get("paths"))
        if isinstance(p.get("path"), str) and p["path"]
    )
    default = alias.get("defaultPath")
    if not isinstance(default, str) or not default:
        default = paths[0].path if paths else None
    if not isinstance(name, str) or not name or "/" not in name or not default:
        return None
    return Alias(name, default, rtype, paths, _modifiable(alias.get("defaultMetadata")))


def _modifiable(meta: object) -> bool | None:
    attrs = meta.get("attributes") if isinstance(meta, dict) else None
    return "modifiable" in attrs.lower() if isinstance(attrs, str) else None


def _versions(value: object) -> tuple[str, ...]:
    return tuple(v.lower() for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _dicts(value: object) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


# ------------------------------------------------------------------------------ per-type document


def to_document(aliases: Iterable[Alias], source: str, date: str) -> dict[str, Any]:
    """The per-type document (`FORMAT`): plain `alias: path` unless paths or the Modifiable flag are known."""
    types: dict[str, dict[str, Any]] = {}
    for a in aliases:
        entry: Any = a.path
        if a.paths or a.modifiable is not None:
            entry = {"defaultPath": a.path}
            if a.modifiable is not None:
                entry["modifiable"] = a.modifiable
            if a.paths:
                entry["paths"] = [_path_json(p) for p in a.paths]
        types.setdefault(a.resource_type, {})[a.name] = entry
    return {"format": FORMAT, "source": source, "date": date, "types": types}


def _path_json(p: AliasPath) -> dict[str, Any]:
    out: dict[str, Any] = {"path": p.path, "apiVersions": list(p.api_versions)}
    if p.modifiable is not None:
        out["modifiable"] = p.modifiable
    return out


def is_document(data: object) -> bool:
    return isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("types"), dict)


def aliases_from_document(data: dict) -> Iterator[Alias]:
    """Records of a per-type document; entries of another shape are skipped."""
    for rtype, entries in data.get("types", {}).items():
        if not isinstance(rtype, str) or not isinstance(entries, dict):
            continue
        for name, entry in entries.items():
            if not isinstance(name, str) or "/" not in name:
                continue
            if isinstance(entry, str) and entry:
                yield Alias(name, entry, rtype)
            elif isinstance(entry, dict) and isinstance(entry.get("defaultPath"), str) and entry["defaultPath"]:
                paths = tuple(
                    AliasPath(p["path"], _versions(p.get("apiVersions")), _bool(p.get("modifiable")))
                    for p in _dicts(entry.get("paths"))
                    if isinstance(p.get("path"), str) and p["path"]
                )
                yield Alias(name, entry["defaultPath"], rtype, paths, _bool(entry.get("modifiable")))


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None
