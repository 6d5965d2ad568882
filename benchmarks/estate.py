"""Plan and apply an estate as EPAC users run them: 5,000 definitions, 500 initiatives and 2,000
assignments over 50 management groups, against the emulator with 50 ms latency and ARM's token
buckets, every step a `policygen` subprocess.

    python benchmarks/estate.py                                    # the full estate, buckets x10
    python benchmarks/estate.py --definitions 500 --initiatives 50 --assignments 200 --bucket-scale 1

Steps: generate the pack; `plan` against the empty tenant; `apply --yes`; `plan --detailed-exitcode`
again (no changes: the number EPAC users compare with their 2-15 minute plans). For the apply, the
bound the buckets allow is computed from the emulator's request log (per bucket: requests let through
beyond the bucket's size / refill rate; the slowest bucket is the bound) and the ratio wall / bound
is printed (target <= 1.2). ARM's buckets refill writes at 10/s, so a 9,500-write apply needs ~16
minutes at scale 1; `--bucket-scale 10` keeps the same shape at a tenth of the time.

One pack has one definition scope, and Azure allows 500 custom definitions and 200 initiatives per scope
(DEF-08), so this estate cannot pass validation: `plan` and `apply` run with `--skip-validation`, and
`validate` is timed on its own line.

Targets (issue 17): plan with no changes <= 10 s; apply within 1.2x of the bound.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from apply import Emulator, bucket_bound, generate_pack  # noqa: E402
from measure import run as measure  # noqa: E402

REPO = HERE.parent


def seed(root: Path, mgs: list[str]) -> Path:
    children = "\n".join(
        f"      - name: {mg}\n        subscriptions: [{{id: 00000000-0000-0000-0000-{i:012d}}}]"
        for i, mg in enumerate(mgs)
    )
    path = root / "seed.yaml"
    path.write_text(f"managementGroups:\n  - name: estate\n    children:\n{children}\n")
    return path


def cpu_seconds(pid: int) -> float:
    """User + system CPU a running process has used (/proc/<pid>/stat): the emulator shares the machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--definitions", type=int, default=5000)
    ap.add_argument("--initiatives", type=int, default=500)
    ap.add_argument("--assignments", type=int, default=2000)
    ap.add_argument("--management-groups", type=int, default=50)
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument("--bucket-scale", type=float, default=10.0)
    ap.add_argument("--page-size", type=int, default=1000, help="Items per page of the emulator's lists.")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--plan-repeat", type=int, default=3, help="No-change plans to run (the fastest is reported).")
    args = ap.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="estate-"))
    work.mkdir(parents=True, exist_ok=True)
    pack = work / "pack"
    if not pack.exists():
        mgs = [f"mg-{i:02d}" for i in range(args.management_groups)]
        generate_pack(pack, args.definitions, args.initiatives, args.assignments, mgs, name="estate")
    else:
        mgs = [f"mg-{i:02d}" for i in range(args.management_groups)]
    log = work / "requests.jsonl"
    log.unlink(missing_ok=True)
    print(f"estate: {args.definitions} definitions, {args.initiatives} initiatives, {args.assignments} assignments "
          f"over {len(mgs)} management groups; latency {args.latency_ms:.0f} ms; buckets x{args.bucket_scale:g}")
    emu = Emulator(seed(work, mgs), log, args.latency_ms,
                   extra=["--throttle", "--bucket-scale", str(args.bucket_scale), "--page-size", str(args.page_size)])
    try:
        from policygen.azure.target import ENDPOINT_ENV

        cli = ["env", f"{ENDPOINT_ENV}={emu.url}", sys.executable, "-m", "policygen"]
        t = measure([*cli, "validate", str(pack)], work / "validate.out")
        print(t.row("validate (render + rules)"))
        deploy = [str(pack), "--env", "local", "--skip-validation"]
        t = measure([*cli, "plan", *deploy], work / "plan-empty.out")
        print(t.row("plan, empty tenant"))
        n0 = len(emu.requests())
        t0 = time.perf_counter()
        started, emu_cpu = time.time(), cpu_seconds(emu.proc.pid)
        a = measure([*cli, "apply", *deploy, "--yes", "--quiet"], work / "apply.out")
        print(a.row("apply --yes") + f"  rc={a.returncode}; emulator CPU {cpu_seconds(emu.proc.pid) - emu_cpu:.1f} s")
        entries = emu.requests()
        applied = entries[n0:]
        bound, detail = bucket_bound(applied, args.bucket_scale)
        throttled = sum(1 for e in applied if e["status"] == 429)
        methods = Counter(e["method"] for e in applied)
        print(f"  {len(applied)} requests ({dict(methods)}), {throttled} answered 429; "
              f"busiest buckets: {sorted(detail['bounds'].items(), key=lambda kv: -kv[1])[:2]}")
        print(f"  bound the buckets allow {bound:.1f} s; wall / bound = {a.wall / bound:.2f} (target <= 1.2)"
              if bound else "  the buckets never ran dry")
        writes = [e for e in applied if e["method"] in ("PUT", "DELETE") and e["status"] < 400]
        if writes and bound:
            first, last = min(e["ts"] - e["ms"] / 1000 for e in writes), max(e["ts"] for e in writes)
            print(f"  before the first write (start-up, compile, read, diff) {first - started:.1f} s; writes "
                  f"{last - first:.1f} s = {(last - first) / bound:.2f} x the bound")
        n1 = len(emu.requests())
        runs = []
        for _ in range(args.plan_repeat):
            emu_cpu = cpu_seconds(emu.proc.pid)
            runs.append((measure([*cli, "plan", *deploy, "--detailed-exitcode"], work / "plan-noop.out"),
                         cpu_seconds(emu.proc.pid) - emu_cpu))
        p, p_emu = min(runs, key=lambda r: r[0].wall)
        reads = emu.requests()[n1:]
        print(p.row("plan, no changes") + f"  exit {p.returncode} (0 = no changes; target <= 10 s); emulator CPU "
              f"{p_emu:.1f} s; best wall of {len(runs)}: {', '.join(f'{r.wall:.1f}' for r, _ in runs)} s")
        print(f"  {len(reads)} requests in {len(runs)} plans: {dict(Counter(e['method'] for e in reads))}")
        print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
              f"on {os.cpu_count()} cores")
        print(f"total {time.perf_counter() - t0:.0f} s; outputs in {work}")
        (work / "summary.json").write_text(json.dumps({"apply_wall": a.wall, "apply_cpu": a.cpu, "bound": bound,
                                                       "plan_wall": p.wall, "plan_cpu": p.cpu,
                                                       "requests": len(applied), "load": os.getloadavg()}))
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
