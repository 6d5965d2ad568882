"""The alias catalogue: Azure Policy alias → path, per resource type, shared by render, validate and evaluate.

One catalogue holds every alias of the January 2024 dump (65,399 rows, shipped compressed as one zip
member per provider namespace) plus newer ones, the `aliases sync` cache and `--aliases` files, later
sources winning per (resource type, alias). A namespace is read the first time something asks about one
of its aliases, so a run touching three namespaces reads three members, not the whole catalogue.

Lookups are case-insensitive, as in Azure. `path(alias, resource_type, api_version)` resolves as Azure does
for a resource of that type and request API version; the validator asks `name in catalogue` (known for
any type). Catalogues go stale (Azure adds aliases monthly), so messages name their sources and dates.
Entry points: `default_catalogue()` (shipped + sync cache, once per process), `load_catalogue(files)`,
`shipped_catalogue()`, `modifiable_aliases()`. File shapes live in `policygen.arm.alias_data`.
"""

from __future__ import annotations

import difflib
import io
import json
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator
from importlib import resources
from pathlib import Path

from policygen.arm.alias_data import (
    Alias,
    AliasPath,
    aliases_from_csv,
    aliases_from_document,
    aliases_from_provider_json,
    is_document,
    namespace_of,
    provider_alias_objects,
    resource_type_of_alias,
)
from policygen.errors import Diagnostic, InputError

try:  # a declared dependency; the stdlib parser is the fallback
    from orjson import loads as _loads
except ImportError:  # pragma: no cover
    _loads = json.loads

__all__ = ["Alias", "AliasCatalogue", "AliasPath", "default_catalogue", "is_non_alias_field", "load_catalogue",
           "modifiable_aliases", "resource_type_of_alias", "shipped_catalogue"]  # fmt: skip

SHIPPED_ARCHIVE = "aliases.zip"
SHIPPED_SOURCE = "policygen built-in alias catalogue"
SHIPPED_DATE = "2024-01 dump + 2026-04 additions"

# Fields that are not aliases but are valid everywhere a field name is expected.
NON_ALIAS_FIELDS = frozenset({"name", "fullname", "kind", "type", "location", "id", "tags", "identity.type"})


def is_non_alias_field(field_name: str) -> bool:
    """True for `name`, `type`, `tags['x']`, `tags.x`, `identity.*` and the other built-in fields."""
    low = field_name.strip().lower()
    return low in NON_ALIAS_FIELDS or low.startswith(("tags[", "tags.", "identity."))


class _Shard:
    """One namespace, merged over every source: records per name (source order) and, on demand, per type."""

    __slots__ = ("by_name", "_by_type")

    def __init__(self, by_name: dict[str, list[Alias]]) -> None:
        self.by_name = by_name
        self._by_type: dict[str, dict[str, Alias]] | None = None

    def merge(self, later: dict[str, list[Alias]]) -> None:
        """A later source's records: each replaces the record of the same (type, name), or is added."""
        for low, records in later.items():
            mine = self.by_name.get(low)
            if mine is None:
                self.by_name[low] = list(records)
                continue
            for rec in records:
                rtype = rec.resource_type.lower()
                for i, old in enumerate(mine):
                    if old.resource_type.lower() == rtype:
                        mine[i] = rec
                        break
                else:
                    mine.append(rec)

    @property
    def by_type(self) -> dict[str, dict[str, Alias]]:
        if self._by_type is None:
            out: dict[str, dict[str, Alias]] = {}
            for low, records in self.by_name.items():
                for rec in records:
                    out.setdefault(rec.resource_type.lower(), {})[low] = rec
            self._by_type = out
        return self._by_type


def group_by_name(aliases: Iterable[Alias]) -> dict[str, dict[str, list[Alias]]]:
    """namespace → lower-case name → records (one per type; a later record of the same type wins)."""
    out: dict[str, dict[str, list[Alias]]] = {}
    for alias in aliases:
        low = alias.name.lower()
        per_ns = out.setdefault(low.split("/", 1)[0].strip(), {})
        records = per_ns.get(low)
        if records is None:
            per_ns[low] = [alias]
        else:
            _Shard(per_ns).merge({low: [alias]})
    return out


