"""Policy definitions, policy set definitions (initiatives) and their versions.

Custom definitions live at a management group or a subscription; built-ins (the catalogue) at the tenant.
A definition is visible from its own scope and everything below it, which is what references from set
definitions and assignments are checked against.
"""

from __future__ import annotations

import hashlib
import re

from policygen.arm.scopes import Scope, ScopeKind
from policygen.emulator import checks, envelope, hierarchy
from policygen.emulator.collection import Collection, Item
from policygen.emulator.context import Context
from policygen.emulator.core import (
    ArmError,
    Match,
    Request,
    Response,
    bad_request,
    copy_json,
    key,
    now_iso,
    paged,
    parse_scope,
    system_data,
)
from policygen.emulator.store import public

AUTH = "/providers/Microsoft.Authorization/"
_DEF_ID = re.compile(
    r"^(?P<scope>.*)/providers/Microsoft\.Authorization/(?P<kind>policyDefinitions|"
    r"policySetDefinitions)/(?P<name>[^/]+)(?:/versions/(?P<ver>[^/]+))?$",
    re.I,
)
KIND = {"policydefinitions": "policyDefinitions", "policysetdefinitions": "policySetDefinitions"}
NOT_FOUND = {
    "policyDefinitions": ("PolicyDefinitionNotFound", "policy definition"),
    "policySetDefinitions": ("PolicySetDefinitionNotFound", "policy set definition"),
}


def _missing(kind: str, name: str) -> ArmError:
    code, what = NOT_FOUND[kind]
    return ArmError(404, code, f"The {what} '{name}' could not be found.")


def parse_definition_id(def_id: str) -> tuple[str, str, str, str | None]:
    """(scope, kind, name, version) of a definition or set-definition id."""
    m = _DEF_ID.match("/" + def_id.strip("/") if def_id else "")
    if not m:
        raise bad_request("InvalidPolicyDefinitionId", f"'{def_id}' is not a policy definition id.")
    scope = m.group("scope")
    return scope, KIND[m.group("kind").lower()], m.group("name"), m.group("ver")


def lookup(emu: Context, def_id: str) -> dict | None:
    """A definition or set definition by id (custom or built-in), or None."""
    scope, kind, name, ver = parse_definition_id(def_id)
    if not scope:
        return emu.builtins.get(kind, name)
    if ver:
        return emu.store.get(kind[:-1] + "Versions", def_id)
    return emu.store.get(kind, f"{scope}{AUTH}{kind}/{name}")


def resolve_visible(emu: Context, def_id: str, from_scope: Scope | str) -> dict:
    """The definition `def_id`, which must exist and be visible from `from_scope` (404 otherwise)."""
    scope, kind, name, _ = parse_definition_id(def_id)
    found = lookup(emu, def_id)
    if not found or (scope and not hierarchy.in_scope(emu, scope, from_scope)):
        raise _missing(kind, name)
    return found


def _ref_id(set_name: str, index: int, def_id: str) -> str:
    digest = hashlib.sha1(f"{set_name}|{index}|{def_id}".lower().encode()).hexdigest()
    return str(int(digest[:15], 16))[:19]


# --------------------------------------------------------------------------- definitions


def definition_scope(emu: Context, scope: str, parsed: Scope | None = None) -> str:
    """The scope of definitions at `scope` ('' for the built-ins), which must be a management group or subscription."""
    scope = scope.rstrip("/")
    if scope:
        _definition_level(hierarchy.require_scope(emu, parsed or parse_scope(scope), scope))
    return scope


def _definition_level(scope: Scope) -> None:
    if scope.kind not in (ScopeKind.TENANT, ScopeKind.MANAGEMENT_GROUP, ScopeKind.SUBSCRIPTION):
        raise bad_request(
            "InvalidPolicyDefinitionScope",
            "Policy definitions and set definitions can only be created at a management group or a subscription.",
        )


def _list_filter(flt: str | None, items: list[dict], scope: str) -> list[dict]:
    flt = (flt or "").strip()
    if not flt:
        return items
    out = items
    for clause in re.split(r"\s+and\s+", flt, flags=re.I):
        c = clause.strip()
        if c.lower() == "atexactscope()":
            out = [
                d
                for d in out
                if key(d["id"]).startswith(key(scope) + AUTH.lower())
                or (not scope and d["id"].lower().startswith(AUTH.lower()))
            ]
        elif m := re.match(r"policyType\s+eq\s+'([^']*)'", c, re.I):
            out = [d for d in out if d["properties"].get("policyType", "").lower() == m.group(1).lower()]
        elif m := re.match(r"category\s+eq\s+'([^']*)'", c, re.I):
            out = [
                d
                for d in out
                if str((d["properties"].get("metadata") or {}).get("category", "")).lower() == m.group(1).lower()
            ]
        else:
            raise bad_request("InvalidFilterInQueryString", f"The filter '{flt}' is not supported.")
    return out


