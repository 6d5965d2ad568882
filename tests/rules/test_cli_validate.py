"""`policygen validate` end to end through the CLI: formats, exit codes 0/1/2, --list-rules, --aliases."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from policygen.cli import app
from tests.rules.test_engine import DEFINITION, write

runner = CliRunner()


def test__cli__clean_file_exits_zero(tmp_path: Path) -> None:
    path = write(tmp_path, "d.json", DEFINITION)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s), 0 info in 1 object(s)." in result.stdout


def test__cli__error_exits_one_and_json_lists_findings(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(DEFINITION))
    bad["properties"]["mode"] = "Everything"
    path = write(tmp_path, "d.json", bad)
    result = runner.invoke(app, ["validate", str(path), "--format", "json"])
    assert result.exit_code == 1
    findings = json.loads(result.stdout)
    assert findings[0]["code"] == "MODE-01" and findings[0]["line"] == 5
    assert set(findings[0]) >= {"code", "severity", "file", "line", "pointer", "message"}


def test__cli__unusable_input_exits_two_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("{nope", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test__cli__list_rules(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "--list-rules"])
    assert result.exit_code == 0
    assert "PAR-03" in result.stdout and "ASG-09" in result.stdout


def test__cli__aliases_option_adds_aliases(tmp_path: Path) -> None:
    d = json.loads(json.dumps(DEFINITION))
    d["properties"]["policyRule"]["if"]["allOf"][1]["field"] = "Microsoft.KeyVault/vaults/brandNewFlag"
    path = write(tmp_path, "d.json", d)
    before = runner.invoke(app, ["validate", str(path), "-f", "json"])
    assert [f["code"] for f in json.loads(before.stdout)] == ["FLD-02"]
    extra = tmp_path / "extra.csv"
    extra.write_text("alias,defaultPath\nMicrosoft.KeyVault/vaults/brandNewFlag,properties.brandNewFlag\n")
    after = runner.invoke(app, ["validate", str(path), "-f", "json", "--aliases", str(extra)])
    assert json.loads(after.stdout) == []


def test__cli__sarif_to_file(tmp_path: Path) -> None:
    path = write(tmp_path, "d.json", {"properties": {"mode": "All", "policyRule": {"if": {}, "then": {}}}})
    out = tmp_path / "r.sarif"
    result = runner.invoke(app, ["validate", str(path), "--format", "sarif", "--output", str(out)])
    assert result.exit_code == 1
    sarif = json.loads(out.read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]


def test__cli__pack_findings_map_to_yaml(make_tree, tmp_path: Path, repo_dir: Path) -> None:
    """The repository itself is the MLOps pack: its definitions validate without errors or warnings."""
    result = runner.invoke(
        app, ["validate", str(repo_dir / "policygen.yaml").replace("/policygen.yaml", ""), "-f", "json"]
    )
    assert result.exit_code in (0, 1), result.output
    findings = json.loads(result.stdout)
    for f in findings:
        assert f["file"].endswith(".yaml") or f["file"].endswith(".yml")
    definition_problems = [
        f for f in findings if f["file"].startswith("definitions/") and f["severity"] in ("error", "warning")
    ]
    assert definition_problems == []
