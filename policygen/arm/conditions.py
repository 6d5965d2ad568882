"""The words of a policy rule's conditions, as Learn spells them: the logical operators and the condition
operators (https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule#conditions).
Condition keys are case-insensitive in Azure, so readers look them up by lower case."""

from __future__ import annotations

CONDITION_OPERATORS = (
    "equals",
    "notEquals",
    "like",
    "notLike",
    "match",
    "notMatch",
    "matchInsensitively",
    "notMatchInsensitively",
    "contains",
    "notContains",
    "in",
    "notIn",
    "containsKey",
    "notContainsKey",
    "less",
    "lessOrEquals",
    "greater",
    "greaterOrEquals",
    "exists",
)
OPERATORS = {op.lower(): op for op in CONDITION_OPERATORS}  # lower case -> Learn's spelling
LOGICAL = frozenset({"allof", "anyof", "not"})
