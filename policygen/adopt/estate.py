"""What every reader produces: REST-form bodies with where each came from, before intents are written.

Readers (Azure, EPAC, ALZ) differ only in how they find the objects; the pack writer (`policygen.adopt.pack`)
treats every estate alike. `engine_keys` are metadata keys the source's engine stamps itself (EPAC's
pacOwnerId/deployedBy/assignedBy): they are left to policygen's renderer instead of being copied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Item:
    kind: str  # definition | initiative | assignment | exemption
    body: dict[str, Any]  # REST form: name, properties (assignments also identity/location)
    where: str  # file:line:col or the ARM id it was read from
    remediation: dict[str, Any] = field(default_factory=dict)  # assignments: settings of their last task

    @property
    def name(self) -> str:
        return str(self.body.get("name") or "")

    @property
    def props(self) -> dict[str, Any]:
        return self.body.get("properties") or {}


@dataclass
class Estate:
    source: str  # azure | epac | alz
    definition_scope: str
    owner_id: str | None = None  # the marker the estate's engine stamps (EPAC pacOwnerId), if one
    environments: dict[str, dict[str, Any]] = field(default_factory=dict)  # policygen.yaml environments
    env: str | None = None  # the environment whose scopes assignments are keyed by
    items: list[Item] = field(default_factory=list)
    engine_keys: tuple[str, ...] = ()
    stamp_keys: tuple[str, ...] = ()  # policygen's own stamps the source never had (ALZ): left to the renderer
    notes: list[str] = field(default_factory=list)

    def of(self, kind: str) -> list[Item]:
        return [i for i in self.items if i.kind == kind]