def _valid_entry(entry: object) -> bool:
    """An entry `aliases_from_document` makes a record of: a path, or an object with a defaultPath."""
    if isinstance(entry, dict):
        entry = entry.get("defaultPath")
    return isinstance(entry, str) and bool(entry)


def _default_record(records: list[Alias]) -> Alias:
    """The record a type-less lookup reads: the one of the type the name spells, else the first."""
    if len(records) > 1:
        own = resource_type_of_alias(records[0].name).lower()
        for r in records:
            if r.resource_type.lower() == own:
                return r
    return records[0]


# lower-case name → the raw (name, entry, type) rows of one namespace, in source order (see `index`).
_Rows = dict[str, list[tuple[str, object, str]]]


class _Layer:
    """One source: eager records by namespace, or a loader asked per namespace (the shipped archive).

    A lazy source may also offer `index`: its rows by lower-case name, which answers one name without
    building the namespace's records (a corpus run asks ~3,000 of the ~55,000 names it would build)."""

    def __init__(
        self, source: str, date: str, eager: dict[str, dict[str, list[Alias]]] | None = None,
        loader: Callable[[str], dict[str, list[Alias]]] | None = None, namespaces: frozenset[str] = frozenset(),
        index: Callable[[str], _Rows | _NamespaceRows] | None = None,
    ) -> None:  # fmt: skip
        self.source, self.date = source, date
        self.eager = eager or {}
        self.loader = loader
        self.index = index
        self.namespaces = namespaces | frozenset(self.eager)

    def records(self, ns: str) -> dict[str, list[Alias]]:
        """lower-case name → records, a fresh dict the caller may keep."""
        if self.loader is not None and ns in self.namespaces:
            return self.loader(ns)
        return {low: list(recs) for low, recs in self.eager.get(ns, {}).items()}


