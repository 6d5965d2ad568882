"""What `modify` and `append` would do to a resource, and which related resources an
`auditIfNotExists` / `deployIfNotExists` rule looks at.

Modify/append follow the ARRAYS table (reference 2.10): a normal alias sets the value; `x[*]` appends
a member (`addOrReplace` first removes all members); `x[*].p` sets `p` on every member. `add` and
`append` never overwrite: an existing *different* value is a conflict (append fails the request;
modify falls back to `conflictEffect`). Documented ambiguity: Azure only says `add` "behaves similar
to append"; we apply append's conflict rule to it. A nested parent absent from the payload skips the
operation (effect-modify, "Property not present"). An alias the catalogue marks not Modifiable for the
resource's type and API version (`aliases sync`, `--aliases` provider JSON) is a conflict: conflictEffect
applies ("Property not modifiable"); an alias whose attribute the catalogue does not record is changed.
An `identity.type` operation on anything but a virtual machine or scale set skips the evaluation
altogether: the resource is not applicable (`IdentitySkip`).
https://learn.microsoft.com/azure/governance/policy/concepts/effect-modify#skipped-modification
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from policygen.arm.scopes import extension_scope, subscription_and_group
from policygen.evaluate.errors import EvaluationFailure, UnsupportedError
from policygen.evaluate.expr import CompileCtx, Compiled, compile_value
from policygen.evaluate.paths import STAR, Segment, alias_path, full_name, parse_path, tag_name
from policygen.evaluate.runtime import Scope
from policygen.evaluate.values import MISSING, loose_equals, show


def deep_copy(v: Any) -> Any:
    t = type(v)
    if t is dict:
        return {k: deep_copy(x) for k, x in v.items()}
    if t is list:
        return [deep_copy(x) for x in v]
    return v


class Conflict(Exception):
    """An add/append would overwrite a different existing value, or the alias is not Modifiable."""


class IdentitySkip(Exception):
    """Modify of `identity.type` on a resource other than a VM / scale set: Azure skips the evaluation."""


_IDENTITY_TYPES = re.compile(r"microsoft\.compute/virtualmachine(s|scalesets)$", re.IGNORECASE)


def identity_modifiable(resource_type: Any) -> bool:
    return isinstance(resource_type, str) and _IDENTITY_TYPES.match(resource_type) is not None


@dataclass
class Operation:
    kind: str  # add | addorreplace | remove | append
    field: str
    value: Compiled | None
    condition: Compiled | None = None
    tag: str | None = None
    segs: tuple[Segment, ...] = ()
    identity_type: bool = False
    catalogue: Any = None  # for the Modifiable attribute of an alias operation (None: tags, identity.type)


def compile_operations(items: Any, cc: CompileCtx, *, append: bool) -> list[Operation]:
    where = "then.details" if append else "then.details.operations"
    if isinstance(items, dict) and append:
        items = [items]
    if not isinstance(items, list) or not items:
        raise UnsupportedError(f"{where}: expected a non-empty array")
    ops: list[Operation] = []
    for i, raw in enumerate(items):
        if not isinstance(raw, dict):
            raise UnsupportedError(f"{where}[{i}]: expected an object")
        d = {str(k).lower(): v for k, v in raw.items()}
        kind = "append" if append else str(d.get("operation", "")).lower()
        if kind not in ("append", "add", "addorreplace", "remove"):
            raise UnsupportedError(f"{where}[{i}].operation: {d.get('operation')!r} is not add, addOrReplace or remove")
        fld = d.get("field")
        if isinstance(fld, str) and fld.startswith("["):
            c = compile_value(fld, cc)
            if not c.const:
                raise UnsupportedError(f"{where}[{i}].field: must not depend on the resource")
            fld = c.value
        if not isinstance(fld, str) or not fld:
            raise UnsupportedError(f"{where}[{i}].field: expected a field name")
        if kind != "remove" and "value" not in d:
            raise UnsupportedError(f"{where}[{i}]: '{kind}' needs a value")
        value = compile_value(d["value"], cc) if "value" in d else None
        cond = None
        if "condition" in d:
            cond_cc = CompileCtx(cc.parameters, cc.declared, cc.catalogue, (), "operation-condition")
            cond = compile_value(d["condition"], cond_cc)
        tag = tag_name(fld)
        op = Operation(kind, fld, value, cond, tag)
        low = fld.strip().lower()
        if tag is None:
            if kind == "remove":
                raise UnsupportedError(f"{where}[{i}]: remove is only supported for tags")
            if low == "tags":
                op.segs = (("tags", "tags"),)
            elif low == "identity.type":
                op.identity_type = True
                op.segs = parse_path("identity.type")
            elif low in ("name", "type", "id", "fullname", "kind", "location"):
                raise UnsupportedError(f"{where}[{i}]: field '{fld}' cannot be modified")
            else:
                path, _known = alias_path(fld, cc.catalogue) if "/" in fld else (fld, False)
                op.segs = parse_path(path)
                op.catalogue = cc.catalogue if "/" in fld and not append else None
        ops.append(op)
    return ops


def apply_operations(ops: Sequence[Operation], resource: dict, scope: Scope, notes: list[str]) -> dict:
    """Return a modified copy of `resource` (copy-on-write: only containers on a modified path are
    copied, the input is never changed); raises Conflict; skipped operations are noted."""
    out = dict(resource)
    for op in ops:
        if op.condition is not None:
            c = op.condition.fn(scope)
            if isinstance(c, str) and c.lower() in ("true", "false"):
                c = c.lower() == "true"
            if not isinstance(c, bool):
                raise EvaluationFailure(f"operation condition for '{op.field}' must be a boolean")
            if not c:
                notes.append(f"operation {op.kind} '{op.field}' skipped: its condition is false")
                continue
        if op.identity_type and not identity_modifiable(resource.get("type")):
            raise IdentitySkip("identity.type can only be modified on virtual machines and scale sets")
        value = deep_copy(op.value.fn(scope)) if op.value is not None else None
        if op.tag is not None:
            _apply_tag(out, op, value, notes)
        else:
            if op.catalogue is not None:
                _check_modifiable(op, resource, scope)
            _apply_path(out, op.segs, op.kind, value, op.field, notes)
    return out


def _check_modifiable(op: Operation, resource: dict, scope: Scope) -> None:
    """Conflict when the catalogue says the alias is not Modifiable in the request's API version."""
    modifiable = getattr(op.catalogue, "modifiable", None)
    if modifiable is None:
        return
    rtype = resource.get("type")
    base = scope._base_ctx
    api = (base.api_version if base else None) or resource.get("apiVersion")
    if modifiable(op.field, rtype if isinstance(rtype, str) else None, api) is False:
        raise Conflict(f"'{op.field}' is not Modifiable" + (f" in API version {api}" if api else ""))


