"""`policygen impact` rows as streamed text or bytes, and the counts of a batch, against plain references.

The encoder builds each row from cached parts (a head per policy, a tail per outcome, a part per resource
id) looked up by C code, optionally as bytes for stdout's byte stream; the counter counts a batch with C
loops. Both must give exactly what the plain per-row code gives: `json.dumps` of `ImpactRow.to_json`
(compact JSON, RFC 8259: https://www.rfc-editor.org/rfc/rfc8259 — quotes, backslashes and control
characters escaped, other characters as they are), `csv.writer` (RFC 4180:
https://www.rfc-editor.org/rfc/rfc4180), and per-policy / per-subscription counts of compliance states
(https://learn.microsoft.com/en-us/azure/governance/policy/concepts/compliance-states).
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import click
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from policygen.cli import app
from policygen.evaluate.inventory import ImpactRow
from policygen.tasks.impact import _batch_work, subscription_scope
from policygen.views.impact_stream import StreamWriter

SA_TYPE = "Microsoft.Storage/storageAccounts"

# awkward text: JSON escapes, CSV quoting, a percent sign, an escape sequence, non-ASCII, lone surrogates
# (escaped as `\udXXX` by the codec error handler `start` picks: see views/encoding.py)
_chars = st.sampled_from(list('ab/,"\\\r\n\t \x00\x1b[%é€😀\u2028') + ["\udc81", "\udcff"])
_texts = st.text(alphabet=_chars, max_size=8)
_EFFECTS = ["audit", "deny", "auditifnotexists", "modify", "disabled"]


@st.composite
def batches(draw: st.DrawFn, why: bool) -> list[tuple]:
    """Rows as `iter_pairs` yields them: consecutive per resource, a resource id possibly repeated later,
    policies repeated across resources, every outcome field varied."""
    ids = draw(st.lists(_texts, min_size=1, max_size=4))
    types = draw(st.lists(_texts, min_size=1, max_size=2))
    policies = draw(st.lists(_texts, min_size=1, max_size=4))
    rows = []
    for _ in range(draw(st.integers(1, 5))):
        rid, rtype = draw(st.sampled_from(ids)), draw(st.sampled_from(types))
        for _ in range(draw(st.integers(1, 4))):
            rows.append((
                draw(st.sampled_from(policies)), rid, rtype, draw(st.sampled_from(_EFFECTS)), draw(st.booleans()),
                draw(st.sampled_from([None, True, False])), draw(st.booleans()),
                draw(st.one_of(st.none(), st.just(""), _texts)), None,
                draw(st.one_of(st.none(), _texts)) if why else None,
            ))
    return rows


def reference(rows: list[tuple], fmt: str, why: bool) -> str:
    """The plain encoding: one `json.dumps` / `csv.writer` row per `ImpactRow`."""
    impact_rows = [ImpactRow(*r) for r in rows]
    if fmt == "csv":
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(
            [r.policy, r.effect, r.resource_id, r.resource_type, r.matched, "" if r.compliant is None else r.compliant,
             r.denied, r.error or ""] + ([r.reason or ""] if why else []) for r in impact_rows)
        return buf.getvalue()
    texts = [json.dumps(r.to_json(), ensure_ascii=False, separators=(",", ":")) for r in impact_rows]
    return "\n".join(texts) + "\n" if fmt == "ndjson" else ",\n".join(texts)


@settings(max_examples=100, deadline=None)
@given(st.data(), st.sampled_from(["json", "ndjson", "csv"]), st.booleans())
def test_rows_are_the_plain_encoding_as_text_and_as_bytes(data: st.DataObject, fmt: str, why: bool) -> None:
    writer = StreamWriter(fmt, why=why)
    as_bytes = StreamWriter(fmt, why=why)
    codec = ("utf-8", as_bytes._errors)
    as_bytes._parts(codec)  # what `start` does when stdout is a UTF-8 stream over bytes
    for _ in range(3):  # the caches carry over from batch to batch
        rows = data.draw(batches(why))
        want = reference(rows, fmt, why)
        assert writer.encode(rows) == want
        assert as_bytes.encode(rows) == want.encode(*codec)


def test_a_lone_surrogate_is_written_as_its_json_escape() -> None:
    """UTF-8 cannot encode a lone surrogate (strict: "surrogates not allowed"); the bytes written for one
    are the escape JSON read it from (RFC 8259 §8.2), in CSV too (backslashreplace): see
    tests/views/test_output_encoding.py."""
    rows = [("p", "/subscriptions/s/x\ud800", SA_TYPE, "audit", True, False, False, None, None, None)]
    for fmt in ("ndjson", "csv"):
        writer = StreamWriter(fmt)
        writer._parts(("utf-8", writer._errors))
        assert b"/subscriptions/s/x\\ud800" in writer.encode(rows)


def _inventory(tmp_path: Path, names: list[str]) -> tuple[Path, Path]:
    defs = tmp_path / "defs"
    defs.mkdir()
    # a storage account with public network access is denied (deny effect: flagged)
    (defs / "public.json").write_text(json.dumps({"properties": {
        "displayName": "public", "mode": "All",
        "policyRule": {"if": {"allOf": [{"field": "type", "equals": SA_TYPE},
                                         {"field": "Microsoft.Storage/storageAccounts/publicNetworkAccess",
                                          "notEquals": "Disabled"}]},
                       "then": {"effect": "deny"}}}}))
    inv = tmp_path / "inv.json"
    inv.write_text(json.dumps([
        {"id": f"/subscriptions/s{i % 2}/resourceGroups/rg/providers/{SA_TYPE}/{name}", "type": SA_TYPE,
         "name": name, "location": "westeurope", "properties": {"publicNetworkAccess": "Enabled"}}
        for i, name in enumerate(names)
    ], ensure_ascii=False))
    return defs, inv


def test_stdout_gets_what_echo_writes(tmp_path: Path) -> None:
    """Off a terminal click strips escape sequences from what it echoes: a batch holding one (a CSV field is
    written raw) still goes through echo; others are written as bytes. JSON escapes ESC itself."""
    names = ["plain", "red\x1b[31mname", "pct%s", "quote\"d", "été"]
    defs, inv = _inventory(tmp_path, names)
    runner = CliRunner()
    out = {}
    for fmt in ("csv", "ndjson", "json"):
        result = runner.invoke(app, ["impact", str(defs), "-r", str(inv), "-f", fmt, "--jobs", "1", "--exit-zero"])
        assert result.exit_code == 0, result.output
        out[fmt] = result.stdout_bytes
    csv_rows = list(csv.reader(io.StringIO(out["csv"].decode())))
    assert [r[2].rsplit("/", 1)[1] for r in csv_rows[1:]] == [click.unstyle(n) for n in names]
    assert [json.loads(line)["resourceId"].rsplit("/", 1)[1] for line in out["ndjson"].splitlines()] == names
    assert [r["resourceId"] for r in json.loads(out["json"])["results"]] == [
        json.loads(line)["resourceId"] for line in out["ndjson"].splitlines()]


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """The reader goes away after a few bytes of a large NDJSON output: exit code 1, no traceback."""
    defs, inv = _inventory(tmp_path, [f"sa{i}" for i in range(3000)])
    for jobs in ("1", "2"):
        proc = subprocess.Popen(
            [sys.executable, "-m", "policygen", "impact", str(defs), "-r", str(inv), "-f", "ndjson", "--jobs", jobs],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.read(10) == b'{"policy":'
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait() == 1 and b"Traceback" not in err and b"Exception ignored" not in err


# -- counting -----------------------------------------------------------------------------------------------

_ids = st.one_of(
    st.sampled_from(["/subscriptions/S1/resourceGroups/rg/providers/a/b/x", "/SUBSCRIPTIONS/s1/x",
                     "/subscriptions/s2/resourceGroups/rg", "/providers/Microsoft.Management/managementGroups/m",
                     "", "/subscriptions//x", "/subscriptions/ſ1/x"]),
    _texts,
)
_outcomes = st.tuples(st.sampled_from(["p", "q", "r"]), st.sampled_from([None, True, False]), st.booleans(),
                      st.one_of(st.none(), st.sampled_from(["boom", ""])))


@st.composite
def work_inputs(draw: st.DrawFn) -> tuple[list[tuple], list[dict], list]:
    """A batch as `iter_pairs` hands it over: its resources (ids of every kind, missing, not text), the rows
    of some, consecutive per resource, and the quiet outcomes of some (usually neither flagged nor failed)."""
    resources: list[dict] = []
    rows: list[tuple] = []
    quiet: list = []
    for i in range(draw(st.integers(0, 6))):
        rid = draw(st.one_of(_ids, st.none(), st.integers(), st.lists(st.integers(), max_size=1)))
        # without an id, a resource's label is "type/name" (`resource_label`): here one that reads as a scope
        resources.append({"type": "", "name": f"subscriptions/n{i}"} if rid is None else {"id": rid, "type": SA_TYPE})
        label = rid if isinstance(rid, str) and rid else f"{resources[-1].get('type', '')}/{resources[-1].get('name')}"
        for policy, compliant, denied, error in draw(st.lists(_outcomes, max_size=3)):
            rows.append((policy, label, SA_TYPE, "audit", True, compliant, denied, error, None, None))
        outcomes = draw(st.lists(st.one_of(
            st.tuples(st.sampled_from(["p", "q"]), st.sampled_from([None, True]), st.just(False), st.none()),
            _outcomes), max_size=3))
        if outcomes or draw(st.booleans()):
            quiet.append((label, outcomes))
    return rows, resources, quiet


def plain_counts(rows: list[tuple], resources: list[dict], quiet: list) -> tuple[dict, dict]:
    """Per policy [evaluated, nonCompliant, denied, errors, flagged] and per subscription the same plus the
    number of resources, one pair at a time."""
    counts: dict[str, list[int]] = {}
    scopes: dict[str, list[int]] = {}
    for r in resources:
        rid = r.get("id")
        scopes.setdefault(subscription_scope(rid) if isinstance(rid, str) else "", [0] * 6)[5] += 1
    pairs = [(row[1], (row[0], row[5], row[6], row[7])) for row in rows]
    pairs += [(label, o) for label, outcomes in quiet for o in outcomes]
    for label, (policy, compliant, denied, error) in pairs:
        flagged = compliant is False or bool(denied)
        for c in (counts.setdefault(policy, [0] * 5), scopes.setdefault(subscription_scope(label), [0] * 6)):
            c[0] += 1
            c[1] += compliant is False
            c[2] += bool(denied)
            c[3] += error is not None
            c[4] += flagged
    return counts, scopes


@settings(max_examples=200, deadline=None)
@given(work_inputs(), st.booleans())
def test_a_batch_is_counted_as_pair_by_pair(inputs: tuple, keep_all: bool) -> None:
    rows, resources, quiet = inputs
    work = _batch_work(keep_all, None, lambda shown: shown)
    shown, counts, scopes = work(list(rows), resources, [(label, list(o)) for label, o in quiet])
    assert (counts, scopes) == plain_counts(rows, resources, quiet)
    assert shown == (rows if keep_all else [r for r in rows if r[5] is False or r[6]])
    kept, _, _ = _batch_work(False, 1, None)(list(rows), resources, quiet)  # the table keeps a few per policy
    flagged = [r for r in rows if r[5] is False or r[6]]
    assert kept == [ImpactRow(*r) for i, r in enumerate(flagged) if r[0] not in {x[0] for x in flagged[:i]}]
    assert Counter(map(type, kept)) <= Counter({ImpactRow: len(rows)})
