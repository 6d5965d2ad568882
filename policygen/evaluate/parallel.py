"""Evaluate an inventory in batches, on every core: worker processes forked after the policies are
compiled and the inventory is loaded, so each inherits the compiled plan and the resources (copy on
write) instead of receiving them pickled. Batches come back in inventory order whatever the number of
workers, so output is the same byte for byte with `--jobs 1` or `--jobs 8`.

A batch's rows are turned into something small (encoded output, counts) by `work` *in the worker*:
rows never cross the process boundary, and the parent holds at most a few batches' results.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from policygen.evaluate.inventory import ImpactRow, RelatedIndex, evaluate_inventory
from policygen.evaluate.policy import CompiledPolicy
from policygen.evaluate.runtime import EvalContext

T = TypeVar("T")
BATCH = 2000  # resources per batch: big enough to amortise a round trip, small enough to stream

_JOB: tuple | None = None  # what forked workers read (set before the pool starts)


def available_cores() -> int:
    """Cores this process may run on (the affinity mask, e.g. a container's cpuset), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def evaluate_batches(
    policies: Sequence[tuple[str, CompiledPolicy]],
    resources: Sequence[dict],
    work: Callable[[list[ImpactRow], int, int], T],
    *,
    jobs: int = 1,
    batch: int = BATCH,
    explain: bool = False,
    context: EvalContext | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[T]:
    """`work(rows, start, stop)` of each batch `resources[start:stop]`, in order. `jobs` > 1 forks that
    many workers (where `fork` exists; otherwise everything runs here)."""
    global _JOB
    index = RelatedIndex.for_policies(policies)
    if index is not None:
        for r in resources:
            index.add(r)
    n = len(resources)
    ranges = [(a, min(a + batch, n)) for a in range(0, n, batch)]
    jobs = min(jobs, len(ranges))
    _JOB = (policies, resources, index, work, explain, context)
    try:
        if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            for r in ranges:
                out = _run(r)
                if progress is not None:
                    progress(r[1] - r[0])
                yield out
            return
        gc.collect()
        gc.freeze()  # the children's GC then never touches (and so never copies) the inherited objects
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for r, out in zip(ranges, pool.imap(_run, ranges), strict=True):
                if progress is not None:
                    progress(r[1] - r[0])
                yield out
    finally:
        _JOB = None


def _run(span: tuple[int, int]) -> Any:
    assert _JOB is not None
    policies, resources, index, work, explain, context = _JOB
    start, stop = span
    rows = list(
        evaluate_inventory(
            policies, resources, related_index=index, start=start, stop=stop, explain=explain, context=context
        )
    )
    return work(rows, start, stop)