def skips_identity(ops: Sequence[Operation], scope: Scope) -> bool:
    """An `identity.type` operation that would run on a resource that is not a VM / scale set."""
    for op in ops:
        if op.identity_type and not identity_modifiable(scope.primary.get("type")):
            if op.condition is None:
                return True
            c = op.condition.fn(scope)
            if c is True or (isinstance(c, str) and c.lower() == "true"):
                return True
    return False


def _actual_key(container: dict, low: str) -> str | None:
    return next((k for k in container if isinstance(k, str) and k.lower() == low), None)


def _own(container: dict, key: str) -> Any:
    """Replace container[key] by a shallow copy (dict/list) and return it, so it may be changed."""
    child = container[key]
    if type(child) is dict:
        child = container[key] = dict(child)
    elif type(child) is list:
        child = container[key] = list(child)
    return child


def _apply_tag(res: dict, op: Operation, value: Any, notes: list[str]) -> None:
    tags = res.get("tags")
    if not isinstance(tags, dict):
        if op.kind == "remove":
            return
        tags = res["tags"] = {}
    else:
        tags = res["tags"] = dict(tags)
    existing = _actual_key(tags, op.tag.lower())  # type: ignore[union-attr]
    if op.kind == "remove":
        if existing is not None:
            del tags[existing]
            notes.append(f"removed tag '{existing}'")
        return
    if existing is not None and op.kind in ("add", "append"):
        if loose_equals(tags[existing], value):
            return
        raise Conflict(f"tag '{existing}' already has a different value {show(tags[existing])}")
    tags[existing or op.tag] = value
    notes.append(f"set tag '{existing or op.tag}' = {show(value)}")


def _descend(container: dict, segs: Sequence[Segment]) -> dict | None:
    """Walk (and own) the objects along `segs`; None when one is absent."""
    for s in segs:
        if type(s) is not tuple:
            return None
        key = _actual_key(container, s[1])
        if key is None or type(container[key]) is not dict:
            return None
        container = _own(container, key)
    return container


