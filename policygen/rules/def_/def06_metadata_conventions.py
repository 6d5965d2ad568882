"""DEF-06 (envelope.metadata_conventions)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_key
from policygen.rules.base import DEFINITION, INITIATIVE, Hit, Rule, Severity
from policygen.rules.def_.common import BASICS, SEMVER
from policygen.rules.model import Doc


class MetadataConventions(Rule):
    """metadata has `category` and a `Major.Minor.Patch` version; preview/deprecated are booleans.

    The portal groups definitions by category and compares versions; strings where booleans are expected are
    ignored.

    **Anti-pattern**

    ```json
    {"metadata": {"version": "1.0", "preview": "true"}}
    ```

    **Better**

    ```json
    {"metadata": {"category": "Storage", "version": "1.0.0", "preview": true}}
    ```

    Code: DEF-06 (warning)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics
    """

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