def _collection(kind: str) -> Collection:
    """Definitions or set definitions: custom ones at a management group or subscription, built-ins at '/'."""

    def listed(emu: Context, m: Match, flt: str | None) -> list[dict]:
        return _list_filter(flt, visible_definitions(emu, kind, m.scope_text), m.scope_text)

    def builtin(item: Item) -> Response | None:
        if item.scope:
            return None
        if item.req.method != "GET":
            raise ArmError(403, "AuthorizationFailed", "Built-in policy definitions are read-only.")
        found = item.emu.builtins.get(kind, item.name)
        if not found:
            raise _missing(kind, item.name)
        return Response(200, found)

    def put(item: Item) -> Response:
        if kind == "policyDefinitions":
            return Response(201, public(put_definition(item.emu, item.scope, item.name, envelope.body(item.req))))
        obj = put_set_definition(item.emu, item.scope, item.name, envelope.body(item.req))
        return Response(200 if item.existing else 201, public(obj))

    def on_delete(item: Item) -> None:
        _check_unreferenced(item.emu, kind, item.existing)
        versions = kind[:-1] + "Versions"
        for k, _ in item.emu.store.items(versions):
            if k.startswith(key(item.rid) + "/versions/"):
                item.emu.store.delete(versions, k)

    return Collection(
        kind,
        f"{AUTH}{kind}/",
        kind,
        lambda name: _missing(kind, name),
        listed,
        put,
        on_delete=on_delete,
        delete_echoes=False,
        scope_rule=lambda emu, m: _definition_level(m.scope),
        served=builtin,
    )


def visible_definitions(emu: Context, kind: str, scope: str) -> list[dict]:
    """Definitions at `scope`, at its ancestors, and the built-ins (what an unfiltered list returns)."""
    chain = {key(s) for s in hierarchy.scope_chain(emu, scope)} if scope else {""}
    custom = [public(d) for d in emu.store.values(kind) if key(d["id"].rsplit(AUTH, 1)[0]) in chain]
    custom.sort(key=lambda d: d["id"].lower())
    return custom + emu.builtins.all(kind)


def _stamp_metadata(props: dict, previous: dict | None) -> None:
    meta = dict(props.get("metadata") or {})
    old = ((previous or {}).get("properties") or {}).get("metadata") or {}
    stamp = now_iso()
    meta["createdBy"] = old.get("createdBy", "policygen-emulator")
    meta["createdOn"] = old.get("createdOn", stamp)
    meta["updatedBy"] = "policygen-emulator"
    meta["updatedOn"] = stamp
    props["metadata"] = meta


def put_definition(emu: Context, scope: str, name: str, body: dict) -> dict:
    checks.check_definition(name, body)
    kind = "policyDefinitions"
    rid = f"{scope}{AUTH}{kind}/{name}"
    existing = emu.store.get(kind, rid)
    props = copy_json(body["properties"])
    props["policyType"] = "Custom"
    props.setdefault("mode", "Indexed")
    _default_version(props, existing)
    _stamp_metadata(props, existing)
    obj = {
        "id": existing["id"] if existing else rid,
        "name": existing["name"] if existing else name,
        "type": f"Microsoft.Authorization/{kind}",
        "systemData": system_data(existing),
        "properties": props,
    }
    _record_version(emu, kind, obj)
    return emu.store.put(kind, rid, obj)


def put_set_definition(emu: Context, scope: str, name: str, body: dict) -> dict:
    kind = "policySetDefinitions"
    rid = f"{scope}{AUTH}{kind}/{name}"
    existing = emu.store.get(kind, rid)
    refs = (body.get("properties") or {}).get("policyDefinitions")
    members: dict[str, dict] = {}
    for ref in refs if isinstance(refs, list) else []:
        if not isinstance(ref, dict):
            continue
        target = resolve_visible(emu, str(ref.get("policyDefinitionId", "")), scope)
        if target["type"].lower().endswith("policysetdefinitions"):
            raise bad_request(
                "InvalidCreatePolicySetDefinitionRequest",
                "A policy set definition cannot contain another policy set definition.",
            )
        members[ref["policyDefinitionId"]] = target
    checks.check_set_definition(name, body, members)
    props = copy_json(body["properties"])
    for i, ref in enumerate(props["policyDefinitions"]):
        ref.setdefault("policyDefinitionReferenceId", _ref_id(name, i, ref["policyDefinitionId"]))
        ref.setdefault("definitionVersion", major_pattern(members[ref["policyDefinitionId"]]))
    props["policyType"] = "Custom"
    _default_version(props, existing)
    _stamp_metadata(props, existing)
    obj = {
        "id": existing["id"] if existing else rid,
        "name": existing["name"] if existing else name,
        "type": f"Microsoft.Authorization/{kind}",
        "systemData": system_data(existing),
        "properties": props,
    }
    _record_version(emu, kind, obj)
    return emu.store.put(kind, rid, obj)


