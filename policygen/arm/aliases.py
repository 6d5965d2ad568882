"""Alias catalogue: Azure Policy alias name → default path, shared by render, validate and evaluate.

Catalogues go stale (Azure adds aliases every month), so every catalogue knows where it came from and
when, and messages about a missing alias name it. Lookups are case-insensitive, as in Azure.

Entry points: `default_catalogue()` (shipped + `aliases sync` cache, once per process), `load_catalogue()`
(the same plus `--aliases` files), `shipped_catalogue()` and `modifiable_aliases()`. Callers only ask a
catalogue by name (`get`, `path`, `in`), so it can later be split per resource type and loaded lazily.
Data files live in `policygen/data` (aliases.csv, modifiable-aliases.txt).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from policygen.errors import Diagnostic, InputError

SHIPPED_SOURCE = "policygen built-in alias catalogue"
SHIPPED_DATE = "2024-01 dump + 2026-04 additions"

# Fields that are not aliases but are valid everywhere a field name is expected.
NON_ALIAS_FIELDS = frozenset({"name", "fullname", "kind", "type", "location", "id", "tags", "identity.type"})


def is_non_alias_field(field_name: str) -> bool:
    """True for `name`, `type`, `tags['x']`, `tags.x`, `identity.*` and the other built-in fields."""
    low = field_name.strip().lower()
    return low in NON_ALIAS_FIELDS or low.startswith(("tags[", "tags.", "identity."))


@dataclass(frozen=True)
class Alias:
    name: str
    path: str  # default path, relative to the resource root: "properties.publicNetworkAccess"

    @property
    def resource_type(self) -> str:
        """The ARM type the alias belongs to: everything before the last segment that is a property."""
        return resource_type_of_alias(self.name)


def resource_type_of_alias(alias: str) -> str:
    """`Microsoft.X/a/b/prop.sub[*].y` → `Microsoft.X/a/b` (the last '/' before any '.' or '[')."""
    cut = len(alias)
    for ch in ".[":
        pos = alias.find(ch, alias.find("/") + 1)
        if pos != -1:
            cut = min(cut, pos)
    head = alias[:cut]
    return head.rsplit("/", 1)[0] if "/" in head else head


@dataclass
class AliasCatalogue:
    """Case-insensitive alias index; `sources` lists (description, date) of everything loaded."""

    _by_name: dict[str, Alias] = field(default_factory=dict)
    sources: list[tuple[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self._by_name)

    def __iter__(self) -> Iterator[Alias]:
        return iter(self._by_name.values())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._by_name

    def get(self, name: str) -> Alias | None:
        return self._by_name.get(name.lower())

    def path(self, name: str) -> str | None:
        alias = self._by_name.get(name.lower())
        return alias.path if alias else None

    def add(self, aliases: Iterable[Alias], source: str, date: str = "unknown") -> None:
        for alias in aliases:
            self._by_name[alias.name.lower()] = alias
        self.sources.append((source, date))

    def describe(self) -> str:
        """For messages: 'policygen built-in alias catalogue (2024-01 …)' plus any loaded files."""
        return "; ".join(f"{src} ({date})" for src, date in self.sources) or "empty alias catalogue"

    def load_file(self, path: Path) -> None:
        """Load a CSV of `alias,defaultPath` rows or the JSON of `az provider list --expand ...`."""
        text = _read(path)
        date = _mtime_date(path)
        if text.lstrip().startswith(("[", "{")):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InputError(Diagnostic(str(path), exc.lineno, exc.colno, f"invalid JSON: {exc.msg}")) from None
            self.add(_aliases_from_provider_json(data), str(path), date)
        else:
            self.add(_aliases_from_csv(text.splitlines()), str(path), date)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(Diagnostic(str(path), 0, 0, f"cannot read alias catalogue: {exc.strerror}")) from None


def _mtime_date(path: Path) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y-%m-%d")


def _aliases_from_csv(lines: Iterable[str]) -> Iterator[Alias]:
    for row in csv.reader(line for line in lines if line.strip() and not line.startswith("#")):
        if len(row) >= 2 and row[0] != "alias" and "/" in row[0]:
            yield Alias(row[0].strip(), row[1].strip())


def _aliases_from_provider_json(data: object) -> Iterator[Alias]:
    """`az provider list --expand resourceTypes/aliases` (a list of providers) or one provider."""
    for alias in _provider_aliases(data):
        name = alias.get("name")
        path = alias.get("defaultPath") or _first_path(alias)
        if isinstance(name, str) and name and isinstance(path, str) and path:
            yield Alias(name, path)


def _provider_aliases(data: object) -> Iterator[dict]:
    """Every alias object in the REST shape; anything of another shape is skipped, not a crash."""
    providers = data if isinstance(data, list) else data.get("value", [data]) if isinstance(data, dict) else []
    for provider in _dicts(providers):
        for rtype in _dicts(provider.get("resourceTypes")):
            yield from _dicts(rtype.get("aliases"))


def _dicts(value: object) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _first_path(alias: dict) -> str | None:
    paths = alias.get("paths")
    return paths[0].get("path") if isinstance(paths, list) and paths and isinstance(paths[0], dict) else None


_SHIPPED: AliasCatalogue | None = None


def shipped_catalogue() -> AliasCatalogue:
    """The catalogue that ships in the package (read once per process)."""
    global _SHIPPED
    if _SHIPPED is None:
        cat = AliasCatalogue()
        text = resources.files("policygen.data").joinpath("aliases.csv").read_text(encoding="utf-8")
        cat.add(_aliases_from_csv(text.splitlines()), SHIPPED_SOURCE, SHIPPED_DATE)
        _SHIPPED = cat
    return _SHIPPED


def load_catalogue(extra_files: Iterable[Path] = (), *, cache_dir: Path | None = None) -> AliasCatalogue:
    """Shipped catalogue + the `aliases sync` cache (if any) + `--aliases` files, later ones winning."""
    cat = AliasCatalogue()
    shipped = shipped_catalogue()
    cat.add(iter(shipped), *shipped.sources[0])
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
    (shipped list) plus those the `aliases sync` cache marks Modifiable (`defaultMetadata.attributes`)."""
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
    out: set[str] = set()
    for alias in _provider_aliases(data):
        meta = alias.get("defaultMetadata")
        attrs = meta.get("attributes") if isinstance(meta, dict) else None
        if isinstance(attrs, str) and "modifiable" in attrs.lower() and isinstance(alias.get("name"), str):
            out.add(alias["name"].lower())
    return out
