"""OP: condition operators and the types and patterns of their values."""

from __future__ import annotations

import re
from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import OPERANDS, OPERATORS, Doc

RULE = "https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule"
LINTER = "https://github.com/Azure/azure-policy-linter"

ORDERING = frozenset({"less", "lessorequals", "greater", "greaterorequals"})
REGEX_HINTS = re.compile(r"\\[dwsDWS.]|\.\*|\.\+|^\^|\$$|\[[^\]]*-[^\]]*\]|\{\d+(,\d*)?\}|\(\?|\|")


def _is_expr(v: object) -> bool:
    return isinstance(v, str) and v.startswith("[") and not v.startswith("[[")


class KnownOperator(Rule):
    """The operator is one of Azure Policy's 19 condition operators (case-insensitive)."""

    code = "OP-01"
    name = "operators.known"
    severity = Severity.ERROR
    source = RULE

    def check(self, doc: Doc) -> Iterable[Hit]:
        for c in doc.irregular:
            for low, k in c.keys.items():
                if low in OPERATORS or low in OPERANDS or low == "source":
                    continue
                hint = next((OPERATORS[o] for o in OPERATORS if o.startswith(low[:4])), None)
                more = f" (did you mean {hint!r}?)" if hint else ""
                yield c.ptr + "/" + k, f"unknown operator {k!r}{more}"


class InTakesArray(Rule):
    """`in` / `notIn` take an array (literal or array-valued expression)."""

    code = "OP-02"
    name = "operators.in_array"
    severity = Severity.ERROR
    source = RULE

    def check(self, doc: Doc) -> Iterable[Hit]:
        for c in doc.conds_with("in", "notin"):
            if not isinstance(c.op_value, list) and not _is_expr(c.op_value):
                yield c.ptr + "/" + c.op_key, f"{c.op_key!r} takes an array, not {c.op_value!r}"


class ExistsBoolean(Rule):
    """`exists` takes true/false (booleans or the strings "true"/"false", any case)."""

    code = "OP-03"
    name = "operators.exists_boolean"
    severity = Severity.ERROR
    source = RULE

    def check(self, doc: Doc) -> Iterable[Hit]:
        for c in doc.conds_with("exists"):
            v = c.op_value
            if isinstance(v, bool) or _is_expr(v) or (isinstance(v, str) and v.lower() in ("true", "false")):
                continue
            yield c.ptr + "/" + c.op_key, f"'exists' takes true or false, not {v!r}"


class WildcardUse(Rule):
    """`like` has at most one `*` (without one, use `equals`); `contains` treats `*` literally."""

    code = "OP-04"
    name = "operators.wildcards"
    severity = Severity.WARNING
    source = LINTER
    applies = "own"

    def check(self, doc: Doc) -> Iterable[Hit]:
        for c in doc.conds_with("like", "notlike", "contains", "notcontains"):
            v = c.op_value
            if not isinstance(v, str) or _is_expr(v):
                continue
            if c.op in ("like", "notlike"):
                n = v.count("*")
                if n > 1 and doc.own:
                    yield c.ptr + "/" + c.op_key, f"{c.op_key!r} pattern {v!r} has {n} '*'; only one is supported"
                elif n == 0 and doc.own:
                    yield c.ptr + "/" + c.op_key, f"{c.op_key!r} without '*' behaves like equals: {v!r}"
            elif c.op in ("contains", "notcontains") and "*" in v and doc.own:
                yield c.ptr + "/" + c.op_key, f"'*' is not a wildcard for {c.op_key!r}: {v!r}"


class MatchPattern(Rule):
    """`match` patterns use `#` (digit), `?` (letter) and `.` (any); they are not regular expressions."""

    code = "OP-05"
    name = "operators.match_pattern"
    severity = Severity.ERROR
    source = RULE

    def check(self, doc: Doc) -> Iterable[Hit]:
        for c in doc.conds_with("match", "notmatch", "matchinsensitively", "notmatchinsensitively"):
            v = c.op_value
            if _is_expr(v):
                continue
            if not isinstance(v, str):
                yield c.ptr + "/" + c.op_key, f"{c.op_key!r} takes a pattern string, not {v!r}"
            elif REGEX_HINTS.search(v):
                yield (
                    c.ptr + "/" + c.op_key,
                    (
                        f"{c.op_key!r} pattern {v!r} looks like a regular expression; policy patterns use "
                        "'#' for a digit, '?' for a letter, '.' for any character, everything else literally"
                    ),
                )


class OrderingTypes(Rule):
    """less/greater operators compare numbers with numbers and strings/dates with strings."""

    code = "OP-06"
    name = "operators.ordering_types"
    severity = Severity.ERROR
    source = RULE

    def check(self, doc: Doc) -> Iterable[Hit]:
        for c in doc.conds_with(*ORDERING):
            v = c.op_value
            ptr = c.ptr + "/" + c.op_key
            if isinstance(v, (bool, list, dict)) or v is None:
                yield ptr, f"{c.op_key!r} compares numbers or strings, not {v!r}"
                continue
            if c.operand == "count" and isinstance(v, str) and not _is_expr(v):
                yield ptr, f"a count is a number; {c.op_key!r} {v!r} compares it with a string"
                continue
            left = c.operand_value
            if c.operand == "value" and not _is_expr(left) and not _is_expr(v):
                lnum = isinstance(left, (int, float)) and not isinstance(left, bool)
                rnum = isinstance(v, (int, float))
                if lnum != rnum or isinstance(left, (bool, list, dict)):
                    yield ptr, f"{c.op_key!r} compares {left!r} with {v!r}: types differ, evaluation fails"


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
