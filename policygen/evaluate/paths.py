"""Field resolution: field names (aliases and built-in fields) → precompiled accessors over a resource.

Resolution happens once, at compile time: an alias becomes a tuple of path segments from the alias
catalogue, and `[*]` segments inside a `count.where` are bound to the enclosing count's current member
("as if it were the only member of the array", ARRAYS page). At evaluation time an accessor only walks
dicts and lists.

Unknown aliases fall back to a derived path (documented ambiguity): `<Namespace>/<type>/<rest>` →
`properties.<rest>`, except ARM envelope properties (`sku.*`, `identity.*`, `plan.*`, `zones`, …) which
live at the root. Azure itself makes a rule with an unknown alias *not applicable*; offline we cannot
tell an unknown alias from a stale catalogue, so we prefer evaluating a plausible path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from policygen.arm.aliases import AliasCatalogue, resource_type_of_alias
from policygen.evaluate.values import MISSING, ci_miss, get_ci

STAR: Any = object()  # the `[*]` segment

ENVELOPE = frozenset(
    {"sku", "identity", "plan", "zones", "kind", "location", "tags", "extendedlocation", "managedby", "etag"}
)

Segment = Any  # tuple[str, str] (key, lower-case key) | STAR | int
Getter = Callable[[Any], Any]  # scope -> value


def parse_path(path: str) -> tuple[Segment, ...]:
    """`properties.ipRules[*].value` → (('properties','properties'), ('ipRules','iprules'), STAR, …)."""
    segs: list[Segment] = []
    for part in _split_dots(path):
        m = re.fullmatch(r"(.*?)((?:\[[^\]]*\])*)", part)
        assert m is not None
        key, brackets = m.group(1), m.group(2)
        if key:
            segs.append((key, key.lower()))
        for br in re.findall(r"\[([^\]]*)\]", brackets):
            br = br.strip()
            if br == "*":
                segs.append(STAR)
            elif br.lstrip("-").isdigit():
                segs.append(int(br))
            else:
                name = br.strip("'")
                segs.append((name, name.lower()))
    return tuple(segs)


def _split_dots(path: str) -> list[str]:
    """Split on dots outside brackets (`tags['a.b']` stays whole)."""
    parts, buf, depth = [], [], 0
    for ch in path:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "." and depth == 0:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return [p for p in parts if p]


def seg_eq(a: Segment, b: Segment) -> bool:
    if a is STAR or b is STAR:
        return a is b
    if isinstance(a, int) or isinstance(b, int):
        return a == b
    return a[1] == b[1]


def fallback_path(alias: str) -> str:
    """Derived default path for an alias missing from the catalogue (see module docstring)."""
    rtype = resource_type_of_alias(alias)
    rest = alias[len(rtype) + 1 :] if alias.lower().startswith(rtype.lower() + "/") else alias
    head = re.split(r"[.\[]", rest, maxsplit=1)[0].lower()
    return rest if head in ENVELOPE else f"properties.{rest}"


def alias_path(alias: str, catalogue: AliasCatalogue | None) -> tuple[str, bool]:
    """(default path, known) for an alias; `known` is False when the fallback was used."""
    if catalogue is not None:
        path = catalogue.path(alias)
        if path:
            return path, True
    return fallback_path(alias), False


# --------------------------------------------------------------------------------------------------
# Walking


def walk_single(obj: Any, segs: Sequence[Segment]) -> Any:
    """Follow a path without `[*]`; MISSING when any step is absent."""
    for s in segs:
        t = type(obj)
        if t is dict:
            k = s[0] if type(s) is tuple else None
            if k is None:
                return MISSING
            v = obj.get(k, MISSING)
            if v is MISSING:
                v = ci_miss(obj, s[1])
                if v is MISSING:
                    return MISSING
            obj = v
        elif t is list and type(s) is int:
            if -len(obj) <= s < len(obj):
                obj = obj[s]
            else:
                return MISSING
        else:
            return MISSING
    return obj


def walk_many(obj: Any, segs: Sequence[Segment], out: list) -> None:
    """Collect the values a `[*]` path selects (nested arrays flatten). After the last `[*]` a missing
    property yields MISSING for that member (so `exists` sees it); a missing array yields nothing."""
    n = len(segs)
    i = 0
    while i < n:
        s = segs[i]
        if s is STAR:
            if type(obj) is not list:
                return
            rest = segs[i + 1 :]
            if STAR in rest:
                for m in obj:
                    walk_many(m, rest, out)
            else:
                for m in obj:
                    out.append(walk_single(m, rest))
            return
        t = type(obj)
        if t is dict and type(s) is tuple:
            obj = get_ci(obj, s[0], s[1])
            if obj is MISSING:
                return
        elif t is list and type(s) is int and -len(obj) <= s < len(obj):
            obj = obj[s]
        else:
            return
        i += 1
    out.append(obj)


def walk_chains(obj: Any, segs: Sequence[Segment], chain: tuple, out: list) -> None:
    """For field count: every member selected by a path ending in `[*]`, as the tuple of the members at
    each `[*]` on the way (outer first), so nested `where` fields can bind to the right level."""
    n = len(segs)
    i = 0
    while i < n:
        s = segs[i]
        if s is STAR:
            if type(obj) is not list:
                return
            rest = segs[i + 1 :]
            if rest:
                for m in obj:
                    walk_chains(m, rest, chain + (m,), out)
            else:
                for m in obj:
                    out.append(chain + (m,))
            return
        t = type(obj)
        if t is dict and type(s) is tuple:
            v = obj.get(s[0], MISSING)
            obj = v if v is not MISSING else ci_miss(obj, s[1])
            if obj is MISSING:
                return
        elif t is list and type(s) is int and -len(obj) <= s < len(obj):
            obj = obj[s]
        else:
            return
        i += 1


# --------------------------------------------------------------------------------------------------
# Compile-time count frames


@dataclass(frozen=True)
class Frame:
    """A count expression enclosing the code being compiled (index = runtime `scope.members` index)."""

    kind: str  # "field" | "value"
    name: str  # value count: lower-case index name; field count: lower-case counted alias
    segs: tuple[Segment, ...] = ()  # field count: resolved path of the counted `[*]` alias
    stars: tuple[int, ...] = ()  # positions of STAR in segs


def make_frame_for_field(alias: str, segs: tuple[Segment, ...]) -> Frame:
    return Frame("field", alias.lower(), segs, tuple(i for i, s in enumerate(segs) if s is STAR))


def find_binding(segs: Sequence[Segment], frames: Sequence[Frame]) -> tuple[int, int, int] | None:
    """(frame index, star ordinal, prefix length) of the deepest count binding covering `segs`."""
    best: tuple[int, int, int] | None = None
    for fi in range(len(frames) - 1, -1, -1):
        f = frames[fi]
        if f.kind != "field":
            continue
        for j in range(len(f.stars) - 1, -1, -1):
            plen = f.stars[j] + 1
            if plen <= len(segs) and all(seg_eq(a, b) for a, b in zip(segs[:plen], f.segs[:plen], strict=False)):
                if best is None or plen > best[2]:
                    best = (fi, j, plen)
                break
    return best


# --------------------------------------------------------------------------------------------------
# Field accessors


@dataclass
class FieldAccessor:
    """How a field is read. `cond(scope)` gives what a field *condition* sees (a single value, or a list
    of selected values when `collection`); `func(scope)` gives what the `field()` function returns."""

    name: str
    collection: bool
    cond: Getter
    func: Getter
    is_location: bool = False
    is_type: bool = False
    known_alias: bool = True
    segs: tuple[Segment, ...] = ()
    binding: tuple[int, int, int] | None = None  # reads the member of an enclosing count (find_binding)


_TAG_RE = re.compile(r"^tags(?:\[(?P<br>.*)\]|\.(?P<dot>.+))$", re.IGNORECASE | re.DOTALL)


def tag_name(field: str) -> str | None:
    """`tags['a']`, `tags['''a''']`, `tags[a]`, `tags.a` → tag name; None when not a tag field."""
    m = _TAG_RE.match(field.strip())
    if not m:
        return None
    if m.group("dot") is not None:
        return m.group("dot")
    inner = m.group("br").strip()
    if len(inner) >= 2 and inner[0] == "'" and inner[-1] == "'":
        inner = inner[1:-1].replace("''", "'")
    return inner


def _last_segment(name: Any) -> Any:
    return name.rsplit("/", 1)[-1] if isinstance(name, str) else name


def full_name(resource: dict) -> Any:
    """`parent/child` from the id's name segments; the payload `name` when there is no id."""
    rid = resource.get("id")
    if isinstance(rid, str) and "/providers/" in rid.lower():
        tail = rid[rid.lower().rfind("/providers/") + len("/providers/") :].strip("/").split("/")
        names = tail[2::2]
        if names:
            return "/".join(names)
    return resource.get("name", MISSING)


