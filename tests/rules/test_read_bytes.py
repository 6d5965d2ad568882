"""The validator's file reader (one descriptor, reads of the file's size) returns exactly the file's bytes
and fails with the OSError the caller reports as `cannot read: <reason>`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from policygen.rules.json_input import read_bytes


@pytest.mark.parametrize("size", [0, 1, 4096, (1 << 20) + 3, (3 << 20) + 17])
def test_reads_every_byte(tmp_path: Path, size: int) -> None:
    path = tmp_path / "f.json"
    data = os.urandom(size)
    path.write_bytes(data)
    assert read_bytes(str(path)) == data


def test_reads_a_pipe_to_its_end(tmp_path: Path) -> None:
    fifo = tmp_path / "p"
    os.mkfifo(fifo)
    pid = os.fork()
    if pid == 0:  # the writer: more than one read's worth, then close
        with open(fifo, "wb") as fh:
            fh.write(b"x" * 200_000)
        os._exit(0)
    try:
        assert read_bytes(str(fifo)) == b"x" * 200_000
    finally:
        os.waitpid(pid, 0)


def test_errors_are_oserrors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_bytes(str(tmp_path / "missing.json"))
    with pytest.raises(IsADirectoryError):
        read_bytes(str(tmp_path))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_reads_a_file_whose_size_is_not_its_length() -> None:
    """/proc files stat as 0 bytes: a read that fills what was asked is not taken as the end."""
    data = read_bytes("/proc/self/status")
    assert data.startswith(b"Name:") and data.endswith(b"\n") and len(data) > 100
