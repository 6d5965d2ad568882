"""Time `policygen validate` over the built-in corpus against merely `json.load`-ing the same files.

Usage: python benchmarks/validate_corpus.py [CORPUS_DIR] [--repeat N]
Prints both times (best of N, warm file cache) and their ratio; the target is a ratio of at most 4.
The validation run is the real one (file walk, escaping detection, every rule, line numbers for
findings) with the January 2024 alias dump loaded, as the corpus test does; loading the catalogue is
a one-off cost reported separately.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT.parent / "shared" / "corpus" / "azure-policy-builtins"


def time_json_load(files: list[Path]) -> float:
    start = time.perf_counter()
    for path in files:
        with path.open("rb") as fh:
            json.load(fh)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from policygen.aliases import load_catalogue
    from policygen.rules.engine import validate_inputs

    files = sorted(args.corpus.rglob("*.json"))
    t0 = time.perf_counter()
    catalogue = load_catalogue([args.corpus.parent / "aliases" / "policy-aliases.csv"])
    t_catalogue = time.perf_counter() - t0

    validate_inputs([args.corpus], catalogue=catalogue)  # warm-up: imports, caches, file cache
    load_times, validate_times = [], []
    result = None
    for _ in range(args.repeat):
        load_times.append(time_json_load(files))
        start = time.perf_counter()
        result = validate_inputs([args.corpus], catalogue=catalogue)
        validate_times.append(time.perf_counter() - start)
    t_load, t_validate = min(load_times), min(validate_times)
    by_severity = Counter(f.severity.value for f in result.findings)
    print(f"corpus:      {args.corpus} ({len(files)} files, {result.objects} objects)")
    print(f"catalogue:   {len(catalogue)} aliases loaded once in {t_catalogue:.2f} s")
    print(f"json.load:   {t_load:.3f} s")
    print(f"validate:    {t_validate:.3f} s  (best of {args.repeat})")
    print(f"ratio:       {t_validate / t_load:.2f}  (target <= 4)")
    print(f"findings:    {dict(sorted(by_severity.items()))}")


if __name__ == "__main__":
    main()
