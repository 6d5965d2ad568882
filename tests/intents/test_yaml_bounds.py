"""Hostile YAML is refused quickly with bounded memory (issue #16 items 2 and 4): alias bombs, recursive
aliases and deep nesting give `file:line:col: message` and exit 2, never a MemoryError, a RecursionError or
a hang. The CLI runs as a subprocess under an address-space limit, so the old unbounded expansion fails
the test instead of exhausting the machine (YAML 1.2 section 3.2.2.2 anchors and aliases:
https://yaml.org/spec/1.2.2/#3222-anchors-and-aliases).
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policygen.errors import DiagnosticSink
from policygen.intents.yamlload import loads_yaml

MEMORY_LIMIT = 1536 * 1024 * 1024  # the old loader reached 3.7 GB on the bomb below; a clean refusal needs ~100 MB


def billion_laughs(indent: str) -> str:
    """Nine levels of nine aliases each: 9**9 (387 million) strings once expanded, 1 KB of text."""
    lines = [f'{indent}l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"{indent}l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _copy_pack(repo: Path, dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in ("policygen.yaml", "definitions", "initiatives", "assignments", "examples"):
        src = repo / name
        if src.is_dir():
            shutil.copytree(src, dest / name)
        elif src.exists():
            shutil.copy(src, dest / name)
    return dest


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "policygen", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limited,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": str(cwd)},
    )


@pytest.fixture
def bombed_pack(repo_dir: Path, tmp_path: Path) -> Path:
    """The shipped pack with a billion-laughs document under an assignment's parameters (an allowed value)."""
    pack = _copy_pack(repo_dir, tmp_path / "pack")
    path = pack / "assignments" / "mlops-dev.yaml"
    text = path.read_text(encoding="utf-8")
    assert "\nparameters:\n" in text
    path.write_text(text.replace("\nparameters:\n", "\nparameters:\n  bomb:\n" + billion_laughs("    "), 1))
    return pack


@pytest.mark.parametrize("command", ["build", "validate", "test"])
def test__alias_bomb__every_command_refuses_it_at_the_alias(bombed_pack: Path, command: str):
    args = [command, "."] if command != "build" else [command, ".", "--out", str(bombed_pack / "out")]
    proc = _cli(*args, cwd=bombed_pack)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "Traceback" not in out and "MemoryError" not in out
    assert "mlops-dev.yaml:" in out and "alias" in out


def test__alias_bomb__refused_by_the_loader_at_the_line_of_the_alias():
    sink = DiagnosticSink()
    assert loads_yaml("metadata:\n" + billion_laughs("  "), "d.yaml", sink) is None
    (d,) = sink.items
    assert d.file == "d.yaml" and d.line >= 2 and "alias" in d.message


def test__recursive_alias__refused():
    sink = DiagnosticSink()
    assert loads_yaml("a: &a [1, *a]\n", "r.yaml", sink) is None
    assert [(d.line, d.col) for d in sink.items] == [(1, 11)] and "contains it" in sink.items[0].message


def test__aliases_that_stay_small_still_work():
    sink = DiagnosticSink()
    data = loads_yaml("base: &b {effect: Audit, tags: [a, b]}\nx: *b\ny: {<<: *b, name: n}\n", "ok.yaml", sink)
    assert not sink.items
    assert data["x"] == {"effect": "Audit", "tags": ["a", "b"]} and data["y"]["name"] == "n"


@pytest.mark.parametrize("levels", [1_000, 100_000])
@pytest.mark.parametrize("style", ["flow", "json", "block"])
def test__deep_nesting__a_clear_error_at_any_depth(levels: int, style: str):
    if style == "flow":
        text = "x: " + "[" * levels + "]" * levels + "\n"
    elif style == "json":
        text = "x: " + '{"a": ' * levels + "1" + "}" * levels + "\n"
    else:
        text = "x:\n" + "".join(" " * i + "- \n" for i in range(min(levels, 5_000)))
    sink = DiagnosticSink()
    assert loads_yaml(text, "deep.yaml", sink) is None
    (d,) = sink.items
    assert "nested more than" in d.message and d.line >= 1 and d.col >= 1


def test__deep_nesting__validate_and_build_exit_2_without_traceback(repo_dir: Path, tmp_path: Path):
    pack = _copy_pack(repo_dir, tmp_path / "pack")
    path = pack / "definitions" / "mlops-allowed-locations.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "metadata:\n  deep: " + "[" * 1000 + "]" * 1000 + "\n")
    for args in (["validate", "."], ["build", ".", "--out", str(pack / "out")]):
        proc = _cli(*args, cwd=pack)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 2, out
        assert "Traceback" not in out and "RecursionError" not in out
        assert "mlops-allowed-locations.yaml:" in out and "nested more than" in out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["[", "{", "]", "}", "&a ", "*a", "a: ", ", ", "\n", " ", "- ", "x"]), max_size=400))
def test__loader_never_raises_on_any_text(parts: list[str]):
    """Whatever the text, the loader answers with data or diagnostics, never an exception."""
    loads_yaml("".join(parts), "h.yaml", DiagnosticSink())