def _resource_getter(res_attr: str, fn: Callable[[Any], Any], key: str | None = None) -> Getter:
    """`fn` of the resource read; `key`: `fn` is `r.get(key, MISSING)`, read directly."""
    if key is not None:
        if res_attr == "resource":
            return lambda scope: scope.resource.get(key, MISSING)
        return lambda scope: scope.primary.get(key, MISSING)
    if res_attr == "resource":
        return lambda scope: fn(scope.resource)
    return lambda scope: fn(scope.primary)


_PLAIN_KEYS = frozenset({"type", "kind", "location", "id", "tags"})  # special fields read as r.get(key)


def special_field(low: str) -> Callable[[Any], Any] | None:
    """Accessor (resource → value) for the built-in non-alias fields."""
    if low == "type":
        return lambda r: r.get("type", MISSING)
    if low == "name":
        return lambda r: _last_segment(r.get("name", MISSING))
    if low == "fullname":
        return full_name
    if low == "kind":
        return lambda r: r.get("kind", MISSING)
    if low == "location":
        return lambda r: r.get("location", MISSING)
    if low == "id":
        return lambda r: r.get("id", MISSING)
    if low == "tags":
        return lambda r: r.get("tags", MISSING)
    return None


def compile_field(
    field: str, catalogue: AliasCatalogue | None, frames: Sequence[Frame], *, for_function: bool = False
) -> FieldAccessor:
    """Resolve a field name once; the accessors read `scope.resource` (conditions) or `scope.primary`
    (the `field()` function, which always reads the resource evaluated by `if`)."""
    name = field.strip()
    low = name.lower()
    res_attr = "primary" if for_function else "resource"

    fn = special_field(low)
    if fn is not None:
        getter = _resource_getter(res_attr, fn, low if low in _PLAIN_KEYS else None)
        return FieldAccessor(
            name, False, getter, _func_of(getter), is_location=low == "location", is_type=low == "type"
        )
    tag = tag_name(name)
    if tag is not None:
        tag_low = tag.lower()

        def tag_get(r: dict, _t: str = tag, _l: str = tag_low) -> Any:
            tags = r.get("tags")
            return get_ci(tags, _t, _l) if type(tags) is dict else MISSING

        getter = _resource_getter(res_attr, tag_get)
        return FieldAccessor(name, False, getter, _func_of(getter))

    if "/" in name:
        path, known = alias_path(name, catalogue)
    else:  # identity.*, or a raw path (lenient: not valid in Azure, handy in tests)
        path, known = name, low.startswith("identity.")
    segs = parse_path(path)
    acc = _path_accessor(name, segs, frames, res_attr)
    acc.known_alias = known
    if known and not frames and catalogue is not None and _varies(name, catalogue, STAR in segs):
        return _per_type_accessor(name, catalogue, acc, res_attr)
    return acc


