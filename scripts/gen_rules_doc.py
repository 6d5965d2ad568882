"""Write docs/rules.md from the rule docstrings (policygen.views.rules_catalogue); `--check` only compares.

Usage: python scripts/gen_rules_doc.py [--check]
Exit code 1 with --check when docs/rules.md differs from what the rules generate.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policygen.views.rules_catalogue import render_markdown  # noqa: E402  (after the path set-up)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    target = ROOT / "docs" / "rules.md"
    text = render_markdown()
    if args.check:
        current = target.read_text(encoding="utf-8") if target.is_file() else ""
        if current != text:
            print(f"{target}: out of date; run python scripts/gen_rules_doc.py", file=sys.stderr)
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
