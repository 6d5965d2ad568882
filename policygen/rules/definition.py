"""DEF: definition envelope, names, lengths, metadata and Azure's service limits."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from policygen.rules.base import ALL_KINDS, DEFINITION, INITIATIVE, CollectionRule, Hit, Rule, Severity, Summary
from policygen.rules.model import Doc, ci_get, ci_key

BASICS = "https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics"
LIMITS = "https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#azure-policy-limits"
NAMES = "https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftauthorization"

FORBIDDEN_NAME_CHARS = re.compile(r"[<>*%&:\\?.+/\x00-\x1f\x7f]")
SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")
MAX_BODY = 1_048_576


SAFE_NAME = re.compile(r"[A-Za-z0-9_()\[\]-]+")


def name_problems(name: object, max_len: int, what: str = "name") -> list[str]:
    """Problems of an Authorization resource name (shared with assignments)."""
    if type(name) is str and len(name) <= max_len and SAFE_NAME.fullmatch(name):
        return []  # the common case (GUIDs, kebab-case) in one regex call
    if not isinstance(name, str):
        return [f"{what} must be a string"]
    out = []
    if not 1 <= len(name) <= max_len:
        out.append(f"{what} {name!r} has {len(name)} characters; Azure allows 1-{max_len}")
    bad = sorted(set(FORBIDDEN_NAME_CHARS.findall(name.rstrip("."))))
    if bad:
        out.append(f"{what} {name!r} contains forbidden characters {' '.join(map(repr, bad))}")
    if name.endswith((".", " ")):
        out.append(f"{what} {name!r} must not end with a period or a space")
    return out


class NameRules(Rule):
    """Definition and initiative names are 1-64 characters without `<>*%&:\\?.+/` or a trailing period/space.

    **Anti-pattern** `"name": "deny/public.access"` **Better** `"name": "deny-public-access"`
    """

    code = "DEF-01"
    name = "envelope.name"
    severity = Severity.ERROR
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = NAMES
    needs = ("name",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        if doc.name is None:
            return
        for problem in name_problems(doc.name, 64):
            yield "/name", problem


class DisplayLengths(Rule):
    """displayName is at most 128 characters and description at most 512 (custom content)."""

    code = "DEF-02"
    name = "envelope.text_lengths"
    severity = Severity.ERROR
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = BASICS
    applies = "custom"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if not doc.custom:
            return
        for key, limit in (("displayName", 128), ("description", 512)):
            k = ci_key(doc.props, key)
            v = doc.props.get(k) if k else None
            if v is None:
                continue
            if not isinstance(v, str):
                yield doc.ptr(k), f"{key} must be a string"
            elif len(v) > limit:
                yield doc.ptr(k), f"{key} has {len(v)} characters; Azure allows at most {limit}"


class ReadOnlyProperties(Rule):
    """policyType is set by the service (omit it or send `Custom`); id and type are read-only."""

    code = "DEF-03"
    name = "envelope.read_only"
    severity = Severity.INFO
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = BASICS
    applies = "custom"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if not doc.custom:
            return
        k = ci_key(doc.props, "policyType")
        if k is not None and str(doc.props[k]).lower() not in ("custom", "notspecified"):
            yield doc.ptr(k), f"policyType {doc.props[k]!r} is read-only; custom content is always 'Custom'"


class BodySize(Rule):
    """The request body is at most 1,048,576 bytes (custom content)."""

    code = "DEF-04"
    name = "envelope.body_size"
    severity = Severity.ERROR
    kinds = ALL_KINDS
    source = LIMITS
    applies = "custom"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if not doc.custom:
            return
        size = doc.size
        if size is None or size > MAX_BODY:
            # File sizes include indentation; re-measure compactly before reporting.
            size = len(json.dumps(doc.obj, separators=(",", ":"), ensure_ascii=False).encode())
        if size > MAX_BODY:
            yield "", f"request body is {size:,} bytes; Azure allows at most {MAX_BODY:,}"


class MetadataValueSize(Rule):
    """Each metadata property value is at most 1,024 characters (custom content)."""

    code = "DEF-05"
    name = "envelope.metadata_size"
    severity = Severity.ERROR
    kinds = ALL_KINDS
    source = BASICS
    applies = "custom"

    def check(self, doc: Doc) -> Iterable[Hit]:
        if not doc.custom:
            return
        mk = ci_key(doc.props, "metadata")
        meta = doc.props.get(mk) if mk else None
        if not isinstance(meta, dict):
            return
        for k, v in meta.items():
            n = len(v) if isinstance(v, str) else len(json.dumps(v, separators=(",", ":")))
            if n > 1024:
                yield doc.ptr(mk, k), f"metadata value {k!r} has {n} characters; Azure allows at most 1,024"


class MetadataConventions(Rule):
    """metadata has `category` and a `Major.Minor.Patch` version; preview/deprecated are booleans."""

    code = "DEF-06"
    name = "envelope.metadata_conventions"
    severity = Severity.WARNING
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = BASICS

    def check(self, doc: Doc) -> Iterable[Hit]:
        mk = ci_key(doc.props, "metadata")
        meta = doc.props.get(mk) if mk else None
        if not isinstance(meta, dict):
            if doc.custom:
                yield (
                    doc.ptr("metadata") if mk is None else doc.ptr(mk),
                    "metadata with category and version is missing",
                )
            return
        lk = {k.lower(): k for k in meta}
        cat = meta.get(lk.get("category", ""))
        if doc.custom and not (isinstance(cat, str) and cat.strip()):
            yield doc.ptr(mk), "metadata.category is missing (portal grouping; linters require it)"
        vk = lk.get("version")
        ver = meta.get(vk) if vk else None
        if ver is None:
            if doc.custom:
                yield doc.ptr(mk), "metadata.version is missing (use Major.Minor.Patch)"
        elif not (isinstance(ver, str) and SEMVER.match(ver)):
            yield doc.ptr(mk, vk), f"metadata.version {ver!r} is not Major.Minor.Patch"
        for flag in ("preview", "deprecated"):
            fk = lk.get(flag)
            if fk is not None and not isinstance(meta[fk], bool):
                yield doc.ptr(mk, fk), f"metadata.{flag} must be a boolean, not {meta[fk]!r}"
        pk = lk.get("portalreview")
        if pk is not None and not isinstance(meta[pk], str):
            yield doc.ptr(mk, pk), "metadata.portalReview must be a string"


class VersionFormat(Rule):
    """properties.version uses Major.Minor.Patch."""

    code = "DEF-07"
    name = "envelope.version_format"
    severity = Severity.INFO
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = BASICS

    def check(self, doc: Doc) -> Iterable[Hit]:
        vk = ci_key(doc.props, "version")
        if vk is None:
            return
        ver = doc.props[vk]
        if not (isinstance(ver, str) and SEMVER.match(ver)):
            yield doc.ptr(vk), f"version {ver!r} is not Major.Minor.Patch"


class CustomCountLimits(CollectionRule):
    """At most 500 custom definitions and 200 custom initiatives per scope."""

    code = "DEF-08"
    name = "envelope.count_limits"
    severity = Severity.ERROR
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = LIMITS

    LIMIT = {DEFINITION: 500, INITIATIVE: 200}

    def check_all(self, docs: list[Summary]) -> Iterable[tuple[Summary, str, str]]:
        for kind, limit in self.LIMIT.items():
            mine = [d for d in docs if d.kind == kind and d.custom]
            if len(mine) > limit:
                yield (
                    mine[limit],
                    "",
                    (f"{len(mine)} custom {kind}s in one run; Azure allows at most {limit} per scope"),
                )


class DefinitionLocation(Rule):
    """An assignment's scope must be at or below the scope where its custom definition lives."""

    code = "DEF-09"
    name = "envelope.definition_location"
    severity = Severity.INFO
    kinds = frozenset({"assignment"})
    source = BASICS

    def check(self, doc: Doc) -> Iterable[Hit]:
        scope = doc.assignment_scope
        pid = ci_get(doc.props, "policyDefinitionId")
        if not scope or not isinstance(pid, str):
            return
        low = pid.lower()
        cut = low.find("/providers/microsoft.authorization/")
        if cut <= 0:
            return  # built-in (tenant-level) definitions are assignable anywhere
        home = low[:cut].rstrip("/")
        target = scope.lower().rstrip("/")
        if home.startswith("/subscriptions/") and not (target + "/").startswith(home + "/"):
            yield (
                doc.ptr("policyDefinitionId"),
                (f"the definition lives at {pid[:cut]!r}, which does not contain the assignment scope {scope!r}"),
            )
