"""`policygen check` against the live environment (`--env`) versus the pack offline (`--pack`), as subprocesses.

    python benchmarks/check_live.py [--latency-ms 20] [--repeat 3]

Starts `policygen emulator` with the demo seed and a per-request latency (Azure's is tens of milliseconds),
applies this repository's pack to it, then checks an AML workspace template in the production subscription
both ways. Reports wall/CPU/memory of each, the ARM requests the live check sent, and whether both gave the
same verdicts (they must: the live check reads what apply wrote).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from apply import Emulator  # noqa: E402
from measure import best  # noqa: E402

SCOPE = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-team"
WORKSPACE = {"type": "Microsoft.MachineLearningServices/workspaces", "apiVersion": "2024-04-01", "name": "mlw-team",
             "location": "westeurope", "identity": {"type": "SystemAssigned"},
             "properties": {"publicNetworkAccess": "Enabled"}}


def verdicts(out: str) -> set[tuple[str, str]]:
    report = json.loads(out)
    return {(f["member"], f["outcome"]) for r in report["resources"] for f in r["findings"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        emu = Emulator(REPO / "examples/seed/local.yaml", root / "requests.jsonl", args.latency_ms)
        try:
            os.environ["POLICYGEN_ENDPOINT"] = emu.url
            subprocess.run([sys.executable, "-m", "policygen", "apply", str(REPO), "--env", "local", "--yes",
                            "--quiet"], check=True, cwd=REPO, capture_output=True)
            template = root / "ws.json"
            template.write_text(json.dumps(WORKSPACE, indent=2))
            check = ["env", f"PYTHONPATH={REPO}", f"POLICYGEN_ENDPOINT={emu.url}", sys.executable, "-P", "-m",
                     "policygen", "check", str(template), "--scope", SCOPE, "--format", "json"]
            results = {}
            for label, extra in (("check --pack (offline)", ["--pack", str(REPO), "--env", "local"]),
                                 ("check --env (live)", ["--env", "local"])):
                before = len(emu.requests())
                out_file = root / f"{label.split()[1]}.json"
                os.chdir(root)  # the live check runs where no pack is
                run = best([*check, *extra], args.repeat, out_file)
                sent = (len(emu.requests()) - before) // args.repeat
                results[label] = verdicts(out_file.read_text())
                print(run.row(label) + f"  exit {run.returncode}, {sent} ARM requests")
        finally:
            emu.stop()
    same = len({frozenset(v) for v in results.values()}) == 1
    print(f"same verdicts both ways: {same} ({len(next(iter(results.values())))} verdicts)")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
