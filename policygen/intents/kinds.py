"""The intent kinds and their resource-type table (`kinds.yaml`), loaded once: part of the pack's vocabulary,
read by the intents schema and by render."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class Kind:
    name: str
    doc: str
    template: str
    effects: dict[str, Any]
    types: dict[str, dict[str, Any]]  # resource type → row
    settings: dict[str, Any] = field(default_factory=dict)  # JSON-Schema properties
    required: tuple[str, ...] = ()
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    combine_types: bool = False

    def settings_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": self.settings,
            **({"required": list(self.required)} if self.required else {}),
        }

    def row(self, rtype: str) -> dict[str, Any] | None:
        for key, row in self.types.items():
            if key.lower() == rtype.lower():
                return row
        return None


@dataclass(frozen=True)
class Table:
    kinds: dict[str, Kind]
    types: dict[str, dict[str, str]]  # resource type → {display, short}
    roles: dict[str, str]

    def type_info(self, rtype: str) -> dict[str, str]:
        for key, info in self.types.items():
            if key.lower() == rtype.lower():
                return info
        return {"display": rtype, "short": rtype.rsplit("/", 1)[-1].lower()}  # whole: a cut word reads as a typo


@cache
def load_table() -> Table:
    text = resources.files("policygen.intents").joinpath("kinds.yaml").read_text(encoding="utf-8")
    raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # our own data: libyaml, 9x faster
    kinds = {
        name: Kind(
            name=name,
            doc=spec["doc"],
            template=spec["template"],
            effects=spec["effects"],
            types={t: {**row, "type": t} for t, row in (spec.get("types") or {}).items()},
            settings=spec.get("settings") or {},
            required=tuple(spec.get("required") or ()),
            parameters=spec.get("parameters") or {},
            combine_types=bool(spec.get("combineTypes")),
        )
        for name, spec in raw["kinds"].items()
    }
    return Table(kinds=kinds, types=raw["types"], roles=raw["roles"])
