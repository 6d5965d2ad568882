"""Policy JSON checked in worker processes: a corpus of thousands of files on every core.

Files are independent until the per-run rules (RunResult + Summary lists), so chunks of files go to
forked workers (which inherit the imported rules and the catalogue) and come back in input order:
the merged result is exactly what one process would have built, whatever the number of workers.
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
from policygen.rules.json_input import validate_json_file
from policygen.rules.registry import rules_for

MIN_FILES = 512  # below this, starting workers costs more than it saves
CHUNK = 64  # files per task (the engine's chunks): small enough to balance, large enough to keep messages few

# (catalogue, escaped) of the run, set before the workers fork so they inherit it instead of receiving it.
_RUN: tuple[Any, bool | None] | None = None


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
    catalogue, escaped = _RUN
    result = RunResult()
    summaries: list[Summary] = []
    for path, explicit in chunk:
        validate_json_file(
            path, catalogue=catalogue, escaped=escaped, explicit=explicit, result=result, summaries=summaries
        )
    return result, summaries


def check_chunks(
    chunks: Sequence[Sequence[tuple[str, bool]]], *, catalogue: Any, escaped: bool | None, workers: int
) -> list[tuple[RunResult, list[Summary]]]:
    """(result, summaries) of each chunk of (path, explicit) pairs, in order, from `workers` processes."""
    import multiprocessing

    global _RUN
    for kind in ALL_KINDS:  # rule modules imported once, before the fork
        rules_for(kind)
    _RUN = (catalogue, escaped)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            return pool.map(_check_chunk, chunks, chunksize=1)
    finally:
        _RUN = None
