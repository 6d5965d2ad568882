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
