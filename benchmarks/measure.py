"""Run a command as a user would (a subprocess, stdout to a file) and measure it from outside.

CPU time and peak RSS come from `os.wait4` on that one child (user + system time of the process and
of the children it waited for; Linux reports the largest single process's peak RSS). Worker processes
share the parent's pages copy-on-write, so the sum of their RSS would over-count: the tree's peak
*proportional* set size (PSS, from /proc/<pid>/smaps_rollup, sampled every 20 ms) is reported beside
it as the memory the whole run really held. Reading smaps_rollup walks the process's page tables under
its memory-map lock, stalling its page faults and taking a core: with `memory_apart`, `best` times runs
that are not sampled and samples one more run for the PSS (a 100,000-resource impact run with workers
took ~0.5 s longer wall while sampled).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    cmd: list[str]
    wall: float
    cpu: float
    max_rss_mb: float
    tree_pss_mb: float
    returncode: int

    def row(self, label: str, base: Run | None = None) -> str:
        ratio = ""
        if base is not None:
            ratio = (
                f"  x{self.cpu / base.cpu:5.2f} CPU  x{self.wall / base.wall:5.2f} wall"
                f"  x{self.max_rss_mb / base.max_rss_mb:4.2f} RSS  x{self.tree_pss_mb / base.tree_pss_mb:4.2f} PSS"
            )
        return (
            f"{label:<28} {self.wall:7.2f} s wall {self.cpu:7.2f} s CPU {self.max_rss_mb:8.0f} MB peak RSS "
            f"{self.tree_pss_mb:8.0f} MB tree PSS{ratio}"
        )


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _tree_pss_kb(pid: int) -> int:
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += _pss_kb(p)
        todo.extend(_children(p))
    return total


def run(cmd: list[str], stdout: Path | None = None, env: dict[str, str] | None = None, sample: bool = True) -> Run:
    """Run `cmd` to completion, stdout to `stdout` (or /dev/null), stderr to `<stdout>.err` (or /dev/null);
    the tree's PSS sampled unless `sample` is False (then reported as 0)."""
    out = open(stdout, "wb") if stdout else open(os.devnull, "wb")  # noqa: SIM115 - closed below
    err = open(str(stdout) + ".err", "wb") if stdout else open(os.devnull, "wb")  # noqa: SIM115
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env={**os.environ, **(env or {})})
        peak = [0]
        done = threading.Event()

        def sampling() -> None:
            while sample and not done.is_set():
                peak[0] = max(peak[0], _tree_pss_kb(proc.pid))
                done.wait(0.02)

        sampler = threading.Thread(target=sampling, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        out.close()
        err.close()
    return Run(
        cmd,
        wall,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
        max(peak[0], 1) / 1024,
        proc.returncode,
    )


def best(cmd: list[str], repeat: int, stdout: Path | None = None, memory_apart: bool = False) -> Run:
    """Least disturbed of `repeat` runs (the box is shared): minimum CPU, wall and memory each. With
    `memory_apart`, the `repeat` timed runs are not sampled and one more run is, for the tree's PSS."""
    runs = [run(cmd, stdout, sample=not memory_apart) for _ in range(repeat)]
    pss = [run(cmd, stdout)] if memory_apart else runs
    return Run(
        cmd,
        min(r.wall for r in runs),
        min(r.cpu for r in runs),
        min(r.max_rss_mb for r in runs),
        min(r.tree_pss_mb for r in pss),
        runs[-1].returncode,
    )