class AliasCatalogue:
    """Case-insensitive alias index per resource type; `sources` lists (description, date) of each source."""

    def __init__(self) -> None:
        self._layers: list[_Layer] = []
        self._shards: dict[str, _Shard] = {}
        self._first: dict[str, Alias] = {}  # lower-case name → record of a type-less lookup
        self._suggested: dict[tuple[str, int], list[str]] = {}
        self._types: dict[str, frozenset[str]] = {}  # namespace → lower-case types, from an index
        self._lock = threading.Lock()

    @property
    def sources(self) -> list[tuple[str, str]]:
        return [(layer.source, layer.date) for layer in self._layers]

    # ------------------------------------------------------------------ building
    def add(self, aliases: Iterable[Alias], source: str, date: str = "unknown") -> None:
        self._push(_Layer(source, date, eager=group_by_name(aliases)))

    def add_lazy(
        self,
        loader: Callable[[str], dict[str, list[Alias]]],
        namespaces: Iterable[str],
        source: str,
        date: str,
        index: Callable[[str], _Rows | _NamespaceRows] | None = None,
    ) -> None:
        """A source read one namespace at a time (`namespaces` lower-case), on first use; `index(ns)`, when
        given, returns the namespace's raw rows by lower-case name (what `loader` would make records of)."""
        self._push(_Layer(source, date, loader=loader, namespaces=frozenset(namespaces), index=index))

    def extend(self, other: AliasCatalogue) -> None:
        """Every source of `other`, after this catalogue's (they win)."""
        for layer in other._layers:
            self._push(layer)

    def _push(self, layer: _Layer) -> None:
        with self._lock:
            self._layers.append(layer)
            self._shards.clear()
            self._first.clear()
            self._suggested.clear()
            self._types.clear()

    def load_file(self, path: Path) -> None:
        """CSV (`alias,defaultPath`), Azure's provider JSON, or our per-type JSON document."""
        text = _read(path)
        if text.lstrip().startswith(("[", "{")):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InputError(Diagnostic(str(path), exc.lineno, exc.colno, f"invalid JSON: {exc.msg}")) from None
            if is_document(data):
                self.add(aliases_from_document(data), str(path), str(data.get("date") or _mtime_date(path)))
            else:
                self.add(aliases_from_provider_json(data), str(path), _mtime_date(path))
        else:
            self.add(aliases_from_csv(text.splitlines()), str(path), _mtime_date(path))

    # ------------------------------------------------------------------ reading
    def _shard(self, ns: str) -> _Shard:
        shard = self._shards.get(ns)
        if shard is None:
            with self._lock:
                shard = self._shards.get(ns)
                if shard is None:
                    shard = _Shard({})
                    for layer in self._layers:
                        if shard.by_name:
                            shard.merge(layer.records(ns))
                        else:
                            shard.by_name = layer.records(ns)
                    self._shards[ns] = shard
        return shard

    def get(self, name: str) -> Alias | None:
        """The alias for any resource type (the type its name spells when several have it)."""
        low = name.lower()
        found = self._first.get(low)
        if found is None and "/" in low:
            ns = low.split("/", 1)[0].strip()
            shard = self._shards.get(ns)
            records = shard.by_name.get(low) if shard is not None else self._indexed(ns, low)
            if records is None and shard is None:
                records = self._shard(ns).by_name.get(low)
            if records:
                found = self._first[low] = _default_record(records)
        return found

    def _indexed(self, ns: str, low: str) -> list[Alias] | None:
        """The records of one name from the index of the only source that has its namespace, or None
        when that is not how this catalogue can answer (several sources: the shard merges them)."""
        layers = [layer for layer in self._layers if ns in layer.namespaces]
        if len(layers) != 1 or layers[0].index is None:
            return None
        by_name: dict[str, list[Alias]] = {}
        for name, entry, rtype in layers[0].index(ns).get(low, ()):
            rec = next(aliases_from_document({"types": {rtype: {name: entry}}}), None)
            if rec is None:
                continue
            if by_name:
                _Shard(by_name).merge({low: [rec]})
            else:
                by_name[low] = [rec]
        return by_name.get(low, [])

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def records(self, name: str) -> list[Alias]:
        """Every (resource type, alias) record of a name, in source order."""
        ns, low = namespace_of(name), name.lower()
        found = self._indexed(ns, low) if ns not in self._shards else None
        return list(found if found is not None else self._shard(ns).by_name.get(low, ()))

    def path(self, name: str, resource_type: str | None = None, api_version: str | None = None) -> str | None:
        """The path Azure reads `name` through on a resource of `resource_type` for `api_version`.

        With a type: that type's record (its path for `api_version` when the source lists paths per
        API version, else the default path); when the type has no such alias but every type that has it
        agrees on one path, that path; otherwise None (the alias does not exist on that type, so the
        evaluated value is missing). Without a type: the record of the type the name spells, else the
        first source row. The evaluator passes the evaluated resource's type and `apiVersion`."""
        if resource_type is None:
            alias = self.get(name)
            return alias.path_for(api_version) if alias else None
        shard = self._shard(namespace_of(name))
        low = name.lower()
        alias = shard.by_type.get(resource_type.strip().lower(), {}).get(low)
        if alias is not None:
            return alias.path_for(api_version)
        records = shard.by_name.get(low)
        if records and len({r.path_for(api_version) for r in records}) == 1:
            return records[0].path_for(api_version)
        return None

    def types_of(self, name: str) -> list[str]:
        """Resource types that have the alias (spelled as their source spells them)."""
        return [r.resource_type for r in self.records(name)]

    def has_type(self, resource_type: str) -> bool:
        """Does any source know aliases of this resource type?"""
        low, ns = resource_type.strip().lower(), namespace_of(resource_type)
        types = self._types.get(ns)
        if types is None and ns not in self._shards:
            layers = [layer for layer in self._layers if ns in layer.namespaces]
            if len(layers) == 1 and layers[0].index is not None:  # the types its records would have
                types = self._types[ns] = frozenset(
                    (rtype or resource_type_of_alias(name)).lower()
                    for rows in layers[0].index(ns).values()
                    for name, entry, rtype in rows
                    if "/" in name and _valid_entry(entry)
                )
        return low in types if types is not None else low in self._shard(ns).by_type

    def modifiable(self, name: str, resource_type: str | None = None, api_version: str | None = None) -> bool | None:
        """The Modifiable attribute where a source records it (sync cache, provider JSON), else None."""
        records = self.records(name)
        if resource_type is not None:
            records = [r for r in records if r.resource_type.lower() == resource_type.lower()] or records
        flags = {r.modifiable_for(api_version) for r in records} - {None}
        return None if not flags else all(flags)

    def suggest(self, name: str, n: int = 3) -> list[str]:
        """Close spellings from the alias's namespace: a "did you mean" for typos, not for newer aliases.

        The property part is compared with the properties of the same type (a shared type prefix would
        make every alias of the type look alike); failing that, whole names across the namespace (a
        misspelled type)."""
        low = name.lower()
        cached = self._suggested.get((low, n))
        if cached is None:
            cached = self._suggested[(low, n)] = self._suggest(low, n)
        return cached

    def _suggest(self, low: str, n: int) -> list[str]:
        # Typos change a few characters, so only names within 3 characters of the length are compared
        # (difflib over a whole namespace would cost ~20 ms per unknown alias in a corpus run).
        shard = self._shard(namespace_of(low))
        prefix = resource_type_of_alias(low) + "/"
        tail = low[len(prefix) :]
        tails = {k[len(prefix) :]: k for k in shard.by_name if k.startswith(prefix)}
        near = [t for t in tails if abs(len(t) - len(tail)) <= 3]
        hits = [tails[t] for t in difflib.get_close_matches(tail, near, n=n, cutoff=0.75)]
        if not hits and not tails:
            near = [k for k in shard.by_name if abs(len(k) - len(low)) <= 3]
            hits = difflib.get_close_matches(low, near, n=n, cutoff=0.9)
        return [shard.by_name[h][0].name for h in hits]

    def namespaces(self) -> set[str]:
        return {ns for layer in self._layers for ns in layer.namespaces}

    def __iter__(self) -> Iterator[Alias]:
        """Every record (all namespaces are read)."""
        for ns in sorted(self.namespaces()):
            for per_type in self._shard(ns).by_type.values():
                yield from per_type.values()

    def __len__(self) -> int:
        """Distinct alias names (all namespaces are read)."""
        return sum(len(self._shard(ns).by_name) for ns in self.namespaces())

    def describe(self) -> str:
        """For messages: 'policygen built-in alias catalogue (2024-01 …)' plus any loaded files."""
        return "; ".join(f"{src} ({date})" for src, date in self.sources) or "empty alias catalogue"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(Diagnostic(str(path), 0, 0, f"cannot read alias catalogue: {exc.strerror}")) from None