def _varies(name: str, catalogue: AliasCatalogue, collection: bool) -> bool:
    """Does the alias's path depend on the resource type or API version (so it is resolved per resource)?
    Only when every variant agrees on being a `[*]` collection or not (the leaf is compiled for one)."""
    records = getattr(catalogue, "records", None)
    if records is None:
        return False
    rows = records(name)
    paths = {r.path for r in rows} | {p.path for r in rows for p in getattr(r, "paths", ())}
    return len(paths) > 1 and all(("[*]" in p) == collection for p in paths)


def _per_type_accessor(name: str, catalogue: AliasCatalogue, default: FieldAccessor, res_attr: str) -> FieldAccessor:
    """An alias whose path differs per resource type (`Microsoft.Compute/imagePublisher` on virtual machines,
    scale sets and disks) or per API version: read through the path of the evaluated resource's type and
    the request's API version (the context's, e.g. `--api-version`, else the resource's `apiVersion`, as
    `requestContext().apiVersion` reads it)
    (https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-alias). A type that
    does not have the alias reads it as missing. Accessors are built once per (type, API version)."""
    cache: dict[tuple[str, str | None], FieldAccessor | None] = {}
    collection = default.collection

    def accessor(scope: Any) -> FieldAccessor | None:
        r = scope.resource if res_attr == "resource" else scope.primary
        t = r.get("type") if type(r) is dict else None
        base = getattr(scope, "_base_ctx", None)
        api = (base.api_version if base else None) or (r.get("apiVersion") if type(r) is dict else None)
        key = (t.lower() if isinstance(t, str) else "", api)
        if key not in cache:
            if len(cache) > 1024:
                cache.clear()
            path = catalogue.path(name, key[0], api) if key[0] else catalogue.path(name, None, api)
            cache[key] = _path_accessor(name, parse_path(path), (), res_attr) if path else None
        return cache[key]

    def cond(scope: Any) -> Any:
        acc = accessor(scope)
        if acc is None:
            return [] if collection else MISSING
        return acc.cond(scope)

    def func(scope: Any) -> Any:
        acc = accessor(scope)
        if acc is None:
            return [] if collection else ""
        return acc.func(scope)

    return FieldAccessor(name, collection, cond, func, segs=default.segs)


