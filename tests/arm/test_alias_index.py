"""A shipped-only catalogue answers `get(name)` from the namespace's name index (records built for the
names asked, #17) exactly as from the whole namespace's records; with another source for the same
namespace the merged records answer, so a later source still wins per (type, alias)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policygen.arm import aliases as A


def _namespaces() -> list[str]:
    names = sorted(n[: -len(".json")] for n in A._archive().namelist() if n.endswith(".json"))
    return [n for n in names if n in ("microsoft.compute", "microsoft.network", "microsoft.storage")] + names[:5]


@pytest.mark.parametrize("ns", _namespaces())
def test_index_answers_as_the_whole_namespace(ns: str) -> None:
    indexed = A.AliasCatalogue()
    indexed.extend(A.shipped_catalogue())
    whole = A._shipped_namespace(ns)
    assert whole, ns
    for low, records in whole.items():
        for spelling in (records[0].name, low, low.upper()):
            assert indexed.get(spelling) == A._default_record(records), spelling
            assert indexed.records(spelling) == records, spelling
    assert indexed.get(f"{ns}/noSuchType/noSuchAlias") is None
    types = {rec.resource_type for records in whole.values() for rec in records}
    for rtype in types:
        assert indexed.has_type(rtype) and indexed.has_type(rtype.upper() + " "), rtype
    assert not indexed.has_type(f"{ns}/noSuchType")
    assert ns not in indexed._shards  # answered without building the namespace


def test_a_later_source_wins_over_the_index(tmp_path: Path) -> None:
    """An --aliases file for a shipped namespace: its new alias is found, and its row for a shipped alias
    replaces the shipped record of that type (answered from the merged records, not the index)."""
    record = A._default_record(next(iter(A._shipped_namespace("microsoft.storage").values())))
    extra = tmp_path / "extra.csv"
    extra.write_text(
        "alias,defaultPath\n"
        "Microsoft.Storage/storageAccounts/brandNew,properties.brandNew\n"
        f"{record.name},properties.somewhereElse\n"
    )
    cat = A.load_catalogue([extra], cache_dir=tmp_path)
    assert cat.get("microsoft.storage/storageaccounts/brandnew").path == "properties.brandNew"
    assert cat.path(record.name, record.resource_type) == "properties.somewhereElse"
    assert cat.get(record.name.upper()) is not None and "microsoft.storage" in cat._shards


def _reference_rows(ns: str, data: dict) -> dict[str, list[tuple[str, object, str]]]:
    """The index as a plain loop over every alias (what `_NamespaceRows` answers without one)."""
    rows: dict[str, list[tuple[str, object, str]]] = {}
    for rtype, entries in data.get("types", {}).items():
        if not isinstance(rtype, str) or not isinstance(entries, dict):
            continue
        for name, entry in entries.items():
            if type(name) is not str:
                continue
            low = name.lower()
            if not low.startswith(ns + "/") and low.split("/", 1)[0].strip() != ns:
                continue
            rows.setdefault(low, []).append((name, entry, rtype))
    return rows


_names = st.sampled_from(
    ["Microsoft.X/a/p", "microsoft.x/A/P", "MICROSOFT.X/a/p", "Microsoft.X/b/q", "Microsoft.Y/a/p", "Microsoft.X",
     " microsoft.x /a/r", "microsoft.xy/a/p", "Microsoft.X/a/p[*]"]
)  # fmt: skip
_entries = st.dictionaries(_names, st.sampled_from(["properties.p", "", {"defaultPath": "d"}, 3]), max_size=6)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(["Microsoft.X/a", "microsoft.x/A", "Microsoft.X/b", "Microsoft.Y/a"]),
                       _entries | st.just([]), max_size=4))  # fmt: skip
def test_namespace_rows_answer_as_the_plain_index(types: dict) -> None:
    """Several types with a name, two spellings in one type, names of another namespace, odd shapes."""
    data = {"types": types}
    want = _reference_rows("microsoft.x", data)
    rows = A._NamespaceRows("microsoft.x", data)
    for low in {n.lower() for entries in types.values() if isinstance(entries, dict) for n in entries}:
        assert rows.get(low, None) == want.get(low), low
    assert rows.get("microsoft.x/none/such") is None
    assert list(rows.values()) == list(want.values())
    assert rows.get("microsoft.x/a/p") == want.get("microsoft.x/a/p")  # after values(): the same answers
