"""Findings as a JSON list: code, severity, file, line, col, pointer, message."""

from __future__ import annotations

import json
from collections.abc import Sequence

from policygen.rules.base import Finding


def render(findings: Sequence[Finding]) -> str:
    return json.dumps([f.to_dict() for f in findings], indent=2, ensure_ascii=False) + "\n"