def _func_of(getter: Getter) -> Getter:
    """`field()` returns "" for a missing normal field."""

    def func(scope: Any) -> Any:
        v = getter(scope)
        return "" if v is MISSING else v

    return func


def _plain(rest: tuple[Segment, ...]) -> Getter:
    """Reader of `scope.resource` along object keys only (1-3 keys specialised, longer ones walked)."""
    if len(rest) == 1:
        (k1, l1) = rest[0]

        def get1(scope: Any) -> Any:
            o = scope.resource
            v = o.get(k1, MISSING)
            return v if v is not MISSING else ci_miss(o, l1)

        return get1
    if len(rest) == 2:
        (k1, l1), (k2, l2) = rest

        def get2(scope: Any) -> Any:
            o = scope.resource
            o = o.get(k1, MISSING)
            if o is MISSING:
                o = ci_miss(scope.resource, l1)
            if type(o) is not dict:
                return MISSING
            v = o.get(k2, MISSING)
            return v if v is not MISSING else ci_miss(o, l2)

        return get2
    if len(rest) == 3:
        (k1, l1), (k2, l2), (k3, l3) = rest

        def get3(scope: Any) -> Any:
            o = scope.resource
            p = o.get(k1, MISSING)
            if p is MISSING:
                p = ci_miss(o, l1)
            if type(p) is not dict:
                return MISSING
            o = p.get(k2, MISSING)
            if o is MISSING:
                o = ci_miss(p, l2)
            if type(o) is not dict:
                return MISSING
            v = o.get(k3, MISSING)
            return v if v is not MISSING else ci_miss(o, l3)

        return get3
    return lambda scope: walk_single(scope.resource, rest)


