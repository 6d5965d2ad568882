"""An inventory file cut into slices that workers parse (evaluate.slices): whatever the cuts, the slices
hold the same resources in the same order as the serial reader (evaluate.stream), the related resources
are indexed in input order, and any input the slices cannot vouch for is left to the serial reader, whose
errors stay located (`file:line:col`).

Shapes: a JSON array as `az resource list` writes it
(https://learn.microsoft.com/en-us/cli/azure/resource#az-resource-list) and NDJSON (one resource per
line). Related resources follow the auditIfNotExists page
(https://learn.microsoft.com/en-us/azure/governance/policy/concepts/effect-audit-if-not-exists).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from policygen.cli import app, run
from policygen.errors import InputError
from policygen.evaluate import compile_policy, slices
from policygen.evaluate.slices import Sliced, scan
from policygen.evaluate.stream import iter_resources
from tests.evaluate.helpers import definition

SA = "Microsoft.Storage/storageAccounts"
DIAG = "Microsoft.Insights/diagnosticSettings"
DIAGNOSTICS = definition({"field": "type", "equals": SA}, "auditIfNotExists", details={"type": DIAG})
POLICIES = [("diag", compile_policy(DIAGNOSTICS))]
NASTY = ["},{", '},{"id":"x"}', "}, {", "}\n,\n{", "[{},{}]", '\\"},{\\"', "é},{ü", "\\\\", "]}"]


def serial(path: Path) -> list[dict]:
    return list(iter_resources([path]))


def sliced(path: Path, step: int, jobs: int = 1) -> Sliced | None:
    return scan([path], POLICIES, jobs, step=step)


def resources_of(s: Sliced) -> list[dict]:
    out: list[dict] = []
    for i in range(len(s.spans)):
        out.extend(s.load(i))
    return out


def related_ids(index) -> dict:
    return {k: [r.get("id") for r in v] for k, v in index.by_sub.items()} | {
        k: [r.get("id") for r in v] for k, v in index.by_parent.items()
    }


def check_same(path: Path, step: int, jobs: int = 1) -> Sliced | None:
    """The slices, when `scan` takes the file, hold exactly what the serial reader yields."""
    s = sliced(path, step, jobs)
    if s is not None:
        expected = serial(path)
        assert resources_of(s) == expected
        assert len(s) == len(expected) == sum(s.counts)
        assert s.bare == sum(1 for r in expected if "properties" not in r)
        index = slices.RelatedIndex.for_policies(POLICIES)
        for r in expected:
            index.add(r)
        assert related_ids(s.index) == related_ids(index)
    return s


def account(i: int, name: str = "", nested: int = 0) -> dict:
    rid = f"/subscriptions/s{i % 3}/resourceGroups/rg/providers/{SA}/sa{i}"
    props: dict = {"publicNetworkAccess": "Enabled", "note": name}
    if nested:
        props["rules"] = [{"id": f"{rid}/rules/r{k}", "properties": {"v": name}} for k in range(nested)]
    return {"id": rid, "type": SA, "name": f"sa{i}{name}", "properties": props}


def diag(i: int) -> dict:
    rid = f"/subscriptions/s{i % 3}/resourceGroups/rg/providers/{SA}/sa{i}"
    return {"id": rid + f"/providers/{DIAG}/d", "type": DIAG, "name": "d"}


def inventory(n: int, **kw) -> list[dict]:
    out = []
    for i in range(n):
        out.append(account(i, NASTY[i % len(NASTY)], **kw))
        if i % 4 == 0:
            out.append(diag(i))
    return out


@pytest.mark.parametrize("step", [1, 7, 64, 333, 4096])
@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda res: json.dumps(res, separators=(",", ":")), id="compact"),
        pytest.param(lambda res: json.dumps(res, indent=2, ensure_ascii=False), id="indented"),
        pytest.param(lambda res: "\ufeff" + json.dumps(res), id="bom"),
        pytest.param(lambda res: "\n [\r\n" + " ,\n\t".join(json.dumps(r) for r in res) + "\n]\n\n", id="blanks"),
        pytest.param(lambda res: "".join(json.dumps(r) + "\n" for r in res), id="ndjson"),
        pytest.param(lambda res: "\ufeff" + "".join(json.dumps(r) + "\r\n\n" for r in res), id="ndjson-crlf"),
    ],
)
def test_slices_hold_what_the_serial_reader_yields(tmp_path, write, step) -> None:
    path = tmp_path / "inv.json"
    path.write_text(write(inventory(40, nested=3)), encoding="utf-8")
    s = check_same(path, step)
    assert s is not None and len(s) == 50
    if step < 4096:
        assert len(s.spans) > 1


@pytest.mark.parametrize("probe", [2, 16, 1 << 16])
def test_cuts_inside_nested_arrays_and_strings_are_found_out(tmp_path, monkeypatch, probe) -> None:
    """Nested arrays of objects longer than the probe make it accept cuts inside them; the slice before
    such a cut does not parse and is joined to the next one (or the serial reader takes over)."""
    monkeypatch.setattr(slices, "PROBE", probe)
    path = tmp_path / "inv.json"
    path.write_text(json.dumps(inventory(30, nested=12), separators=(",", ":")))
    for step in (16, 100, 900):
        check_same(path, step)
    monkeypatch.setattr(slices, "PROBE", 1 << 16)
    assert check_same(path, 100) is not None


def test_a_resource_larger_than_a_slice(tmp_path) -> None:
    big = account(1, "x" * 200_000)  # longer than the probe: cut off inside a string, so not closed
    res = [account(0), big, diag(1), account(2)]
    path = tmp_path / "inv.json"
    path.write_text(json.dumps(res))
    for step in (10, 1000, 3000, 1 << 20):
        s = check_same(path, step)
        assert s is not None and len(s) == 4
    (tmp_path / "one.json").write_text(json.dumps([big]))
    assert check_same(tmp_path / "one.json", 100) is not None
    # a nested array longer than the probe: cuts inside it pass the probe, the slices before them do not
    # parse; joined to the next ones, or read by the serial reader when there are too many
    nested = account(1, "x" * 5000, nested=200)
    path.write_text(json.dumps([account(0), nested, diag(1), account(2)]))
    for step in (10, 1000, 3000, 400_000):
        check_same(path, step)


@pytest.mark.parametrize("text", ["[]", " [ \n ] \n", "\ufeff[]"])
def test_empty_arrays(tmp_path, text) -> None:
    path = tmp_path / "inv.json"
    path.write_text(text, encoding="utf-8")
    s = check_same(path, 1)
    assert s is not None and len(s) == 0


def test_elements_that_are_not_objects_are_skipped_as_the_serial_reader_does(tmp_path) -> None:
    path = tmp_path / "inv.json"
    path.write_text(json.dumps([1, account(0), "},{", [account(1)], None, account(2), {}]))
    s = check_same(path, 3)
    assert s is not None and [r.get("name") for r in resources_of(s)] == ["sa0", "sa2", None]


@pytest.mark.parametrize(
    "text",
    [
        '[{"type":"a"}] x',  # trailing garbage
        '[{"type":"a"}][{"type":"b"}]',  # two arrays one after the other: the serial reader reads both
        '[{"type":"a"},]',  # trailing comma
        '[{"type":"a"},{"type":"b",}]',
        '[{"type":"a"},{"type": tru},{"type":"c"}]',  # an error in the middle
        '[{"type":"a"},{"n":NaN}]',  # the standard library reads it
        '[{"type":"a"},{"s":"\\ud800"}]',  # a lone surrogate
        '{"type":"a"}\n{"data":[{"type":"b"}]}\n',  # an export on a line
        '{"totalRecords":1,"data":[{"type":"b"}],"$skipToken":null}',  # a Resource Graph page
        '{"Value":[{"type":"b"}]}\n',
        '{"type":"a"}\n{"count":1,"type":"b"}\n',  # an envelope's first key: the serial reader skips it
        '{"type":"a"}\n{"name":"no type"}\n',  # not a resource: an error
        '{"type":"a"},{"type":"b"}\n',
        '{\n "type": "a"\n}\n{\n "type": "b"\n}\n',  # concatenated, not one per line
        '{"type":"a"}\n[{"type":"b"}]\n',
        "  \n",
        '"text"',
    ],
)
def test_what_slices_cannot_vouch_for_is_left_to_the_serial_reader(tmp_path, text) -> None:
    path = tmp_path / "inv.json"
    path.write_text(text, encoding="utf-8")
    for step in (1, 4, 1000):
        assert sliced(path, step) is None


def test_invalid_utf8_is_left_to_the_serial_reader(tmp_path) -> None:
    path = tmp_path / "inv.json"
    path.write_bytes(b'[{"type":"a"},{"type":"\xff"}]')
    assert sliced(path, 1) is None


def test_other_inputs_keep_the_serial_reader(tmp_path) -> None:
    (tmp_path / "a.json").write_text(json.dumps([account(0)]))
    (tmp_path / "b.json").write_text(json.dumps({"data": [account(1)], "$skipToken": None}))
    assert scan([tmp_path / "a.json", tmp_path / "a.json"], POLICIES, 2) is None
    assert scan([tmp_path], POLICIES, 2) is None  # a folder of pages
    assert scan([tmp_path / "b.json"], POLICIES, 2) is None  # a Resource Graph page


def test_a_file_changed_between_the_passes_is_an_input_error(tmp_path) -> None:
    path = tmp_path / "inv.json"
    path.write_text(json.dumps(inventory(10)))
    s = sliced(path, 50)
    assert s is not None
    path.write_text(json.dumps(inventory(10)[::-1]))
    with pytest.raises(InputError, match="changed while it was read"):
        resources_of(s)


def test_workers_scan_as_the_parent_does(tmp_path) -> None:
    path = tmp_path / "inv.json"
    path.write_text(json.dumps(inventory(300, nested=2)))
    s = check_same(path, 512, jobs=3)
    assert s is not None and len(s.spans) > 3


def test_errors_stay_located_with_several_workers(tmp_path, capsys) -> None:
    """`--jobs 2` reports a broken inventory exactly as `--jobs 1` (the serial reader's file:line:col)."""
    defs = tmp_path / "defs"
    defs.mkdir()
    (defs / "diag.json").write_text(json.dumps(dict(DIAGNOSTICS, name="diag")))
    good = json.dumps(inventory(400), indent=1).splitlines()
    for broken in ("x", "]", '"a":'):
        lines = list(good)
        lines[len(lines) // 2] += broken
        inv = tmp_path / "inv.json"
        inv.write_text("\n".join(lines))
        out = {}
        for jobs in ("1", "2"):
            code = run(["impact", str(defs), "-r", str(inv), "-f", "json", "--jobs", jobs])
            out[jobs] = (code, capsys.readouterr())
        assert out["1"] == out["2"]
        code, captured = out["2"]
        assert code == 2 and not captured.out
        located = re.search(r"inv\.json:(\d+):(\d+): invalid JSON", captured.err.replace("\n", ""))
        assert located and int(located[1]) in (len(lines) // 2 + 1, len(lines) // 2 + 2)


def test_output_is_the_same_with_nasty_slices(tmp_path) -> None:
    defs = tmp_path / "defs"
    defs.mkdir()
    (defs / "diag.json").write_text(json.dumps(dict(DIAGNOSTICS, name="diag")))
    inv = tmp_path / "inv.json"
    inv.write_text(json.dumps(inventory(3000, nested=2)))
    assert scan([inv], POLICIES, 2) is not None
    runner = CliRunner()
    out = [runner.invoke(app, ["impact", str(defs), "-r", str(inv), "-f", "json", "--exit-zero", "-j", j]).output
           for j in ("1", "2")]
    assert out[0] == out[1] and '"resources":3750' in out[0]


# --- properties: arbitrary arrays and NDJSON, arbitrary cuts ---

texts = st.lists(st.sampled_from([*'ab{}[],:" \\\n\té', "},{", '"},{"', "}, {"]), max_size=6).map("".join)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=False,
                    allow_infinity=False), texts)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=16,
)
objects = st.fixed_dictionaries(
    {"type": st.sampled_from([SA, DIAG, "A/b"]), "id": st.sampled_from([f"/subscriptions/s{i}/resourceGroups/r/"
                                                                          f"providers/{SA}/a{i}" for i in range(3)])},
    optional={"properties": st.dictionaries(texts, values, max_size=4), "tags": values},
)
blanks = st.sampled_from(["", " ", "\n", "\r\n", " \n\t "])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(elements=st.lists(st.one_of(objects, objects, values), max_size=14), sep=st.lists(blanks, min_size=3, max_size=3),
       step=st.integers(1, 120), probe=st.sampled_from([1, 8, 64, 1 << 16]))
