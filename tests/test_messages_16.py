"""#16 item 18 and the quiet-apply leftover: messages a person at a terminal reads, through `policygen.cli.run`
(and the emulator over HTTP with the real SDK clients where apply/remediate are involved)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from policygen.cli import run
from tests.azure.deploy_support import MINI_PACK, Session, emulator, write_pack, writes
from tests.render.helpers import write_pack as write_render_pack

LOCATIONS = """
intent: allowed-locations
resourceTypes: [Microsoft.Storage/storageAccounts]
displayName: Allowed locations
settings: {locations: [westeurope]}
tests:
  - name: an account in westeurope passes
    resource: {id: /subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a, type: Microsoft.Storage/storageAccounts, name: a, location: westeurope}
    expect: {compliant: true}
  - name: an account in eastus is flagged (wrongly expected compliant here, so this test fails)
    resource: {id: /subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/b, type: Microsoft.Storage/storageAccounts, name: b, location: westeurope}
    expect: {compliant: false, effect: deny}
"""


def test_indentation_error_says_what_to_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_render_pack(tmp_path, {"definitions/a.yaml": (
        "intent: custom\ndisplayName: x\nsettings:\n  if: {field: type, equals: a}\n   mode: All\n")})
    assert run(["validate", str(root)]) == 2
    out = capsys.readouterr()
    assert re.search(r"a\.yaml:5:4: .*invalid YAML: expected <block end>.*: check the indentation of this line and "
                     r"the one above", out.out + out.err), out


def test_demo_names_the_missing_seed_instead_of_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_pack(tmp_path, {**MINI_PACK})
    assert run(["demo", str(root)]) == 2
    out = capsys.readouterr()
    text = out.out + out.err
    assert "environment 'local' needs a `seed` file for the emulator (it sets no `seed:`)" in text, text
    assert "None" not in text


def test_a_failed_case_does_not_make_its_definition_untested(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A definition with a compliant and a non-compliant case is covered even when a case fails."""
    root = write_render_pack(tmp_path, {"definitions/loc.yaml": LOCATIONS})
    assert run(["test", str(root)]) == 1
    text = "".join(capsys.readouterr())
    assert "expected compliant=false, got true" in text, text
    assert "None" not in text
    assert "without both a compliant and a non-compliant case" not in text, text


def test_untested_warning_still_names_a_definition_lacking_a_side(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    only_compliant = LOCATIONS.split("  - name: an account in eastus")[0]
    root = write_render_pack(tmp_path, {"definitions/loc.yaml": only_compliant})
    assert run(["test", str(root)]) == 0
    assert "without both a compliant and a non-compliant case: loc" in "".join(capsys.readouterr())


def test_undeclared_initiative_group_gets_did_you_mean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_render_pack(tmp_path, {
        "definitions/loc.yaml": LOCATIONS,
        "initiatives/set.yaml": """
        name: set
        displayName: Set
        groups: [{name: residency}, {name: network}]
        members:
          - {definition: loc, groups: [residncy]}
        """,
    })
    assert run(["build", str(root), "--out", str(tmp_path / "out")]) == 2
    text = "".join(capsys.readouterr())
    assert "set.yaml:5:32: group 'residncy' is not declared in groups; did you mean 'residency'?" in text, text


def test_remediate_right_after_apply_starts_no_empty_task(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Apply starts the Modify member's task; once it has fixed every workspace, `remediate --wait` has nothing
    to do and must not start a second task that deploys nothing (remediation tasks remediate only
    non-compliant resources: https://learn.microsoft.com/azure/governance/policy/how-to/remediate-resources)."""
    root = write_pack(tmp_path / "p", MINI_PACK)
    with emulator(monkeypatch) as url:
        assert run(["apply", str(root), "--env", "local", "--yes", "--quiet"]) == 0
        session = Session(root)
        [task] = [r for r in writes(url) if "/remediations/" in r["path"]]
        name = task["path"].rsplit("/", 1)[-1]
        state = ""
        while state.lower() not in ("succeeded", "failed", "canceled"):  # poll until apply's own task ends
            state = session.arm.get_remediation(
                "/providers/Microsoft.Management/managementGroups/mlops-prod", name)["properties"]["provisioningState"]
            time.sleep(0.02)
        assert state == "Succeeded"
        since = len(url.requests)
        capsys.readouterr()
        assert run(["remediate", str(root), "--env", "local", "--wait"]) == 0
        assert [r for r in writes(url, since) if "/remediations/" in r["path"]] == []
    text = "".join(capsys.readouterr())
    assert "mini-base/ws-private: no non-compliant resources in the latest compliance data; nothing to remediate" \
        in text, text


def test_apply_quiet_prints_no_retry_lines(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Throttled writes are retried (ARM's 429 with Retry-After); --quiet keeps them to the summary count."""
    inject = [{"path": "policyDefinitions", "method": "PUT", "status": 429, "code": "SubscriptionRequestsThrottled",
               "count": 3, "retry_after": 0}]
    for quiet, root in ((True, tmp_path / "q"), (False, tmp_path / "v")):
        write_pack(root, MINI_PACK)
        with emulator(monkeypatch, inject=inject):
            capsys.readouterr()
            assert run(["apply", str(root), "--env", "local", "--yes", *(["--quiet"] if quiet else [])]) == 0
            text = "".join(capsys.readouterr())
        retry_lines = [line for line in text.splitlines() if re.search(r": retry \d+ in ", line)]
        assert ("3 retries" in text) or ("retries" in text and "0 retries" not in text), text
        assert (retry_lines == []) if quiet else len(retry_lines) == 3, text


def test_evaluate_names_a_resource_without_id_in_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A resource JSON with only a location: the report says so instead of printing `None/None`."""
    import json

    definition = {"properties": {"mode": "All", "parameters": {}, "policyRule": {
        "if": {"field": "location", "equals": "eastus"}, "then": {"effect": "audit"}}}}
    (tmp_path / "def.json").write_text(json.dumps(definition))
    (tmp_path / "res.json").write_text(json.dumps({"location": "eastus"}))
    run(["evaluate", str(tmp_path / "def.json"), str(tmp_path / "res.json")])
    text = "".join(capsys.readouterr())
    assert "resource  (no id, type or name)" in text, text
    assert "None" not in text, text
