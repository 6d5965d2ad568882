"""`policygen impact` streamed output and worker processes: every format carries the same rows, the
summaries add up, and the output is byte-identical whatever `--jobs` is.

Existence checks follow the auditIfNotExists page
(https://learn.microsoft.com/en-us/azure/governance/policy/concepts/effect-audit-if-not-exists): the
related diagnostic setting of a storage account is found through the index shared with the workers.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from policygen.cli import app
from policygen.evaluate import compile_policy
from policygen.evaluate.parallel import evaluate_batches, pack
from tests.evaluate.helpers import definition

runner = CliRunner()
SA_TYPE = "Microsoft.Storage/storageAccounts"
PUBLIC = definition(
    {
        "allOf": [
            {"field": "type", "equals": SA_TYPE},
            {"field": "Microsoft.Storage/storageAccounts/publicNetworkAccess", "notEquals": "Disabled"},
        ]
    },
    "deny",
)
DIAGNOSTICS = definition(
    {"field": "type", "equals": SA_TYPE},
    "auditIfNotExists",
    details={"type": "Microsoft.Insights/diagnosticSettings"},
)


def inventory(n: int) -> list[dict]:
    """`n` storage accounts over 3 subscriptions; every third public, every fifth with a diagnostic setting
    (listed after the account, as exports list them: the index must see the whole inventory first)."""
    out: list[dict] = []
    for i in range(n):
        rid = f"/subscriptions/s{i % 3}/resourceGroups/rg/providers/{SA_TYPE}/sa{i}"
        out.append(
            {
                "id": rid,
                "type": SA_TYPE,
                "name": f"sa{i}",
                "location": "westeurope",
                "properties": {"publicNetworkAccess": "Enabled" if i % 3 == 0 else "Disabled"},
            }
        )
        if i % 5 == 0:
            out.append(
                {
                    "id": rid + "/providers/Microsoft.Insights/diagnosticSettings/d",
                    "type": "Microsoft.Insights/diagnosticSettings",
                    "name": "d",
                }
            )
    return out


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    defs = tmp_path / "defs"
    defs.mkdir()
    (defs / "public.json").write_text(json.dumps(dict(PUBLIC, name="public")))
    (defs / "diag.json").write_text(json.dumps(dict(DIAGNOSTICS, name="diag")))
    inv = tmp_path / "inv.json"
    inv.write_text(json.dumps(inventory(4500)))
    return defs, inv


def impact(defs: Path, inv: Path, *args: str) -> str:
    result = runner.invoke(app, ["impact", str(defs), "-r", str(inv), "--exit-zero", *args])
    assert result.exit_code == 0, result.stdout
    return result.stdout


def test_formats_carry_the_same_rows_and_summaries_add_up(files, tmp_path) -> None:
    defs, inv = files
    summary_file = tmp_path / "summary.json"
    compact = impact(defs, inv, "-f", "json", "--summary", str(summary_file))
    data = json.loads(compact)
    pretty = json.loads(impact(defs, inv, "-f", "json", "--pretty"))
    assert pretty == data
    assert "\n  " not in compact and "\n  " in impact(defs, inv, "-f", "json", "--pretty")
    lines = [json.loads(line) for line in impact(defs, inv, "-f", "ndjson").splitlines()]
    assert lines == data["results"]
    rows = list(csv.DictReader(io.StringIO(impact(defs, inv, "-f", "csv"))))
    assert [(r["policy"], r["resourceId"]) for r in rows] == [(r["policy"], r["resourceId"]) for r in lines]

    by_policy = {p["policy"]: p for p in data["policies"]}
    # 4,500 accounts: 1,500 public (denied); 900 with a diagnostic setting, so 3,600 non-compliant
    assert by_policy["public"]["flagged"] == by_policy["public"]["denied"] == 1500
    assert by_policy["diag"]["nonCompliant"] == 3600
    assert len(data["results"]) == 1500 + 3600
    scopes = {s["scope"]: s for s in data["scopes"]}
    assert set(scopes) == {"/subscriptions/s0", "/subscriptions/s1", "/subscriptions/s2"}
    assert sum(s["flagged"] for s in scopes.values()) == len(data["results"])
    assert sum(s["resources"] for s in scopes.values()) == data["resources"] == 4500 + 900
    assert scopes["/subscriptions/s0"]["denied"] == 1500  # every public account is in s0 (i % 3 == 0)
    assert json.loads(summary_file.read_text()) == {k: data[k] for k in ("resources", "policies", "scopes")}


@pytest.mark.parametrize("fmt", ["json", "ndjson", "csv", "table"])
def test_output_is_the_same_whatever_the_jobs(files, fmt) -> None:
    defs, inv = files
    one = impact(defs, inv, "-f", fmt, "--jobs", "1")
    assert impact(defs, inv, "-f", fmt, "--jobs", "3") == one
    assert impact(defs, inv, "-f", fmt, "--all", "--jobs", "2") == impact(defs, inv, "-f", fmt, "--all", "-j", "1")


def test_batches_come_back_in_inventory_order_from_workers() -> None:
    policies = [("public", compile_policy(PUBLIC)), ("diag", compile_policy(DIAGNOSTICS))]
    resources = inventory(200)

    def work(rows, batch):
        return [r["name"] for r in batch], [(r.policy, r.resource_id, r.compliant) for r in rows]

    serial = list(evaluate_batches(policies, resources, work, jobs=1, batch=7))
    assert [names for names, _ in serial] == [[r["name"] for r in resources[a : a + 7]] for a in range(0, len(resources), 7)]
    for jobs in (2, 3):
        assert list(evaluate_batches(policies, resources, work, jobs=jobs, batch=7)) == serial
        packed = pack(iter(resources), policies, batch=7)
        assert len(packed) == len(resources) and len(packed.blobs) == len(serial)
        assert list(evaluate_batches(policies, packed, work, jobs=jobs)) == serial


def test_packing_keeps_what_orjson_cannot_write() -> None:
    """Integers beyond 64 bits (valid JSON) and deep nesting survive the worker batches unchanged."""
    from policygen.evaluate.parallel import _unpack

    deep: dict = {"v": 1}
    for _ in range(300):
        deep = {"d": deep}
    resources = [{"type": "A/b", "name": "x", "n": 2**70}, {"type": "A/b", "name": "y", "properties": deep}]
    packed = pack(iter(resources), [], batch=1)
    assert [_unpack(b) for b in packed.blobs] == [[r] for r in resources]


def test_empty_results_are_still_valid_documents(tmp_path) -> None:
    defs = tmp_path / "defs"
    defs.mkdir()
    (defs / "public.json").write_text(json.dumps(PUBLIC))
    inv = tmp_path / "inv.ndjson"
    inv.write_text(json.dumps({"type": "Other/type", "name": "x"}) + "\n")
    for args in ([], ["--pretty"]):
        data = json.loads(impact(defs, inv, "-f", "json", *args))
        assert data["results"] == [] and data["resources"] == 1
    assert impact(defs, inv, "-f", "ndjson") == ""
    assert impact(defs, inv, "-f", "csv").splitlines() == ["policy,effect,resourceId,resourceType,matched,compliant,denied,error"]


_texts = st.text(alphabet=st.sampled_from(list('ab,"\r\n é\t')), max_size=6)


@settings(max_examples=100)
@given(st.lists(st.tuples(_texts, _texts, _texts, st.booleans(), st.sampled_from([None, True, False]),
                          st.booleans(), st.one_of(st.none(), _texts), st.one_of(st.none(), _texts)),
                min_size=1, max_size=6),
       st.booleans())
def test_csv_rows_are_what_the_csv_module_writes(rows, why) -> None:
    """The streamed CSV (quoting cached per text) equals `csv.writer`'s rows, whatever the text holds
    (commas, quotes, line breaks: RFC 4180 quoting, https://www.rfc-editor.org/rfc/rfc4180)."""
    from policygen.evaluate.inventory import ImpactRow
    from policygen.views.impact_stream import StreamWriter

    tuples = [(p, rid, rt, "audit", m, c, d, e, None, reason) for p, rid, rt, m, c, d, e, reason in rows]
    impact_rows = [ImpactRow(*t) for t in tuples]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(
        [r.policy, r.effect, r.resource_id, r.resource_type, r.matched, "" if r.compliant is None else r.compliant,
         r.denied, r.error or ""] + ([r.reason or ""] if why else []) for r in impact_rows)
    assert StreamWriter("csv", why=why).encode(tuples) == buf.getvalue()


_DISABLED_PUBLIC = definition(PUBLIC["properties"]["policyRule"]["if"], "disabled")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.sampled_from(["Enabled", "Disabled", None]), st.booleans()),
                max_size=12))