def test_any_array_sliced_anywhere_reads_as_the_serial_reader(tmp_path, monkeypatch, elements, sep, step,
                                                               probe) -> None:
    monkeypatch.setattr(slices, "PROBE", probe)
    a, b, c = sep
    path = tmp_path / "inv.json"
    path.write_text(a + "[" + b + (c + "," + b).join(json.dumps(e, ensure_ascii=False) for e in elements) + c + "]" + a,
                    encoding="utf-8")
    check_same(path, step)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(elements=st.lists(objects, max_size=14), blank=blanks, step=st.integers(1, 300))
def test_any_ndjson_sliced_anywhere_reads_as_the_serial_reader(tmp_path, elements, blank, step) -> None:
    path = tmp_path / "inv.ndjson"
    path.write_text("".join(json.dumps(e) + "\n" + blank for e in elements), encoding="utf-8")
    assume(elements)
    s = check_same(path, step)
    assert s is not None  # one resource per line: always sliced


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(0, 60), step=st.integers(1, 2000), indent=st.sampled_from([None, 1]))
def test_plain_inventories_are_always_sliced(tmp_path, n, step, indent) -> None:
    """Resources whose strings and nested values hold no `},{`: every cut is found by the probe."""
    path = tmp_path / "inv.json"
    path.write_text(json.dumps([account(i, nested=i % 3) for i in range(n)], indent=indent))
    s = check_same(path, step)
    assert s is not None and len(s) == n
