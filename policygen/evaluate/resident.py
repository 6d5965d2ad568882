"""Slices of one inventory file parsed once, by the worker that then evaluates them (#17, "Every core").

`parallel.evaluate_batches` over a counted `Sliced` has each slice parsed twice: by a first pass in
prepare (the resource count goes in the JSON header before any result; existence policies need the
related resources of the whole file) and again by whichever pool worker evaluates it. Here the workers
are forked once, with the evaluation already set up: worker w parses slices w, w + jobs, ... and keeps
them, sends their counts and related resources, waits for every worker's related resources (its index
is built from them in input order, as `slices.scan` builds the parent's) and evaluates its slices in
order. The parent reads results round-robin, which is input order; at most one result per worker is in
flight (a pipe), so memory stays bounded. `begin` runs in the parent between the passes (the command
writes its header then). A slice that does not parse (a wrong cut, invalid JSON) makes the whole run
`Unsliced` before anything is yielded: the caller reads the file the usual way.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from policygen.errors import ExitCode, PolicygenError
from policygen.evaluate.inventory import RelatedIndex
from policygen.evaluate.slices import Sliced, read_span, summarise


class WorkerLost(PolicygenError):
    """A worker process ended without its batch's result (killed, out of memory)."""

    exit_code = ExitCode.FINDINGS


class Unsliced(Exception):
    """Some slice did not parse: nothing was yielded, read the file another way."""


_WORKER: tuple | None = None  # (sliced, types, evaluate, turns) for the forked workers


def evaluate(sliced: Sliced, policies: Any, evaluate_list: Callable[[list[dict], Any], tuple[int, Any]], *,
             jobs: int, turns: Any = None, begin: Callable[[], None] | None = None,
             progress: Callable[[int], None] | None = None) -> Iterator[Any]:
    """What `evaluate_list(resources, index)` gives for each slice of `sliced` (planned, not counted; it is
    counted here), in order, on `jobs` forked workers; `turns` as in `parallel.evaluate_batches`."""
    global _WORKER
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    index = RelatedIndex.for_policies(policies)
    types = index.types if index is not None else None
    n = len(sliced.spans)
    jobs = max(1, min(jobs, n))
    _WORKER = (sliced, policies, types, evaluate_list, turns)
    procs, conns = [], []
    try:
        gc.collect()
        gc.freeze()  # the children's GC then never touches (and so never copies) the inherited objects
        for w in range(jobs):
            mine, theirs = ctx.Pipe()
            p = ctx.Process(target=_worker, args=(w, jobs, theirs), daemon=True)
            p.start()
            theirs.close()
            procs.append(p)
            conns.append(mine)

        def recv(w: int) -> Any:
            try:
                msg = conns[w].recv()
            except (EOFError, OSError):
                procs[w].join(1)
                raise WorkerLost(f"a worker process ended unexpectedly (exit code {procs[w].exitcode})") from None
            if msg[0] == "error":
                raise msg[1]
            return msg

        firsts: list[Any] = [None] * n
        for w in range(jobs):
            _, found = recv(w)
            for i, got in zip(range(w, n, jobs), found, strict=True):
                firsts[i] = got
        if any(f is None for f in firsts):
            raise Unsliced
        import orjson

        sliced.counts = [f[0] for f in firsts]
        sliced.count = sum(sliced.counts)
        sliced.bare = sum(f[1] for f in firsts)
        sliced.index = index
        related = [f[2] for f in firsts if f[2]]
        if index is not None:
            for blob in related:
                for res in orjson.loads(blob):
                    index.add(res)
        sliced.pending = False
        if begin is not None:
            begin()
        for c in conns:
            c.send(related)
        for i in range(n):
            _, done, out, put_done = recv(i % jobs)
            if progress is not None:
                progress(done)
            yield out
            if turns is not None and not put_done:
                turns.advance(i)
    finally:
        _WORKER = None
        for c in conns:
            c.close()
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join()


def _worker(w: int, jobs: int, conn: Any) -> None:
    """Parse this worker's slices, report them, then evaluate them in order; never returns."""
    code = 0
    try:
        _work(w, jobs, conn)
    except BaseException as exc:  # sent to the parent, which raises it in order
        code = 1
        try:
            conn.send(("error", exc))
        except Exception:  # noqa: BLE001 - an exception that does not pickle: its text then
            with contextlib.suppress(Exception):  # the parent is gone
                conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
    finally:
        os._exit(code)  # not Python's exit: the parent's buffered stdout must not be flushed again here


def _work(w: int, jobs: int, conn: Any) -> None:
    import orjson

    assert _WORKER is not None
    sliced, policies, types, evaluate_list, turns = _WORKER
    mine = list(range(w, len(sliced.spans), jobs))
    parsed: dict[int, list[dict]] = {}
    firsts: list[Any] = []
    for i in mine:
        found = read_span(sliced.path, sliced.kind, *sliced.spans[i])
        if found is None:
            firsts.append(None)
            continue
        parsed[i] = found
        firsts.append(summarise(found, types))
    conn.send(("first", firsts))
    if any(f is None for f in firsts):
        return
    blobs = conn.recv()
    index = RelatedIndex.for_policies(policies)
    if index is not None:
        for blob in blobs:
            for res in orjson.loads(blob):
                index.add(res)
    for i in mine:
        resources = parsed.pop(i)
        if turns is None:
            done, out = evaluate_list(resources, index)
            put_done = True
        else:
            done, out, put_done = turns.evaluate_in_turn(i, partial(evaluate_list, resources, index))
        del resources
        conn.send(("result", done, out, put_done))
