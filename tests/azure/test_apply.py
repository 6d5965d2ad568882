"""Apply against the emulator through the real SDK clients: the MLOps pack on the two-MG hierarchy, roles
exactly as derived, idempotence, dependency order, bounded concurrency, faults, interruption and kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from policygen.arm.effects import REMEDIATING
from policygen.arm.scopes import key, name_of_id
from policygen.azure.apply import ApplyInterrupted, NullReporter, execute
from policygen.azure.plan import role_assignment_name
from tests.azure.deploy_support import DEV, MINI_PACK, PROD, REPO, ROOT, Session, emulator, write_pack, writes


def expected_roles(build) -> set[tuple[str, str]]:
    """(assignment name, role guid): derived independently from the built bodies, the way the docs say."""
    out: set[tuple[str, str]] = set()
    for name, a in build.assignments.items():
        init_id = a.body["properties"]["policyDefinitionId"]
        init = next(i for i in build.initiatives.values() if build.definition_id("initiative", i.name) == init_id)
        given = {k: v["value"] for k, v in a.body["properties"].get("parameters", {}).items()}
        init_params = init.body["properties"].get("parameters", {})
        for ref in init.body["properties"]["policyDefinitions"]:
            d = build.definitions[name_of_id(ref["policyDefinitionId"])]
            effect = d.body["properties"]["policyRule"]["then"]["effect"]
            if effect.startswith("[parameters("):
                passed = ref.get("parameters", {}).get("effect", {}).get("value")
                if passed and passed.startswith("[parameters("):
                    p = passed.split("'")[1]
                    effect = given.get(p, init_params.get(p, {}).get("defaultValue"))
                elif passed:
                    effect = passed
                else:
                    effect = d.body["properties"]["parameters"]["effect"]["defaultValue"]
            if str(effect).lower() in REMEDIATING:
                for rid in d.body["properties"]["policyRule"]["then"]["details"].get("roleDefinitionIds", []):
                    out.add((name, name_of_id(rid).lower()))
    return out


def test_fresh_apply_of_the_mlops_pack_then_no_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    with emulator(monkeypatch) as url:
        s = Session(REPO)
        plan = s.plan()
        result = execute(plan, s.arm, concurrency=16)
        assert result.ok, [r.error for r in result.results if not r.ok]
        assert result.counts()["created"] == len(plan.changes)

        defs = {d["name"] for d in s.arm.list_definitions("definition", ROOT)}
        sets = {d["name"] for d in s.arm.list_definitions("initiative", ROOT)}
        assert defs == set(s.build.definitions) and sets == set(s.build.initiatives)
        assigned = {a["name"]: a for scope in (PROD, DEV) for a in s.arm.list_assignments(scope)}
        assert set(assigned) == set(s.build.assignments)
        for name, a in assigned.items():
            assert key(a["properties"]["scope"]) == key(s.build.assignments[name].scope)
            assert a["properties"]["metadata"]["pacOwnerId"] == s.build.pack.owner_id

        # role assignments exactly as derived: named roles only, at the assignment scope, as ServicePrincipal,
        # for the assignment's own identity, under the deterministic name
        granted = [r for scope in (PROD, DEV) for r in s.arm.list_role_assignments(scope)]
        by_principal = {a["identity"]["principalId"]: n for n, a in assigned.items() if a.get("identity")}
        got = {(by_principal[r["properties"]["principalId"]], name_of_id(r["properties"]["roleDefinitionId"]).lower())
               for r in granted}
        assert got == expected_roles(s.build) and got
        for r in granted:
            p = r["properties"]
            asg = assigned[by_principal[p["principalId"]]]
            assert key(p["scope"]) == key(asg["properties"]["scope"])
            assert p["principalType"] == "ServicePrincipal"
            assert r["name"] == role_assignment_name(p["scope"], p["principalId"], name_of_id(p["roleDefinitionId"]))

        # remediation tasks were started for the assignment that asks for them
        assert {t["address"] for t in result.remediations} == {t.address for t in plan.remediations}

        # plan after apply is empty, and a second apply writes nothing
        since = len(url.requests)
        again = s.plan()
        assert not again.has_changes, [c.address for c in again.pending()]
        assert execute(again, s.arm).results == []
        assert writes(url, since) == []


def test_writes_follow_dependencies_and_concurrency_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    with emulator(monkeypatch, latency_ms=15) as url:
        s = Session(REPO, concurrency=4)
        plan = s.plan()
        since = len(url.requests)
        assert execute(plan, s.arm, concurrency=4).ok
        log = [r for r in url.requests[since:] if r["method"] == "PUT"]
        # intervals [start, end] of every write; never more than 4 at once
        spans = sorted((r["ts"] - r["ms"] / 1000, r["ts"]) for r in log)
        peak = max(sum(1 for a, b in spans if a <= t < b) for t, _ in spans)
        assert 2 <= peak <= 4
        kinds = [r["path"].split("/providers/Microsoft.")[-1].split("/")[1] for r in log]
        last = {k: max(i for i, x in enumerate(kinds) if x == k) for k in set(kinds)}
        first = {k: min(i for i, x in enumerate(kinds) if x == k) for k in set(kinds)}
        assert first["policyAssignments"] > min(i for i, x in enumerate(kinds) if x == "policySetDefinitions")
        assert first["roleAssignments"] > first["policyAssignments"]
        assert last["remediations"] == len(kinds) - 1


def test_faults_converge_without_duplicates(monkeypatch: pytest.MonkeyPatch) -> None:
    with emulator(monkeypatch, rate_429=0.25, rate_5xx=0.1, rate_reset=0.05, retry_after=0, fault_seed=7,
                  principal_failures=3) as url:
        s = Session(REPO, concurrency=8)
        plan = s.plan()
        result = execute(plan, s.arm, concurrency=8)
        assert result.ok, [r.error for r in result.results if not r.ok]
        stats = result.stats
        assert stats["throttled"] and stats["server_errors"] and stats["connection_errors"]
        assert stats["principal_waits"] >= 3
        url.clear_faults()
        assert not s.plan().has_changes
        granted = [r for scope in (PROD, DEV) for r in s.arm.list_role_assignments(scope)]
        triples = [(key(r["properties"]["scope"]), r["properties"]["principalId"],
                    name_of_id(r["properties"]["roleDefinitionId"])) for r in granted]
        assert len(triples) == len(set(triples)) == len(expected_roles(s.build))
        assert len(s.arm.list_definitions("definition", ROOT)) == len(s.build.definitions)


def test_principal_not_found_window_is_waited_out(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pack = write_pack(tmp_path, MINI_PACK)
    with emulator(monkeypatch, principal_delay_s=0.4):
        s = Session(pack)
        result = execute(s.plan(), s.arm)
        assert result.ok
        assert result.stats["principal_waits"] >= 1
        assert len(s.arm.list_role_assignments(PROD)) == 1


def test_a_failed_write_skips_only_its_dependants(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pack = write_pack(tmp_path, MINI_PACK)
    with emulator(monkeypatch, rate_5xx=1.0, status_5xx=500, only_paths="policyDefinitions/tagged"):
        s = Session(pack, attempts=2)
        result = execute(s.plan(), s.arm)
        status = {r.address: r.status for r in result.results}
        assert status["definition.tagged"] == "failed"
        assert status["definition.ws-private"] == "done"
        assert status["initiative.base"] == status["assignment.mini-base"] == "skipped"
        assert not result.ok


class _StopAfter(NullReporter):
    def __init__(self, n: int):
        self.n = n

    def op_finished(self, op, result) -> None:  # noqa: ANN001
        self.n -= 1
        if self.n == 0:
            raise KeyboardInterrupt


def test_interrupted_apply_converges_on_rerun(monkeypatch: pytest.MonkeyPatch) -> None:
    with emulator(monkeypatch) as url:
        s = Session(REPO, concurrency=4)
        plan = s.plan()
        with pytest.raises(ApplyInterrupted) as stop:
            execute(plan, s.arm, concurrency=4, reporter=_StopAfter(10))
        assert stop.value.result.interrupted and 10 <= len(stop.value.result.results) < len(plan.changes)
        rerun = s.plan()
        assert rerun.summary()["add"] == len(plan.changes) - len([r for r in stop.value.result.results if r.ok])
        assert execute(rerun, s.arm).ok
        assert not s.plan().has_changes
        since = len(url.requests)
        assert execute(s.plan(), s.arm).results == [] and writes(url, since) == []


def test_apply_killed_with_sigkill_then_rerun(monkeypatch: pytest.MonkeyPatch) -> None:
    with emulator(monkeypatch, latency_ms=40) as url:
        env = {**os.environ, "POLICYGEN_ENDPOINT": url, "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen([sys.executable, "-m", "policygen", "apply", str(REPO), "--env", "local", "--yes",
                                 "--concurrency", "2", "--quiet"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while len([r for r in url.requests if r["method"] == "PUT"]) < 12 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        url.clear_faults()
        done = len([r for r in url.requests if r["method"] == "PUT"])
        assert 12 <= done < 40  # killed part-way

        s = Session(REPO)
        rerun = s.plan()
        assert rerun.has_changes and any(c.actions == ["no-op"] for c in rerun.changes)
        assert execute(rerun, s.arm).ok
        assert not s.plan().has_changes
        defs = s.arm.list_definitions("definition", ROOT)
        assert len(defs) == len({d["name"].lower() for d in defs}) == len(s.build.definitions)
        granted = [r for scope in (PROD, DEV) for r in s.arm.list_role_assignments(scope)]
        assert len(granted) == len(expected_roles(s.build))


def test_user_assigned_identity_gets_its_roles_and_switching_moves_them(monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
    uami = ("/subscriptions/00000000-0000-0000-0000-0000000000a1/resourceGroups/rg-hub-network/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/id-policy")
    files = dict(MINI_PACK)
    files["assignments/base.yaml"] = MINI_PACK["assignments/base.yaml"].replace(
        "identity: {type: SystemAssigned}", f"identity: {{type: UserAssigned, userAssignedIdentity: '{uami}'}}")
    pack = write_pack(tmp_path, files)
    with emulator(monkeypatch):
        s = Session(pack)
        assert execute(s.plan(), s.arm).ok
        [asg] = s.arm.list_assignments(PROD)
        principal = next(iter(asg["identity"]["userAssignedIdentities"].values()))["principalId"]
        [role] = s.arm.list_role_assignments(PROD)
        assert role["properties"]["principalId"] == principal
        assert not s.plan().has_changes

        (pack / "assignments/base.yaml").write_text(
            MINI_PACK["assignments/base.yaml"].replace("\n        ", "\n").strip() + "\n")
        s.recompile()
        plan = s.plan()
        assert plan.by_address()["assignment.mini-base"].action_reason == "replace_because_identity_type_changed"
        assert plan.by_address()["role_assignment.mini-base.Contributor"].actions == ["delete", "create"]
        assert execute(plan, s.arm).ok
        [asg] = s.arm.list_assignments(PROD)
        [role] = s.arm.list_role_assignments(PROD)
        assert role["properties"]["principalId"] == asg["identity"]["principalId"] != principal
        assert not s.plan().has_changes
