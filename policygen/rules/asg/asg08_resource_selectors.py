"""ASG-08 (assignments.resource_selectors)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_get, ci_key
from policygen.rules.asg.common import ASG, ASSIGN, selector_problems
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc


class ResourceSelectors(Rule):
    """resourceSelectors: at most 10, each with a name and selectors of known kinds using in or notIn.

    A selector uses in or notIn, never both, with a kind Azure knows.

    **Anti-pattern**

    ```json
    {"resourceSelectors": [{"name": "eu", "selectors": [{"kind": "resourceGroup", "in": ["rg"]}]}]}
    ```

    **Better**

    ```json
    {"resourceSelectors": [{"name": "eu", "selectors": [{"kind": "resourceLocation", "in": ["westeurope"]}]}]}
    ```

    Code: ASG-08 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure
    """

    code = "ASG-08"
    name = "assignments.resource_selectors"
    severity = Severity.ERROR
    kinds = ASG
    source = ASSIGN

    KINDS = ("resourcelocation", "resourcetype", "resourcewithoutlocation")

    def check(self, doc: Doc) -> Iterable[Hit]:
        k = ci_key(doc.props, "resourceSelectors")
        if k is None:
            return
        rs = doc.props[k]
        if not isinstance(rs, list):
            yield doc.ptr(k), "resourceSelectors must be an array"
            return
        if len(rs) > 10:
            yield doc.ptr(k), f"{len(rs)} resource selectors; Azure allows at most 10"
        for i, sel in enumerate(rs):
            if not isinstance(sel, dict) or not isinstance(ci_get(sel, "name"), str):
                yield doc.ptr(k, i), "each resource selector needs a name"
                continue
            yield from selector_problems(ci_get(sel, "selectors"), doc.ptr(k, i, "selectors"), self.KINDS)
