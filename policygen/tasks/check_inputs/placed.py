"""One resource of a deployment as `check` evaluates it: its ARM body at its id, and where it was declared."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from policygen.templates.symbolic import SYMBOLIC, placeholder

__all__ = ["SYMBOLIC", "Placed", "placeholder", "unplaced"]


@dataclass
class Placed:
    """One resource of the deployment, at its ARM id."""

    resource: dict[str, Any]  # the ARM body the request would carry (with `id`)
    source: str  # the file that declares it
    line: int  # line of its `"type"` key (1 when not found)
    symbolic: list[str] = field(default_factory=list)  # JSON paths whose value is known only at deployment
    unplaced: str | None = None  # why the resource cannot be evaluated at all (its finding's detail)

    @property
    def id(self) -> str:
        return str(self.resource.get("id", ""))


def unplaced(rtype: Any, name: Any, source: str, line: int, why: str, rid: str = "") -> Placed:
    """A resource `check` cannot evaluate, reported as undecidable with `why` (never silently dropped)."""
    return Placed({"id": rid, "type": str(rtype or ""), "name": str(name or "")}, source, line, [], why)
