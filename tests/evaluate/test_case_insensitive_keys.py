"""Property names are case-insensitive in Azure Policy field paths ("The field names are not case
sensitive": https://learn.microsoft.com/en-us/azure/governance/policy/concepts/definition-structure-policy-rule#fields).
`get_ci` answers misses of the exact spelling from a lower-case key map kept per resource; it must answer
what a scan of the keys answers, whatever the keys and however often the object changes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from policygen.evaluate.values import MISSING, get_ci, reset_key_cache

_keys = st.text(alphabet=st.sampled_from(list("aAbBkK_é")), min_size=0, max_size=3)


def _scan(obj: dict, key: str) -> object:
    if key in obj:
        return obj[key]
    found = [k for k in obj if isinstance(k, str) and k.lower() == key.lower()]
    if not found:
        return MISSING
    return obj[found[0] if len(obj) <= 6 else found[-1]]


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_keys, st.integers(), max_size=10), st.lists(_keys, min_size=1, max_size=6),
       st.lists(st.tuples(_keys, st.integers()), max_size=3))
def test_get_ci_is_a_case_insensitive_scan(obj, lookups, later) -> None:
    reset_key_cache()
    for key in lookups:
        assert get_ci(obj, key) == _scan(obj, key)
    for k, v in later:  # the object grows (a different size: the map is rebuilt)
        if k not in obj:
            obj[k] = v
            for key in lookups:
                assert get_ci(obj, key) == _scan(obj, key)


def test_get_ci_examples() -> None:
    reset_key_cache()
    obj = {"Properties": {"x": 1}, "kind": "StorageV2"}
    assert get_ci(obj, "properties") == {"x": 1}
    assert get_ci(obj, "KIND") == "StorageV2"
    assert get_ci(obj, "location") is MISSING
