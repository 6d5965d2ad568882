"""Remediation against the emulator: a modify and a deployIfNotExists member change emulated resources,
running tasks are not duplicated, on-demand evaluation first, and --wait fails when a task fails."""

from __future__ import annotations

import pytest

from policygen.azure.apply import execute
from policygen.azure.clients import build_clients
from policygen.azure.remediate import run_remediation, tasks_for
from policygen.azure.workflow import remediation_setup
from tests.azure.deploy_support import PROD, REPO, SUB_PROD, Session, cli, emulator, writes

RG = f"/subscriptions/{SUB_PROD}/resourceGroups/rg-mlops-legacy/providers"
WORKSPACE = f"{RG}/Microsoft.MachineLearningServices/workspaces/mlw-mlops-legacy"
COMPUTE = f"{WORKSPACE}/computes/gpu-cluster"
PRICING = f"/subscriptions/{SUB_PROD}/providers/Microsoft.Security/pricings/Arm"
ENDPOINT = f"{RG}/Microsoft.Network/privateEndpoints/pe-mlw-mlops-legacy-amlworkspace"


def _get(url: str, rid: str) -> dict | None:
    from azure.core.exceptions import ResourceNotFoundError

    clients = build_clients(SUB_PROD, endpoint=url, retry_total=0)
    try:
        return clients.resources.resources.get_by_id(rid, api_version="2024-04-01").as_dict()
    except ResourceNotFoundError:
        return None
    finally:
        clients.close()


def test_modify_and_deploy_if_not_exists_change_resources(monkeypatch: pytest.MonkeyPatch) -> None:
    with emulator(monkeypatch) as url:
        s = Session(REPO)
        assert execute(s.plan(), s.arm, remediate=False).ok
        assert _get(url, WORKSPACE)["properties"]["publicNetworkAccess"] == "Enabled"
        assert _get(url, PRICING)["properties"]["pricingTier"] == "Free"
        assert _get(url, ENDPOINT) is None

        setup = remediation_setup(s.build, s.target, s.arm)
        start, running, _ = tasks_for(setup.pairs, setup.remote.remediations)
        assert not running
        # one task per DINE/modify member reference id of the assignments that have such members
        refs = {(t.assignment, t.reference_id) for t in start}
        assert ("mlops-prod-remediation", "mlw-public-network-modify") in refs
        assert ("mlops-prod-remediation", "mlops-defender-arm") in refs
        assert all(t.effect in ("modify", "deployifnotexists") for t in start)
        run = run_remediation(s.arm, start, running, evaluate_scopes=[PROD], wait=True, poll_s=0.02, timeout_s=30)
        assert run.ok and all(t.state == "Succeeded" for t in run.tasks)
        assert run.evaluated == [f"/subscriptions/{SUB_PROD}"]
        assert any(r["method"] == "POST" and r["path"].endswith("/triggerEvaluation") for r in url.requests)

        # modify: properties changed in place; deployIfNotExists: resources deployed
        assert _get(url, WORKSPACE)["properties"]["publicNetworkAccess"] == "Disabled"
        assert _get(url, COMPUTE)["properties"]["disableLocalAuth"] is True
        assert _get(url, PRICING)["properties"]["pricingTier"] == "Standard"
        assert _get(url, ENDPOINT) is not None


def test_an_equivalent_running_task_is_not_started_again(monkeypatch: pytest.MonkeyPatch) -> None:
    with emulator(monkeypatch, remediation_step_s=0.3) as url:
        s = Session(REPO)
        assert execute(s.plan(), s.arm, remediate=False).ok
        setup = remediation_setup(s.build, s.target, s.arm, only="mlops-prod-remediation")
        start, running, _ = tasks_for(setup.pairs, setup.remote.remediations)
        first = run_remediation(s.arm, start, running)
        assert first.tasks and all(t.started_here for t in first.tasks)

        since = len(url.requests)
        setup = remediation_setup(s.build, s.target, s.arm, only="mlops-prod-remediation")
        start, running, _ = tasks_for(setup.pairs, setup.remote.remediations)
        assert start == [] and len(running) == len(first.tasks)
        second = run_remediation(s.arm, start, running, wait=True, poll_s=0.05, timeout_s=30)
        assert writes(url, since) == []  # nothing created: it waited for the running ones
        assert second.ok and not any(t.started_here for t in second.tasks)


def test_remediate_wait_exits_non_zero_when_a_task_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    with emulator(monkeypatch) as url:
        s = Session(REPO)
        assert execute(s.plan(), s.arm, remediate=False).ok
        for ra in s.arm.list_role_assignments(PROD):  # the identity loses its roles: deployments are refused
            s.arm.delete_role_assignment(PROD, ra["name"])
        result = cli(["remediate", str(REPO), "--env", "local", "--wait", "--assignment", "mlops-prod-remediation"])
        assert result.exit_code == 1, result.output
        assert "Failed" in result.output and "failed" in result.output

        result = cli(["remediate", str(REPO), "--env", "local", "--assignment", "nope"])
        assert result.exit_code == 2 and "no assignment 'nope'" in result.output
        assert url.requests
