"""Helpers shared by the OP rules."""

from __future__ import annotations

RULE = "https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule"

LINTER = "https://github.com/Azure/azure-policy-linter"


def is_expr(v: object) -> bool:
    return isinstance(v, str) and v.startswith("[") and not v.startswith("[[")
