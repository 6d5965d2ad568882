"""`like` semantics and its linear bound (issue #16 item 3).

Semantics: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule#conditions
(case-insensitive; `*` is the wildcard of like/notLike; `?` and `#` are wildcards of `match` only).
"""

from __future__ import annotations

import re
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policygen.arm.like import like, like_pieces, match_pieces


def _reference(text: str, pattern: str) -> bool:
    """The obvious regex translation: right on small inputs, exponential on many stars."""
    rx = ".*".join(re.escape(p) for p in pattern.lower().split("*"))
    return re.fullmatch(rx, text.lower(), re.DOTALL) is not None


def test__like__documented_semantics():
    assert like("Microsoft.Storage/storageAccounts", "microsoft.storage/*")
    assert like("WESTEUROPE", "west*")
    assert like("abc", "a*c") and like("ac", "a*c") and not like("ab", "a*c")
    assert like("a?c", "a?c") and not like("abc", "a?c")  # `?` is literal for like
    assert like("a#c", "a#c") and not like("a1c", "a#c")
    assert like("aXbXc", "a*b*c") and not like("acb", "a*b*c")
    assert like("anything", "*") and like("", "*") and not like("x", "")
    assert not like("aba", "ab*ba")  # prefix and suffix may not overlap


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(alphabet="abAB*", max_size=8),
    st.text(alphabet="abAB", max_size=12),
)
def test__like__agrees_with_the_regex_translation_on_small_inputs(pattern: str, text: str):
    assert like(text, pattern) == _reference(text, pattern)


def test__like__steps_are_bounded_by_the_number_of_pieces_not_the_text():
    pattern = "*a" * 60 + "*b"  # 61 stars: the regex translation never finishes on the text below
    text = "a" * 5_000
    steps = [0]
    assert not match_pieces(like_pieces(pattern), text.lower(), steps)
    assert steps[0] <= pattern.count("*") + 2


def test__like__evaluator_operator_on_many_stars_answers():
    """The evaluator's like/notLike use the same matcher. Run in a subprocess with a generous timeout: the old
    regex translation never returned here, and a stuck regex holds the interpreter lock of the test run."""
    code = (
        "from policygen.evaluate.operators import make_test\n"
        "p = '*a' * 60 + '*b'\n"
        "print(make_test('like', p)('a' * 5000), make_test('notlike', p)('a' * 5000), make_test('like', p)('a' * 60 + 'B'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "True", "True"], out.stderr
