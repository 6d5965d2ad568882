"""The CLI entry point: help, version and exit codes."""

from typer.testing import CliRunner

from policygen.cli import app

runner = CliRunner()


def test_version_prints_and_exits_zero() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("policygen ")


def test_unknown_command_is_usage_error() -> None:
    result = runner.invoke(app, ["no-such-command"])
    assert result.exit_code == 2


def test_build_writes_pack_and_is_idempotent(repo_dir, tmp_path) -> None:
    out = tmp_path / "out"
    first = runner.invoke(app, ["build", str(repo_dir), "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert (out / "initiatives" / "mlops-network-baseline.json").is_file()
    second = runner.invoke(app, ["build", str(repo_dir), "--out", str(out)])
    assert "0 written" in second.stdout.replace("\n", " ")


def test_bad_input_exits_2_with_positions_and_no_traceback(tmp_path) -> None:
    import subprocess
    import sys

    (tmp_path / "policygen.yaml").write_text("name: x\nownerId: o\ndefinitionScope: /m\nname: y\n")
    proc = subprocess.run(
        [sys.executable, "-m", "policygen", "build", str(tmp_path), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "policygen.yaml:4:1: duplicate key 'name'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_schema_files_in_repo_are_current(repo_dir, tmp_path) -> None:
    result = runner.invoke(app, ["schema", "--out", str(tmp_path)])
    assert result.exit_code == 0
    for path in tmp_path.iterdir():
        shipped = repo_dir / "schemas" / path.name
        assert shipped.read_text() == path.read_text(), f"run `policygen schema --out schemas` ({path.name} is stale)"


def test_run_returns_exit_codes_and_prints_errors_without_a_traceback(tmp_path, capsys) -> None:
    from policygen.cli import run

    assert run(["--version"]) == 0
    assert run(["no-such-command"]) == 2
    (tmp_path / "policygen.yaml").write_text("name: x\nownerId: o\ndefinitionScope: /m\nname: y\n")
    capsys.readouterr()
    assert run(["build", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "policygen.yaml:4:1: duplicate key 'name'" in err and "1 problem found." in err
    assert "Traceback" not in err


def test_commands_do_not_import_the_cli_module() -> None:
    """report_error lives in views.errors: commands/* never import policygen.cli (no loop)."""
    import ast
    from pathlib import Path

    import policygen.commands

    for path in Path(policygen.commands.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert "policygen.cli" not in names, path


def _console(args: list[str], *, stdout: str):  # -> subprocess.CompletedProcess[str]
    """The installed command's way in (`main`, quick paths included), stdout redirected by a shell."""
    import shlex
    import subprocess
    import sys

    cmd = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "policygen", *args])
    return subprocess.run(["sh", "-c", f"{cmd} {stdout}"], capture_output=False, stderr=subprocess.PIPE, text=True)


def test_a_full_disk_is_one_line_and_exit_1_not_a_traceback(repo_dir) -> None:
    import os

    import pytest

    if not os.path.exists("/dev/full"):
        pytest.skip("/dev/full (every write fails with ENOSPC) is Linux's")
    inventory = str(repo_dir / "examples" / "inventory" / "mlops.json")
    for args in (
        ["validate", str(repo_dir)],  # the quick path
        ["validate", str(repo_dir), "--format", "sarif"],
        ["impact", str(repo_dir), "-r", inventory, "--format", "json", "--jobs", "1"],
        ["impact", str(repo_dir), "-r", inventory, "--format", "csv", "--jobs", "2"],
        ["impact", str(repo_dir), "-r", inventory, "--jobs", "1"],  # the table
        ["build", str(repo_dir), "--out", "/dev/full/out"],  # a file the command writes
    ):
        proc = _console(args, stdout="> /dev/full")
        assert proc.returncode == 1, (args, proc.stderr)
        assert "Traceback" not in proc.stderr and proc.stderr.startswith("error: "), (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, (args, proc.stderr)


def test_a_closed_stdout_is_not_a_traceback(repo_dir) -> None:
    # a descriptor closed before Python starts leaves sys.stdout None
    # (https://docs.python.org/3/library/sys.html#sys.__stdout__)
    inventory = str(repo_dir / "examples" / "inventory" / "mlops.json")
    for args in (
        ["validate", str(repo_dir)],
        ["impact", str(repo_dir), "-r", inventory, "--jobs", "1", "--exit-zero"],
        ["impact", str(repo_dir), "-r", inventory, "--format", "ndjson", "--jobs", "2", "--exit-zero"],
    ):
        proc = _console(args, stdout=">&-")
        assert "Traceback" not in proc.stderr, (args, proc.stderr)
        assert proc.returncode in (0, 1), (args, proc.returncode)
