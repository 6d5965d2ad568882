"""MODE-02 (mode.fits_targets)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.arm.lookup import ci_key
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.mode.common import BASICS
from policygen.rules.model import Doc


class ModeFitsTargets(Rule):
    """Use `indexed` for tag/location rules on resources and `all` when targeting resource groups or subscriptions.

    `all` also evaluates resource groups and subscriptions, which have no location or tags of their own in
    the same sense, so tag/location rules report them as non-compliant.

    **Anti-pattern**

    ```json
    {"mode": "All",
     "policyRule": {"if": {"field": "tags['costCenter']", "exists": false}, "then": {"effect": "deny"}}}
    ```

    **Better**

    ```json
    {"mode": "Indexed",
     "policyRule": {"if": {"field": "tags['costCenter']", "exists": false}, "then": {"effect": "deny"}}}
    ```

    Code: MODE-02 (warning)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-basics
    """

    code = "MODE-02"
    name = "mode.fits_targets"
    severity = Severity.WARNING
    source = BASICS
    applies = "own"

    CONTAINERS = ("microsoft.resources/subscriptions", "microsoft.resources/subscriptions/resourcegroups")

    def check(self, doc: Doc) -> Iterable[Hit]:
        if not doc.own or doc.mode_l not in ("all", "indexed"):
            return
        types = set()
        tag_or_location = False
        for c in doc.conds:
            if c.region != "if" or c.operand != "field" or not isinstance(c.operand_value, str):
                continue
            f = c.operand_value.lower()
            if f == "type" and c.op in ("equals", "in"):
                vals = c.op_value if isinstance(c.op_value, list) else [c.op_value]
                types.update(v.lower() for v in vals if isinstance(v, str))
            elif f == "location" or f.startswith("tags"):
                tag_or_location = True
        targets_containers = bool(types & set(self.CONTAINERS))
        mk = ci_key(doc.props, "mode")
        if doc.mode_l == "indexed" and targets_containers:
            yield doc.ptr(mk), "mode 'Indexed' never evaluates resource groups or subscriptions; use 'All'"
        elif doc.mode_l == "all" and tag_or_location and not targets_containers:
            yield (
                doc.ptr(mk),
                (
                    "tag/location rules in mode 'All' report resources that cannot carry tags as "
                    "non-compliant; use 'Indexed'"
                ),
            )
