"""Compiled templates kept between runs (render.environment._TemplateCache, Jinja's bytecode cache): a warm
cache renders exactly what compiling does, its code still runs sandboxed, and a cache that is unsound or
unusable is passed over. https://jinja.palletsprojects.com/en/stable/api/#bytecode-cache"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from jinja2.sandbox import SecurityError

from policygen.render import environment
from policygen.render.environment import make_environment


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Jinja's per-user cache folder under tmp_path (it lives in the temporary folder)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _fresh():
    return make_environment.__wrapped__()  # a new environment, as a new process has


def _entries(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("_jinja2-cache-*/__policygen_sandboxed_*.cache"))


def _render_pack(pack: Path) -> dict[str, str]:
    from policygen.render import compile_pack

    make_environment.cache_clear()  # a new environment, as a new process has
    try:
        return {name: art.text() for name, art in compile_pack(pack).definitions.items()}
    finally:
        make_environment.cache_clear()


def test_warm_cache_renders_what_compiling_renders(private_tmp: Path, repo_dir: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    cold = _render_pack(repo_dir)
    entries = _entries(private_tmp)
    assert len(entries) > 3 and all(p.stat().st_mode & 0o777 == 0o600 for p in entries)
    assert (entries[0].parent.stat().st_mode & 0o777) == 0o700
    monkeypatch.setattr(type(_fresh()), "compile", lambda *a, **k: pytest.fail("compiled despite a warm cache"))
    assert _render_pack(repo_dir) == cold


def test_cached_code_still_runs_sandboxed(private_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(environment, "_load", lambda name: "{{ x.__class__.__mro__ }}")
    with pytest.raises(SecurityError):
        _fresh().get_template("probe.j2").render(x="")
    assert len(_entries(private_tmp)) == 1
    env = _fresh()
    monkeypatch.setattr(type(env), "compile", lambda *a, **k: pytest.fail("compiled despite a warm cache"))
    with pytest.raises(SecurityError):
        env.get_template("probe.j2").render(x="")


@pytest.mark.parametrize("damage", [b"", b"garbage", b"j2\x80\x02", None])
def test_unsound_entries_are_compiled_again(private_tmp: Path, repo_dir: Path, damage: bytes | None) -> None:
    cold = _render_pack(repo_dir)
    for entry in _entries(private_tmp):
        entry.write_bytes(entry.read_bytes()[:40] if damage is None else damage)
    assert _render_pack(repo_dir) == cold


def test_source_changes_are_compiled_again(private_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(environment, "_load", lambda name: "one {{ x }}")
    assert _fresh().get_template("t.j2").render(x=1) == "one 1"
    monkeypatch.setattr(environment, "_load", lambda name: "two {{ x }}")
    assert _fresh().get_template("t.j2").render(x=1) == "two 1"


def test_no_private_folder_no_cache(private_tmp: Path) -> None:
    import os

    (private_tmp / f"_jinja2-cache-{os.getuid()}").write_text("a file, not a folder")
    env = _fresh()
    assert env.bytecode_cache is None
    assert env.get_template("custom.json.j2") is not None