def _mtime_date(path: Path) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y-%m-%d")


# -------------------------------------------------------------------------------------- shipped data


_ARCHIVE: zipfile.ZipFile | None = None
_ARCHIVE_LOCK = threading.Lock()


def _archive() -> zipfile.ZipFile:
    """The shipped archive, its directory read once per process (members are read on demand)."""
    global _ARCHIVE
    if _ARCHIVE is None:
        raw = resources.files("policygen.data").joinpath(SHIPPED_ARCHIVE).read_bytes()
        _ARCHIVE = zipfile.ZipFile(io.BytesIO(raw))
    return _ARCHIVE


def _shipped_namespace(ns: str) -> dict[str, list[Alias]]:
    with _ARCHIVE_LOCK:
        data = _loads(_archive().read(f"{ns}.json"))
    return group_by_name(aliases_from_document(data)).get(ns, {})


class _NamespaceRows:
    """The rows of one shipped namespace by lower-case name, as a `_Rows` dict answers `get` and `values`.

    A corpus run reads ~85 namespaces (up to 9,000 aliases each) to ask ~1,500 names; a Python step per
    alias to index them cost more than reading them. Per type, a lower-case → spelling map is made in C
    (dict/zip/map) and a name is looked up in each type's map (a few dozen). Names of another namespace
    are not rows of this one (`group_by_name` files them elsewhere)."""

    __slots__ = ("ns", "types", "_all")

    def __init__(self, ns: str, data: dict) -> None:
        self.ns = ns
        self.types: list[tuple[str, dict, dict[str, str] | None]] = []  # (type, entries, lower → spelling)
        self._all: _Rows | None = None
        for rtype, entries in data.get("types", {}).items():
            if not isinstance(rtype, str) or not isinstance(entries, dict):
                continue
            try:
                lows: dict[str, str] | None = dict(zip(map(str.lower, entries), entries, strict=True))
            except TypeError:  # a key that is not a string (not from JSON)
                lows = None
            if lows is not None and len(lows) != len(entries):  # two spellings of a name in one type
                lows = None
            self.types.append((rtype, entries, lows))

    def _belongs(self, low: str) -> bool:
        return low.startswith(self.ns + "/") or low.split("/", 1)[0].strip() == self.ns

    def get(self, low: str, default: object = None) -> object:
        if self._all is not None:
            return self._all.get(low, default)  # type: ignore[arg-type]
        if not self._belongs(low):
            return default
        rows = []
        for rtype, entries, lows in self.types:
            if lows is None:
                rows.extend((n, entries[n], rtype) for n in entries if type(n) is str and n.lower() == low)
            else:
                name = lows.get(low)
                if name is not None:
                    rows.append((name, entries[name], rtype))
        return rows or default

    def values(self) -> Iterable[list[tuple[str, object, str]]]:
        """Every name's rows (the whole index, built on first use)."""
        if self._all is None:
            rows: _Rows = {}
            for rtype, entries, _ in self.types:
                for name, entry in entries.items():
                    if type(name) is not str:
                        continue
                    low = name.lower()
                    if self._belongs(low):
                        rows.setdefault(low, []).append((name, entry, rtype))
            self._all = rows
        return self._all.values()


