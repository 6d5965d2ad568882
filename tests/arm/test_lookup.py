"""policygen.arm.lookup: ARM property names match case-insensitively, the author's spelling is kept.

https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-object#tryget
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from policygen.arm.lookup import ci_get, ci_key


def test_exact_then_any_casing() -> None:
    doc = {"roleDefinitionIds": [1], "ExistenceScope": "Subscription"}
    assert ci_key(doc, "roledefinitionids") == "roleDefinitionIds"
    assert ci_get(doc, "existenceScope") == "Subscription"
    assert ci_get(doc, "missing", "d") == "d" and ci_key(doc, "missing") is None
    assert ci_get({"a": None}, "A", "d") is None  # present with null is not absent


@given(st.dictionaries(st.from_regex(r"\A[A-Za-z]{1,8}\Z"), st.integers(), max_size=6), st.data())
def test_finds_every_key_in_any_casing(doc: dict, data) -> None:
    for k in doc:
        other = data.draw(st.sampled_from([k, k.lower(), k.upper(), k.swapcase()]))
        found = ci_key(doc, other)
        assert found is not None and found.lower() == k.lower()
        assert ci_get(doc, other) == doc[found]