def _check_unreferenced(emu: Context, kind: str, obj: dict) -> None:
    k = key(obj["id"])
    users: list[str] = []
    if kind == "policyDefinitions":
        for s in emu.store.values("policySetDefinitions"):
            if any(
                key(r.get("policyDefinitionId", "")).split("/versions/")[0] == k
                for r in s["properties"].get("policyDefinitions", [])
            ):
                users.append(s["id"])
    for a in emu.store.values("policyAssignments"):
        if key(a["properties"].get("policyDefinitionId", "")).split("/versions/")[0] == k:
            users.append(a["id"])
    if users:
        code = (
            "InvalidDeletePolicyDefinitionRequest"
            if kind == "policyDefinitions"
            else "InvalidDeletePolicySetDefinitionRequest"
        )
        what = "policy definition" if kind == "policyDefinitions" else "policy set definition"
        raise bad_request(
            code,
            f"The {what} '{obj['name']}' cannot be deleted because it is referenced by "
            f"{len(users)} object(s): {', '.join(users[:5])}.",
        )


# --------------------------------------------------------------------------- versions


_SEMVER = re.compile(r"\d+\.\d+\.\d+(-[A-Za-z0-9.]+)?")


def _default_version(props: dict, existing: dict | None) -> None:
    """Azure gives a definition without `version` one: the one it had, or 1.0.0 for a new definition."""
    if not props.get("version"):
        meta = str((props.get("metadata") or {}).get("version") or "")
        previous = ((existing or {}).get("properties") or {}).get("version")
        props["version"] = previous or (meta if _SEMVER.fullmatch(meta) else "1.0.0")


def major_pattern(definition: dict) -> str:
    """`definitionVersion` as Azure fills it in when a reference names none: the latest major, `1.*.*`."""
    version = str(definition["properties"].get("version") or "1.0.0")
    return f"{version.split('.', 1)[0]}.*.*"


def version_matching(definition: dict, pattern: str | None) -> str:
    """The newest version of `definition` that `pattern` (`1.*.*`, `1.2.*`, `1.2.3`) allows; its latest without."""
    known = list(definition["properties"].get("versions") or []) or [definition["properties"].get("version") or "1.0.0"]
    known.sort(key=_version_tuple)
    if not pattern:
        return known[-1]
    fixed = [p for p in str(pattern).split("-", 1)[0].split(".") if p != "*"]  # `1.*.*-preview`: major 1
    fitting = [v for v in known if v.split("-")[0].split(".")[: len(fixed)] == fixed]
    return (fitting or known)[-1]


def _version_tuple(v: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\-]", v))


def _record_version(emu: Context, kind: str, obj: dict) -> None:
    """A definition PUT with `properties.version` also creates that version; `versions` lists them all."""
    vkind = kind[:-1] + "Versions"
    ver = obj["properties"].get("version")
    if ver:
        if not re.fullmatch(r"\d+\.\d+\.\d+(-[A-Za-z0-9.]+)?", str(ver)):
            raise bad_request(
                "InvalidPolicyDefinitionVersion", f"The version '{ver}' is not valid; use Major.Minor.Patch."
            )
        vobj = copy_json(obj)
        vobj["id"] = f"{obj['id']}/versions/{ver}"
        vobj["name"] = ver
        vobj["type"] = f"Microsoft.Authorization/{kind}/versions"
        vobj["properties"].pop("versions", None)
        emu.store.put(vkind, vobj["id"], vobj)
    _refresh_versions(emu, kind, obj)


def _refresh_versions(emu: Context, kind: str, obj: dict) -> None:
    """`properties.versions`: every stored version of the definition, oldest first."""
    prefix = key(obj["id"]) + "/versions/"
    obj["properties"]["versions"] = sorted(
        (v["name"] for k, v in emu.store.items(kind[:-1] + "Versions") if k.startswith(prefix)), key=_version_tuple
    )


