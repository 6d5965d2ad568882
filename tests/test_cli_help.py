"""What a person at a terminal reads (issue #16, item 17): help that names value kinds the click way,
whole sentences, choices on one line, error messages without library prefixes, plurals that agree."""

from __future__ import annotations

import re

import pytest

from policygen.cli import app, run
from policygen.views.console import count

COMMANDS = [
    "build",
    "validate",
    "evaluate",
    "test",
    "impact",
    "emulator",
    "plan",
    "apply",
    "remediate",
    "status",
    "demo",
    "export",
    "docs",
    "init",
    "schema",
    "aliases sync",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_value_kinds_not_python_types(command, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert run([*command.split(), "--help"]) == 0
    options = capsys.readouterr().out.split("Options:")[1]
    assert not re.search(r"<(bool|str|int|float|list\[[A-Za-z]+\])>", options), options


def test_command_list_keeps_whole_first_lines(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert run(["--help"]) == 0
    commands = " ".join(capsys.readouterr().out.split("Commands:")[1].split())
    assert "..." not in commands
    assert "Alias catalogue: sync the live catalogue from Azure for offline runs." in commands


def test_docstring_paragraphs_are_rewrapped_not_cut(capsys, monkeypatch) -> None:
    """Docstring line breaks must not survive into help: lines inside a paragraph are filled (click wraps at
    the terminal's width, at most 80 columns)."""
    monkeypatch.setenv("COLUMNS", "100")
    assert run(["apply", "--help"]) == 0
    description = capsys.readouterr().out.split("Arguments:")[0]
    paragraphs = [p.splitlines() for p in description.split("\n\n")[1:] if p.strip()]
    for lines in paragraphs:
        assert all(len(line) > 60 for line in lines[:-1]), lines


def test_export_choices_stay_on_one_line_in_a_narrow_terminal(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    assert run(["export", "--help"]) == 0
    assert "<epac|alz|arm|bicep|terraform>" in capsys.readouterr().out


def test_a_bad_choice_is_a_usage_error_without_library_prefixes(tmp_path, capsys) -> None:
    assert run(["export", "--format", "terraformx", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "'terraformx' is not one of 'epac', 'alz', 'arm', 'bicep', 'terraform'" in err
    assert "Value error" not in err and "Traceback" not in err


def test_usage_errors_exit_2() -> None:
    assert run([]) == 2
    assert run(["no-such-command"]) == 2
    assert run(["plan", "--concurrency", "0"]) == 2


def test_counts_agree_with_their_nouns() -> None:
    assert count(1, "initiative") == "1 initiative"
    assert count(2, "initiative") == "2 initiatives"
    assert count(0, "policy test") == "0 policy tests"
    assert count(1, "policy", "policies") == "1 policy" and count(3, "policy", "policies") == "3 policies"


def test_build_summary_uses_singular_for_one(make_tree, tmp_path, capsys) -> None:
    pack = make_tree(
        {
            "policygen.yaml": """
            name: one
            ownerId: policygen-one
            definitionScope: /providers/Microsoft.Management/managementGroups/contoso
        """,
            "definitions/kv.yaml": """
            intent: disable-public-network-access
            resourceTypes: [Microsoft.KeyVault/vaults]
            displayName: Vaults disable public network access
        """,
        },
        tmp_path / "pack",
    )
    assert run(["build", str(pack), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "Built 1 definition, 0 initiatives, 0 assignments" in out


def test_the_app_object_is_still_a_typer_app() -> None:
    assert app.info.name == "policygen"
