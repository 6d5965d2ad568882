"""`status`: compliance per assignment from policy states (summarize per scope)."""

from __future__ import annotations

import pytest

from policygen.azure.apply import execute
from policygen.azure.status import compliance
from policygen.azure.workflow import deployed_assignments
from tests.azure.deploy_support import REPO, Session, cli, emulator


def test_compliance_per_assignment(monkeypatch: pytest.MonkeyPatch) -> None:
    with emulator(monkeypatch) as url:
        s = Session(REPO)
        assert compliance(s.arm, deployed_assignments(s.build, s.target, s.arm)) == []
        assert execute(s.plan(), s.arm, remediate=False).ok
        rows = compliance(s.arm, deployed_assignments(s.build, s.target, s.arm))
        assert [r.name for r in rows] == sorted(s.build.assignments)
        for r in rows:
            assert r.evaluated > 0 and r.policies > 0
            assert all(m.noncompliant_resources <= r.noncompliant_resources for m in r.members)
            # the same number from the raw policy states of that assignment
            states = s.arm.query_states(r.scope, r.id)
            failing = {x["resourceId"].lower() for x in states if x.get("complianceState") == "NonCompliant"}
            assert r.noncompliant_resources == len(failing)
        assert sum(r.noncompliant_resources for r in rows) > 0
        summaries = [q for q in url.requests if q["path"].endswith("/summarize")]
        assert len(summaries) == len({r.scope.lower() for r in rows})

        result = cli(["status", str(REPO), "--env", "local", "--members"])
        assert result.exit_code == 0, result.output
        for name in s.build.assignments:
            assert name in result.output