def _apply_path(obj: dict, segs: Sequence[Segment], kind: str, value: Any, label: str, notes: list[str]) -> None:
    if STAR not in segs:
        parent = _descend(obj, segs[:-1])
        if parent is None:
            notes.append(f"'{label}' skipped: its parent object is absent from the payload")
            return
        _set(parent, segs[-1], kind, value, label, notes)
        return
    i = segs.index(STAR)
    head, rest = segs[:i], segs[i + 1 :]
    container = _descend(obj, head[:-1])
    if container is None:
        notes.append(f"'{label}' skipped: its parent object is absent from the payload")
        return
    key = head[-1]
    actual = _actual_key(container, key[1])
    arr = container[actual] if actual is not None else MISSING
    if not rest:  # x[*]: add a member (addOrReplace first clears the array)
        new = value if isinstance(value, list) else [value]
        if kind == "addorreplace" or not isinstance(arr, list):
            container[actual or key[0]] = list(new)
        else:
            container[actual] = arr + list(new)  # type: ignore[index]
        notes.append(f"'{label}': appended {show(new)}")
        return
    if not isinstance(arr, list):
        notes.append(f"'{label}' skipped: the array is absent from the payload")
        return
    arr = _own(container, actual)  # type: ignore[arg-type]
    for n, member in enumerate(arr):
        if type(member) is dict:
            member = arr[n] = dict(member)
            _apply_path(member, rest, kind, value, label, notes)


def _set(parent: dict, seg: Segment, kind: str, value: Any, label: str, notes: list[str]) -> None:
    actual = _actual_key(parent, seg[1])
    if actual is not None and kind in ("add", "append"):
        if loose_equals(parent[actual], value):
            return
        raise Conflict(f"'{label}' already has a different value {show(parent[actual])}")
    parent[actual or seg[0]] = value
    notes.append(f"set '{label}' = {show(value)}")


# ---- related resources (auditIfNotExists / deployIfNotExists) ---------------------------------------

def id_scope(rid: Any) -> tuple[str | None, str | None]:
    """(subscription, resource group) of an id, lower-case."""
    if not isinstance(rid, str):
        return None, None
    return _id_scope(rid)


@lru_cache(maxsize=1 << 18)
def _id_scope(rid: str) -> tuple[str | None, str | None]:
    sub, rg = subscription_and_group(rid)
    return (sub.lower() if sub else None), (rg.lower() if rg else None)


def name_matches(want: str, rel: dict) -> bool:
    """`details.name` against a candidate: the last segment, or the full `parent/child` name, where a
    last segment of `?` matches any name (effect-audit-if-not-exists)."""
    want_l = want.lower()
    if "/" not in want_l:
        name = rel.get("name")
        return isinstance(name, str) and (want_l == "?" or name.rsplit("/", 1)[-1].lower() == want_l)
    fn = full_name(rel)
    if not isinstance(fn, str):
        return False
    fn_l = fn.lower()
    if want_l.endswith("/?"):
        return fn_l.rsplit("/", 1)[0] == want_l[:-2] or fn_l.startswith(want_l[:-1])
    return fn_l == want_l or fn_l.endswith("/" + want_l)


@lru_cache(maxsize=1 << 18)
def _id_info(rid: str) -> tuple[str, str | None, str | None, bool]:
    """(lower-case id, subscription, resource group, is an extension of another resource)."""
    sub, rg = _id_scope(rid)
    parent = extension_scope(rid)
    return rid.lower(), sub, rg, parent is not None and "/providers/" in parent.lower()


def related_candidates(
    primary: dict,
    related: Sequence[dict],
    rtype: str,
    name: str | None,
    resource_group: str | None,
    existence_scope: str,
    ctx_sub: str | None,
    ctx_rg: str | None,
) -> list[dict]:
    """Related resources of `details.type` in the scope Azure would query: resources underneath the
    evaluated one (children, extension resources) must be its own; others must be in its resource group
    (`resourceGroupName` if given) or, with existenceScope Subscription, its subscription."""
    rtype_l = rtype.lower()
    ptype = str(primary.get("type", "")).lower()
    pid = primary.get("id")
    if isinstance(pid, str):
        pid_l, p_sub, p_rg, _ext = _id_info(pid)
        pid_prefix: str | None = pid_l + "/"
    else:
        pid_prefix, p_sub, p_rg = None, None, None
    child_type = bool(ptype) and rtype_l.startswith(ptype + "/")
    p_sub = p_sub or (ctx_sub or "").lower() or None
    p_rg = (resource_group or "").lower() or p_rg or (ctx_rg or "").lower() or None
    check_rg = existence_scope != "subscription" and p_rg
    out = []
    for rel in related:
        if type(rel) is not dict:
            continue
        t = rel.get("type")
        if not isinstance(t, str) or (t != rtype and t.lower() != rtype_l):
            continue
        if name is not None and not name_matches(name, rel):
            continue
        rid = rel.get("id")
        if pid_prefix and isinstance(rid, str):
            rid_l, r_sub, r_rg, extension = _id_info(rid)
            if child_type or extension:
                if not rid_l.startswith(pid_prefix):  # underneath the evaluated resource: must be its own
                    continue
            else:
                if p_sub and r_sub and r_sub != p_sub:
                    continue
                if check_rg and r_rg != p_rg:
                    continue
        out.append(rel)
    return out
