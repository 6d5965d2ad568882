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
from policygen.evaluate.resident import WorkerLost
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
    put: Callable[[T], tuple[T, bool]] | None = None,
    begin: Callable[[], None] | None = None,
) -> Iterator[T]:
    """`work(rows, batch_resources)` of each batch of `resources`, in order. `jobs` > 1 forks that many
    workers (where `fork` exists; otherwise everything runs here).

    With `quiet` set (True or False), rows are tuples (`iter_pairs`) and work is called as
    `work(rows, batch_resources, quiet_outcomes)`: with True, pairs neither flagged nor failed are not
    rows but `(label, outcomes)` in `quiet_outcomes` (a list; None with False).

    With `put` and workers, each worker calls `put(result)` itself, batch after batch in input order
    (`Turns`), and what it returns is yielded here: e.g. the batch's output written by the worker to a
    file both share instead of sent here to be written. `put` returns (what to yield, whether it was
    done): when not, the batch is yielded as is, the caller deals with it, and the next turn comes after.

    A `Sliced` still `pending` (planned, not counted) is parsed once, by the workers that evaluate it
    (evaluate.resident), and `begin()` is called here once it is counted; `resident.Unsliced` is raised
    (before anything is yielded) when a slice does not parse."""
    global _JOB
    if isinstance(resources, Sliced) and resources.pending:
        from policygen.evaluate import resident

        _JOB = (policies, resources, None, work, explain, context, quiet, None)
        try:
            ctx = multiprocessing.get_context("fork")
            turns = Turns(ctx, put) if put is not None else None
            yield from resident.evaluate(resources, policies, _evaluate_list, jobs=jobs, turns=turns, begin=begin,
                                         progress=progress)
        finally:
            _JOB = None
        return
    if isinstance(resources, Packed):
        index = resources.index
        ranges = [(i, -1) for i in range(len(resources.blobs))]  # (blob number, -1)
    elif isinstance(resources, Sliced):
        index = resources.index
        ranges = [(i, -1) for i in range(len(resources.spans))]  # (slice number, -1): parsed in the worker
    else:
        index = RelatedIndex.over(policies, resources)
        n = len(resources)
        ranges = [(a, min(a + batch, n)) for a in range(0, n, batch)]
    jobs = min(jobs, len(ranges))
    _JOB = (policies, resources, index, work, explain, context, quiet, None)
    try:
        if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            for r in ranges:
                done, out = _run(r)
                if progress is not None:
                    progress(done)
                yield out
            return
        ctx = multiprocessing.get_context("fork")
        turns = Turns(ctx, put) if put is not None else None
        _JOB = (policies, resources, index, work, explain, context, quiet, turns)
        gc.collect()
        gc.freeze()  # the children's GC then never touches (and so never copies) the inherited objects
        with ctx.Pool(jobs) as pool:
            if turns is not None:
                ranges = [(*r, i) for i, r in enumerate(ranges)]  # (start, stop, batch number)
            for i, res in enumerate(_in_order(pool, ranges, AHEAD * jobs)):
                if progress is not None:
                    progress(res[0])
                yield res[1]
                if turns is not None and not res[2]:
                    turns.advance(i)  # the caller has dealt with batch i: the next one's turn
    finally:
        _JOB = None


class Turns:
    """Whose turn it is to `put` (the number of the next batch), shared by forked workers: a worker that
    finished batch i waits until batch i-1 is put, so what they write is in input order."""

    def __init__(self, ctx: Any, put: Callable[[Any], tuple[Any, bool]]):
        self.put = put
        self.cond = ctx.Condition()
        self.next = ctx.RawValue("q", 0)
        self.failed = ctx.RawValue("b", 0)

    def wait(self, i: int) -> None:
        parent = os.getppid()
        with self.cond:
            while self.next.value != i:
                if self.failed.value or os.getppid() != parent:
                    raise WorkerLost("an earlier batch failed")
                self.cond.wait(0.5)

    def advance(self, i: int) -> None:
        with self.cond:
            self.next.value = i + 1
            self.cond.notify_all()

    def fail(self) -> None:
        with self.cond:
            self.failed.value = 1
            self.cond.notify_all()

    def evaluate_in_turn(self, i: int, evaluate: Callable[[], tuple[int, Any]]) -> tuple[int, Any, bool]:
        """(done, result, put done) of batch i: evaluated at once, `put` when its turn comes; a failure
        anywhere ends every later batch's wait."""
        try:
            done, out = evaluate()
            self.wait(i)
            out, put_done = self.put(out)
        except BaseException:
            self.fail()
            raise
        if put_done:
            self.advance(i)
        return done, out, put_done


def _in_order(pool: Any, ranges: Sequence[tuple[int, ...]], ahead: int) -> Iterator[Any]:
    """`_run` of each range on `pool`, in order, with at most `ahead` batches handed out and not yet
    taken: a slow batch holds up the results after it, not more (Pool.imap would keep them all).
    A worker that dies (a signal, the OOM killer) is an error, not a wait for ever (the pool would
    quietly replace it and its batch would never come back)."""
    pending: deque = deque()
    todo = iter(ranges)
    workers = list(getattr(pool, "_pool", ()))  # the processes forked now; the pool replaces the dead
    for span in islice(todo, ahead):
        pending.append(pool.apply_async(_run, (span,)))
    while pending:
        head = pending.popleft()
        while not head.ready():
            head.wait(0.5)
            lost = [p.exitcode for p in workers if p.exitcode is not None]
            if lost and not head.ready():
                raise WorkerLost(f"a worker process ended unexpectedly (exit code {lost[0]})")
        out = head.get()
        span = next(todo, None)
        if span is not None:
            pending.append(pool.apply_async(_run, (span,)))
        yield out


def _run(span: tuple[int, ...]) -> tuple[Any, ...]:
    """(resources done, work's result) for one batch: a slice, or a packed blob parsed here. In a worker
    with `Turns` (span holds the batch number), the result is `put` in turn: (done, result, put done)."""
    assert _JOB is not None
    turns = _JOB[-1]
    if turns is None or len(span) < 3:
        return _evaluate(span[:2])
    return turns.evaluate_in_turn(span[2], lambda: _evaluate(span[:2]))


def _evaluate(span: tuple[int, ...]) -> tuple[int, Any]:
    assert _JOB is not None
    policies, resources, index, work, explain, context, quiet, _ = _JOB
    start, stop = span
    if isinstance(resources, Packed):
        resources = _unpack(resources.blobs[start])
        start, stop = 0, len(resources)
    elif isinstance(resources, Sliced):
        resources = resources.load(start)
        start, stop = 0, len(resources)
    return _pairs(resources, start, stop, index)


def _evaluate_list(resources: list[dict], index: RelatedIndex | None) -> tuple[int, Any]:
    return _pairs(resources, 0, len(resources), index)


def _pairs(resources: Sequence[dict], start: int, stop: int, index: RelatedIndex | None) -> tuple[int, Any]:
    """(resources done, work's result) for resources[start:stop]."""
    assert _JOB is not None
    policies, _, _, work, explain, context, quiet, _ = _JOB
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
