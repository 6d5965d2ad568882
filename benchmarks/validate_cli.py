"""`policygen validate` of the built-in corpus end to end (interpreter start-up, imports, catalogue,
every rule, the report) against a process that only walks and `json.load`s the same files.

    python benchmarks/validate_cli.py [CORPUS_DIR] [--repeat 3] [--aliases CSV]

Rows: one core (`--jobs 1`), every core (the default), and start-up (one file; `--help` goes through
typer, which plain `validate` runs skip). CPU time includes the worker processes. Target (issue 17):
<= 3x the parse-only process.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from impact_cli import policygen_cmd  # noqa: E402
from measure import best  # noqa: E402

DEFAULT = HERE.parent.parent / "shared" / "corpus" / "azure-policy-builtins"
PARSE_ONLY = """
import json, sys
from pathlib import Path
n = 0
for f in sorted(Path(sys.argv[1]).rglob('*.json')):
    with f.open('rb') as fh:
        json.load(fh)
    n += 1
print(n)
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--aliases", type=Path, help="Pass --aliases (e.g. the corpus's policy-aliases.csv).")
    args = ap.parse_args()
    n = sum(1 for _ in args.corpus.rglob("*.json"))
    print(f"corpus: {args.corpus} ({n:,} JSON files)")
    base = best([sys.executable, "-c", PARSE_ONLY, str(args.corpus)], args.repeat)
    print(base.row("parse-only process"))
    cmd = policygen_cmd() + ["validate", str(args.corpus), "--format", "json"]
    if args.aliases:
        cmd += ["--aliases", str(args.aliases)]
    out = Path("/tmp") / "validate-bench.json"
    for label, jobs in (("validate --jobs 1", ["--jobs", "1"]), ("validate (all cores)", [])):
        r = best(cmd + jobs, args.repeat, stdout=out)
        print(r.row(label, base) + f"  rc={r.returncode}")
    one = next(iter(sorted(args.corpus.rglob("*.json"))))
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(one, tmp)
        s = best(policygen_cmd() + ["validate", tmp], args.repeat)
        print(s.row("start-up: validate 1 file", base))
    s = best(policygen_cmd() + ["validate", "--help"], args.repeat)
    print(s.row("validate --help (typer)", base))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
