"""`validate --jobs`: JSON files checked in worker processes give byte-identical reports to one process,
packs in between included, and the per-run rules see the objects in input order (DEF-08 names the
501st custom definition: https://learn.microsoft.com/azure/governance/policy/overview#maximum-count-of-azure-policy-objects)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policygen.rules.parallel import CHUNK, MIN_CHUNK, MIN_FILES, guided, workers_for
from tests.rules.test_engine import DEFINITION, write

# Runs the CLI in a fresh (single-threaded) process and reports whether the engine used workers.
SPY = """
import sys
import policygen.rules.engine as engine
calls = []
real = engine.check_chunks
def spy(chunks, **kw):
    calls.append(kw["workers"])
    return real(chunks, **kw)
engine.check_chunks = spy
from policygen.cli import run
code = run(sys.argv[1:])
print(code, calls, file=sys.stderr)
"""


def _tree(root: Path) -> list[Path]:
    from policygen.export.scaffold import scaffold

    for folder, n in (("a", 300), ("z", 320)):
        for i in range(n):
            doc = json.loads(json.dumps(DEFINITION))
            doc["name"] = f"{folder}{i}"
            if i % 7 == 0:
                doc["properties"]["mode"] = "Everything"  # MODE-01
            if i % 11 == 0:
                doc["properties"]["displayName"] = "x" * 200  # DEF-02
            write(root / folder, f"{i:04}.json", doc)
    (root / "z" / "0005.json").write_text("{broken", encoding="utf-8")
    (root / "z" / "0006.json").write_text('{"not": "a policy"}', encoding="utf-8")
    scaffold(root / "pack")
    return [root / "a", root / "pack", root / "z"]


def _run(args: list[str]) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-c", SPY, *args], capture_output=True, text=True, check=False)
    *_, last = done.stderr.strip().splitlines()
    code, calls = last.split(" ", 1)
    return int(code), calls, done.stdout


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_workers_report_exactly_what_one_process_reports(tmp_path: Path, fmt: str) -> None:
    paths = [str(p) for p in _tree(tmp_path)]
    one = _run(["validate", *paths, "-f", fmt, "--jobs", "1"])
    two = _run(["validate", *paths, "-f", fmt, "--jobs", "2"])
    assert one[1] == "[]" and two[1] == "[2]"
    assert one[0] == two[0] == 2  # the broken file makes the run unusable
    assert one[2] == two[2]
    if fmt == "json":
        codes = [f["code"] for f in json.loads(two[2])]
        assert {"MODE-01", "DEF-02", "DEF-08", "INPUT"} <= set(codes)


def test_small_runs_stay_in_one_process() -> None:
    assert workers_for(MIN_FILES - 1, 8) == 1
    assert workers_for(10_000, 1) == 1
    assert workers_for(MIN_FILES, 64) == -(-MIN_FILES // CHUNK)  # never more workers than chunks


@given(st.integers(min_value=0, max_value=50_000), st.integers(min_value=1, max_value=64))
def test_guided_chunks_cover_every_file_and_shrink(n_files: int, workers: int) -> None:
    """Chunks cover the files once, in order, never grow, and only the last is smaller than MIN_CHUNK;
    the first is a fraction of the files, so no worker starts with most of the run."""
    sizes = guided(n_files, workers)
    assert sum(sizes) == n_files and all(s > 0 for s in sizes)
    assert sizes == sorted(sizes, reverse=True)
    assert all(s >= MIN_CHUNK for s in sizes[:-1])
    if sizes:
        assert sizes[0] <= max(MIN_CHUNK, -(-n_files // (2 * workers)))


def test_a_pool_worker_validates_in_its_own_process(tmp_path: Path) -> None:
    """Inside a daemonic pool worker (e.g. another stage's workers) the engine does not try to fork."""
    import multiprocessing

    for i in range(MIN_FILES):
        write(tmp_path, f"{i:04}.json", DEFINITION)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        objects, workers = pool.apply(_validate_in_worker, (str(tmp_path),))
    assert (objects, workers) == (MIN_FILES, 1)


def _validate_in_worker(folder: str) -> tuple[int, int]:
    from policygen.rules.engine import validate_files

    return validate_files([Path(folder)], jobs=2).objects, workers_for(MIN_FILES, 2)
