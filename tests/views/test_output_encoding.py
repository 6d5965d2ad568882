"""Output of text that stdout's encoding cannot carry: never a traceback, JSON stays JSON.

A JSON string may hold a lone surrogate escape, `"\\ud800"`: RFC 8259 §8.2
(https://www.rfc-editor.org/rfc/rfc8259#section-8.2) allows it as syntax, and Python's `json` reads it
as U+D800, which UTF-8 refuses to encode ("surrogates not allowed", the strict error handler:
https://docs.python.org/3/library/codecs.html#error-handlers). A latin-1 or ASCII stdout cannot encode
`€` or `😀` either. JSON and NDJSON output write such characters as the `\\uXXXX` escapes RFC 8259 §7
defines (a surrogate pair for a character beyond U+FFFF), so the output parses to the same strings;
CSV and tables write them with Python's `backslashreplace` handler, so they are seen.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from policygen.cli import app, run
from policygen.views.encoding import JSON_ESCAPE, VISIBLE
from policygen.views.impact_stream import StreamWriter
from tests.tasks.test_check import MODIFY_PACK

SA_TYPE = "Microsoft.Storage/storageAccounts"
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
NAMES = ["a\ud800", "b\udfff", "c\udc80", "d€😀", "plain"]  # lone high, lone low, surrogateescape's range

# every code point, surrogates included (hypothesis' default text leaves surrogates out), as a JSON reader
# gives them: a high surrogate next to a low one is one character beyond U+FFFF (RFC 8259 §7), so no
# string read from JSON holds such a pair of lone surrogates
_code_points = st.one_of(st.characters(min_codepoint=0, max_codepoint=0x10FFFF),
                         st.integers(0xD800, 0xDFFF).map(chr))
_ids = st.text(_code_points, min_size=1, max_size=12).map(lambda s: json.loads(json.dumps(s)))


def _inputs(tmp_path: Path, names: list[str], *, ndjson: bool) -> tuple[Path, Path]:
    defs = tmp_path / "defs"
    defs.mkdir(exist_ok=True)
    # a storage account with public network access is denied (deny effect: flagged)
    (defs / "public.json").write_text(json.dumps({"properties": {
        "displayName": "public", "mode": "All",
        "policyRule": {"if": {"allOf": [{"field": "type", "equals": SA_TYPE},
                                         {"field": "Microsoft.Storage/storageAccounts/publicNetworkAccess",
                                          "notEquals": "Disabled"}]},
                       "then": {"effect": "deny"}}}}))
    resources = [{"id": f"{SUB}/resourceGroups/rg/providers/{SA_TYPE}/{n}", "type": SA_TYPE, "name": n,
                  "location": "westeurope", "properties": {"publicNetworkAccess": "Enabled"}} for n in names]
    inv = tmp_path / ("inv.ndjson" if ndjson else "inv.json")
    # json.dumps writes each lone surrogate as the escape `\udXXX`, as in the bug report
    inv.write_text("".join(json.dumps(r) + "\n" for r in resources) if ndjson else json.dumps(resources))
    return defs, inv


def _ids_of(fmt: str, out: bytes) -> list[str]:
    if fmt == "json":
        return [r["resourceId"] for r in json.loads(out)["results"]]
    if fmt == "ndjson":
        return [json.loads(line)["resourceId"] for line in out.splitlines()]
    return [r[2] for r in list(csv.reader(io.StringIO(out.decode())))[1:]]


def _visible(text: str) -> str:
    return text.encode("utf-8", VISIBLE).decode()


@pytest.mark.parametrize("ndjson", [False, True], ids=["array", "ndjson"])
@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("fmt", ["json", "ndjson", "csv", "table"])
def test_lone_surrogates_in_an_inventory_are_written_escaped(tmp_path: Path, fmt: str, jobs: str,
                                                             ndjson: bool) -> None:
    defs, inv = _inputs(tmp_path, NAMES, ndjson=ndjson)
    summary = tmp_path / "summary.json"
    result = CliRunner().invoke(app, ["impact", str(defs), "-r", str(inv), "-f", fmt, "--jobs", jobs, "--why",
                                      "--summary", str(summary)])
    assert result.exit_code == 1, result.output  # every account is denied: findings, no traceback
    assert result.exception is None or isinstance(result.exception, SystemExit)
    out = result.stdout_bytes
    out.decode("utf-8")  # valid UTF-8, whatever the input held
    want = [f"{SUB}/resourceGroups/rg/providers/{SA_TYPE}/{n}" for n in NAMES]
    if fmt in ("json", "ndjson"):
        assert _ids_of(fmt, out) == want  # parses, and to the same strings as the input
        assert b"\\ud800" in out and b"\\udc80" in out
    elif fmt == "csv":
        assert _ids_of(fmt, out) == [_visible(w) for w in want]
    else:
        for w in want:
            assert _visible(w) in out.decode()
    scopes = json.loads(summary.read_bytes())["scopes"]
    assert scopes[0]["resources"] == len(NAMES)


@settings(max_examples=200, deadline=None)
@given(st.lists(_ids, min_size=1, max_size=5), st.sampled_from(["json", "ndjson", "csv"]), st.booleans())
def test_any_code_point_in_an_id_is_encoded_as_start_does(names: list[str], fmt: str, why: bool) -> None:
    """The byte path (stdout a UTF-8 stream over bytes): valid UTF-8; JSON reads back the very ids."""
    writer = StreamWriter(fmt, why=why)
    writer._parts(("utf-8", writer._errors))  # what `start` does for such a stdout
    rows = [("p", f"{SUB}/x/{n}", SA_TYPE, "deny", True, False, True, None, None, n if why else None)
            for n in names]
    text = writer.encode(rows).decode("utf-8")
    ids = [f"{SUB}/x/{n}" for n in names]
    if fmt == "json":
        assert [r["resourceId"] for r in json.loads("[" + text + "]")] == ids
    elif fmt == "ndjson":
        got = [json.loads(line) for line in text.split("\n") if line]
        assert [r["resourceId"] for r in got] == ids
        assert [r.get("reason") for r in got] == (names if why else [None] * len(names))
    else:  # what csv.writer writes for the ids (and reasons) backslash-escaped
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(
            ["p", "deny", _visible(i), SA_TYPE, True, False, True, ""] + ([_visible(n)] if why else [])
            for i, n in zip(ids, names, strict=True))
        assert text == buf.getvalue()


@settings(max_examples=200, deadline=None)
@given(st.recursive(_ids | st.integers() | st.booleans(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_ids, inner, max_size=3),
                    max_leaves=8),
       st.sampled_from(["utf-8", "latin-1", "ascii", "cp1252"]))
def test_json_escaped_for_any_encoding_reads_back_the_same(value: object, encoding: str) -> None:
    """What `echo_json` writes when the stream cannot carry a character: JSON text in that encoding that
    parses to the same value (escapes of RFC 8259 §7, surrogate pairs beyond U+FFFF)."""
    data = json.dumps(value, ensure_ascii=False).encode(encoding, JSON_ESCAPE)
    assert json.loads(data.decode(encoding)) == value


def _run_cli(args: list[str], encoding: str) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, PYTHONIOENCODING=encoding, COLUMNS="40")
    return subprocess.run([sys.executable, "-m", "policygen", *args], capture_output=True, env=env, timeout=120)


@pytest.mark.parametrize("encoding", ["latin-1", "ascii"])
@pytest.mark.parametrize("fmt", ["json", "ndjson", "csv", "table"])
def test_a_stdout_that_cannot_carry_a_character_gets_it_escaped(tmp_path: Path, fmt: str, encoding: str) -> None:
    """Run as a user runs it, stdout in latin-1 or ASCII (PYTHONIOENCODING): € and 😀 in ids, a lone
    surrogate too. JSON and NDJSON still parse to the input's ids."""
    defs, inv = _inputs(tmp_path, NAMES, ndjson=True)
    proc = _run_cli(["impact", str(defs), "-r", str(inv), "-f", fmt, "--jobs", "1"], encoding)
    assert proc.returncode == 1, proc.stderr.decode(errors="replace")
    assert b"Traceback" not in proc.stderr
    want = [f"{SUB}/resourceGroups/rg/providers/{SA_TYPE}/{n}" for n in NAMES]
    if fmt in ("json", "ndjson"):
        assert _ids_of(fmt, proc.stdout) == want
    else:
        assert b"\\ud800" in proc.stdout  # seen, not lost as "?"
        assert "€".encode() in proc.stdout or b"\\u20ac" in proc.stdout


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_validate_reports_a_name_its_stdout_cannot_carry(tmp_path: Path, fmt: str) -> None:
    """A definition named with € and 😀 (reported in a finding) validated with a latin-1 stdout."""
    path = tmp_path / "defs" / "p€😀.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"name": "n€😀", "properties": {
        "displayName": "x€😀", "mode": "Indexed", "policyRule": {
            "if": {"field": "type", "equals": SA_TYPE}, "then": {"effect": "bogus€😀"}}}}, ensure_ascii=False))
    proc = _run_cli(["validate", str(path.parent), "-f", fmt], "latin-1")
    assert proc.returncode == 1, proc.stderr.decode(errors="replace")  # the unknown effect: an error finding
    assert b"Traceback" not in proc.stderr
    out = proc.stdout.decode("latin-1")
    if fmt == "text":
        assert "p\\u20ac\\U0001f600.json:1:" in out and "'bogus\\u20ac\\U0001f600'" in out
    elif fmt == "json":
        assert {f["file"] for f in json.loads(out)} == {str(path)}
        assert any("bogus€😀" in f["message"] for f in json.loads(out))
    else:
        json.loads(out)


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_check_reports_a_lone_surrogate_in_a_deployment(make_tree, capsysbinary: pytest.CaptureFixture[bytes],
                                                        tmp_path: Path, fmt: str) -> None:
    """A template resource named with a lone surrogate (valid JSON escape) checked against a modify pack."""
    pack = make_tree(MODIFY_PACK)
    template = tmp_path / "dep.json"
    template.write_text(json.dumps({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0", "resources": [{
            "type": SA_TYPE, "apiVersion": "2023-05-01", "name": "st\ud800", "location": "eastus",
            "kind": "StorageV2", "sku": {"name": "Standard_LRS"}, "properties": {"publicNetworkAccess": "Enabled"}}]}))
    code = run(["check", str(template), "--pack", str(pack), "--env", "local", "--scope",
                "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-apps", "--format", fmt])
    out = capsysbinary.readouterr().out
    assert code in (0, 1)
    text = out.decode("utf-8")
    assert "\\ud800" in text
    if fmt != "text":
        assert "st\ud800" in json.dumps(json.loads(text), ensure_ascii=False)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_evaluate_explains_a_value_holding_a_lone_surrogate(tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes],
                                                            fmt: str) -> None:
    """The reasons quote the resource's value (a lone surrogate escape, RFC 8259 §8.2): written escaped."""
    definition = tmp_path / "def.json"
    definition.write_text(json.dumps({"properties": {"displayName": "tls", "mode": "Indexed", "policyRule": {
        "if": {"allOf": [{"field": "type", "equals": SA_TYPE},
                         {"field": "Microsoft.Storage/storageAccounts/minimumTlsVersion", "notEquals": "TLS1_2"}]},
        "then": {"effect": "audit"}}}}))
    resource = tmp_path / "res.json"
    resource.write_text(json.dumps({"id": f"{SUB}/resourceGroups/rg/providers/{SA_TYPE}/st\ud800", "type": SA_TYPE,
                                    "name": "st\ud800", "location": "eastus",
                                    "properties": {"minimumTlsVersion": "TLS1_0\udfff"}}))
    code = run(["evaluate", str(definition), str(resource), "--format", fmt])
    assert code == 1  # non-compliant
    text = capsysbinary.readouterr().out.decode("utf-8")
    assert "TLS1_0\\udfff" in text
    if fmt == "json":
        assert any("TLS1_0\udfff" in r for r in json.loads(text)["reasons"])
