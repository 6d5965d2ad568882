"""A file whose bytes equal an earlier file's (the built-in corpus's Azure Government copies) reports what
checking it would report, under its own name: findings with their lines, the per-run summary, the counts.
Checked against validating every file afresh, in any order of copies, broken files and non-policy files."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policygen.arm.aliases import default_catalogue
from policygen.rules.base import Summary
from policygen.rules.checking import RunResult
from policygen.rules.json_input import SameContent, validate_json_file
from tests.rules.test_engine import DEFINITION


def _variants() -> dict[str, bytes]:
    bad = json.loads(json.dumps(DEFINITION))
    bad["properties"]["mode"] = "Everything"  # MODE-01
    bad["properties"]["displayName"] = "x" * 200  # DEF-02
    unknown = json.loads(json.dumps(DEFINITION))
    unknown["properties"]["policyRule"]["if"] = {"field": "Microsoft.KeyVault/vaults/noSuchAlias", "equals": "x"}
    builtin = json.loads(json.dumps(unknown))
    builtin["properties"]["policyType"] = "BuiltIn"  # unchecked alias: counted in the summary only
    return {
        "good": json.dumps(DEFINITION, indent=2).encode(),
        "bad": json.dumps(bad, indent=2).encode(),
        "bad-bom": b"\xef\xbb\xbf" + json.dumps(bad, indent=2).encode(),
        "bad-compact": json.dumps(bad).encode(),
        "unknown": json.dumps(unknown).encode(),
        "builtin": json.dumps(builtin).encode(),
        "broken": b'{"properties": ',
        "other": b'{"not": "a policy"}',
    }


VARIANTS = _variants()


def _check(paths: list[tuple[str, bool]], same: SameContent | None) -> tuple[RunResult, list[Summary]]:
    result, summaries = RunResult(), []
    catalogue = default_catalogue()
    for path, explicit in paths:
        validate_json_file(
            path, catalogue=catalogue, escaped=None, explicit=explicit, result=result, summaries=summaries, same=same
        )
    return result, summaries


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(sorted(VARIANTS)), st.booleans()), min_size=1, max_size=12))
def test_copies_report_what_checking_them_reports(tmp_path: Path, files: list[tuple[str, bool]]) -> None:
    folder = tmp_path / str(len(list(tmp_path.iterdir())))
    folder.mkdir()
    paths = []
    for i, (variant, explicit) in enumerate(files):
        path = folder / f"{i:02}-{variant}.json"
        path.write_bytes(VARIANTS[variant])
        paths.append((str(path), explicit))
    remembered = _check(paths, SameContent())
    afresh = _check(paths, None)
    assert remembered == afresh


def test_a_copy_is_reported_under_its_own_name(tmp_path: Path) -> None:
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_bytes(VARIANTS["bad"])
    same = SameContent()
    result, summaries = _check([(str(tmp_path / "a.json"), False), (str(tmp_path / "b.json"), False)], same)
    assert len(same.reports) == 1
    a = [f for f in result.findings if f.file.endswith("a.json")]
    b = [f for f in result.findings if f.file.endswith("b.json")]
    assert a and [(f.code, f.line, f.col, f.pointer, f.message) for f in a] == [
        (f.code, f.line, f.col, f.pointer, f.message) for f in b
    ]
    assert [s.file for s in summaries] == [str(tmp_path / "a.json"), str(tmp_path / "b.json")]
    assert (result.files, result.objects) == (2, 2)


def test_a_copy_keeps_the_summary_counts(tmp_path: Path) -> None:
    """A built-in's aliases the catalogue lacks are counted per object for FLD-02's run summary."""
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_bytes(VARIANTS["builtin"])
    _, summaries = _check([(str(tmp_path / n), False) for n in ("a.json", "b.json")], SameContent())
    assert [s.unchecked_aliases for s in summaries] == [1, 1]
