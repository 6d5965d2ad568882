"""Evaluate an inventory in batches, on every core: worker processes forked after the policies are
compiled and the inventory is loaded, so each inherits the compiled plan and the resources (copy on
write) instead of receiving them pickled. Batches come back in inventory order whatever the number of
workers, so output is the same byte for byte with `--jobs 1` or `--jobs 8`.

A batch's rows are turned into something small (encoded output, counts) by `work` *in the worker*:
rows never cross the process boundary, and the parent holds at most a few batches' results.

With several workers the inventory is not held parsed here: forked children would otherwise copy every
page of parsed objects they touch (their reference counts change), doubling the memory of a run. One
JSON array or NDJSON file is `Sliced` (evaluate.slices: byte ranges the workers parse, counted by a
first pass in the workers); other inputs are read here into `Packed` batches (compact JSON, ~1/5 of
the parsed objects). Each worker parses only the batch in hand.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, TypeVar

from policygen.evaluate.inventory import ImpactRow, RelatedIndex, iter_pairs
from policygen.evaluate.policy import CompiledPolicy
from policygen.evaluate.runtime import EvalContext
from policygen.evaluate.slices import Sliced

T = TypeVar("T")
BATCH = 2000  # resources per batch: big enough to amortise a round trip, small enough to stream
AHEAD = 4  # batches per worker handed out before their results are taken (bounds what waits in order)

_JOB: tuple | None = None  # what forked workers read (set before the pool starts)


def available_cores() -> int:
    """Cores this process may run on (the affinity mask, e.g. a container's cpuset), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class Packed:
    """An inventory as compact JSON batches, with the related resources the policies ask for indexed."""

    blobs: list[bytes] = field(default_factory=list)
    count: int = 0
    bare: int = 0  # resources without `properties`
    index: RelatedIndex | None = None

    def __len__(self) -> int:
        return self.count


def can_pack(policies: Sequence[tuple[str, CompiledPolicy]]) -> bool:
    """Batches can be evaluated apart unless an existence policy's related type depends on the resource
    (it may then relate any resource of the inventory to any other)."""
    index = RelatedIndex.for_policies(policies)
    return index is None or index.types is not None


def pack(resources: Iterable[dict], policies: Sequence[tuple[str, CompiledPolicy]], batch: int = BATCH) -> Packed:
    """Read `resources` (a stream) into `Packed` batches; only related resources stay parsed."""
    import orjson

    out = Packed(index=RelatedIndex.for_policies(policies))
    index = out.index
    chunk: list[dict] = []

    def flush() -> None:
        try:
            out.blobs.append(orjson.dumps(chunk))
        except TypeError:  # an integer beyond 64 bits: the standard library writes it as is
            import json

            out.blobs.append(json.dumps(chunk, separators=(",", ":")).encode())
        chunk.clear()

    for r in resources:
        chunk.append(r)
        out.count += 1
        if "properties" not in r:
            out.bare += 1
        if index is not None:
            index.add(r)
        if len(chunk) == batch:
            flush()
    if chunk:
        flush()
    return out


def evaluate_batches(
    policies: Sequence[tuple[str, CompiledPolicy]],
    resources: Sequence[dict] | Packed | Sliced,
    work: Callable[..., T],
    *,
    jobs: int = 1,
    batch: int = BATCH,
    explain: bool = False,
    context: EvalContext | None = None,
    progress: Callable[[int], None] | None = None,
    quiet: bool | None = None,
) -> Iterator[T]:
    """`work(rows, batch_resources)` of each batch of `resources`, in order. `jobs` > 1 forks that many
    workers (where `fork` exists; otherwise everything runs here).

    With `quiet` set (True or False), rows are tuples (`iter_pairs`) and work is called as
    `work(rows, batch_resources, quiet_outcomes)`: with True, pairs neither flagged nor failed are not
    rows but `(label, outcomes)` in `quiet_outcomes` (a list; None with False)."""
    global _JOB
    if isinstance(resources, Packed):
        index = resources.index
        ranges = [(i, -1) for i in range(len(resources.blobs))]  # (blob number, -1)
    elif isinstance(resources, Sliced):
        index = resources.index
        ranges = [(i, -1) for i in range(len(resources.spans))]  # (slice number, -1): parsed in the worker
    else:
        index = RelatedIndex.for_policies(policies)
        if index is not None:
            for r in resources:
                index.add(r)
        n = len(resources)
        ranges = [(a, min(a + batch, n)) for a in range(0, n, batch)]
    jobs = min(jobs, len(ranges))
    _JOB = (policies, resources, index, work, explain, context, quiet)
    try:
        if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            for r in ranges:
                done, out = _run(r)
                if progress is not None:
                    progress(done)
                yield out
            return
        gc.collect()
        gc.freeze()  # the children's GC then never touches (and so never copies) the inherited objects
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for done, out in _in_order(pool, ranges, AHEAD * jobs):
                if progress is not None:
                    progress(done)
                yield out
    finally:
        _JOB = None


def _in_order(pool: Any, ranges: Sequence[tuple[int, int]], ahead: int) -> Iterator[tuple[int, Any]]:
    """`_run` of each range on `pool`, in order, with at most `ahead` batches handed out and not yet
    taken: a slow batch holds up the results after it, not more (Pool.imap would keep them all)."""
    pending: deque = deque()
    todo = iter(ranges)
    for span in islice(todo, ahead):
        pending.append(pool.apply_async(_run, (span,)))
    while pending:
        out = pending.popleft().get()
        span = next(todo, None)
        if span is not None:
            pending.append(pool.apply_async(_run, (span,)))
        yield out


def _run(span: tuple[int, int]) -> tuple[int, Any]:
    """(resources done, work's result) for one batch: a slice, or a packed blob parsed here."""
    assert _JOB is not None
    policies, resources, index, work, explain, context, quiet = _JOB
    start, stop = span
    if isinstance(resources, Packed):
        resources = _unpack(resources.blobs[start])
        start, stop = 0, len(resources)
    elif isinstance(resources, Sliced):
        resources = resources.load(start)
        start, stop = 0, len(resources)
    outcomes: list | None = [] if quiet else None
    rows = list(
        iter_pairs(
            policies, resources, related_index=index, start=start, stop=stop, explain=explain, context=context,
            quiet=outcomes,
        )
    )
    if quiet is None:
        return stop - start, work([ImpactRow(*t) for t in rows], resources[start:stop])
    return stop - start, work(rows, resources[start:stop], outcomes)


def _unpack(blob: bytes) -> list[dict]:
    import orjson

    try:
        return orjson.loads(blob)
    except orjson.JSONDecodeError:  # integers beyond 64 bits (packed by the standard library)
        import json

        return json.loads(blob)
