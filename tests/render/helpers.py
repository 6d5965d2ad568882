"""Helpers shared by render tests: a minimal pack around some intents, and alias extraction."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SETTINGS = """
name: demo
ownerId: owner-1
definitionScope: /providers/Microsoft.Management/managementGroups/root
environments:
  dev:
    cloud: local
    identityLocation: northeurope
    scopes:
      dev: /providers/Microsoft.Management/managementGroups/dev
      sub: /subscriptions/00000000-0000-0000-0000-000000000001
"""


def write_pack(root: Path, files: dict[str, str]) -> Path:
    for rel, text in {"policygen.yaml": SETTINGS, **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


# field('alias'), and current('alias') of a field count; current('name') of a value count is no alias.
FIELD_IN_EXPR = re.compile(r"field\(\s*'([^']+)'\s*\)|current\(\s*'([^']*/[^']*)'\s*\)")


def fields_in(node: Any) -> Iterator[str]:
    """Every field name a policy rule reads or writes (conditions, counts, expressions, operations)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "field" and isinstance(value, str) and not value.startswith("["):
                yield value
            elif key == "deployment":
                continue  # ARM template inside deployIfNotExists: not policy fields
            yield from fields_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from fields_in(item)
    elif isinstance(node, str) and node.startswith("[") and not node.startswith("[["):
        yield from (a or b for a, b in FIELD_IN_EXPR.findall(node))