def _path_accessor(name: str, segs: tuple[Segment, ...], frames: Sequence[Frame], res_attr: str) -> FieldAccessor:
    binding = find_binding(segs, frames) if frames else None
    collection = STAR in segs
    if binding is None:
        base: Getter = (lambda scope: scope.resource) if res_attr == "resource" else (lambda scope: scope.primary)
        rest = segs
    else:
        fi, j, plen = binding
        base = lambda scope, _fi=fi, _j=j: scope.members[_fi][_j]  # noqa: E731
        rest = segs[plen:]

    if not collection:
        if binding is None and res_attr == "resource" and all(type(x) is tuple for x in rest) and rest:
            # the hot case (a plain alias read by a condition): no helper calls, exact keys first
            return FieldAccessor(name, False, _plain(rest), _func_of(_plain(rest)), segs=segs)
        if not rest:
            cond = base
        elif len(rest) == 1 and type(rest[0]) is tuple:
            k, kl = rest[0]

            def cond(scope: Any, _k=k, _kl=kl, _b=base) -> Any:
                o = _b(scope)
                if type(o) is dict:
                    v = o.get(_k, MISSING)
                    return v if v is not MISSING else ci_miss(o, _kl)
                return MISSING

        elif len(rest) == 2 and type(rest[0]) is tuple and type(rest[1]) is tuple:
            (k1, l1), (k2, l2) = rest

            def cond(scope: Any, _b=base, k1=k1, l1=l1, k2=k2, l2=l2) -> Any:
                o = _b(scope)
                if type(o) is not dict:
                    return MISSING
                o2 = o.get(k1, MISSING)
                if o2 is MISSING:
                    o2 = ci_miss(o, l1)
                if type(o2) is not dict:
                    return MISSING
                v = o2.get(k2, MISSING)
                return v if v is not MISSING else ci_miss(o2, l2)

        else:

            def cond(scope: Any, _b=base, _r=rest) -> Any:
                return walk_single(_b(scope), _r)

        return FieldAccessor(name, False, cond, _func_of(cond), segs=segs, binding=binding)

    if STAR in rest:

        def cond(scope: Any, _b=base, _r=rest) -> list:
            out: list = []
            walk_many(_b(scope), _r, out)
            return out

    elif binding is not None and len(rest) == 1 and type(rest[0]) is tuple:  # `…[*].name` in a count's where
        fi, j, _ = binding
        k, kl = rest[0]

        def cond(scope: Any) -> list:
            o = scope.members[fi][j]
            if type(o) is not dict:
                return [MISSING]
            v = o.get(k, MISSING)
            return [v if v is not MISSING else ci_miss(o, kl)]

    elif binding is not None and len(rest) == 2 and type(rest[0]) is tuple and type(rest[1]) is tuple:
        fi, j, _ = binding
        (k1, l1), (k2, l2) = rest

        def cond(scope: Any) -> list:
            o = scope.members[fi][j]
            if type(o) is not dict:
                return [MISSING]
            p = o.get(k1, MISSING)
            if p is MISSING:
                p = ci_miss(o, l1)
            if type(p) is not dict:
                return [MISSING]
            v = p.get(k2, MISSING)
            return [v if v is not MISSING else ci_miss(p, l2)]

    else:  # bound to the current member: a one-value collection

        def cond(scope: Any, _b=base, _r=rest) -> list:
            return [walk_single(_b(scope), _r)]

    def func(scope: Any, _c=cond) -> list:
        # `field()` over `[*]`: members lacking the property are left out (built-in 702dd420-… compares
        # length(field('…targetRegions[*].encryption….diskEncryptionSetId')) with length(targetRegions[*]))
        return [v for v in _c(scope) if v is not MISSING]

    return FieldAccessor(name, True, cond, func, segs=segs, binding=binding)
