"""The plan's list reads go through the SDK clients' own pipelines as JSON (issue #17: turning an estate's
objects into models and back cost more CPU than the calls) and ask for the api-version the SDK's writes
use, so what is read back has the shape of what was written. Over HTTP against the emulator.

REST list operations: https://learn.microsoft.com/rest/api/policy/policy-definitions/list-by-management-group,
https://learn.microsoft.com/rest/api/policy/policy-assignments/list-for-management-group,
https://learn.microsoft.com/rest/api/authorization/role-assignments/list-for-scope
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policygen.azure.apply import execute
from tests.azure.deploy_support import MINI_PACK, Session, emulator, write_pack

COLLECTIONS = ("policyDefinitions", "policySetDefinitions", "policyAssignments", "roleAssignments")


def test_list_reads_use_the_api_version_of_the_sdk_writes_and_page(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    root = write_pack(tmp_path, MINI_PACK)
    with emulator(monkeypatch, page_size=1) as url:  # one item per page: every list follows nextLink
        s = Session(root)
        first = s.plan()
        assert execute(first, s.arm).ok
        since = len(url.requests)
        again = s.plan()
        assert not again.has_changes  # what was written reads back equal
        log = url.requests
        for collection in COLLECTIONS:
            puts = {r["api_version"] for r in log[:since] if r["method"] == "PUT" and f"/{collection}/" in r["path"]}
            lists = [r for r in log[since:] if r["method"] == "GET" and r["path"].endswith(f"/{collection}")]
            assert puts and lists, collection
            assert {r["api_version"] for r in lists} == puts, collection
        counts = again.prior["counts"]
        assert counts["definitions"] == 2 and counts["initiatives"] == 1 and counts["assignments"] == 1
        assert counts["role_assignments"] >= 1
        pages = [r for r in log[since:] if r["method"] == "GET" and r["path"].endswith("/policyDefinitions")]
        assert len(pages) == 2  # two definitions, one per page: the first page's nextLink was followed
