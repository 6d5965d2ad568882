"""Convergence after partial failure (issue #16): remediation owed by an interrupted apply is planned and
started; apply under ARM's token buckets completes on its first run; a list call that gives up after a
storm of connection resets names the request.

Remediation tasks carry `createdOn`, policy assignments `metadata.createdOn/updatedOn` and `systemData`,
role assignments `createdOn` (https://learn.microsoft.com/rest/api/policy-insights/remediations/get,
https://learn.microsoft.com/azure/governance/policy/concepts/assignment-structure#metadata,
https://learn.microsoft.com/rest/api/authorization/role-assignments/get). Throttling:
https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from policygen.azure.apply import execute
from policygen.azure.plan import CLOCK_SKEW_S, remediated_before_change
from policygen.azure.remote import RemoteObject, RemoteState
from policygen.errors import AzureError
from tests.azure.deploy_support import MINI_PACK, PROD, Session, emulator, write_pack

ASG_ID = f"{PROD}/providers/Microsoft.Authorization/policyAssignments/mini-base"


def post_faults(url: str, faults: dict) -> None:
    """Scripted faults over HTTP, as an operator would set them on a running emulator."""
    req = urllib.request.Request(f"{url}/_admin/faults", data=json.dumps(faults).encode(), method="PUT",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as reply:
        assert reply.status == 200


def edit_assignment(s: Session) -> str:
    asg = s.pack / "assignments" / "base.yaml"
    asg.write_text(asg.read_text().replace("Mini baseline (prod)", "Mini baseline (production)"))
    s.recompile()
    return "assignment.mini-base"


def remove_role_out_of_band(s: Session) -> str:
    """Someone deletes the identity's role assignment: apply grants it again, then owes the remediation."""
    (role,) = s.arm.list_role_assignments(PROD)
    s.arm.delete_role_assignment(PROD, role["name"])
    return "role_assignment.mini-base.Contributor"


@pytest.mark.parametrize("change", [edit_assignment, remove_role_out_of_band])
def test_remediation_owed_by_an_interrupted_apply_is_planned_and_started(monkeypatch: pytest.MonkeyPatch,
                                                                          tmp_path: Path, change) -> None:  # noqa: ANN001
    pack = write_pack(tmp_path, MINI_PACK)
    with emulator(monkeypatch) as url:
        s = Session(pack)
        assert execute(s.plan(), s.arm).remediations
        time.sleep(CLOCK_SKEW_S + 0.2)  # server clocks: the next writes must be later than these tasks
        written = change(s)
        update = s.plan()
        assert [c.address for c in update.pending()] == [written] and update.remediations

        # the assignment or role is written, then every remediation task fails to start
        post_faults(url, {"inject": [{"path": "/remediations/", "method": "PUT", "status": 403,
                                      "code": "AuthorizationFailed", "count": 50}]})
        stopped = execute(update, s.arm)
        status = {r.address: r.status for r in stopped.results}
        assert status.pop(written) in ("done", "exists") and set(status.values()) == {"failed"}
        post_faults(url, {})

        owed = s.plan()  # the objects match the pack now; the tasks are still owed
        assert owed.pending() == []
        assert [t.address for t in owed.remediations] == [t.address for t in update.remediations]
        assert {t.reason for t in owed.remediations} == {"not remediated since the assignment or its roles changed"}
        started = execute(owed, s.arm)
        assert started.ok and [r["address"] for r in started.remediations] == [t.address for t in owed.remediations]
        assert not s.plan().has_changes


def _state(task_at: str, assignment_at: str, role_at: str) -> tuple[list[RemoteObject], RemoteState]:
    principal = "11111111-2222-3333-4444-555555555555"
    asg = RemoteObject("assignment", {"id": ASG_ID, "identity": {"type": "SystemAssigned", "principalId": principal},
                                      "properties": {"metadata": {"createdOn": assignment_at}}})
    role = RemoteObject("role_assignment", {"id": f"{PROD}/providers/Microsoft.Authorization/roleAssignments/r1",
                                            "properties": {"principalId": principal, "createdOn": role_at}})
    task = RemoteObject("remediation", {"id": f"{PROD}/providers/Microsoft.PolicyInsights/remediations/t1",
                                        "properties": {"policyAssignmentId": ASG_ID, "createdOn": task_at}})
    remote = RemoteState(assignments={ASG_ID.lower(): asg}, role_assignments={role.id.lower(): role})
    return [task], remote


