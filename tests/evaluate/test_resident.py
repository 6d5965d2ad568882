"""Slices parsed once, by the workers that evaluate them (evaluate.resident via
`evaluate_batches` over a planned `Sliced`): the same batches in the same order as the two-pass
path and the serial reader, counted (resources, bare ones, related ones in input order) before
`begin` and before the first batch; a slice that does not parse hands the file back before anything
is yielded; a failing or dying worker is an error, never a hang.

Related resources follow the auditIfNotExists page
(https://learn.microsoft.com/en-us/azure/governance/policy/concepts/effect-audit-if-not-exists).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policygen.evaluate.parallel import WorkerLost, evaluate_batches
from policygen.evaluate.resident import Unsliced
from policygen.evaluate.slices import planned, scan
from policygen.evaluate.stream import iter_resources
from tests.evaluate.test_slices import POLICIES, inventory, objects, related_ids

pytestmark = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")


def _ids(rows, batch, quiet=None):  # noqa: ANN001, ANN202
    return [r.get("id") for r in batch], [(r.policy, r.resource_id, r.compliant) for r in rows]


def _write(tmp_path: Path, resources: list, ndjson: bool = False) -> Path:
    path = tmp_path / "inv.json"
    text = "".join(json.dumps(r) + "\n" for r in resources) if ndjson else json.dumps(resources, indent=1)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("jobs", [2, 3])
@pytest.mark.parametrize("ndjson", [False, True])
def test_one_pass_gives_what_two_passes_give(tmp_path, jobs, ndjson) -> None:
    path = _write(tmp_path, inventory(300, nested=2), ndjson)
    two = scan([path], POLICIES, jobs, step=2048)
    one = planned([path], jobs, step=2048)
    assert two is not None and one is not None and one.pending and len(one.spans) > jobs
    expected = list(evaluate_batches(POLICIES, two, _ids, jobs=jobs))
    began: list[int] = []
    got = []
    for out in evaluate_batches(POLICIES, one, _ids, jobs=jobs, begin=lambda: began.append(len(got))):
        got.append(out)
    assert got == expected and began == [0]  # counted before the first batch
    assert [i for ids, _ in got for i in ids] == [r.get("id") for r in iter_resources([path])]
    assert not one.pending and (len(one), one.counts, one.bare) == (len(two), two.counts, two.bare)
    assert related_ids(one.index) == related_ids(two.index)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(elements=st.lists(objects, min_size=1, max_size=30), step=st.integers(1, 400))
def test_any_array_is_read_once_as_the_serial_reader_reads_it(tmp_path, elements, step) -> None:
    path = tmp_path / "inv.json"
    path.write_text(json.dumps(elements), encoding="utf-8")
    one = planned([path], 2, step=step)
    assert one is not None
    try:
        got = [i for ids, _ in evaluate_batches(POLICIES, one, _ids, jobs=2) for i in ids]
    except Unsliced:
        return  # a cut inside a string or nested value: `scan` (which repairs cuts) takes it from there
    assert got == [r.get("id") for r in iter_resources([path])]


def test_a_slice_that_does_not_parse_hands_the_file_back_first(tmp_path) -> None:
    path = tmp_path / "inv.json"
    lines = json.dumps(inventory(200), indent=1).splitlines()
    lines[len(lines) // 2] += "x"
    path.write_text("\n".join(lines))
    one = planned([path], 2, step=1024)
    assert one is not None
    began: list[int] = []
    batches = evaluate_batches(POLICIES, one, _ids, jobs=2, begin=lambda: began.append(1))
    with pytest.raises(Unsliced):
        next(batches)
    assert not began and one.pending


def _fails_on_sa40(rows, batch, quiet=None):  # noqa: ANN001, ANN202
    if any(r.get("name", "").startswith("sa40") for r in batch):
        raise ValueError("sa40")
    return len(batch)


def _dies_on_sa40(rows, batch, quiet=None):  # noqa: ANN001, ANN202
    if any(r.get("name", "").startswith("sa40") for r in batch):
        os.kill(os.getpid(), signal.SIGKILL)
    return len(batch)


@pytest.mark.parametrize(("work", "error"), [(_fails_on_sa40, ValueError), (_dies_on_sa40, WorkerLost)])
@pytest.mark.parametrize("put", [None, lambda out: (out, True)])
def test_a_failing_or_dying_worker_is_an_error_not_a_hang(tmp_path, work, error, put) -> None:
    path = _write(tmp_path, inventory(200))
    one = planned([path], 2, step=1024)
    assert one is not None and len(one.spans) > 4
    with pytest.raises(error):
        list(evaluate_batches(POLICIES, one, work, jobs=2, put=put))
