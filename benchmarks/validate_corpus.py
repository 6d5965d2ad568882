"""Time `policygen validate` over the built-in corpus against merely `json.load`-ing the same files.

Usage: python benchmarks/validate_corpus.py [CORPUS_DIR] [--repeat N]
Prints both times (best of N interleaved runs, warm file cache; wall clock and process CPU time, which
is steadier when other jobs share the 2 cores) and their ratio; the target is a ratio of at most 4.
The validation run is the real one (file walk, escaping detection, every rule, line numbers for
findings) with the January 2024 alias dump loaded, as the corpus test does; loading the catalogue is
a one-off cost reported separately. In one process (`jobs=1`): process_time does not see workers;
benchmarks/validate_cli.py measures the CLI end to end, workers included.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT.parent / "shared" / "corpus" / "azure-policy-builtins"


def timed(fn) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of this process, result): CPU time is steadier on a shared box."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def json_load_all(files: list[Path]) -> None:
    for path in files:
        with path.open("rb") as fh:
            json.load(fh)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from policygen.arm.aliases import load_catalogue
    from policygen.rules.engine import validate_files

    files = sorted(args.corpus.rglob("*.json"))
    t0 = time.perf_counter()
    catalogue = load_catalogue([args.corpus.parent / "aliases" / "policy-aliases.csv"])
    t_catalogue = time.perf_counter() - t0

    validate_files([args.corpus], catalogue=catalogue, jobs=1)  # warm-up: imports, caches, file cache
    loads, validates = [], []
    result = None
    for _ in range(args.repeat):  # interleaved, so both see the same machine load
        loads.append(timed(lambda: json_load_all(files))[:2])
        wall, cpu, result = timed(lambda: validate_files([args.corpus], catalogue=catalogue, jobs=1))
        validates.append((wall, cpu))
    load_wall, load_cpu = min(w for w, _ in loads), min(c for _, c in loads)
    val_wall, val_cpu = min(w for w, _ in validates), min(c for _, c in validates)
    by_severity = Counter(f.severity.value for f in result.findings)
    print(f"corpus:      {args.corpus} ({len(files)} files, {result.objects} objects)")
    print(f"catalogue:   {len(catalogue)} aliases loaded once in {t_catalogue:.2f} s")
    print(f"json.load:   {load_wall:.3f} s wall, {load_cpu:.3f} s CPU  (best of {args.repeat})")
    print(f"validate:    {val_wall:.3f} s wall, {val_cpu:.3f} s CPU  (best of {args.repeat})")
    print(f"ratio:       {val_wall / load_wall:.2f} wall, {val_cpu / load_cpu:.2f} CPU  (target <= 4)")
    print(f"findings:    {dict(sorted(by_severity.items()))}")


if __name__ == "__main__":
    main()
