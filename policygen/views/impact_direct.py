"""Streamed `impact` output written by the worker processes themselves, in input order (#17).

With workers, every encoded batch used to travel to the parent through a pipe (pickled, copied in and
out of the kernel, unpickled) to be written there: ~0.7 s of the parent's CPU for the 240 MB of a lean
100,000-resource run, on a machine whose two cores the two workers want. Forked workers share stdout's
open file description (and so its offset) with the parent, so a worker writes its batch's bytes to the
same descriptor when its turn comes (evaluate.parallel.Turns): the file holds what the parent would have
written, byte for byte. Only for bytes written to a regular file or a pipe (`StreamWriter.start` found
stdout's byte stream; not a terminal, whose escape sequences click strips); a batch holding an escape
sequence is handed back and goes through `StreamWriter.emit` as before.
"""

from __future__ import annotations

import os
import stat
from typing import Any


class DirectOutput:
    """The part of `StreamWriter.emit` a worker can do: separators and bytes to stdout's descriptor. The
    number of non-empty batches written so far (JSON separators, the closing bracket) is shared with the
    workers and handed to the writer before and after anything it emits here."""

    def __init__(self, writer: Any, fd: int):
        import multiprocessing

        self.writer = writer
        self.fd = fd
        self.json = writer.fmt == "json"
        self.written = multiprocessing.get_context("fork").RawValue("q", writer.rows_written)

    @classmethod
    def for_writer(cls, writer: Any) -> DirectOutput | None:
        """For a writer whose rows go to stdout's byte stream when that is a regular file or a pipe."""
        sink = getattr(writer, "_sink", None)  # set by `open`
        if sink is None:
            return None
        try:
            fd = sink[0].fileno()
            mode = os.fstat(fd).st_mode
        except (AttributeError, OSError, ValueError):
            return None
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
            return None
        sink[0].flush()
        return cls(writer, fd)

    def put(self, data: str | bytes) -> bool:
        """In a worker, in its turn: write a batch's bytes (False: hand them back to be emitted)."""
        if not data:
            return True
        if not isinstance(data, bytes) or b"\x1b" in data:
            return False
        n = self.written.value
        if self.json:
            _write_all(self.fd, b",\n" if n else b"\n")
        _write_all(self.fd, data)
        self.written.value = n + 1
        return True

    def emit(self, data: str | bytes) -> None:
        """Here: what a worker handed back, emitted by the writer with the count of batches written so far."""
        self.writer.rows_written = self.written.value
        self.writer.emit(data)
        self.written.value = self.writer.rows_written

    def close(self) -> None:
        self.writer.rows_written = self.written.value


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
