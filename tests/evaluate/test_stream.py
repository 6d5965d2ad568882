"""Streaming inventory reader: every accepted shape yields the same resources as parsing the whole file,
whatever the window size, and bad input is a `file:line:col` error.

Shapes: a JSON array (`az resource list`,
https://learn.microsoft.com/en-us/cli/azure/resource#az-resource-list), NDJSON, the Resource Graph
query response with `$skipToken` paging and its table form (`QueryResponse` in
azure-rest-api-specs specification/resourcegraph/resource-manager/Microsoft.ResourceGraph/stable/2021-03-01/resourcegraph.json;
paging: https://learn.microsoft.com/en-us/azure/governance/resource-graph/concepts/work-with-data#paging-results),
and an ARM list response (`{"value": [...], "nextLink": ...}`).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policygen.errors import InputError
from policygen.evaluate.inventory import RelatedIndex, load_inventory
from policygen.evaluate.stream import inventory_files, iter_resources

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**18), 10**18),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
resources = st.lists(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["Microsoft.Storage/storageAccounts", "A/b"]), "name": st.text(max_size=8)},
        optional={"properties": st.dictionaries(st.text(max_size=6), values, max_size=4)},
    ),
    max_size=12,
)


def _shapes(res: list[dict]) -> dict[str, str]:
    return {
        "array.json": json.dumps(res, indent=1, ensure_ascii=False),
        "compact.json": json.dumps(res, separators=(",", ":")),
        "lines.ndjson": "".join(json.dumps(r) + "\n" for r in res),
        "graph.json": json.dumps({"totalRecords": len(res), "count": len(res), "data": res, "$skipToken": "t"}),
        "late-key.json": json.dumps({"kind": 1, "data": res}),
        "list.json": json.dumps({"value": res, "nextLink": None}),
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(res=resources, chunk=st.integers(1, 64))
def test_every_shape_streams_the_same_resources(res, chunk, tmp_path) -> None:
    for name, text in _shapes(res).items():
        path = tmp_path / name
        if name == "lines.ndjson" and not res:
            continue  # an empty file: an error, tested below
        path.write_text(text, encoding="utf-8")
        assert list(iter_resources([path], chunk=chunk)) == res, name


def test_table_form_in_either_key_order(tmp_path) -> None:
    cols = [{"name": "type", "type": "string"}, {"name": "name", "type": "string"}]
    rows = [["A/b", "x"], ["A/b", "y"]]
    want = [{"type": "A/b", "name": "x"}, {"type": "A/b", "name": "y"}]
    for data in ({"columns": cols, "rows": rows}, {"rows": rows, "columns": cols}):
        path = tmp_path / "t.json"
        path.write_text(json.dumps({"count": 2, "data": data}))
        assert list(iter_resources([path], chunk=5)) == want


def test_paged_export_folder_reads_pages_in_natural_order(tmp_path) -> None:
    for page in (1, 2, 10):
        body = {"count": 1, "data": [{"type": "A/b", "name": f"p{page}"}]}
        if page != 10:
            body["$skipToken"] = f"after-{page}"
        (tmp_path / f"page-{page}.json").write_text(json.dumps(body))
    (tmp_path / "notes.txt").write_text("not an inventory")
    assert [p.name for p in inventory_files([tmp_path])] == ["page-1.json", "page-2.json", "page-10.json"]
    assert [r["name"] for r in load_inventory([tmp_path])] == ["p1", "p2", "p10"]


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ('[\n  {"type": "A/b",}\n]', ":2:", "invalid JSON"),
        ('[{"type": "a"}', ":1:", "expected ',' or ']'"),
        ('{"x": 1}', ":1:1:", "neither a resource"),
        ("42", ":1:1:", "inventory must be"),
        ("", ":1:1:", "empty"),
        ('{"data": 5}', ":1:", "must be an array"),
        ('\n\n   {"type": "A/b"} oops', ":3:", "inventory must be"),
    ],
)
def test_bad_input_names_file_line_and_column(tmp_path, text, where, message) -> None:
    path = tmp_path / "inv.json"
    path.write_text(text)
    for chunk in (2, 1 << 20):
        with pytest.raises(InputError) as exc:
            list(iter_resources([path], chunk=chunk))
        assert f"{path}{where}" in str(exc.value)
        assert message in str(exc.value)


def test_hostile_nesting_is_an_input_error_not_a_traceback(tmp_path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('[{"type": "A/b", "properties": ' + "[" * 200_000 + "]" * 200_000 + "}]")
    with pytest.raises(InputError, match="nested too deeply"):
        list(iter_resources([path]))


def test_not_utf8_and_missing_files_are_input_errors(tmp_path) -> None:
    bad = tmp_path / "latin1.json"
    bad.write_bytes('[{"type": "A/b", "name": "caf\xe9"}]'.encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        list(iter_resources([bad]))
    with pytest.raises(InputError, match="no such inventory"):
        list(iter_resources([tmp_path / "absent.json"]))


def test_related_index_keeps_only_the_types_asked_for() -> None:
    idx = RelatedIndex((), frozenset({"microsoft.insights/diagnosticsettings"}))
    sa = {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/a", "type": "Microsoft.Storage/storageAccounts"}
    diag = {"id": sa["id"] + "/providers/Microsoft.Insights/diagnosticSettings/d", "type": "Microsoft.Insights/diagnosticSettings"}
    idx.add(sa)
    idx.add(diag)
    assert ("microsoft.insights/diagnosticsettings", sa["id"].lower()) in idx.by_parent
    assert {t for t, _ in idx.by_parent} == {"microsoft.insights/diagnosticsettings"}
    assert not idx.by_sub  # an extension of another resource is only related to that resource