def test_quiet_pairs_are_counted_not_made_rows(spec) -> None:
    """With a `quiet` list, the rows yielded are exactly the flagged or failed ones of the full run, in
    order, and the quiet outcomes are the rest (per resource), so counts are unchanged."""
    from collections import Counter

    from policygen.evaluate.inventory import iter_pairs

    resources: list[dict] = []
    for i, (sub, access, diag) in enumerate(spec):
        rid = f"/subscriptions/s{sub}/resourceGroups/rg/providers/{SA_TYPE}/sa{i}"
        props = {} if access is None else {"publicNetworkAccess": access}
        resources.append({"id": rid, "type": SA_TYPE, "name": f"sa{i}", "location": "westeurope", "properties": props})
        if diag:
            resources.append({"id": rid + "/providers/Microsoft.Insights/diagnosticSettings/d",
                              "type": "Microsoft.Insights/diagnosticSettings", "name": "d"})
    policies = [("public", compile_policy(PUBLIC)), ("diag", compile_policy(DIAGNOSTICS)),
                ("off", compile_policy(_DISABLED_PUBLIC))]
    full = list(iter_pairs(policies, resources))
    quiet: list = []
    shown = list(iter_pairs(policies, resources, quiet=quiet))
    assert shown == [r for r in full if r[5] is False or r[6] or r[7] is not None]
    rest = Counter((r[1], (r[0], r[5], r[6], r[7])) for r in full if r not in shown)
    assert rest == Counter((label, o) for label, outcomes in quiet for o in outcomes)
