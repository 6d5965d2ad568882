"""OP-05 (operators.match_pattern)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from policygen.rules.base import Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.op.common import RULE, is_expr

REGEX_HINTS = re.compile(r"\\[dwsDWS.]|\.\*|\.\+|^\^|\$$|\[[^\]]*-[^\]]*\]|\{\d+(,\d*)?\}|\(\?|\|")


class MatchPattern(Rule):
    """`match` patterns use `#` (digit), `?` (letter) and `.` (any); they are not regular expressions.

    `match` takes Policy's own pattern syntax; regular-expression syntax matches literally.

    **Anti-pattern**

    ```json
    {"field": "name", "match": "^st[0-9]+$"}
    ```

    **Better**

    ```json
    {"field": "name", "match": "st####"}
    ```

    Code: OP-05 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule
    """

    code = "OP-05"
    name = "operators.match_pattern"
    severity = Severity.ERROR
    source = RULE
    ops = frozenset({"match", "notmatch", "matchinsensitively", "notmatchinsensitively"})

    def check(self, doc: Doc) -> Iterable[Hit]:
        for c in doc.conds_with("match", "notmatch", "matchinsensitively", "notmatchinsensitively"):
            v = c.op_value
            if is_expr(v):
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
