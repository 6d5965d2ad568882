"""`policygen import --from alz|epac` of a large library end to end, optionally against a code snapshot.

    python benchmarks/import_cli.py [LIBRARY] [--from alz|epac] [--builtins DIR] [--repeat 3] [--before SNAPSHOT_DIR]

LIBRARY defaults to the AMBA library (../shared/corpus/alz/Azure-Landing-Zones-Library/platform/amba).
`--before DIR` runs the same command from a copy of the package (a folder holding `policygen/`), so a
change is measured against the code it replaces on the same machine at the same time (#15: the import
compiled the new pack twice).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from impact_cli import policygen_cmd  # noqa: E402
from measure import best  # noqa: E402

DEFAULT = HERE.parent.parent / "shared" / "corpus" / "alz" / "Azure-Landing-Zones-Library" / "platform" / "amba"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("library", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--from", dest="source", choices=("alz", "epac"), default="alz")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--before", type=Path, help="A folder holding an older `policygen/` package to compare.")
    ap.add_argument("--builtins", type=Path, help="With --from epac: the built-in definitions folder.")
    args = ap.parse_args()
    if not args.library.is_dir():
        print(f"{args.library}: not found", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        runs = [("this tree", None)] + ([("before", args.before)] if args.before else [])
        results = {}
        for label, code in runs:
            cmd = policygen_cmd(code) + ["import", "--from", args.source, str(args.library),
                                         "--out", str(Path(tmp) / label.replace(" ", "-")), "--force"]
            if args.builtins:
                cmd += ["--builtins", str(args.builtins)]
            results[label] = best(cmd, args.repeat, stdout=Path(tmp) / "out.txt")
        base = results.get("before")
        for label, r in results.items():
            print(r.row(f"import ({label})", base if label != "before" else None) + f"  rc={r.returncode}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
