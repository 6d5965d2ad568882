"""OP-07 (operators.string_form_equality)."""

from __future__ import annotations

from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.op.common import LINTER


class StringFormEquality(Rule):
    """`equals` on numbers compares string forms: 5.0 never equals 5."""

    code = "OP-07"
    name = "operators.string_form_equality"
    severity = Severity.INFO
    source = LINTER

    def check(self, doc: Doc) -> Iterable[Hit]:
        for c in doc.conds_with("equals", "notequals"):
            if isinstance(c.op_value, float):
                yield (
                    c.ptr + "/" + c.op_key,
                    (f"{c.op_key!r} {c.op_value!r}: values compare as strings, so 5.0 does not equal 5"),
                )
