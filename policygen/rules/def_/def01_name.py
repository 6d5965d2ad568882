"""DEF-01 (envelope.name)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import DEFINITION, INITIATIVE, Hit, Rule, Severity
from policygen.rules.def_.common import name_problems
from policygen.rules.model import Doc

NAMES = "https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftauthorization"


class NameRules(Rule):
    r"""Definition and initiative names are 1-64 characters without `<>*%&:\?.+/` or a trailing period/space.

    Azure rejects the PUT; a name is part of the resource ID and cannot be changed later.

    **Anti-pattern**

    ```json
    {"name": "deny/public.access"}
    ```

    **Better**

    ```json
    {"name": "deny-public-access"}
    ```

    Code: DEF-01 (error)
    Source: https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftauthorization
    """

    code = "DEF-01"
    name = "envelope.name"
    severity = Severity.ERROR
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = NAMES
    needs = ("name",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        if doc.name is None:
            return
        for problem in name_problems(doc.name, 64):
            yield "/name", problem
