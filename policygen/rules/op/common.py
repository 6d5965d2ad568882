"""Helpers shared by the OP rules."""

from __future__ import annotations

from policygen.arm.expressions import is_expression

RULE = "https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule"

LINTER = "https://github.com/Azure/azure-policy-linter"


def is_expr(v: object) -> bool:
    return is_expression(v)
