"""Apply at scale: a generated pack against the emulator with per-request latency.

    python benchmarks/apply.py [--definitions 200] [--initiatives 10] [--assignments 30] [--latency-ms 50]
                               [--concurrency N] [--skip-sequential]

The pack: N definitions (every tenth a modify policy, so assignments need identities and roles), grouped
into initiatives of N/I members, assigned A times over three management groups. The emulator runs in a
separate process (`policygen emulator --latency-ms ...`) so its CPU does not compete with the client's.

Reports, for --concurrency 1 and the default: `policygen apply` run as a subprocess, its wall time and its
ARM phase (first request sent to last answered, from the emulator's request log: read + diff + writes,
without interpreter start-up and compiling the pack), request counts, the ideal critical-path time
(longest chain of dependent requests x latency: one read round, then definition -> initiative -> assignment
-> role assignment), the no-op re-apply's requests, and whether the targets hold (ARM phase at the default
>= 8x faster than sequential and within 1.5x of the critical path, no-op re-apply with zero writes).

    python benchmarks/apply.py --throttle [--bucket-scale 0.05] [--definitions 390 --initiatives 20 ...]

Throttled mode runs `policygen apply` as a subprocess against `policygen emulator --throttle`: ARM's token
buckets (per subscription or tenant and per class: reads 250 + 25/s, writes and deletes 200 + 10/s; see
https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling), scaled
by --bucket-scale. It reports whether the first apply succeeded, the 429s it met, and the ratio of its wall
time to the bound the buckets allow: for each bucket, (requests it let through - its size) / its refill
rate, the slowest bucket deciding. A converged second plan (exit 0 with --detailed-exitcode) is checked too.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from policygen.azure.apply import DEFAULT_CONCURRENCY, build_graph, critical_path  # noqa: E402
from policygen.azure.plan import Plan  # noqa: E402
from policygen.azure.target import ENDPOINT_ENV  # noqa: E402

MGS = ("bench-a", "bench-b", "bench-c")


def generate_pack(root: Path, n_defs: int, n_inits: int, n_assign: int, mgs: Sequence[str] = MGS,
                  name: str = "bench") -> None:
    """A pack of `n_defs` definitions (every tenth a modify policy, so assignments need identities and role
    assignments, as in an estate with remediation) in `n_inits` initiatives, assigned `n_assign` times
    round-robin over the management groups `mgs`. benchmarks/estate.py generates its estate with it."""
    for sub in ("definitions", "initiatives", "assignments"):
        (root / sub).mkdir(parents=True)
    title = name.capitalize()
    scopes = "\n".join(f"      {mg}: /providers/Microsoft.Management/managementGroups/{mg}" for mg in mgs)
    (root / "policygen.yaml").write_text(
        f"name: {name}\nownerId: policygen-{name}\n"
        f"definitionScope: /providers/Microsoft.Management/managementGroups/{name}\n"
        f"environments:\n  local:\n    cloud: local\n    scopes:\n{scopes}\n    identityLocation: westeurope\n"
    )
    for i in range(n_defs):
        if i % 10 == 0:
            body = (f"intent: disable-public-network-access\nname: def-{i:04d}\n"
                    "resourceTypes: [Microsoft.MachineLearningServices/workspaces]\n"
                    f"displayName: {title} modify {i}\neffect: {{default: Modify, allowed: [Modify, Disabled]}}\n")
        else:
            body = (f"intent: custom\nname: def-{i:04d}\ndisplayName: {title} audit {i}\nsettings:\n  if:\n"
                    f"    allOf:\n      - {{field: type, equals: Microsoft.Storage/storageAccounts}}\n"
                    f"      - {{field: 'tags[{name}{i}]', exists: false}}\n")
        (root / "definitions" / f"def-{i:04d}.yaml").write_text(body)
    per = max(1, n_defs // n_inits)
    for j in range(n_inits):
        members = "\n".join(f"  - {{definition: def-{i:04d}}}" for i in range(j * per, min((j + 1) * per, n_defs)))
        (root / "initiatives" / f"init-{j:03d}.yaml").write_text(
            f"name: init-{j:03d}\ndisplayName: {title} initiative {j}\nmembers:\n{members}\n")
    for k in range(n_assign):
        (root / "assignments" / f"asg-{k:04d}.yaml").write_text(
            f"name: asg-{k:04d}\ndisplayName: {title} assignment {k}\ninitiative: init-{k % n_inits:03d}\n"
            f"scope: {mgs[k % len(mgs)]}\nidentity: {{type: SystemAssigned}}\n")


def seed_file(root: Path) -> Path:
    subs = {mg: f"00000000-0000-0000-0000-00000000b0{i}0" for i, mg in enumerate(MGS)}
    children = "\n".join(f"      - name: {mg}\n        subscriptions: [{{id: {sub}}}]" for mg, sub in subs.items())
    path = root / "seed.yaml"
    path.write_text(f"managementGroups:\n  - name: bench\n    children:\n{children}\n")
    return path


class Emulator:
    """`policygen emulator` in a child process, with a request log we can count."""

    def __init__(self, seed: Path, log: Path, latency_ms: float, extra: list[str] | None = None):
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "policygen", "emulator", "--port", "0", "--seed", str(seed),
             "--latency-ms", str(latency_ms), "--request-log", str(log), "--page-size", "1000", *(extra or [])],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO)
        line = self.proc.stdout.readline()
        m = re.search(r"(http://\S+)", line)
        if not m:
            self.proc.kill()
            raise SystemExit(f"emulator did not start: {line!r}")
        self.url = m.group(1)

    def requests(self) -> list[dict]:
        return [json.loads(x) for x in self.log.read_text().splitlines() if x.strip()]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def run(build_root: Path, latency_ms: float, concurrency: int) -> dict:
    """A fresh `policygen apply` and a no-op re-apply, each a CLI subprocess; timings from the request log."""
    with tempfile.TemporaryDirectory() as tmp:
        emu = Emulator(seed_file(Path(tmp)), Path(tmp) / "requests.jsonl", latency_ms)
        try:
            plan_file = Path(tmp) / "plan.json"  # only to count the critical path; its reads are not timed
            run_cli(["plan", str(build_root), "--env", "local", "--out", str(plan_file)], emu.url)
            before = len(emu.requests())
            apply_args = ["apply", str(build_root), "--env", "local", "--yes", "--quiet",
                          "--concurrency", str(concurrency)]
            cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            code, wall, out = run_cli(apply_args, emu.url)
            cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            assert code == 0, out[-2000:]
            fresh = emu.requests()[before:]
            _, noop_wall, _ = run_cli(apply_args, emu.url)
            noop = emu.requests()[before + len(fresh):]
        finally:
            emu.stop()
        plan = Plan.read(plan_file)
    first_write = min(r["ts"] - r["ms"] / 1000 for r in fresh if r["method"] == "PUT")
    arm_start = min(r["ts"] - r["ms"] / 1000 for r in fresh)
    return {
        "concurrency": concurrency, "wall_s": wall, "arm_s": max(r["ts"] for r in fresh) - arm_start,
        "read_s": first_write - arm_start, "objects": len(plan.changes),
        "client_cpu_s": (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime),
        "critical_path_writes": critical_path(build_graph(plan)), "requests": len(fresh),
        "by_method": dict(Counter(r["method"] for r in fresh)), "retries": sum(1 for r in fresh if r["status"] >= 429),
        "noop_s": noop_wall, "noop_requests": len(noop),
        "noop_writes": sum(1 for r in noop if r["method"] in ("PUT", "DELETE", "PATCH")),
    }


# ARM's documented buckets (size, refill per second), per subscription (or tenant) and operation class.
ARM_BUCKETS = {"read": (250, 25.0), "write": (200, 10.0), "delete": (200, 10.0)}
SUB_RE = re.compile(r"^/subscriptions/([^/]+)", re.IGNORECASE)


def bucket_of(entry: dict) -> tuple[str, str]:
    """(scope, class) of a logged request: the bucket the emulator charged it to."""
    m = SUB_RE.match(entry["path"])
    cls = {"GET": "read", "HEAD": "read", "DELETE": "delete"}.get(entry["method"], "write")
    return (m.group(1).lower() if m else "tenant", cls)


def bucket_bound(log: list[dict], scale: float) -> tuple[float, dict]:
    """Seconds the buckets need at least to let the requests through that got through: per bucket
    (passed - size) / refill; the slowest bucket is the bound."""
    passed: Counter = Counter()
    for entry in log:
        if entry["path"].startswith("/_admin/") or entry["status"] == 429:
            continue
        passed[bucket_of(entry)] += 1
    bounds = {}
    for (scope, cls), n in passed.items():
        size, refill = ARM_BUCKETS[cls]
        bounds[f"{scope}/{cls}"] = max(0.0, (n - max(1.0, size * scale)) / max(0.01, refill * scale))
    return max(bounds.values(), default=0.0), dict(passed=dict(passed), bounds=bounds)


def run_cli(args: list[str], url: str) -> tuple[int, float, str]:
    env = {**os.environ, ENDPOINT_ENV: url, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "policygen", *args], env=env, capture_output=True, text=True,
                          cwd=REPO)
    return done.returncode, time.perf_counter() - started, done.stdout + done.stderr


def throttled_run(root: Path, scale: float, latency_ms: float, concurrency: int) -> bool:
    """First apply of the pack as a subprocess under the emulator's token buckets; prints the ratio."""
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "requests.jsonl"
        emu = Emulator(seed_file(Path(tmp)), log_path, latency_ms,
                       extra=["--throttle", "--bucket-scale", str(scale)])
        try:
            code, wall, out = run_cli(["apply", str(root), "--env", "local", "--yes", "--quiet",
                                       "--concurrency", str(concurrency)], emu.url)
            log = emu.requests()
            again, _, again_out = run_cli(["plan", str(root), "--env", "local", "--detailed-exitcode"], emu.url)
        finally:
            emu.stop()
    bound, detail = bucket_bound(log, scale)
    throttled = sum(1 for e in log if e["status"] == 429)
    summary = [line for line in out.splitlines() if line.startswith(("Apply", "Resources", "  ✗"))
               or " requests (" in line]
    print(f"bucket scale {scale}: apply exit {code}, wall {wall:.1f} s, {len(log)} requests, {throttled} answered 429")
    print("  " + "\n  ".join(summary[-6:]))
    print(f"  requests let through per bucket: {detail['passed']}")
    arm_s = max(e["ts"] for e in log) - min(e["ts"] - e["ms"] / 1000 for e in log)
    print(f"  bound the buckets allow: {bound:.1f} s; CLI wall / bound = {wall / bound:.2f}, ARM phase "
          f"{arm_s:.1f} s / bound = {arm_s / bound:.2f}" if bound else "  the buckets never ran dry (bound 0 s)")
    print(f"  second plan --detailed-exitcode: {again} ({'converged' if again == 0 else again_out[-300:]})")
    return code == 0 and again == 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--definitions", type=int, default=200)
    ap.add_argument("--initiatives", type=int, default=10)
    ap.add_argument("--assignments", type=int, default=30)
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY, help="the 'default' run")
    ap.add_argument("--skip-sequential", action="store_true", help="only the default concurrency")
    ap.add_argument("--throttle", action="store_true", help="apply (CLI) under ARM's token buckets")
    ap.add_argument("--bucket-scale", type=float, default=1.0, help="with --throttle: scale the buckets")
    args = ap.parse_args()
    if args.throttle:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "pack"
            generate_pack(root, args.definitions, args.initiatives, args.assignments)
            ok = throttled_run(root, args.bucket_scale, args.latency_ms, args.concurrency)
        sys.exit(0 if ok else 1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "pack"
        generate_pack(root, args.definitions, args.initiatives, args.assignments)
        runs = [] if args.skip_sequential else [run(root, args.latency_ms, 1)]
        runs.append(run(root, args.latency_ms, args.concurrency))
    lat = args.latency_ms / 1000
    best = runs[-1]
    # one parallel read round (every list fits one page), then the longest chain of dependent writes
    ideal = (1 + best["critical_path_writes"]) * lat
    print(f"pack: {args.definitions} definitions, {args.initiatives} initiatives, {args.assignments} assignments "
          f"over {len(MGS)} management groups; emulator latency {args.latency_ms:.0f} ms per request")
    print(f"objects applied (incl. role assignments): {best['objects']}")
    print(f"{'concurrency':>11} {'CLI s':>7} {'ARM s':>7} {'read s':>7} {'requests':>9}  by method{'':18} "
          f"{'retries':>7} {'no-op s':>8} {'no-op req':>9} {'no-op writes':>12}")
    for r in runs:
        methods = ", ".join(f"{k} {v}" for k, v in sorted(r["by_method"].items()))
        print(f"{r['concurrency']:>11} {r['wall_s']:>7.2f} {r['arm_s']:>7.2f} {r['read_s']:>7.2f} {r['requests']:>9}  "
              f"{methods:<27} {r['retries']:>7} {r['noop_s']:>8.2f} {r['noop_requests']:>9} {r['noop_writes']:>12}")
    print(f"ideal critical path: (1 read round + {best['critical_path_writes']} dependent writes) x "
          f"{args.latency_ms:.0f} ms = {ideal:.2f} s")
    c = best["concurrency"]
    levels = [args.definitions, args.initiatives, args.assignments, best["objects"] - args.definitions
              - args.initiatives - args.assignments]
    rounds = 1 + sum(-(-n // c) for n in levels if n)
    print(f"ideal at concurrency {c} (levels of {levels} writes, one round trip per {c}): {rounds} round trips = "
          f"{rounds * lat:.2f} s; ARM phase/that = {best['arm_s'] / (rounds * lat):.2f}x")
    cpu = best["client_cpu_s"]
    per = cpu / max(best["requests"], 1) * 1000
    print(f"client CPU of the default run's CLI process: {cpu:.2f} s ({per:.1f} ms per request)")
    ok = True
    if len(runs) == 2:
        speedup = runs[0]["arm_s"] / best["arm_s"]
        ok &= speedup >= 8
        verdict = "OK" if speedup >= 8 else "MISSED"
        print(f"ARM-phase speed-up default vs --concurrency 1: {speedup:.1f}x (target >= 8x) {verdict}")
    ratio = best["arm_s"] / ideal
    ok &= ratio <= 1.5
    print(f"default ARM phase vs critical path: {ratio:.2f}x (target <= 1.5x) {'OK' if ratio <= 1.5 else 'MISSED'}")
    ok &= all(r["noop_writes"] == 0 for r in runs)
    print(f"no-op re-apply writes: {[r['noop_writes'] for r in runs]} (target 0) "
          f"{'OK' if all(r['noop_writes'] == 0 for r in runs) else 'MISSED'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
