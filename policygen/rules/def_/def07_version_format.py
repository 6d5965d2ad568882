"""DEF-07 (envelope.version_format)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_key
from policygen.rules.base import DEFINITION, INITIATIVE, Hit, Rule, Severity
from policygen.rules.def_.common import BASICS, SEMVER
from policygen.rules.model import Doc


class VersionFormat(Rule):
    """properties.version uses Major.Minor.Patch.

    Policy versioning orders versions by Major.Minor.Patch.

    **Anti-pattern**

    ```json
    {"properties": {"version": "1.2"}}
    ```

    **Better**

    ```json
    {"properties": {"version": "1.2.0"}}
    ```

    Code: DEF-07 (info)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics
    """

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
