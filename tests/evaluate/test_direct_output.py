"""Workers write their batches of `impact` output themselves, in turn (views.impact_direct,
evaluate.parallel.Turns): the file or pipe holds what one process writes, byte for byte, whatever the
jobs; a batch a worker cannot write is handed back and written in its place; a failed write or a dead
worker ends the run with an error, never a hang."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from policygen.evaluate import compile_policy
from policygen.evaluate.parallel import WorkerLost, evaluate_batches
from tests.evaluate.test_impact_output import DIAGNOSTICS, PUBLIC, SA_TYPE, inventory

pytestmark = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("direct")
    defs = tmp / "defs"
    defs.mkdir()
    (defs / "public.json").write_text(json.dumps(dict(PUBLIC, name="public")))
    (defs / "diag.json").write_text(json.dumps(dict(DIAGNOSTICS, name="diag")))
    resources = inventory(4500)  # ~1 MB: slices of 64 KB, many batches per worker
    # an escape sequence in a CSV row: that batch goes through click (which strips it off a terminal)
    resources[2000]["id"] = f"/subscriptions/s0/resourceGroups/rg/providers/{SA_TYPE}/sa\x1b[31mred"
    inv = tmp / "inv.json"
    inv.write_text(json.dumps(resources))
    return defs, inv


def _impact(defs: Path, inv: Path, *args: str, pipe: bool = False, tmp: Path) -> bytes:
    cmd = [sys.executable, "-m", "policygen", "impact", str(defs), "-r", str(inv), "--exit-zero", *args]
    if pipe:
        proc = subprocess.run(cmd, capture_output=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout
    out = tmp / "out"
    with out.open("wb") as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.PIPE, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out.read_bytes()


@pytest.mark.parametrize(("args", "pipe"), [
    (("-f", "json"), False),
    (("-f", "json"), True),
    (("-f", "ndjson", "--all"), False),
    (("-f", "csv"), False),
    (("-f", "json", "--pretty"), True),
])
def test_a_file_or_pipe_holds_what_one_process_writes(files, tmp_path, args, pipe) -> None:
    defs, inv = files
    one = _impact(defs, inv, *args, "--jobs", "1", tmp=tmp_path)
    assert _impact(defs, inv, *args, "--jobs", "2", pipe=pipe, tmp=tmp_path) == one
    assert one.count(b"\n") > 1000
    if "csv" in args:  # the batch with the escape sequence was handed back: click stripped it
        assert b"/sared," in one and b"\x1b" not in one


def test_a_closed_pipe_ends_the_run_quietly(files) -> None:
    defs, inv = files
    cmd = [sys.executable, "-m", "policygen", "impact", str(defs), "-r", str(inv), "-f", "ndjson", "--all",
           "--jobs", "2", "--exit-zero"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(100)
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=300) == 1
    assert b"Traceback" not in err


def test_a_file_too_large_is_one_line_and_exit_1(files, tmp_path) -> None:
    """A write refused in a worker (here: the file size limit, EFBIG; a full disk is ENOSPC) is reported
    by the parent like its own failed writes (policygen.cli._unwritable)."""
    import resource

    defs, inv = files
    cmd = [sys.executable, "-m", "policygen", "impact", str(defs), "-r", str(inv), "-f", "json", "--all",
           "--jobs", "2", "--exit-zero"]

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    with (tmp_path / "out").open("wb") as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.PIPE, text=True, preexec_fn=limit, timeout=300)
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("warning: ")]  # bare resources
    assert "Traceback" not in proc.stderr and len(lines) == 1 and lines[0].startswith("error: cannot write output: "), proc.stderr


def _names(rows, batch):  # noqa: ANN001, ANN202
    time.sleep(random.random() / 200)  # batches finish out of order
    return "".join(r["name"] + "\n" for r in batch).encode()


@pytest.mark.parametrize("jobs", [2, 3])
def test_workers_put_batches_in_input_order(tmp_path, jobs) -> None:
    """Every third batch is handed back and written by the caller, in its place."""
    policies = [("public", compile_policy(PUBLIC))]
    resources = inventory(300)
    out = tmp_path / "out"
    with out.open("wb") as fh:
        fd = fh.fileno()

        def put(data: bytes) -> tuple[bytes, bool]:
            if len(data) % 3 == 0:
                return data, False
            os.write(fd, data)
            return b"", True

        for data in evaluate_batches(policies, resources, _names, jobs=jobs, batch=7, put=put):
            os.write(fd, data)
    assert out.read_text() == "".join(r["name"] + "\n" for r in resources)


def _dies_on_batch_5(rows, batch):  # noqa: ANN001, ANN202
    if batch and batch[0]["name"] == "sa20":
        os.kill(os.getpid(), signal.SIGKILL)
    return len(batch)


@pytest.mark.parametrize("put", [None, lambda out: (out, True)])
def test_a_worker_that_dies_is_an_error_not_a_hang(put) -> None:
    policies = [("public", compile_policy(PUBLIC))]
    resources = [r for r in inventory(100) if r["type"] == SA_TYPE]
    with pytest.raises(WorkerLost):
        list(evaluate_batches(policies, resources, _dies_on_batch_5, jobs=2, batch=4, put=put))
