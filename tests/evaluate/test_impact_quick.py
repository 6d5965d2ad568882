"""`policygen impact` without typer (policygen.commands.impact_quick): the same output, errors and exit code as
the typer command for every form it parses, typer for everything else (help, usage errors), and neither typer
nor its pydantic adapters loaded on the way (~0.25 s of every run's fixed cost; #17)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from policygen.cli import run
from policygen.commands import impact_quick
from policygen.commands.impact_quick import parse

SA = {
    "id": "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/sa1",
    "type": "Microsoft.Storage/storageAccounts",
    "name": "sa1",
    "location": "westeurope",
    "properties": {"publicNetworkAccess": "Enabled"},
}


def _both(argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
          summary: Path | None = None) -> tuple[tuple, tuple]:
    """(exit code, stdout, stderr[, summary file]) of `argv` on the quick path, then through typer."""
    outs = []
    for quick in (True, False):
        with monkeypatch.context() as m:
            if not quick:
                m.setattr(impact_quick, "parse", lambda args: None)
            capsys.readouterr()
            code = run(argv)
            got = capsys.readouterr()
            extra = summary.read_text() if summary is not None and summary.exists() else None
            if summary is not None and summary.exists():
                summary.unlink()
            outs.append((code, got.out, got.err, extra))
    return outs[0], outs[1]


@pytest.mark.parametrize(
    "args",
    [
        ["{pack}", "--resources", "{inv}"],  # the table
        ["{pack}", "-r", "{inv}", "-f", "json", "-a", "mlops-prod-baseline", "--jobs", "1"],
        ["-r", "{inv}", "{pack}", "--format=csv", "--exit-zero", "--no-progress"],
        ["{pack}", "-r", "{inv}", "-f", "ndjson", "--all", "--why", "-j", "1"],
        ["{pack}", "-r", "{inv}", "-f", "json", "--pretty", "--summary", "{summary}", "--jobs=2", "--progress"],
        ["{pack}", "-r", "{inv}", "--format", "xml"],  # our error, from the shared body
        ["{pack}", "-r", "{inv}", "-e", "nowhere"],  # no such environment
        ["{pack}", "-r", "{inv}", "--assignment", "nope", "-f", "csv"],
        ["{pack}", "{tmp}/missing", "-r", "{inv}"],  # a missing target
        ["{pack}", "-r", "{tmp}/missing.json"],  # a missing inventory
        ["{defs}", "-r", "{inv}", "--parameters", "{params}", "--context", "{context}", "--api-version", "2023-01-01",
         "-f", "json", "--aliases", "{aliases}", "-j", "1"],
        ["{defs}", "-r", "{inv}", "-p", "{params}", "-r", "{inv}", "-f", "csv", "-j", "1"],  # -r repeats
        ["{broken}", "-r", "{inv}"],  # a pack that does not compile: every problem, file:line:col
        ["{pack}", "-r", "{inv}", "--jobs", "05", "-f", "ndjson"],
    ],
)
def test_quick_path_matches_typer(repo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    defs = tmp_path / "defs"
    defs.mkdir()
    rule = {"allOf": [{"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
                      {"field": "Microsoft.Storage/storageAccounts/publicNetworkAccess", "notEquals": "Disabled"}]}
    (defs / "public.json").write_text(json.dumps({"name": "public", "properties": {
        "mode": "All", "parameters": {"effect": {"type": "String", "defaultValue": "Audit"}},
        "policyRule": {"if": rule, "then": {"effect": "[parameters('effect')]"}}}}))
    (tmp_path / "params.json").write_text(json.dumps({"effect": {"value": "Deny"}}))
    (tmp_path / "context.json").write_text(json.dumps({"utcNow": "2024-05-01T00:00:00Z"}))
    (tmp_path / "aliases.csv").write_text("alias,defaultPath\nMicrosoft.Storage/storageAccounts/brandNew,properties.x\n")
    broken = tmp_path / "broken"
    (broken / "definitions").mkdir(parents=True)
    (broken / "policygen.yaml").write_text((repo_dir / "policygen.yaml").read_text())
    (broken / "definitions" / "bad.yaml").write_text("intent: no-such-kind\nname: x\nname: y\n")
    inventory = repo_dir / "examples" / "inventory" / "mlops.json"
    summary = tmp_path / "summary.json"
    fields = {"pack": repo_dir, "inv": inventory, "tmp": tmp_path, "summary": summary, "defs": defs,
              "params": tmp_path / "params.json", "context": tmp_path / "context.json",
              "aliases": tmp_path / "aliases.csv", "broken": broken}
    argv = ["impact", *(a.format(**fields) for a in args)]
    monkeypatch.chdir(tmp_path)  # relative paths in messages read the same either way
    quick, slow = _both(argv, capsys, monkeypatch, summary)
    assert quick == slow
    assert quick[1] or quick[2]  # something was said


def test_the_forms_above_are_quick() -> None:
    assert parse(["p", "-r", "i", "-f", "json", "--jobs=2", "--progress", "--summary", "s"]) is not None
    assert parse(["-r", "i", "p", "--format=csv", "--exit-zero", "--no-progress"]) is not None


@pytest.mark.parametrize(
    "args",
    [
        [],  # --resources is required: typer says so
        ["pack"],
        ["--help"],
        ["-h"],
        ["-r"],  # missing value
        ["-r", "inv.json", "--format"],
        ["-r", "--pretty"],
        ["-rinv.json"],  # short option with its value attached
        ["-r=inv.json"],
        ["--", "-r", "inv.json"],
        ["-", "-r", "inv.json"],
        ["-r", "inv.json", "--verbose"],
        ["-r", "inv.json", "--jobs", "two"],
        ["-r", "inv.json", "-j", "-1"],
        ["-r", "inv.json", "--jobs=+1"],
        ["-r", "inv.json", "--jobs", "\u0661"],  # a digit, but not an ASCII one
        ["-r", "inv.json", "--jobs", "1" * 5000],  # more digits than int() reads
        ["-r", ""],
        ["-r", "inv.json", "--resource", "x"],  # click does not expand abbreviations
        ["-r", "inv.json", "--pretty=yes"],
    ],
)
def test_other_forms_go_through_typer(args: list[str]) -> None:
    assert parse(args) is None


def test_parse_gives_what_typer_gives() -> None:
    opts = parse(["a", "-r", "x.json", "--resources=y.json", "b", "--progress", "--no-progress", "--aliases", "c.csv",
                  "-j", "3", "-p", "p.json", "--api-version", "2024-01-01"])
    assert opts == {**impact_quick.DEFAULTS, "targets": [Path("a"), Path("b")],
                    "resources": [Path("x.json"), Path("y.json")], "aliases": [Path("c.csv")], "jobs": 3,
                    "progress": False, "parameters": Path("p.json"), "api_version": "2024-01-01"}
    assert parse(["-r", "x"])["targets"] is None  # type: ignore[index]  # the pack in . (typer's None)


def test_usage_errors_still_come_from_typer(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["impact", "pack"]) == 2
    assert "--resources" in capsys.readouterr().err
    assert run(["impact", "pack", "-r", "inv.json", "--jobs", "two"]) == 2
    assert "'--jobs'" in capsys.readouterr().err


def test_quick_path_loads_no_cli_framework(repo_dir: Path) -> None:
    inventory = repo_dir / "examples" / "inventory" / "mlops.json"
    code = (
        "import sys; from policygen.cli import run; code = run(['impact', sys.argv[1], '-r', sys.argv[2], '-f', 'json',"
        " '-j', '1']); print(code, sorted(m for m in ('typer', 'typer._adapters') if m in sys.modules),"
        " file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(repo_dir), str(inventory)], capture_output=True,
                          text=True, check=True)
    assert done.stderr.strip().splitlines()[-1] == "1 []"
    assert json.loads(done.stdout)["resources"] > 0


_MAIN = ("import atexit, sys; atexit.register(lambda: print('teardown', file=sys.stderr));"
         " sys.argv = ['policygen', *sys.argv[1:]]; from policygen.cli import main; main()")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_console_script_leaves_without_teardown_on_one_core(repo_dir: Path, tmp_path: Path, jobs: str) -> None:
    """`policygen impact` (main) on one core ends the process once its output is flushed, skipping Python's
    teardown (atexit handlers included); output, summary file and exit code are those of `run`."""
    inventory = repo_dir / "examples" / "inventory" / "mlops.json"
    outs = []
    for how in ("main", "run"):
        summary = tmp_path / f"{how}.json"
        argv = ["impact", str(repo_dir), "-r", str(inventory), "-f", "json", "-j", jobs, "--summary", str(summary)]
        code = _MAIN if how == "main" else (
            "import sys; from policygen.cli import run; sys.exit(run(sys.argv[1:]))")
        done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True)
        outs.append((done.returncode, done.stdout, summary.read_text(), done.stderr))
    (code, out, summary_text, err), ran = outs
    assert (code, out, summary_text) == ran[:3] and code == 1 and json.loads(out)["resources"] > 0
    assert ("teardown" in err) == (jobs != "1")


def test_console_script_other_commands_end_as_usual(repo_dir: Path) -> None:
    done = subprocess.run([sys.executable, "-c", _MAIN, "impact", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "--resources" in done.stdout and "teardown" in done.stderr
    done = subprocess.run([sys.executable, "-c", _MAIN, "impact", str(repo_dir / "nope"), "-r", "x.json"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "no such file or folder" in done.stderr and "teardown" in done.stderr


def test_a_profiled_run_keeps_its_profile(repo_dir: Path, tmp_path: Path) -> None:
    """`python -m cProfile -o FILE -m policygen impact ...` (how docs/scale.md profiles a run) writes FILE."""
    inventory = repo_dir / "examples" / "inventory" / "mlops.json"
    prof = tmp_path / "run.prof"
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "policygen", "impact", str(repo_dir),
                           "-r", str(inventory), "-f", "json", "-j", "1"], capture_output=True, text=True)
    assert json.loads(done.stdout)["resources"] > 0  # (cProfile's own exit code is 0)
    assert prof.stat().st_size > 0
