"""`policygen validate` is never silently green (issue #16, items 9, 10 and 12).

A CI job run in the wrong folder, or on a pack whose YAML does not load, must fail: nothing to validate is
exit 2, and intent errors appear in every output format with their file:line, because code scanning
reads SARIF and other tools read JSON, not stderr.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from policygen.cli import run

SETTINGS = "name: p\nownerId: policygen-p\ndefinitionScope: /providers/Microsoft.Management/managementGroups/c\n"
BAD_INTENT = "intent: disable-public-network-access\nresourceTypes: [Microsoft.KeyVault/vaults]\nefect: Audit\n"


def _pack(root: Path, intent: str = BAD_INTENT) -> Path:
    (root / "definitions").mkdir(parents=True)
    (root / "policygen.yaml").write_text(SETTINGS)
    (root / "definitions" / "kv.yaml").write_text(intent)
    return root


def test_an_empty_folder_is_unusable_input(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(["validate"]) == 2
    out = capsys.readouterr().out
    assert "nothing to validate" in out


def test_a_folder_inside_a_pack_validates_that_pack(repo_dir, tmp_path, capsys, monkeypatch) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(repo_dir, pack, ignore=shutil.ignore_patterns(".git", "out", "tests", "benchmarks", "*.egg-info"))
    monkeypatch.chdir(pack / "definitions")
    assert run(["validate"]) == 0
    assert " 0 object(s)" not in capsys.readouterr().out
    # an intent file named from inside definitions/ finds policygen.yaml above it
    assert run(["validate", "mlw-public-network.yaml"]) == 0
    assert "intent YAML outside a pack" not in capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_intent_errors_reach_every_format(tmp_path, capsys, fmt) -> None:
    pack = _pack(tmp_path / "p")
    assert run(["validate", str(pack), "--format", fmt]) == 2
    out = capsys.readouterr().out
    if fmt == "json":
        hits = [f for f in json.loads(out) if f["code"] == "INPUT"]
        assert {(Path(f["file"]).name, f["line"]) for f in hits} >= {("kv.yaml", 3)}
    elif fmt == "sarif":
        results = json.loads(out)["runs"][0]["results"]
        regions = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results]
        assert 3 in regions and all(r["ruleId"] == "INPUT" for r in results)
        rules = json.loads(out)["runs"][0]["tool"]["driver"]["rules"]
        assert any(r["id"] == "INPUT" for r in rules)
    else:
        assert "kv.yaml:3:1: error INPUT unknown key 'efect'; did you mean 'effect'?" in out
        assert "0 error(s)" not in out


@pytest.mark.parametrize("content", ["", "# only a comment\n", "null\n", "~\n"])
def test_an_empty_settings_file_is_a_clear_error(tmp_path, capsys, content) -> None:
    pack = _pack(tmp_path / "p")
    (pack / "policygen.yaml").write_text(content)
    assert run(["build", str(pack), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "policygen.yaml:1:1: file is empty" in err
    assert "Traceback" not in err and "AssertionError" not in err


def test_a_list_as_settings_names_the_kind_not_a_python_class(tmp_path, capsys) -> None:
    pack = _pack(tmp_path / "p")
    (pack / "policygen.yaml").write_text("- a\n- b\n")
    assert run(["validate", str(pack)]) == 2
    out = capsys.readouterr().out
    assert "got a list" in out and "Located" not in out
