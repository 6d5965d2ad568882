"""`policygen impact` end to end, as a user runs it, against a process that only `json.load`s the input.

    python benchmarks/impact_cli.py                           # 100,000 resources, both mixes, json + table
    python benchmarks/impact_cli.py --mix lean --resources 1000000 --formats json
    python benchmarks/impact_cli.py --formats json,ndjson,csv --extra="--jobs 1" --extra="--jobs 2"

Policies: the MLOps pack (this repository) plus the Machine Learning, Storage, Key Vault, Network and
Container Registry built-ins (~257 definitions), with a `--parameters` file supplying a value for every
parameter without a default, as an assignment would. Mixes: *lean* (~600 B per resource: what a policy
reads) and *realistic* (~2.5 KB: envelope, systemData and read-only properties of a real export), from
the generators in benchmarks/impact.py, written compactly.

For each run: wall, CPU (user + system, children included), peak RSS of the largest process, peak PSS
of the process tree, and ratios to `python -c 'json.load(...)'` of the same file (best of --repeat).
The PSS is sampled in one more run than the timed ones (benchmarks/measure.py: sampling slows a run).
Targets (issue 17): CPU <= 3x on one core; wall <= 1.5x with all cores; memory <= 2x.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import impact as gen  # noqa: E402  (the resource generators of the in-process benchmark)
from measure import best  # noqa: E402

CATEGORIES = ("Machine Learning", "Storage", "Key Vault", "Network", "Container Registry")


def write_inventory(path: Path, n: int, mix: str, seed: int, ndjson: bool) -> int:
    """Stream `n` generated resources to `path` without holding them; returns the byte size."""
    rnd = random.Random(seed)
    written = i = 0
    with path.open("w", encoding="utf-8") as fh:
        if not ndjson:
            fh.write("[")
        while written < n:
            for res in gen.make_resource(rnd, i):
                if written == n:
                    break
                if mix == "realistic":
                    res = gen.realistic(rnd, res)
                text = json.dumps(res, separators=(",", ":"))
                if ndjson:
                    fh.write(text + "\n")
                else:
                    fh.write(("," if written else "") + text)
                written += 1
            i += 1
        if not ndjson:
            fh.write("]")
    return path.stat().st_size


def write_parameters(path: Path, folders: list[Path]) -> None:
    values: dict = {}
    for folder in folders:
        for f in sorted(folder.rglob("*.json")):
            try:
                data = json.loads(f.read_text(encoding="utf-8-sig"))
            except ValueError:
                continue
            for k, v in gen.assignment_values(data).items():
                values.setdefault(k, v)
    path.write_text(json.dumps(values), encoding="utf-8")


def snapshot_pack(dest: Path) -> Path:
    """The MLOps pack as committed (HEAD), so edits in progress in the working tree do not skew a run."""
    import subprocess

    if not dest.exists():
        dest.mkdir(parents=True)
        paths = [p for p in ("policygen.yaml", "definitions", "initiatives", "assignments") if (REPO / p).exists()]
        archive = subprocess.run(["git", "-C", str(REPO), "archive", "HEAD", *paths], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


def snapshot_code(dest: Path) -> Path:
    """`policygen/` as committed (HEAD): measure the commit, not edits in progress beside it."""
    import subprocess

    if not dest.exists():
        dest.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", "HEAD", "policygen"], check=True,
                                 capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


def policygen_cmd(code: Path | None = None) -> list[str]:
    """`python -m policygen` (what the `policygen` script runs) from this tree or a code snapshot; the
    installed script may point at another checkout."""
    return ["env", f"PYTHONPATH={code or REPO}", sys.executable, "-P", "-m", "policygen"]  # -P: not the cwd


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--resources", type=int, default=100_000)
    ap.add_argument("--mix", choices=("lean", "realistic", "both"), default="both")
    ap.add_argument("--formats", default="json,table", help="Comma-separated impact --format values.")
    ap.add_argument("--extra", action="append", default=None, help="Extra impact options; repeat for variants.")
    ap.add_argument("--ndjson", action="store_true", help="Write the inventory as NDJSON instead of an array.")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--workdir", type=Path, help="Keep inventories and outputs here (default: a temp dir).")
    ap.add_argument("--head", action="store_true", help="Run the committed code (git archive HEAD), not the tree.")
    ap.add_argument("--sampled-timing", action="store_true",
                    help="Time the runs whose PSS is sampled (as before 2026-12-05: the sampling slows them).")
    args = ap.parse_args()
    apart = not args.sampled_timing  # measure.best: timed runs unsampled, one more run sampled for the PSS

    root = args.shared / "corpus" / "azure-policy-builtins" / "policyDefinitions"
    folders = [root / c for c in CATEGORIES if (root / c).is_dir()]
    work = args.workdir or Path(tempfile.mkdtemp(prefix="impact-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    pack = snapshot_pack(work / "pack")
    code = snapshot_code(work / f"code-{os.getpid()}") if args.head else None
    import compileall  # as an installed package is: otherwise (PYTHONDONTWRITEBYTECODE, a fresh snapshot)

    compileall.compile_dir(str((code or REPO) / "policygen"), quiet=2)  # every run measures the compiler
    params = work / "parameters.json"
    write_parameters(params, folders)
    n_defs = sum(1 for f in folders for _ in f.rglob("*.json"))
    print(f"policies: MLOps pack + {n_defs} built-in files from {', '.join(f.name for f in folders) or 'none'}")
    mixes = ("lean", "realistic") if args.mix == "both" else (args.mix,)
    variants = args.extra or [""]
    for mix in mixes:
        inv = work / f"inventory-{mix}-{args.resources}.{'ndjson' if args.ndjson else 'json'}"
        if not inv.exists():
            size = write_inventory(inv, args.resources, mix, args.seed, args.ndjson)
        else:
            size = inv.stat().st_size
        print(f"\n{mix}: {args.resources:,} resources, {size / 1e6:,.1f} MB ({size / args.resources:,.0f} B each)")
        if args.ndjson:
            load = "import json,sys\nfor line in open(sys.argv[1],'rb'): json.loads(line)"
        else:
            load = "import json,sys; json.load(open(sys.argv[1],'rb'))"
        base = best([sys.executable, "-c", load, str(inv)], args.repeat, memory_apart=apart)
        print(base.row("json.load process"))
        for fmt in args.formats.split(","):
            for extra in variants:
                out = work / f"out-{mix}.{fmt}"
                cmd = policygen_cmd(code) + ["impact", str(pack), *map(str, folders), "-r", str(inv), "-p", str(params)]
                cmd += ["--format", fmt, "--exit-zero", "--no-progress", *shlex.split(extra)]
                r = best(cmd, args.repeat, stdout=out, memory_apart=apart)
                label = f"impact --format {fmt} {extra}".strip()
                print(r.row(label, base) + f"  out {out.stat().st_size / 1e6:,.1f} MB rc={r.returncode}")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
