"""Helpers shared by the MODE rules."""

from __future__ import annotations

BASICS = "https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics"
