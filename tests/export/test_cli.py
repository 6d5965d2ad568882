"""The export area's commands through the real entry point: summaries, exit codes, no tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from policygen.cli import main
from policygen.export.common import MANIFEST


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.mark.parametrize("fmt", ["epac", "alz", "arm", "bicep", "terraform"])
def test_export_writes_and_summarises(fixture_pack: Path, tmp_path: Path, fmt: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / fmt
    code, stdout, _ = run(["export", str(fixture_pack), "--format", fmt, "--out", str(out), "--env", "azure"], capsys)
    assert code == 0
    assert stdout.startswith(f"{fmt}: ") and " written, 0 unchanged, 0 removed)" in stdout
    assert (out / MANIFEST).is_file()
    code, stdout, _ = run(["export", str(fixture_pack), "--format", fmt, "--out", str(out), "--env", "azure"], capsys)
    assert code == 0 and "(0 written," in stdout


def test_export_removes_stale_files_and_says_so(fixture_pack: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "epac"
    run(["export", str(fixture_pack), "--format", "epac", "--out", str(out)], capsys)
    (fixture_pack / "assignments/tag-sub.yaml").unlink()
    code, stdout, _ = run(["export", str(fixture_pack), "--format", "epac", "--out", str(out)], capsys)
    assert code == 0 and "removed policyAssignments/tag-check.json" in stdout
    assert not (out / "policyAssignments/tag-check.json").exists()


def test_bad_input_is_reported_without_traceback(fixture_pack: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("x")
    code, _, err = run(["export", str(fixture_pack), "--format", "arm", "--out", str(busy)], capsys)
    assert code == 2 and "not empty" in err and "Traceback" not in err
    code, _, err = run(["export", str(fixture_pack), "--format", "arm", "--out", str(tmp_path / "o"), "--env", "nope"],
                       capsys)
    assert code == 2 and "no environment 'nope'" in err
    code, _, err = run(["export", str(fixture_pack), "--format", "yaml", "--out", str(tmp_path / "o")], capsys)
    assert code == 2


def test_docs_and_init(tmp_path: Path, fixture_pack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run(["docs", str(fixture_pack), "--out", str(tmp_path / "docs"), "--env", "azure"], capsys)
    assert code == 0 and (tmp_path / "docs/compliance.md").is_file() and stdout.startswith("docs: ")
    code, stdout, _ = run(["init", str(tmp_path / "new"), "--ci", "azure-pipelines"], capsys)
    assert code == 0 and "azure-pipelines.yml" in stdout
    code, _, err = run(["init", str(tmp_path / "new")], capsys)
    assert code == 2 and "--force" in err