@pytest.mark.parametrize(("task_at", "assignment_at", "role_at", "owed"), [
    ("2026-01-01T10:00:00Z", "2026-01-01T09:00:00Z", "2026-01-01T11:00:00.1234567Z", True),  # role granted later
    ("2026-01-01T10:00:00Z", "2026-01-01T10:30:00+00:00", "2026-01-01T09:00:00Z", True),  # assignment written later
    ("2026-01-01T10:00:00Z", "2026-01-01T09:00:00Z", "2026-01-01T09:59:59Z", False),  # remediated after both
    ("2026-01-01T10:00:00.5Z", "2026-01-01T09:00:00Z", "2026-01-01T10:00:01Z", False),  # within clock skew
])
def test_remediation_is_owed_when_the_newest_task_is_older_than_assignment_or_principal(
        task_at: str, assignment_at: str, role_at: str, owed: bool) -> None:
    tasks, remote = _state(task_at, assignment_at, role_at)
    assert remediated_before_change(tasks, remote, ASG_ID.lower()) is owed


def throttle_pack(root: Path, n: int) -> Path:
    """n audit definitions in one initiative, assigned once: n + 2 writes, no identity."""
    files = {"policygen.yaml": MINI_PACK["policygen.yaml"],
             "initiatives/all.yaml": "name: all\ndisplayName: All\nmembers:\n"
             + "".join(f"  - {{definition: d{i:02d}}}\n" for i in range(n)),
             "assignments/all.yaml": "name: all\ndisplayName: All\ninitiative: all\nscope: prod\n"}
    for i in range(n):
        files[f"definitions/d{i:02d}.yaml"] = (
            f"intent: custom\nname: d{i:02d}\ndisplayName: Tag {i}\nsettings:\n  if:\n    allOf:\n"
            f"      - {{field: type, equals: Microsoft.Storage/storageAccounts}}\n"
            f"      - {{field: 'tags[t{i}]', exists: false}}\n")
    return write_pack(root, files)


def test_first_apply_under_token_buckets_paces_itself_and_converges(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    pack = throttle_pack(tmp_path, 48)
    # writes: a bucket of 40 refilled at 2 per second (ARM's 200 and 10, scaled by 0.2): 50 writes must wait
    with emulator(monkeypatch, throttle=True, bucket_scale=0.2) as url:
        s = Session(pack, concurrency=16)
        result = execute(s.plan(), s.arm, concurrency=16)
        assert result.ok, [r.error for r in result.results if not r.ok]
        assert result.stats["throttled"] > 0
        writes = s.arm.pacing["write"]
        assert writes.cuts >= 1 and writes.lowest < 16 and writes.in_flight == 0
        assert not s.plan().has_changes  # the buckets still apply: reads are paced the same way
        assert any(r["status"] == 429 for r in url.requests)


def test_a_reset_storm_on_a_list_call_names_the_request(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from policygen.commands.deploy import azure_errors

    pack = write_pack(tmp_path, MINI_PACK)
    with emulator(monkeypatch, rate_reset=1.0, only_paths="policyAssignments") as url:
        s = Session(pack, attempts=3)
        with pytest.raises(AzureError) as err, azure_errors(s.target.endpoint):
            s.plan()
    message = str(err.value)
    assert f"GET {url}/providers/Microsoft.Management/managementGroups/mlops-" in message
    assert "/providers/Microsoft.Authorization/policyAssignments failed after 3 attempts" in message
    assert "?" not in message and "api-version" not in message  # no query: paging links carry tokens
