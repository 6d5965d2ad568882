"""`policygen validate` of the built-in corpus end to end (interpreter start-up, imports, catalogue,
every rule, the report) against a process that only walks and `json.load`s the same files.

    python benchmarks/validate_cli.py [CORPUS_DIR] [--repeat 3] [--aliases CSV] [--against REV]

Rows: one core (`--jobs 1`), every core (the default), and start-up (one file; `--help` goes through
typer, which plain `validate` runs skip). CPU time includes the worker processes. Target (issue 17):
<= 3x the parse-only process.

The measured code's modules are byte-compiled first, as an installed package's are: with
PYTHONDONTWRITEBYTECODE set (or a snapshot without __pycache__), every run would otherwise compile each
edited module again and measure the compiler. `--against REV` also runs the code of a git revision
(`git archive REV policygen`, compiled the same way), alternating with this tree run by run, and prints
the medians of both side by side: on a shared box only alternating runs compare.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from impact_cli import REPO, policygen_cmd  # noqa: E402
from measure import Run, best, run  # noqa: E402

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
    ap.add_argument("--against", metavar="REV", help="Also run this git revision's code, alternating (medians).")
    args = ap.parse_args()
    compile_code(REPO / "policygen")
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
    if args.against:
        with tempfile.TemporaryDirectory() as tmp:
            other = snapshot(args.against, Path(tmp))
            base_cmd = cmd[cmd.index("validate") :]
            parse_only = [sys.executable, "-c", PARSE_ONLY, str(args.corpus)]
            for label, jobs in (("--jobs 1", ["--jobs", "1"]), ("all cores", [])):
                runs: dict[str, list[Run]] = {"parse-only": [], "tree": [], args.against: []}
                for _ in range(args.repeat):
                    runs["parse-only"].append(run(parse_only))
                    runs["tree"].append(run(policygen_cmd() + base_cmd + jobs, out))
                    runs[args.against].append(run(policygen_cmd(other) + base_cmd + jobs, out))
                for name, rs in runs.items():
                    print(median_row(f"{label}: {name}", rs, runs["parse-only"]))
    return 0


def compile_code(package: Path) -> None:
    """Byte-compile a policygen/ tree quietly (stale or missing .pyc files only)."""
    import compileall

    compileall.compile_dir(str(package), quiet=2)


def snapshot(rev: str, dest: Path) -> Path:
    """`policygen/` as committed at `rev`, compiled."""
    import subprocess

    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "policygen"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    compile_code(dest / "policygen")
    return dest


def median_row(label: str, runs: list[Run], base: list[Run]) -> str:
    """Medians of alternating runs, as ratios to the parse-only runs made between them."""
    cpu, wall = statistics.median(r.cpu for r in runs), statistics.median(r.wall for r in runs)
    base_cpu, base_wall = statistics.median(r.cpu for r in base), statistics.median(r.wall for r in base)
    return (
        f"{label:<28} median {wall:5.2f} s wall {cpu:5.2f} s CPU  x{cpu / base_cpu:5.2f} CPU  x{wall / base_wall:5.2f}"
        f" wall  (wall {', '.join(f'{r.wall:.2f}' for r in runs)})"
    )


if __name__ == "__main__":
    raise SystemExit(main())
