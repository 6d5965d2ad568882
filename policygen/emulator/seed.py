"""Seed files: the tenant an emulator starts with (management groups, subscriptions, resource groups,
resources or an inventory file). Format documented in docs/emulator.md.

A seed is applied only to an empty store, so `--state FILE` keeps what a previous run changed.

Files are read only for a seed file given at start-up: its inventory paths are relative and stay inside its
project (the nearest folder above it holding policygen.yaml, else its own folder); a seed document sent to
`POST /_admin/seed` names no files at all. Every read is a regular file under a size cap, and a file that is
not usable is reported by name and reason, never by its content.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from policygen.arm import json_text
from policygen.arm.scopes import ScopeKind
from policygen.emulator import hierarchy, inventory
from policygen.emulator.context import Context
from policygen.emulator.core import ArmError, guid, now_iso, parse_scope
from policygen.errors import Diagnostic, InputError
from policygen.intents.pack import find_pack
from policygen.intents.yamlload import BoundedComposer

DEFAULT_LOCATION = "westeurope"
MAX_FILE_BYTES = 256 * 1024 * 1024  # a seed or inventory file; a 100,000-resource inventory is ~100 MB


class _Located(dict):
    """A mapping that remembers where it was in the seed file, so problems point at the entry."""

    line = 0
    col = 0


class _Loader(BoundedComposer, yaml.SafeLoader):
    """Depth and alias expansion bounded like the pack's own YAML."""


def _mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> _Located:
    loader.flatten_mapping(node)
    obj = _Located(loader.construct_pairs(node, deep=True))
    obj.line, obj.col = node.start_mark.line + 1, node.start_mark.column + 1
    return obj


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load(source: str | Path | dict | None) -> tuple[dict, Path | None]:
    """A seed document and the directory relative paths in it resolve against."""
    if source is None:
        return {}, None
    if isinstance(source, dict):
        return source, None
    path = Path(source)
    try:
        text = read_capped(path, "seed file").decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(Diagnostic(str(path), 0, 0, "seed file is not UTF-8 text")) from None
    try:
        data = json_text.loads(text) if path.suffix.lower() == ".json" else yaml.load(text, Loader=_Loader)
    except (ValueError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (getattr(exc, "line", 0), getattr(exc, "col", 0))
        raise InputError(
            Diagnostic(
                str(path),
                line,
                col,
                f"seed is not valid {path.suffix[1:] or 'YAML'}: {getattr(exc, 'problem', None) or exc}",
            )
        ) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(
            Diagnostic(
                str(path), 1, 1, "seed must be a mapping (managementGroups, subscriptions, resources, inventory)"
            )
        )
    return data, path.parent


def read_capped(path: Path, what: str) -> bytes:
    """A regular file's bytes, at most MAX_FILE_BYTES (devices, pipes and directories are refused unread)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(Diagnostic(str(path), 0, 0, f"cannot read {what}: not a regular file"))
        if info.st_size > MAX_FILE_BYTES:
            raise InputError(Diagnostic(str(path), 0, 0, f"cannot read {what}: larger than {MAX_FILE_BYTES >> 20} MB"))
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InputError(Diagnostic(str(path), 0, 0, f"cannot read {what}: {exc.strerror}")) from None
    if len(data) > MAX_FILE_BYTES:
        raise InputError(Diagnostic(str(path), 0, 0, f"cannot read {what}: larger than {MAX_FILE_BYTES >> 20} MB"))
    return data


def project_root(seed_dir: Path) -> Path:
    """Where a seed file's inventory paths may point: the nearest folder at or above it with policygen.yaml
    (the shipped seed reads ../inventory/mlops.json of its pack), else the seed's own folder."""
    seed_dir = seed_dir.resolve()
    return find_pack(seed_dir) or seed_dir


def inventory_path(base: Path | None, name: Any) -> Path:
    """The file an inventory entry names, or InputError when it may not be read."""
    if base is None:
        raise InputError(
            "inventory files can only be named in a seed file (a seed sent over HTTP or given as a "
            "document lists its resources under 'resources')"
        )
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"inventory entries are relative file paths, not {type(name).__name__}")
    if Path(name).is_absolute() or Path(name).drive:
        raise InputError(f"inventory path {name!r} is absolute; give it relative to the seed file")
    root = project_root(base)
    path = (base / name).resolve()
    if not path.is_relative_to(root):
        raise InputError(f"inventory path {name!r} leaves the seed's project folder {str(root)!r}")
    return path


def ensure_root(emu: Context) -> None:
    if not emu.store.get("managementGroups", hierarchy.root_name(emu)):
        hierarchy.put_mg(emu, hierarchy.root_name(emu), "Tenant Root Group")


