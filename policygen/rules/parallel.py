"""Policy JSON checked in worker processes: a corpus of thousands of files on every core.

Files are independent until the per-run rules (RunResult + Summary lists), so chunks of files go to
forked workers (which inherit the imported rules and the catalogue) and come back in input order:
the merged result is exactly what one process would have built, whatever the number of workers.
Chunks shrink towards the end of the input (guided scheduling): files differ a hundredfold in cost
(the built-in initiatives, last in the corpus, are 5% of its files and half of its bytes), so equal
chunks left one worker finishing the last heavy chunk alone while the other idled; large first
chunks also keep each worker on neighbouring files, which share alias namespaces and rule memos.
Small runs, single-core machines, processes that already run threads (forking one is unsafe) and
pool workers (daemons may not start processes) stay in one process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

from policygen.rules.base import ALL_KINDS, Summary
from policygen.rules.checking import RunResult
from policygen.rules.json_input import SameContent, validate_json_file
from policygen.rules.registry import rules_for

MIN_FILES = 512  # below this, starting workers costs more than it saves
CHUNK = 64  # at least this many files per worker
MIN_CHUNK = 4  # the smallest chunk at the end of the input
ROUNDS = 3  # a chunk is the remaining files / (ROUNDS * workers)

# (catalogue, escaped, reports by content) of the run, set before the workers fork so they inherit it
# instead of receiving it (each worker remembers the files it checked).
_RUN: tuple[Any, bool | None, SameContent] | None = None


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def workers_for(n_files: int, jobs: int | None) -> int:
    """How many worker processes to use for `n_files` JSON files (1: check them here).

    `jobs` None or 0 means every available core."""
    wanted = jobs if jobs and jobs > 0 else available_cores()
    if wanted < 2 or n_files < MIN_FILES or threading.active_count() > 1:
        return 1
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():  # pragma: no cover - not POSIX
        return 1
    if multiprocessing.current_process().daemon:  # a pool's worker may not start processes of its own
        return 1
    return min(wanted, -(-n_files // CHUNK))


def _check_chunk(chunk: Sequence[tuple[str, bool]]) -> tuple[RunResult, list[Summary]]:
    assert _RUN is not None
    catalogue, escaped, same = _RUN
    result = RunResult()
    summaries: list[Summary] = []
    for path, explicit in chunk:
        validate_json_file(
            path, catalogue=catalogue, escaped=escaped, explicit=explicit, result=result, summaries=summaries,
            same=same,
        )  # fmt: skip
    return result, summaries


def guided(n_files: int, workers: int) -> list[int]:
    """Chunk sizes for `n_files` files: each a share of what remains, the last ones MIN_CHUNK."""
    sizes: list[int] = []
    left = n_files
    while left > 0:
        size = min(left, max(MIN_CHUNK, -(-left // (ROUNDS * workers))))
        sizes.append(size)
        left -= size
    return sizes


def check_chunks(
    chunks: Sequence[Sequence[tuple[str, bool]]], *, catalogue: Any, escaped: bool | None, workers: int
) -> list[tuple[RunResult, list[Summary]]]:
    """(result, summaries) of each run of consecutive (path, explicit) pairs, in order, from `workers`
    processes (each run is cut into guided chunks, which never span two runs)."""
    import multiprocessing

    global _RUN
    tasks: list[Sequence[tuple[str, bool]]] = []
    owner: list[int] = []  # the run each task belongs to
    sizes = iter(guided(sum(map(len, chunks)), workers))
    for i, run in enumerate(chunks):
        start = 0
        while start < len(run):
            end = start + next(sizes, MIN_CHUNK)
            tasks.append(run[start:end])
            owner.append(i)
            start = end
    for kind in ALL_KINDS:  # rule modules imported once, before the fork
        rules_for(kind)
    _RUN = (catalogue, escaped, SameContent())
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_check_chunk, tasks, chunksize=1)
    finally:
        _RUN = None
    out: list[tuple[RunResult, list[Summary]]] = [(RunResult(), []) for _ in chunks]
    for i, (part, part_summaries) in zip(owner, parts, strict=True):
        out[i][0].extend(part)
        out[i][1].extend(part_summaries)
    return out
