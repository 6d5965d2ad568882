"""The one Console factory: off a terminal nothing wraps, whatever COLUMNS says, and user text prints as
itself (rich markup and emoji codes in names and paths are not interpreted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from policygen.artefacts import Build, PackSettings
from policygen.render import WriteSummary
from policygen.views.build import render_build
from policygen.views.console import PLAIN_WIDTH, make_console


def test_off_a_terminal_the_width_is_fixed_and_lines_do_not_wrap(monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    console = make_console()
    assert not console.is_terminal and console.width == PLAIN_WIDTH
    line = "word " * 60
    console.print(line)
    assert capsys.readouterr().out == line + "\n"


def test_stderr_console_follows_the_same_rule(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "20")
    make_console(stderr=True).print("x" * 300)
    assert capsys.readouterr().err == "x" * 300 + "\n"


def test_build_summary_prints_a_long_path_with_markup_and_emoji_literally(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    out = Path("/tmp") / ("d" * 150) / "[bold]x:smile:"
    build = Build(pack=PackSettings(name="p", owner_id="o", definition_scope="/m", root="."))
    render_build(build, WriteSummary(written=["a"], unchanged=["b", "c"]), out)
    text = capsys.readouterr().out
    assert text.count("\n") == 1
    assert f"into {out}/ (1 written, 2 unchanged, 0 removed)." in text
