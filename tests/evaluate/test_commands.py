"""The `evaluate`, `test` and `impact` commands: output formats and exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from policygen.cli import app
from tests.evaluate.helpers import definition

runner = CliRunner()

SA = {
    "id": "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/sa1",
    "type": "Microsoft.Storage/storageAccounts",
    "name": "sa1",
    "location": "westeurope",
    "properties": {"publicNetworkAccess": "Enabled"},
}
RULE = {
    "allOf": [
        {"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
        {"field": "Microsoft.Storage/storageAccounts/publicNetworkAccess", "notEquals": "Disabled"},
    ]
}


def write(tmp_path: Path, name: str, data) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_evaluate_json_and_exit_codes(tmp_path) -> None:
    params = {"effect": {"type": "String", "defaultValue": "Audit"}}
    d = write(tmp_path, "def.json", definition(RULE, "[parameters('effect')]", parameters=params))
    r = write(tmp_path, "res.json", SA)
    p = write(tmp_path, "params.json", {"effect": {"value": "Deny"}})
    result = runner.invoke(app, ["evaluate", str(d), str(r), "--parameters", str(p), "--format", "json"])
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert out["matched"] is True and out["effect"] == "deny" and out["compliant"] is False and out["denied"]
    ok = write(tmp_path, "ok.json", dict(SA, properties={"publicNetworkAccess": "Disabled"}))
    result = runner.invoke(app, ["evaluate", str(d), str(ok)])
    assert result.exit_code == 0 and "COMPLIANT" in result.stdout


def test_evaluate_text_explains_the_deciding_condition(tmp_path) -> None:
    d = write(tmp_path, "def.json", definition(RULE))
    r = write(tmp_path, "res.json", SA)
    result = runner.invoke(app, ["evaluate", str(d), str(r)])
    assert result.exit_code == 1
    assert "NON-COMPLIANT" in result.stdout
    assert 'publicNetworkAccess\' = "Enabled"; notEquals "Disabled" → true' in result.stdout


def test_evaluate_modify_prints_the_remediated_resource_and_related_file(tmp_path) -> None:
    d = write(
        tmp_path,
        "def.json",
        definition(
            {"field": "tags['env']", "exists": False},
            "modify",
            details={
                "roleDefinitionIds": ["/providers/Microsoft.Authorization/roleDefinitions/4a9ae827-6dc8-4573-8ac7-8239d42aa03f"],
                "operations": [{"operation": "add", "field": "tags['env']", "value": "dev"}],
            },
        ),
    )
    r = write(tmp_path, "res.json", SA)
    rel = write(tmp_path, "rel.json", [])
    result = runner.invoke(app, ["evaluate", str(d), str(r), "--related", str(rel), "-f", "json"])
    assert json.loads(result.stdout)["modified"]["tags"] == {"env": "dev"}


def test_bad_input_exits_2_without_traceback(tmp_path) -> None:
    d = write(tmp_path, "def.json", definition({"field": "name", "exists": "maybe"}))
    r = write(tmp_path, "res.json", SA)
    bad = tmp_path / "broken.json"
    bad.write_text("{\n  nope\n}")
    for args in ([str(d), str(r)], [str(bad), str(r)]):
        proc = subprocess.run([sys.executable, "-m", "policygen", "evaluate", *args], capture_output=True, text=True)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "policygen", "evaluate", str(bad), str(r)], capture_output=True, text=True
    )
    assert f"{bad}:2:3:" in proc.stderr


def test_policy_tests_of_the_mlops_pack_pass(repo_dir) -> None:
    result = runner.invoke(app, ["test", str(repo_dir)])
    assert result.exit_code == 0, result.stdout
    assert " passed in " in result.stdout and "failed" not in result.stdout


def _copy_pack(repo_dir: Path, tmp_path: Path) -> Path:
    pack = tmp_path / "pack"
    pack.mkdir()
    shutil.copy(repo_dir / "policygen.yaml", pack)
    for sub in ("definitions", "initiatives", "assignments", "examples"):
        if (repo_dir / sub).is_dir():
            shutil.copytree(repo_dir / sub, pack / sub)
    return pack


def test_failing_policy_test_exits_1_with_its_location(repo_dir, tmp_path) -> None:
    pack = _copy_pack(repo_dir, tmp_path)
    target = pack / "definitions" / "mlc-local-auth.yaml"
    text = target.read_text()
    assert "expect: {compliant: true}" in text
    target.write_text(text.replace("expect: {compliant: true}", "expect: {compliant: false}", 1))
    result = runner.invoke(app, ["test", str(pack), "-v"])
    assert result.exit_code == 1
    assert "FAILED" in result.stdout and "1 failed" in result.stdout
    assert "definitions/mlc-local-auth.yaml:" in result.stdout and "expected compliant=false" in result.stdout


def test_impact_on_the_pack_with_all_formats(repo_dir) -> None:
    inventory = repo_dir / "examples" / "inventory" / "mlops.json"
    table = runner.invoke(app, ["impact", str(repo_dir), "--resources", str(inventory)])
    assert table.exit_code == 1 and "Impact on" in table.stdout
    as_json = runner.invoke(
        app, ["impact", str(repo_dir), "-r", str(inventory), "-f", "json", "-a", "mlops-prod-baseline"]
    )
    data = json.loads(as_json.stdout)
    assert data["resources"] > 0 and any(r["denied"] for r in data["results"])
    assert {"policy", "displayName", "effect", "evaluated", "nonCompliant", "denied", "errors"} <= set(
        data["policies"][0]
    )
    as_csv = runner.invoke(app, ["impact", str(repo_dir), "-r", str(inventory), "-f", "csv", "--exit-zero"])
    assert as_csv.exit_code == 0
    assert as_csv.stdout.splitlines()[0] == "policy,effect,resourceId,resourceType,matched,compliant,denied,error"


def test_impact_with_definition_files_and_clean_inventory(tmp_path) -> None:
    folder = tmp_path / "defs"
    folder.mkdir()
    write(folder, "public.json", definition(RULE))
    write(folder, "set.json", {"properties": {"policyDefinitions": []}})  # skipped in folders
    clean = write(tmp_path, "inv.json", {"data": [dict(SA, properties={"publicNetworkAccess": "Disabled"})]})
    result = runner.invoke(app, ["impact", str(folder), "-r", str(clean)])
    assert result.exit_code == 0, result.stdout
    dirty = write(tmp_path, "dirty.json", [SA])
    result = runner.invoke(app, ["impact", str(folder / "public.json"), "-r", str(dirty), "-f", "json"])
    assert result.exit_code == 1 and json.loads(result.stdout)["results"][0]["resourceId"] == SA["id"]


def test_arm_escaped_definitions_are_unescaped(tmp_path) -> None:
    params = {"effect": {"type": "String", "defaultValue": "Deny"}}
    escaped = definition(
        {"field": "name", "equals": "[[parameters('n')]"},
        "[[parameters('effect')]",
        parameters={**params, "n": {"type": "String", "defaultValue": "sa1"}},
    )
    # an ARM template resource (apiVersion beside type, as the Enterprise-Scale sources): ARM un-escapes it
    template_resource = {**escaped, "type": "Microsoft.Authorization/policyDefinitions", "apiVersion": "2021-06-01"}
    d = write(tmp_path, "def.json", template_resource)
    r = write(tmp_path, "res.json", SA)
    out = json.loads(runner.invoke(app, ["evaluate", str(d), str(r), "-f", "json"]).stdout)
    assert out["effect"] == "deny" and out["matched"] is True


def test_escaped_rest_body_is_refused_not_unescaped(tmp_path, capsys) -> None:
    # issue #12: a REST body is what Azure receives; "[[parameters('effect')]" is the literal effect
    # "[parameters('effect')]", which Azure rejects (FN-04): evaluate refuses it with file:line, exit 2
    escaped = definition({"field": "name", "equals": "sa1"}, "[[parameters('effect')]",
                         parameters={"effect": {"type": "String", "defaultValue": "Deny"}})
    d = write(tmp_path, "def.json", escaped)
    r = write(tmp_path, "res.json", SA)
    from policygen.cli import run

    assert run(["evaluate", str(d), str(r)]) == 2
    err = capsys.readouterr().err
    assert f"{d}:" in err and "FN-04" in err


def test_evaluate_and_impact_refuse_what_azure_refuses(tmp_path, capsys) -> None:
    # unknown condition key; a key beside allOf: Azure would not have created these definitions
    # (https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule)
    from policygen.cli import run

    r = write(tmp_path, "res.json", SA)
    inv = write(tmp_path, "inv.json", [SA])
    for cond in ({"field": "name", "equals": "sa1", "bogus": 1},
                 {"allOf": [{"field": "name", "equals": "sa1"}], "field": "type", "equals": "x"}):
        d = write(tmp_path, "def.json", definition(cond))
        capsys.readouterr()
        assert run(["evaluate", str(d), str(r)]) == 2
        assert f"{d}:1:" in capsys.readouterr().err
        assert run(["impact", str(d), "-r", str(inv)]) == 2
        assert f"{d}:1:" in capsys.readouterr().err


def test_impact_why_explains_flagged_resources(tmp_path) -> None:
    d = write(tmp_path, "def.json", definition(RULE))
    inv = write(tmp_path, "inv.json", [SA])
    result = runner.invoke(app, ["impact", str(d), "-r", str(inv), "--why", "-f", "csv"])
    header, row = result.stdout.splitlines()[:2]
    assert header.endswith(",reason") and "notEquals" in row
    table = runner.invoke(app, ["impact", str(d), "-r", str(inv), "--why"])
    assert "why:" in table.stdout


def test_policy_tests_refuse_a_definition_azure_would_not_create(repo_dir, tmp_path, capsys) -> None:
    # issue #12: `test` evaluates only what validates; the refusal points at the intent's YAML line
    from policygen.cli import run

    pack = _copy_pack(repo_dir, tmp_path)
    (pack / "definitions" / "zz-bad.yaml").write_text(
        "intent: custom\n"
        "displayName: Bad rule\n"
        "description: An unknown condition key.\n"
        "settings:\n"
        "  mode: All\n"
        "  if:\n"
        "    field: type\n"
        "    equals: Microsoft.Storage/storageAccounts\n"
        "    bogus: 1\n"
        "tests:\n"
        "  - name: any\n"
        "    resource: {type: Microsoft.Storage/storageAccounts, name: sa}\n"
        "    expect: {compliant: false}\n"
    )
    capsys.readouterr()
    assert run(["test", str(pack), "-k", "zz-bad"]) == 2
    err = capsys.readouterr().err
    assert "zz-bad.yaml:" in err and "bogus" in err
