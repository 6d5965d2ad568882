"""Seeded fuzzing of the CLI's inputs (issue #16, "Done means"): mutated copies of the shipped pack for
`build`, `validate` and `test`, and mutated policy JSON from the validator's own fixtures for `validate`.
Whatever the input, `policygen.cli.run` answers 0, 1 or 2 and never lets an exception (a traceback) out.

Deterministic: each case is a `random.Random(seed)`, so a failure names its seed and replays exactly
(`FUZZ_SEEDS=<n>` widens a local run). The YAML cases mix structure edits (lines deleted, duplicated,
swapped, re-indented, truncated) with hostile scalars (anchors and aliases, tags, control characters,
huge numbers, deep flow nesting, undecodable bytes).
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import pytest

from policygen.cli import run

REPO = Path(__file__).resolve().parent.parent
PACK_PARTS = ("policygen.yaml", "definitions", "initiatives", "assignments", "examples")
RULE_CASES = REPO / "tests" / "rules" / "cases"
GROUPS = int(os.environ.get("FUZZ_SEEDS", "6"))
CASES_PER_GROUP = 6
COMMANDS = ("build", "validate", "test")

WEIRD = [
    "",
    "null",
    "~",
    "[]",
    "{}",
    "[[[",
    "]]",
    "&a x",
    "*a",
    "*nope",
    "'unterminated",
    '"\\x00\\u202e"',
    "!!python/object/apply:os.system ['true']",
    "!!binary AAAA",
    "!!set {a, b}",
    "!!timestamp 2001-12-14",
    "<<: *a",
    "- x",
    ": :",
    "\t",
    "9" * 400,
    "1e999",
    "-1",
    ".nan",
    "0x1F",
    "true",
    "'[parameters(''nope'')]'",
    "\"[concat('a',\"",
    "'[[escaped]'",
    "\ufeff",
    "x" * 5000,
    "{a: [b, {c: d}]}",
    "? complex key",
    "|\n  block",
    "%YAML 1.1",
    "---",
    "...",
    "#",
    "[" * 300 + "]" * 300,
    "*",
    "Microsoft.Storage/storageAccounts/*/*/*",
]


def _copy_pack(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in PACK_PARTS:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, dirs_exist_ok=True)
        elif src.exists():
            shutil.copy(src, dest / name)
    return dest


def mutate_lines(text: str, rng: random.Random) -> str:
    """One to three structural or scalar edits of a YAML text."""
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        if not lines:
            lines = [""]
        i = rng.randrange(len(lines))
        op = rng.randrange(8)
        if op == 0:  # a key's value replaced
            key, sep, _ = lines[i].partition(":")
            lines[i] = f"{key}{sep or ':'} {rng.choice(WEIRD)}"
        elif op == 1:
            lines.insert(i, rng.choice(WEIRD))
        elif op == 2:
            del lines[i]
        elif op == 3:
            lines.insert(i, lines[i])
        elif op == 4:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 5:
            lines[i] = rng.choice(["  ", "\t", ""]) + lines[i].lstrip(" " if rng.random() < 0.5 else "")
        elif op == 6:
            cut = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:cut] + rng.choice("[]{}&*!|>'\":#-?,%@`\\") + lines[i][cut:]
        else:
            return "\n".join(lines)[: rng.randrange(len(text) + 1)]
    return "\n".join(lines)


def _pack_files(pack: Path) -> list[Path]:
    return sorted(p for p in pack.rglob("*.yaml") if "examples" not in p.parts) + [pack / "policygen.yaml"] * 3


def _run(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str]:
    code = run(argv)
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.mark.parametrize("group", range(GROUPS))
def test__fuzz__mutated_pack_never_escapes_the_exit_codes(group: int, tmp_path: Path, capsys):
    pristine = _copy_pack(tmp_path / "pristine")
    for case in range(CASES_PER_GROUP):
        seed = group * 1000 + case
        rng = random.Random(seed)
        pack = tmp_path / f"case{case}"
        shutil.copytree(pristine, pack)
        target = rng.choice(_pack_files(pack))
        if rng.random() < 0.08:  # undecodable bytes somewhere in the file
            raw = bytearray(target.read_bytes())
            raw.insert(rng.randrange(len(raw) + 1), rng.choice([0xFF, 0xC3, 0x00, 0x1B]))
            target.write_bytes(bytes(raw))
        else:
            target.write_text(mutate_lines(target.read_text(encoding="utf-8"), rng), encoding="utf-8")
        command = COMMANDS[(group + case) % len(COMMANDS)]
        argv = [command, str(pack)] + (["--out", str(pack / "out")] if command == "build" else [])
        code, output = _run(argv, capsys)
        where = f"seed {seed}: {command} with {target.relative_to(pack)} mutated"
        assert code in (0, 1, 2), f"{where}: exit {code}\n{output[-2000:]}"
        assert "Traceback" not in output, f"{where}\n{output[-2000:]}"
        shutil.rmtree(pack)


def _json_policies() -> list[dict]:
    """Definitions, initiatives and assignments embedded in the validator's rule fixtures."""
    import yaml

    found: list[dict] = []
    for path in sorted(RULE_CASES.glob("*.yml"))[:40]:
        stack = [yaml.safe_load(path.read_text(encoding="utf-8"))]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if isinstance(node.get("properties"), dict) and (
                    "policyRule" in node["properties"] or "policyDefinitions" in node["properties"]
                ):
                    found.append(node)
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    return found


def mutate_json(value: object, rng: random.Random) -> object:
    """Replace, drop or duplicate one random member anywhere in a JSON value."""
    replacements = [None, 0, -1, 1e308, "", "*", "[", "[parameters('x')]", "[[x]", [], {}, [[[]]], {"a": {}}, True]
    value = json.loads(json.dumps(value))
    containers = [value]
    stack = [value]
    while stack:
        node = stack.pop()
        children = list(node.values()) if isinstance(node, dict) else node if isinstance(node, list) else []
        for child in children:
            if isinstance(child, dict | list):
                containers.append(child)
                stack.append(child)
    node = rng.choice(containers)
    if isinstance(node, dict) and node:
        key = rng.choice(sorted(node))
        op = rng.randrange(3)
        if op == 0:
            node[key] = rng.choice(replacements)
        elif op == 1:
            del node[key]
        else:
            node[key.upper() if key != key.upper() else key.lower()] = node[key]
    elif isinstance(node, list) and node:
        i = rng.randrange(len(node))
        node[i] = rng.choice(replacements) if rng.random() < 0.5 else node[rng.randrange(len(node))]
    return value


def test__fuzz__mutated_policy_json_validates_with_an_exit_code(tmp_path: Path, capsys):
    policies = _json_policies()
    assert policies, "the rule fixtures hold policy objects"
    for seed in range(GROUPS * 10):
        rng = random.Random(seed)
        doc = mutate_json(rng.choice(policies), rng)
        for _ in range(rng.randint(0, 3)):
            doc = mutate_json(doc, rng)
        path = tmp_path / f"p{seed}.json"
        text = json.dumps(doc, indent=1)
        if rng.random() < 0.15:
            cut = rng.randrange(len(text) + 1)
            text = text[:cut] + rng.choice(["", "}", "[", '"', ",", "\\"]) + text[cut:]
        path.write_text(text, encoding="utf-8")
        code, output = _run(["validate", str(path)], capsys)
        assert code in (0, 1, 2), f"seed {seed}: exit {code}\n{output[-2000:]}"
        assert "Traceback" not in output, f"seed {seed}\n{output[-2000:]}"
