"""Helpers shared by the RULE rules."""

from __future__ import annotations

RULE = "https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule"
