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
    """`field('<[*] alias>')` returns an array (`[]` when missing), not a string."""

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