def versions(emu: Context, req: Request, m: Match) -> Response:
    kind = KIND[m["kind"].lower()]
    vkind = kind[:-1] + "Versions"
    scope = definition_scope(emu, m.scope_text, m.scope)
    name, ver = m["name"], m.get("ver")
    base_id = f"{scope}{AUTH}{kind}/{name}"
    with emu.store.lock:
        if not scope:
            return _builtin_versions(emu, req, kind, name, ver)
        base = emu.store.get(kind, base_id)
        if ver is None:
            prefix = key(base_id) + "/versions/"
            items = sorted(
                (public(v) for k, v in emu.store.items(vkind) if k.startswith(prefix)),
                key=lambda v: _version_tuple(v["name"]),
            )
            return paged(req, items, default_top=emu.config.page_size)
        vid = f"{base_id}/versions/{ver}"
        existing = emu.store.get(vkind, vid)
        if req.method == "GET":
            if not existing:
                raise ArmError(
                    404,
                    "PolicyDefinitionVersionNotFound",
                    f"The version '{ver}' of {NOT_FOUND[kind][1]} '{name}' could not be found.",
                )
            return Response(200, public(existing))
        if req.method == "PUT":
            _put_version(emu, kind, scope, name, ver, base, existing, envelope.body(req))
            return Response(200 if existing else 201, public(emu.store.get(vkind, vid)))
        if req.method == "DELETE":
            if not existing:
                return Response(204, None)
            emu.store.delete(vkind, vid)
            if base:
                _refresh_versions(emu, kind, base)
                emu.store.put(kind, base_id, base)
            return Response(200, None)
    raise ArmError(405, "MethodNotAllowed", f"{req.method} is not supported on versions.")


def _builtin_versions(emu: Context, req: Request, kind: str, name: str, ver: str | None) -> Response:
    """A built-in has one version, its own; it is read-only."""
    base = emu.builtins.get(kind, name)
    if not base or req.method != "GET":
        raise _missing(kind, name) if not base else ArmError(403, "AuthorizationFailed", "Built-ins are read-only.")
    vobj = _builtin_version(base)
    if ver is None:
        return paged(req, [vobj], default_top=emu.config.page_size)
    if ver != vobj["name"]:
        raise ArmError(404, "PolicyDefinitionVersionNotFound", f"Version '{ver}' of '{name}' not found.")
    return Response(200, vobj)


def _put_version(
    emu: Context, kind: str, scope: str, name: str, ver: str, base: dict | None, existing: dict | None, body: dict
) -> None:
    """A version PUT: the latest version also replaces the definition; an older one is stored beside it."""
    vkind = kind[:-1] + "Versions"
    base_id = f"{scope}{AUTH}{kind}/{name}"
    vid = f"{base_id}/versions/{ver}"
    props = body.setdefault("properties", {})
    if props.get("version") and props["version"] != ver:
        raise bad_request(
            "InvalidPolicyDefinitionVersion",
            f"The version in the body '{props['version']}' does not match '{ver}'.",
        )
    props["version"] = ver
    latest = not base or _version_tuple(ver) >= _version_tuple((base["properties"].get("versions") or ["0.0.0"])[-1])
    if latest:
        put = put_definition if kind == "policyDefinitions" else put_set_definition
        put(emu, scope, base["name"] if base else name, body)
        return
    if kind == "policyDefinitions":
        checks.check_definition(name, body)
    vobj = {
        "id": vid,
        "name": ver,
        "type": f"Microsoft.Authorization/{kind}/versions",
        "systemData": system_data(existing),
        "properties": copy_json(props),
    }
    vobj["properties"]["policyType"] = "Custom"
    emu.store.put(vkind, vid, vobj)
    _refresh_versions(emu, kind, base)
    emu.store.put(kind, base_id, base)


def _builtin_version(base: dict) -> dict:
    v = copy_json(base)
    ver = v["properties"].get("version", "1.0.0")
    v["id"], v["name"], v["type"] = f"{base['id']}/versions/{ver}", ver, base["type"] + "/versions"
    v["properties"].pop("versions", None)
    return v


def list_all_versions(emu: Context, req: Request, m: Match) -> Response:
    if req.method != "POST":
        raise ArmError(405, "MethodNotAllowed", "Use POST.")
    kind = "policyDefinitions" if "setdefinition" not in m["op"].lower() else "policySetDefinitions"
    scope = definition_scope(emu, m.scope_text, m.scope)
    if not scope:
        items = [_builtin_version(b) for b in emu.builtins.all(kind)]
    else:
        prefix = key(f"{scope}{AUTH}{kind}/")
        items = [public(v) for k, v in emu.store.items(kind[:-1] + "Versions") if k.startswith(prefix)]
    return Response(200, {"value": items, "nextLink": None})


_COLLECTIONS = {kind: _collection(kind) for kind in NOT_FOUND}


def definitions(emu: Context, req: Request, m: Match) -> Response:
    return _COLLECTIONS[KIND[m["kind"].lower()]](emu, req, m)
