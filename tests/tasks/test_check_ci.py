"""`policygen init --ci`: the application-team job runs `policygen check` on pull requests and uploads its SARIF.

The job's own command, run as the runner runs it (in the checkout, the workflow's variables substituted),
checks the scaffolded application template: clean as shipped, and once the template turns public network
access on, exit 1 with the denial in the SARIF file the upload step sends (an upload step that runs after a
failed step: GitHub `if: always()`, https://docs.github.com/actions/learn-github-actions/expressions#always;
Azure Pipelines `condition: always()`).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import yaml

from policygen.cli import run
from policygen.export.scaffold import scaffold


def _open_the_template(root: Path) -> None:
    path = root / "deployments/storage.json"
    data = json.loads(path.read_text())
    data["parameters"]["publicNetworkAccess"]["defaultValue"] = "Enabled"
    path.write_text(json.dumps(data, indent=2))


def _denials(sarif: Path) -> list[dict]:
    data = json.loads(sarif.read_text())
    assert data["version"] == "2.1.0"
    return [r for r in data["runs"][0]["results"] if r["ruleId"] == "check/denied"]


def _command(line: str, variables: dict[str, str], *, pipelines: bool = False) -> list[str]:
    for name, value in variables.items():
        line = line.replace(f"$({name})" if pipelines else f"${name}", value)
    argv = shlex.split(line)
    assert argv[:3] == ["policygen", "check", "deployments"]
    return argv[1:]


def test_github_check_job_runs_on_pull_requests_and_uploads_sarif(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "p"
    scaffold(root, ci="github")
    wf = yaml.safe_load((root / ".github/workflows/policygen.yml").read_text())
    job = wf["jobs"]["check"]
    assert job["if"] == "github.event_name == 'pull_request'" and job["needs"] == "validate"
    assert job["permissions"] == {"contents": "read", "security-events": "write"}
    line = next(s["run"] for s in job["steps"] if s.get("run", "").startswith("policygen check"))
    assert "--format sarif --output policygen-check.sarif" in line
    upload = next(s for s in job["steps"] if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert upload["if"].startswith("always()") and upload["with"]["sarif_file"] == "policygen-check.sarif"
    argv = _command(line, {k: str(v) for k, v in wf["env"].items()})

    monkeypatch.chdir(root)
    assert run(argv) == 0 and _denials(root / "policygen-check.sarif") == []
    _open_the_template(root)
    assert run(argv) == 1
    (denied,) = _denials(root / "policygen-check.sarif")
    assert denied["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "deployments/storage.json"
    assert "baseline-prod/storage-public-network" in denied["message"]["text"]


def test_azure_pipelines_check_stage_publishes_to_code_analysis_logs(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "p"
    scaffold(root, ci="azure-pipelines")
    pipe = yaml.safe_load((root / "azure-pipelines.yml").read_text())
    stage = next(s for s in pipe["stages"] if s["stage"] == "Check")
    assert stage["dependsOn"] == "Validate" and "PullRequest" in stage["condition"]
    steps = stage["jobs"][0]["steps"]
    script = next(s["script"] for s in steps if "policygen check" in s.get("script", ""))
    publish = next(s for s in steps if s.get("task", "").startswith("PublishBuildArtifacts"))
    assert publish["condition"] == "always()" and publish["inputs"]["ArtifactName"] == "CodeAnalysisLogs"
    staging = tmp_path / "staging"
    (staging / "CodeAnalysisLogs").mkdir(parents=True)
    variables = {**{k: str(v) for k, v in pipe["variables"].items()}, "Build.ArtifactStagingDirectory": str(staging)}
    line = next(x for x in script.splitlines() if x.startswith("policygen check"))
    argv = _command(line, variables, pipelines=True)

    monkeypatch.chdir(root)
    _open_the_template(root)
    assert run(argv) == 1
    published = Path(publish["inputs"]["PathtoPublish"].replace("$(Build.ArtifactStagingDirectory)", str(staging)))
    (denied,) = _denials(published / "policygen-check.sarif")
    assert denied["level"] == "error"
