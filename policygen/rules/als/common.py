"""Helpers shared by the ALS rules."""

from __future__ import annotations

ARRAYS = "https://learn.microsoft.com/azure/governance/policy/how-to/author-policies-for-arrays"
