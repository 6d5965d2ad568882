"""Boundary probes for comparing a pack definition with a built-in, resource by resource.

The probe values come from the two rules themselves, so a new literal in either (a new compliant value
in a newer built-in, an API-version gate, a create mode) is probed without anyone listing it: every
field either rule reads is a dimension; its values are each literal compared against it, a casing
variant, another value, "", null and absent; fields under `[*]` become an array dimension (absent,
null, empty, one item per member value, a mixed array); `requestContext().apiVersion` adds API
versions. Probes start from a resource the pack accepts (one of its unit tests) and change one or two
dimensions at a time (every pair of dimensions, every pair of their values).
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from policygen.arm.aliases import AliasCatalogue, is_non_alias_field, resource_type_of_alias
from policygen.evaluate import CompiledPolicy, EvalContext

MISSING = "<missing>"  # a probe value: the property is absent
API_VERSION = "apiVersion"  # the request's API version (requestContext().apiVersion)
RELATED = "related"  # whether the existence-condition resource is there
OLD_API_VERSION = "2019-09-01"
NEW_API_VERSION = "2024-11-01"
FIELD_CALL = re.compile(r"field\(\s*'([^']+)'\s*\)")
PARAM_ONLY = re.compile(r"^\[parameters\('([^']+)'\)\]$", re.I)
OPERATORS = {
    "equals", "notequals", "like", "notlike", "match", "notmatch", "matchinsensitively",
    "notmatchinsensitively", "contains", "notcontains", "in", "notin", "containskey",
    "notcontainskey", "less", "lessorequals", "greater", "greaterorequals", "exists",
}  # fmt: skip


@dataclass
class Field:
    """A field one of the rules reads, with the literals it is compared with."""

    path: str  # resource path ('properties.networkAcls.bypass', 'location', 'related.properties.x')
    literals: list[Any] = field(default_factory=list)


@dataclass
class Probe:
    settings: dict[str, Any]  # dimension → value (or array label) this probe was built with
    resource: dict
    related: list[dict]
    api_version: str | None
    varied: tuple[str, ...] = ()  # the dimensions changed from the base resource

    def describe(self) -> str:
        return ", ".join(f"{k}={_show(self.settings[k])}" for k in self.varied) or "(base resource)"


def _show(value: Any) -> str:
    return value if isinstance(value, str) and (value == MISSING or value.startswith("[")) else json.dumps(value)


# --------------------------------------------------------------------------- reading the rules


def _lower(node: Any) -> Any:
    return {str(k).lower(): v for k, v in node.items()} if isinstance(node, dict) else node


def _resolve(operand: Any, params: Mapping[str, Any]) -> list[Any]:
    """Literal values an operand stands for (a bare parameter reference resolves to its value)."""
    if isinstance(operand, str):
        m = PARAM_ONLY.match(operand)
        if m:
            value = next((v for k, v in params.items() if k.lower() == m.group(1).lower()), None)
            return _resolve(value, {}) if value is not None else []
        return [] if operand.startswith("[") else [operand]
    if isinstance(operand, list):
        return [x for item in operand for x in _resolve(item, params)]
    if isinstance(operand, bool | int | float):
        return [operand]
    return []


def collect_fields(
    node: Any, params: Mapping[str, Any], out: dict[str, list[Any]], api: list[str], prefix: str = ""
) -> None:
    """field name (prefixed 'related.' inside an existence condition) → literals; API versions into `api`."""
    node = _lower(node)
    if isinstance(node, list):
        for item in node:
            collect_fields(item, params, out, api, prefix)
        return
    if not isinstance(node, dict):
        return
    for key in ("allof", "anyof"):
        if key in node:
            collect_fields(node[key], params, out, api, prefix)
    if "not" in node:
        collect_fields(node["not"], params, out, api, prefix)
    ops = [(k, v) for k, v in node.items() if k in OPERATORS]
    if isinstance(node.get("field"), str) and not node["field"].startswith("["):
        lits = out.setdefault(prefix + node["field"], [])
        for op, operand in ops:
            if op != "exists":
                lits.extend(x for x in _resolve(operand, params) if x not in lits)
    value = node.get("value")
    if isinstance(value, str):
        if "requestcontext().apiversion" in value.lower().replace(" ", ""):
            api.extend(x for _, operand in ops for x in _resolve(operand, params) if isinstance(x, str))
        for name in FIELD_CALL.findall(value):
            out.setdefault(name, [])
    count = _lower(node.get("count"))
    if isinstance(count, dict):
        if isinstance(count.get("field"), str):
            out.setdefault(prefix + count["field"], [])
        collect_fields(count.get("where"), params, out, api, prefix)


def rule_fields(definition: Mapping[str, Any], params: Mapping[str, Any]) -> tuple[dict[str, list[Any]], list[str]]:
    props = definition.get("properties", definition)
    rule = _lower(props["policyRule"])
    fields: dict[str, list[Any]] = {}
    api: list[str] = []
    collect_fields(rule["if"], params, fields, api)
    details = _lower(_lower(rule["then"]).get("details"))
    for op in details.get("operations") or [] if isinstance(details, dict) else []:
        condition = str(_lower(op).get("condition", ""))
        if "requestcontext().apiversion" in condition.lower().replace(" ", ""):
            api.extend(re.findall(r"'(\d{4}-\d{2}-\d{2}[^']*)'", condition))  # a modify operation's API gate
    if isinstance(details, dict) and "existencecondition" in details:
        collect_fields(details["existencecondition"], params, fields, api, prefix="related.")
        # field('…') in an existence condition's operands reads the evaluated resource, not the related one
        for value in json.dumps(details["existencecondition"]).split('"'):
            for name in FIELD_CALL.findall(value):
                fields.setdefault(name, [])
    return fields, api


# --------------------------------------------------------------------------- dimensions


def _path_of(name: str, catalogue: AliasCatalogue) -> str | None:
    related = name.startswith("related.")
    bare = name.removeprefix("related.")
    if bare.lower() == "type":
        return None if related else "type"
    path = bare if is_non_alias_field(bare) else catalogue.path(bare)
    if path is None or path.startswith("tags") or ("[" in bare and "*" not in bare):  # tags, fixed indexes
        return None
    return ("related." if related else "") + path


def _scalar_values(literals: list[Any], base: Any) -> list[Any]:
    values: list[Any] = []
    for lit in literals:
        values.append(lit)
        if isinstance(lit, str) and lit:
            values.append(lit.lower() if lit.lower() != lit else lit.upper())
    if literals and all(isinstance(x, bool) for x in literals):
        values += [True, False]
    else:
        values += ["Other", ""]
    values += [None, MISSING, base]
    if not literals:
        values.append(base if base not in (None, MISSING, "") else "value")
    return _unique(values)


def _unique(values: list[Any]) -> list[Any]:
    seen, out = set(), []
    for v in values:
        key = json.dumps(v, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def get_path(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict):
            return MISSING
        match = next((k for k in obj if k.lower() == part.lower()), None)
        if match is None:
            return MISSING
        obj = obj[match]
    return obj


def set_path(obj: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        key = next((k for k in obj if k.lower() == part.lower()), part)
        if not isinstance(obj.get(key), dict):
            obj[key] = {}
        obj = obj[key]
    last = parts[-1]
    leaf = last.removesuffix("[*]")
    key = next((k for k in obj if k.lower() == leaf.lower()), leaf)
    if value == MISSING:
        obj.pop(key, None)
    else:
        obj[key] = [value] if last.endswith("[*]") else value


@dataclass
class Dimension:
    key: str
    values: list[Any]  # raw values (MISSING for absent)
    labels: list[Any]  # what `deliberate.when` compares with (raw scalar, or a string for arrays)
    base_index: int


def dimensions(fields: Mapping[str, list[Any]], api: list[str], base: dict, related: list[dict],
               catalogue: AliasCatalogue, extra: Mapping[str, list[Any]]) -> list[Dimension]:  # fmt: skip
    """Dimensions for the base resource's type: a field of another type (the other branch of a rule
    covering two types) cannot change the verdict and is left out; `type` itself is varied only when
    `extra` asks for it (a definition covering many types)."""
    scalars: dict[str, list[Any]] = {}
    arrays: dict[str, dict[str, list[Any]]] = {}
    rtype = str(base.get("type", "")).lower()
    for name, lits in fields.items():
        path = _path_of(name, catalogue)
        if path is None or path == "type" and "type" not in extra:
            continue
        own = not name.startswith("related.") and not is_non_alias_field(name)
        if own and resource_type_of_alias(name).lower() != rtype:
            continue
        if "[*]" in path:
            outer, inner = path.split("[*].", 1) if "[*]." in path else (path.removesuffix("[*]"), "")
            arrays.setdefault(outer, {}).setdefault(inner, []).extend(lits)
        else:
            scalars.setdefault(path, []).extend(lits)
    for path in extra:
        if path not in scalars and path != "type" and "[*]" not in path:
            scalars[path] = []
    dims = []
    for path, lits in scalars.items():
        current = _current(path, base, related)
        values = _unique(_scalar_values(lits, current) + list(extra.get(path, [])))
        dims.append(Dimension(path, values, values, _index(values, current)))
    for outer, inners in arrays.items():
        if len(inners) > 1:
            inners.pop("", None)  # `count` over an array of objects: its members are probed instead
        dims.append(_array_dimension(outer, inners, _current(outer, base, related)))
    if api:
        values = _unique([MISSING, OLD_API_VERSION, *api, NEW_API_VERSION])
        dims.append(Dimension(API_VERSION, values, values, 0))
    if related:
        dims.append(Dimension(RELATED, ["present", "none"], ["present", "none"], 0))
    return dims


def _current(path: str, base: dict, related: list[dict]) -> Any:
    if path.startswith("related."):
        return get_path(related[0], path.removeprefix("related.")) if related else MISSING
    return get_path(base, path)


def _index(values: list[Any], current: Any) -> int:
    key = json.dumps(current, sort_keys=True)
    return next(i for i, v in enumerate(values) if json.dumps(v, sort_keys=True) == key)


def _array_dimension(outer: str, inners: Mapping[str, list[Any]], current: Any) -> Dimension:
    """Absent, null, empty, the base array, one item per member value, and a mixed array."""
    template = current[0] if isinstance(current, list) and current and isinstance(current[0], dict) else {}
    values: list[Any] = [MISSING, None, []]
    labels: list[Any] = [MISSING, None, "[]"]
    if isinstance(current, list) and current:
        values.append(current)
        labels.append("[base]")
    for inner, lits in inners.items():
        for v in _scalar_values(lits, MISSING):
            if not inner:
                item: Any = v
            else:
                item = copy.deepcopy(template)
                set_path(item, inner, v)
            values.append([item])
            labels.append(f"[{inner or 'item'}={_show(v)}]")
            if v == "Other" and isinstance(current, list) and current:
                values.append([*current, item])
                labels.append(f"[base, {inner or 'item'}={_show(v)}]")
    keep = [i for i, v in enumerate(values) if i == _index(values, v)]
    values, labels = [values[i] for i in keep], [labels[i] for i in keep]
    return Dimension(outer, values, labels, _index(values, current))


# --------------------------------------------------------------------------- probes


def probes(dims: list[Dimension], base: dict, related: list[dict]) -> Iterator[Probe]:
    """The base, every single change, and every pair of changes across two dimensions."""
    yield _build(dims, {}, base, related)
    others = {d.key: [i for i in range(len(d.values)) if i != d.base_index] for d in dims}
    for d in dims:
        for i in others[d.key]:
            yield _build(dims, {d.key: i}, base, related)
    for a, b in itertools.combinations(dims, 2):
        for i, j in itertools.product(others[a.key], others[b.key]):
            yield _build(dims, {a.key: i, b.key: j}, base, related)


def _build(dims: list[Dimension], chosen: Mapping[str, int], base: dict, related: list[dict]) -> Probe:
    resource = copy.deepcopy(base)
    rel = copy.deepcopy(related)
    api = None
    settings: dict[str, Any] = {}
    for d in dims:
        i = chosen.get(d.key, d.base_index)
        settings[d.key] = d.labels[i]
        value = d.values[i]
        if d.key not in chosen:
            continue
        if d.key == API_VERSION:
            api = None if value == MISSING else value
        elif d.key == RELATED:
            rel = rel if value == "present" else []
        elif d.key.startswith("related."):
            if rel:
                set_path(rel[0], d.key.removeprefix("related."), value)
        else:
            set_path(resource, d.key, value)
    return Probe(settings, resource, rel, api, tuple(chosen))


def verdict(policy: CompiledPolicy, probe: Probe) -> tuple[str, str | None]:
    """'flagged' (non-compliant), 'error' (evaluation failed: Azure's implicit deny) or 'ok', and for
    modify the resource as remediated (two modify policies agree only if they change it alike)."""
    context = EvalContext(api_version=probe.api_version) if probe.api_version else None
    out = policy.evaluate(probe.resource, related=probe.related, context=context, explain=False)
    if out.error is not None:
        return "error", None
    modified = json.dumps(out.modified, sort_keys=True) if out.modified is not None else None
    return ("flagged" if out.compliant is False else "ok"), modified
