"""ALS-03 (aliases.field_function_array)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.als.common import ARRAYS
from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc

STRING_FUNCS = frozenset(
    {
        "tolower",
        "toupper",
        "split",
        "replace",
        "startswith",
        "endswith",
        "substring",
        "trim",
        "padleft",
        "base64",
        "uricomponent",
    }
)


class FieldFunctionArray(Rule):
    """`field('<[*] alias>')` returns an array (`[]` when missing), not a string.

    String functions over an array fail or compare the wrong thing.

    **Anti-pattern**

    ```json
    {"value": "[toLower(field('Microsoft.Storage/storageAccounts/networkAcls.ipRules[*].action'))]",
     "equals": "allow"}
    ```

    **Better**

    ```json
    {"count": {"field": "Microsoft.Storage/storageAccounts/networkAcls.ipRules[*]",
               "where": {"field": "Microsoft.Storage/storageAccounts/networkAcls.ipRules[*].action",
                         "equals": "Allow"}},
     "greater": 0}
    ```

    Code: ALS-03 (info)
    Source: https://learn.microsoft.com/azure/governance/policy/how-to/author-policies-for-arrays
    """

    code = "ALS-03"
    name = "aliases.field_function_array"
    severity = Severity.INFO
    source = ARRAYS
    needs = ("exprs",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        for e in doc.exprs:
            if not e.info.fields or not any("[*]" in f for f in e.info.fields):
                continue
            for call, _ in e.info.calls:
                if call.name.lower() in STRING_FUNCS and call.args:
                    arg = call.args[0]
                    if getattr(arg, "name", "").lower() == "field" and "[*]" in str(getattr(arg.args[0], "value", "")):
                        yield e.ptr, f"{call.name}() gets an array from field() of a [*] alias"
                        break