def apply(emu: Context, source: str | Path | dict | None, *, files: bool = True) -> None:
    """Apply a seed; `files=False` (a seed from the network) refuses every inventory file."""
    data, base = load(source)
    if not files:
        base = None
    where = str(source) if isinstance(source, str | Path) else "<seed>"
    problems: list[Diagnostic] = []

    def at(item: Any, message: str) -> Diagnostic:
        return Diagnostic(where, getattr(item, "line", 0), getattr(item, "col", 0), message)

    known = {"tenantId", "managementGroups", "subscriptions", "resources", "inventory", "roleAssignments"}
    for k in sorted(set(data) - known):
        problems.append(at(data, f"unknown seed key '{k}' (expected one of {', '.join(sorted(known))})"))
    if data.get("tenantId"):
        emu.config.tenant_id = str(data["tenantId"])
    ensure_root(emu)

    def add_mg(item: Any, parent: str | None) -> None:
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or not item.get("name"):
            problems.append(at(item, f"management group entry needs a name: {item!r}"))
            return
        par = item.get("parent") or parent
        if par and not emu.store.get("managementGroups", par):
            problems.append(at(item, f"management group '{item['name']}': parent '{par}' is not defined before it"))
            return
        hierarchy.put_mg(emu, item["name"], item.get("displayName"), par)
        for sub in item.get("subscriptions") or []:
            add_sub(sub, item["name"])
        for child in item.get("children") or []:
            add_mg(child, item["name"])

    def add_sub(item: Any, parent: str | None) -> None:
        if isinstance(item, str):
            item = {"id": item}
        if not isinstance(item, dict) or not (item.get("id") or item.get("subscriptionId")):
            problems.append(at(item, f"subscription entry needs an id: {item!r}"))
            return
        sub_id = str(item.get("id") or item.get("subscriptionId")).rsplit("/", 1)[-1]
        par = item.get("managementGroup") or parent
        if par and not emu.store.get("managementGroups", par):
            problems.append(at(item, f"subscription '{sub_id}': management group '{par}' is not defined"))
            return
        hierarchy.put_subscription(emu, sub_id, item.get("displayName"), par)
        for rg in item.get("resourceGroups") or []:
            if isinstance(rg, str):
                rg = {"name": rg}
            hierarchy.put_resource_group(emu, sub_id, rg["name"], rg.get("location", DEFAULT_LOCATION), rg.get("tags"))

    for mg in data.get("managementGroups") or []:
        add_mg(mg, None)
    for sub in data.get("subscriptions") or []:
        add_sub(sub, None)

    resources = list(data.get("resources") or [])
    inventory = data.get("inventory")
    for inv in [inventory] if isinstance(inventory, str) else (inventory or []):
        try:
            path = inventory_path(base, inv)
            raw = read_capped(path, "inventory")
        except InputError as err:
            problems += [d if d.file else at(data, d.message) for d in err.diagnostics]
            continue
        try:
            loaded = json_text.loads(raw, duplicates=True)
        except json_text.JsonTextError as exc:  # the parser's message, never the file's text
            problems.append(Diagnostic(str(path), exc.line, exc.col, f"inventory is not JSON: {exc.message}"))
            continue
        if isinstance(loaded, dict):
            loaded = loaded.get("value") or loaded.get("data") or loaded.get("resources") or []
        if not isinstance(loaded, list):
            problems.append(
                Diagnostic(str(path), 1, 1, "inventory must be a JSON array of resources (or {'value': [...]})")
            )
            continue
        resources += loaded
    for res in resources:
        try:
            add_resource(emu, res)
        except ArmError as err:
            what = res.get("id") if isinstance(res, dict) else f"entry of type {type(res).__name__}"
            problems.append(at(res, f"resource {what}: {err.message}"))
    for ra in data.get("roleAssignments") or []:
        _role_assignment(emu, ra, problems, where)
    if problems:
        raise InputError(problems)


def add_resource(emu: Context, res: Any) -> None:
    """Store one inventory resource, creating its subscription and resource group when they are missing."""
    if not isinstance(res, dict) or not res.get("id"):
        raise ArmError(400, "InvalidResource", "a resource needs a full 'id'")
    scope = parse_scope(res["id"])
    sub, rg = scope.subscription, scope.resource_group
    if scope.kind is not ScopeKind.RESOURCE or not sub:
        raise ArmError(400, "InvalidResourceId", f"'{res['id']}' is not a resource id under a subscription")
    if not emu.store.get("subscriptions", sub):
        hierarchy.put_subscription(emu, sub)
    if rg and not emu.store.get("resourceGroups", f"/subscriptions/{sub}/resourceGroups/{rg}"):
        hierarchy.put_resource_group(emu, sub, rg, res.get("location") or DEFAULT_LOCATION)
    inventory.put_raw(emu, res)


def _role_assignment(emu: Context, ra: Any, problems: list[Diagnostic], where: str) -> None:
    if not isinstance(ra, dict) or not all(ra.get(k) for k in ("scope", "roleDefinitionId", "principalId")):
        problems.append(
            Diagnostic(
                where,
                getattr(ra, "line", 0),
                getattr(ra, "col", 0),
                f"role assignment needs scope, roleDefinitionId, principalId: {ra!r}",
            )
        )
        return
    scope = ra["scope"].rstrip("/")
    name = ra.get("name") or guid("seed-ra", scope, ra["principalId"], ra["roleDefinitionId"])
    rid = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
    emu.store.put(
        "roleAssignments",
        rid,
        {
            "id": rid,
            "name": name,
            "type": "Microsoft.Authorization/roleAssignments",
            "properties": {
                "scope": scope or "/",
                "roleDefinitionId": ra["roleDefinitionId"],
                "principalId": ra["principalId"],
                "principalType": ra.get("principalType", "User"),
                "createdOn": now_iso(),
                "updatedOn": now_iso(),
            },
        },
    )