_INDEX: dict[str, _NamespaceRows] = {}


def _shipped_index(ns: str) -> _NamespaceRows:
    """The rows of one shipped namespace by lower-case name, once per process."""
    rows = _INDEX.get(ns)
    if rows is None:
        with _ARCHIVE_LOCK:
            data = _loads(_archive().read(f"{ns}.json"))
        rows = _INDEX[ns] = _NamespaceRows(ns, data)
    return rows


_SHIPPED: AliasCatalogue | None = None


def shipped_catalogue() -> AliasCatalogue:
    """The catalogue that ships in the package (its index read once per process, namespaces on use)."""
    global _SHIPPED
    if _SHIPPED is None:
        with _ARCHIVE_LOCK:
            members = frozenset(n[: -len(".json")] for n in _archive().namelist() if n.endswith(".json"))
        cat = AliasCatalogue()
        cat.add_lazy(_shipped_namespace, members, SHIPPED_SOURCE, SHIPPED_DATE, index=_shipped_index)
        _SHIPPED = cat
    return _SHIPPED


def load_catalogue(extra_files: Iterable[Path] = (), *, cache_dir: Path | None = None) -> AliasCatalogue:
    """Shipped catalogue + the `aliases sync` cache (if any) + `--aliases` files, later ones winning
    per (resource type, alias): a file adds to the shipped catalogue, it never replaces it."""
    cat = AliasCatalogue()
    cat.extend(shipped_catalogue())
    cache = (cache_dir or default_cache_dir()) / "aliases.json"
    if cache.is_file():
        cat.load_file(cache)
    for path in extra_files:
        cat.load_file(Path(path))
    return cat


def default_cache_dir() -> Path:
    import os

    return Path(os.environ.get("POLICYGEN_CACHE_DIR") or Path.home() / ".cache" / "policygen")


_DEFAULT: AliasCatalogue | None = None


def default_catalogue() -> AliasCatalogue:
    """Shipped catalogue + the `aliases sync` cache, loaded once per process (no `--aliases` files)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_catalogue()
    return _DEFAULT


_MODIFIABLE: frozenset[str] | None = None


def modifiable_aliases() -> frozenset[str]:
    """Lower-case aliases known to be Modifiable: those Microsoft's built-in modify definitions change
    (shipped list) plus those the `aliases sync` cache marks Modifiable."""
    global _MODIFIABLE
    if _MODIFIABLE is None:
        text = resources.files("policygen.data").joinpath("modifiable-aliases.txt").read_text(encoding="utf-8")
        names = {line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")}
        _MODIFIABLE = frozenset(names | synced_modifiable_aliases())
    return _MODIFIABLE


def synced_modifiable_aliases(cache_dir: Path | str | None = None) -> set[str]:
    """Lower-case aliases whose synced metadata says Modifiable (empty when there is no cache)."""
    path = Path(cache_dir or default_cache_dir()) / "aliases.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    records = aliases_from_document(data) if is_document(data) else aliases_from_provider_json(data)
    return {a.name.lower() for a in records if a.modifiable or any(p.modifiable for p in a.paths)}


# Kept for callers and tests of the earlier single-module layout.
_aliases_from_csv = aliases_from_csv
_aliases_from_provider_json = aliases_from_provider_json
_provider_aliases = provider_alias_objects
