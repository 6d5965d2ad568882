"""Regenerate policygen/data/aliases.zip: every alias of the dump, per resource type, one member per namespace.

Usage: python scripts/build_alias_catalogue.py [DUMP_CSV] [--check]
(DUMP_CSV defaults to ../shared/corpus/aliases/policy-aliases.csv); --check exits 1 when the shipped
archive differs from what the dump would give.

Reads an alias dump (`alias,defaultPath` rows from Get-AzPolicyAlias; namespace-level aliases such as
`Microsoft.Compute/imagePublisher` take the type of the rows around them), adds the hand-maintained newer
aliases in policygen/data/aliases-extra.csv (each row cites its source), and writes one per-type JSON
document (policygen.arm.alias_data.FORMAT) per provider namespace into a deflate-compressed zip, so the
package reads only the namespaces a run asks about. The output is byte-identical for the same input.
The dump's license (MIT, Janne Mattila) is reproduced in policygen/data/ALIASES-NOTICE.txt.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policygen.arm.alias_data import Alias, aliases_from_csv, namespace_of, to_document  # noqa: E402

OUT = ROOT / "policygen/data/aliases.zip"


def build(source: Path) -> tuple[bytes, int, int, int]:
    """(archive bytes, records, records from the dump, namespaces)."""
    records: dict[tuple[str, str], Alias] = {}
    for alias in aliases_from_csv(source.read_text(encoding="utf-8-sig").splitlines()):
        records.setdefault((alias.resource_type.lower(), alias.name.lower()), alias)  # the dump repeats 16 rows
    n_dump = len(records)
    extra = ROOT / "policygen/data/aliases-extra.csv"
    with extra.open(newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(line for line in fh if not line.startswith("#")):
            name, path = rec["alias"], rec["defaultPath"]
            rtype = Alias(name, path).resource_type
            records[(rtype.lower(), name.lower())] = Alias(name, path, rtype)
    by_ns: dict[str, list[Alias]] = {}
    for alias in records.values():
        by_ns.setdefault(namespace_of(alias.name), []).append(alias)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for ns in sorted(by_ns):
            doc = to_document(by_ns[ns], f"{source.name} + aliases-extra.csv", "2024-01")
            info = zipfile.ZipInfo(f"{ns}.json", date_time=(2024, 1, 9, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, json.dumps(doc, separators=(",", ":"), sort_keys=False), compresslevel=9)
    return buf.getvalue(), len(records), n_dump, len(by_ns)


def main(argv: list[str]) -> int:
    args = [a for a in argv if a != "--check"]
    source = Path(args[0]) if args else ROOT.parent / "shared/corpus/aliases/policy-aliases.csv"
    data, n, n_dump, n_ns = build(source)
    if "--check" in argv:
        current = OUT.read_bytes() if OUT.is_file() else b""
        print(f"{OUT.relative_to(ROOT)} is {'current' if current == data else 'stale: run the script'}")
        return 0 if current == data else 1
    OUT.write_bytes(data)
    print(
        f"wrote {n} (type, alias) records ({n_dump} from {source.name}) in {n_ns} namespaces "
        f"to {OUT.relative_to(ROOT)} ({len(data):,} bytes)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
