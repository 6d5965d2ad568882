"""tasks.impact: counts belong to one run (no state carried between runs) and the GC is restored."""

from __future__ import annotations

import gc
import json
from pathlib import Path

from policygen.tasks.impact import prepare, run
from tests.evaluate.helpers import definition

RULE = {
    "allOf": [
        {"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
        {"field": "Microsoft.Storage/storageAccounts/publicNetworkAccess", "notEquals": "Disabled"},
    ]
}


def _account(name: str, access: str) -> dict:
    return {"id": f"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/{name}",
            "type": "Microsoft.Storage/storageAccounts", "name": name, "location": "westeurope",
            "properties": {"publicNetworkAccess": access}}


def _inputs(tmp_path: Path):
    (tmp_path / "public.json").write_text(json.dumps(definition(RULE)))
    inventory = [_account("open1", "Enabled"), _account("open2", "Enabled"), _account("closed", "Disabled")]
    (tmp_path / "inv.json").write_text(json.dumps(inventory))
    return prepare([tmp_path / "public.json"], tmp_path / "inv.json")


def test_two_runs_count_the_same_and_keep_only_flagged_rows(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path)
    first, second = run(inputs), run(inputs)
    for result in (first, second):
        assert result.resources == 3 and result.flagged == 2
        assert [s["evaluated"] for s in result.summary] == [3]
        assert sorted(r.resource_id.rsplit("/", 1)[-1] for r in result.rows) == ["open1", "open2"]


def test_keep_all_and_per_policy_limit(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path)
    assert len(run(inputs, keep_all=True).rows) == 3
    limited = run(inputs, keep_all=True, per_policy=1)
    assert len(limited.rows) == 1 and limited.summary[0]["evaluated"] == 3


def test_the_cyclic_gc_is_back_on_after_a_run(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path)
    run(inputs)
    assert gc.isenabled()


def test_the_rows_kept_per_policy_are_the_first_in_inventory_order_whatever_the_jobs(tmp_path: Path) -> None:
    """Each process caps the rows it keeps per policy over the batches it meets (in input order); the
    table still shows the first `per_policy` flagged resources of the whole inventory."""
    (tmp_path / "public.json").write_text(json.dumps(definition(RULE)))
    # 9,000 accounts (five batches): only a few per batch are flagged, more in the later batches
    inventory = [_account(f"a{i}", "Enabled" if i % 997 == 0 or i > 8_000 else "Disabled") for i in range(9_000)]
    (tmp_path / "inv.json").write_text(json.dumps(inventory))
    firsts = []
    for jobs in (1, 2):
        inputs = prepare([tmp_path / "public.json"], tmp_path / "inv.json", jobs=jobs)
        result = run(inputs, per_policy=12, jobs=jobs)
        assert result.flagged == 9 + 999
        firsts.append([r.resource_id.rsplit("/", 1)[-1] for r in result.rows])
    want = [f"a{i}" for i in range(0, 8_001, 997)] + ["a8001", "a8002", "a8003"]
    assert firsts[0] == firsts[1] == want
