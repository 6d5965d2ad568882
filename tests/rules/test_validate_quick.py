"""`policygen validate` without typer (policygen.commands.validate_quick): the same report and exit code as
the typer command for every form it accepts, typer for everything else, and none of typer, pydantic,
Jinja2 or rich loaded on the way (what made a small validation run cost ~0.4 s of start-up; #17)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policygen.cli import app, run
from policygen.commands.validate_quick import Format, parse
from tests.rules.test_engine import DEFINITION, write

runner = CliRunner()


def _inputs(tmp_path: Path) -> tuple[Path, Path]:
    bad = json.loads(json.dumps(DEFINITION))
    bad["properties"]["mode"] = "Everything"  # MODE-01, an error
    write(tmp_path, "bad.json", bad)
    good = write(tmp_path / "ok", "good.json", DEFINITION)
    return tmp_path, good


@pytest.mark.parametrize(
    "args",
    [
        ["{dir}"],
        ["{dir}", "--format", "json"],
        ["-f", "sarif", "{good}"],
        ["--format=json", "{good}", "--not-escaped", "{dir}"],
        ["{good}", "--escaped", "-f", "text"],
        ["{dir}", "--aliases", "{csv}", "--format", "json"],
    ],
)
def test_quick_path_matches_typer(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    folder, good = _inputs(tmp_path / "in")
    csv = tmp_path / "extra.csv"
    csv.write_text("alias,defaultPath\nMicrosoft.KeyVault/vaults/brandNewFlag,properties.brandNewFlag\n")
    argv = ["validate", *(a.format(dir=folder, good=good, csv=csv) for a in args)]
    assert parse(argv[1:]) is not None
    capsys.readouterr()
    code = run(argv)
    quick_out = capsys.readouterr().out
    typer_result = runner.invoke(app, argv)
    assert code == typer_result.exit_code
    assert quick_out == typer_result.stdout


def test_quick_path_writes_output_file(tmp_path: Path) -> None:
    folder, _ = _inputs(tmp_path / "in")
    quick, slow = tmp_path / "quick.json", tmp_path / "typer.json"
    assert run(["validate", str(folder), "-o", str(quick), "-f", "json"]) == 1
    assert runner.invoke(app, ["validate", str(folder), "--output", str(slow), "-f", "json"]).exit_code == 1
    assert quick.read_text() == slow.read_text() and json.loads(quick.read_text())[0]["code"] == "MODE-01"


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["-h"],
        ["--list-rules"],
        ["x.json", "--format", "xml"],  # typer reports the bad choice
        ["x.json", "--format"],  # missing value
        ["x.json", "-f", "--escaped"],
        ["-fjson", "x.json"],
        ["-f=json", "x.json"],
        ["--", "x.json"],
        ["--verbose", "x.json"],
        ["x.json", "--out", "y"],  # unknown option: typer's usage error
        ["x.json", "--jobs", "two"],
        ["x.json", "-j", "-1"],
    ],
)
def test_other_forms_go_through_typer(args: list[str]) -> None:
    assert parse(args) is None


def test_parse_defaults() -> None:
    assert parse([]) == {"paths": [], "fmt": Format.text, "aliases": [], "escaped": None, "output": None, "jobs": 0}
    opts = parse(["a", "--aliases", "x.csv", "--aliases=y.csv", "--escaped", "--not-escaped", "b"])
    assert opts is not None
    assert opts["paths"] == [Path("a"), Path("b")] and opts["aliases"] == [Path("x.csv"), Path("y.csv")]
    assert opts["escaped"] is False  # the last of a flag pair wins, as in click
    assert parse(["-j", "3", "a"])["jobs"] == 3 and parse(["--jobs=1"])["jobs"] == 1  # type: ignore[index]


def test_usage_errors_still_come_from_typer(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["validate", "x.json", "--format", "xml"]) == 2
    assert "xml" in capsys.readouterr().err


def test_quick_path_loads_no_cli_framework(tmp_path: Path) -> None:
    """A plain `validate` run imports neither typer (and its pydantic adapters) nor Jinja2, jsonschema or rich."""
    folder, _ = _inputs(tmp_path / "in")
    code = (
        "import sys; from policygen.cli import run; code = run(['validate', sys.argv[1], '-f', 'json']);"
        "heavy = sorted(m for m in ('typer', 'pydantic', 'jinja2', 'jsonschema', 'rich', 'policygen.render')"
        " if m in sys.modules); print(code, heavy, file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, check=True)
    assert done.stderr.strip().splitlines()[-1] == "1 []"
    assert json.loads(done.stdout)[0]["code"] == "MODE-01"


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_the_command_ends_its_process_with_the_report_and_exit_code(tmp_path: Path, fmt: str) -> None:
    """`python -m policygen validate` (cli.main: the report, then os._exit without Python's teardown)
    prints what `run` prints and exits with its code; --output files are complete."""
    folder, good = _inputs(tmp_path / "in")
    for paths, want in (([folder], 1), ([good], 0)):
        argv = ["validate", *map(str, paths), "-f", fmt]
        in_process = subprocess.run(
            [sys.executable, "-c", "import sys; from policygen.cli import run; sys.exit(run(sys.argv[1:]))", *argv],
            capture_output=True,
        )
        command = subprocess.run([sys.executable, "-m", "policygen", *argv], capture_output=True)
        assert command.returncode == in_process.returncode == want
        assert command.stdout == in_process.stdout and command.stdout
        assert command.stderr == in_process.stderr == b""
    out = tmp_path / "report"
    done = subprocess.run([sys.executable, "-m", "policygen", "validate", str(folder), "-f", fmt, "-o", str(out)])
    assert done.returncode == 1 and "MODE-01" in out.read_text(encoding="utf-8")


def test_a_closed_pipe_ends_as_the_in_process_run_does(tmp_path: Path) -> None:
    """The reader of the report is gone before it is written: the command ends with `run`'s exit code and,
    as click ends a closed pipe, says nothing (a caller of `run` may still see Python's own complaint
    when it flushes stdout at exit: that flush is the caller's)."""
    folder, _ = _inputs(tmp_path / "in")
    ends = []
    for launch in (["-m", "policygen"], ["-c", "import sys; from policygen.cli import run; sys.exit(run(sys.argv[1:]))"]):
        proc = subprocess.Popen(
            [sys.executable, *launch, "validate", str(folder)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read().decode().strip().splitlines()
        ends.append((proc.wait(), err[-1:]))
    assert ends[0] == (ends[1][0], []) and ends[0][0] == 1
