"""The deploy CLI: plan text/json, --detailed-exitcode, saved plans as approval, stale plans refused,
approval required, unreachable endpoints reported without a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policygen.azure.target import ENDPOINT_ENV
from tests.azure.deploy_support import MINI_PACK, ROOT, Session, cli, emulator, write_pack, writes


def test_plan_apply_cycle_through_the_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "pack", MINI_PACK)
    with emulator(monkeypatch) as url:
        result = cli(["plan", str(pack), "--env", "local", "--detailed-exitcode"])
        assert result.exit_code == 2, result.output
        assert "Plan: 5 to add, 0 to change, 0 to destroy. 1 remediation task to start." in result.output
        assert "+ create" in result.output and "~ update" not in result.output

        out = tmp_path / "plan.json"
        result = cli(["plan", str(pack), "--env", "local", "--out", str(out), "--format", "json"])
        assert result.exit_code == 0
        data = json.loads(result.output)
        assert data["format_version"].startswith("1.") and json.loads(out.read_text())["summary"] == data["summary"]
        assert {tuple(c["actions"]) for c in data["resource_changes"]} == {("create",)}

        # the saved plan is the approval: no prompt, no --yes
        result = cli(["apply", "--plan", str(out)])
        assert result.exit_code == 0, result.output
        assert "Apply complete! Resources: 5 added, 0 changed, 0 destroyed. 1 remediation task started." in result.output

        # applying it again: Azure changed since (it was applied), so it is stale
        result = cli(["apply", "--plan", str(out)])
        assert result.exit_code == 2 and "Saved plan is stale" in result.output

        since = len(url.requests)
        result = cli(["plan", str(pack), "--env", "local", "--detailed-exitcode"])
        assert result.exit_code == 0 and "No changes." in result.output
        result = cli(["apply", str(pack), "--env", "local"])
        assert result.exit_code == 0 and writes(url, since) == []


def test_apply_needs_approval_and_rejects_a_mismatched_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "pack", MINI_PACK)
    with emulator(monkeypatch) as url:
        result = cli(["apply", str(pack), "--env", "local"], input="")
        assert result.exit_code == 2 and "apply needs approval" in result.output
        assert writes(url) == []
        out = tmp_path / "plan.json"
        assert cli(["plan", str(pack), "--out", str(out)]).exit_code == 0
        result = cli(["apply", "--plan", str(out), "--env", "prod"])
        assert result.exit_code == 2 and "cannot be combined" in result.output
        # an object the plan will create appears meanwhile: stale
        Session(pack).arm.put_definition("definition", ROOT, "tagged", {"properties": {
            "displayName": "x", "mode": "All",
            "policyRule": {"if": {"field": "type", "equals": "x"}, "then": {"effect": "audit"}}}})
        result = cli(["apply", "--plan", str(out)])
        assert result.exit_code == 2 and "definition.tagged" in result.output


def test_unreachable_endpoint_is_one_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "pack", MINI_PACK)
    monkeypatch.setenv(ENDPOINT_ENV, "http://127.0.0.1:9")
    result = cli(["plan", str(pack), "--env", "local"])
    assert result.exit_code == 2
    assert "nothing is listening at http://127.0.0.1:9" in result.output and "Traceback" not in result.output
    result = cli(["plan", str(pack), "--env", "local", "--detailed-exitcode"])
    assert result.exit_code == 1
