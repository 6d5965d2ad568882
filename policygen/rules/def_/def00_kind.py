"""DEF-00 (envelope.kind)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import ALL_KINDS, Rule, Severity
from policygen.rules.def_.common import BASICS
from policygen.rules.model import Doc


class InputShape(Rule):
    """The object is a policy definition, initiative (policy set) or assignment."""

    code = "DEF-00"
    name = "envelope.kind"
    severity = Severity.ERROR
    kinds = ALL_KINDS
    source = BASICS

    def check(self, doc: Doc) -> Iterable:
        return ()  # the engine reports it before any rule runs (engine.validate_doc)
