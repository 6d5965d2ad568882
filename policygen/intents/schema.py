"""JSON Schemas for the intent files, so editors (yaml-language-server) autocomplete and check them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from policygen.intents.kinds import load_table
from policygen.intents.lifecycle import ExemptionIntent
from policygen.intents.models import AssignmentIntent, DefinitionIntent, InitiativeIntent, PackFile

SCHEMA_FILES = {
    "pack.schema.json": PackFile,
    "definition.schema.json": DefinitionIntent,
    "initiative.schema.json": InitiativeIntent,
    "assignment.schema.json": AssignmentIntent,
    "exemption.schema.json": ExemptionIntent,
}


def intent_schemas() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema (draft 2020-12). The definition schema knows every kind's settings."""
    out: dict[str, dict[str, Any]] = {}
    for filename, model in SCHEMA_FILES.items():
        schema = model.model_json_schema(by_alias=True)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://policygen.dev/schemas/{filename}"
        out[filename] = schema
    out["exemption.schema.json"]["properties"]["expiresOn"] = {
        "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}, {"type": "null"}],
        "default": None, "title": "Expireson",
        "description": "UTC date or date-time (ISO 8601) after which it lapses.",
    }
    table = load_table()
    definition = out["definition.schema.json"]
    definition["properties"]["intent"]["enum"] = sorted(table.kinds)
    definition["allOf"] = [
        {
            "if": {"properties": {"intent": {"const": name}}, "required": ["intent"]},
            "then": {
                "properties": {
                    "settings": kind.settings_schema(),
                    **(
                        {"resourceTypes": {"type": "array", "items": {"enum": sorted(kind.types)}}}
                        if kind.types
                        else {}
                    ),
                }
            },
        }
        for name, kind in sorted(table.kinds.items())
    ]
    return out


def schema_texts() -> dict[str, str]:
    """File name → the JSON text `write_schemas` writes (also what `policygen init` scaffolds)."""
    return {name: json.dumps(schema, indent=2, sort_keys=True) + "\n" for name, schema in intent_schemas().items()}


def write_schemas(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, text in schema_texts().items():
        path = out_dir / filename
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
