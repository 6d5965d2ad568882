"""`policygen init`: the scaffolded pack builds, validates and tests clean; CI uses OIDC, never secrets."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

from policygen.errors import InputError
from policygen.export.scaffold import pack_name, scaffold
from policygen.render import compile_pack


@pytest.mark.parametrize("ci", ["github", "azure-pipelines"])
def test_scaffolded_pack_builds_clean(tmp_path: Path, ci: str) -> None:
    written = scaffold(tmp_path / "My Pack", ci=ci)
    assert "policygen.yaml" in written and ".gitignore" in written
    build = compile_pack(tmp_path / "My Pack")
    assert build.pack.name == "my-pack"
    assert len(build.definitions) == 2 and list(build.initiatives) == ["baseline"]
    assert sorted(build.assignments) == ["baseline-nonprod", "baseline-prod"]
    assert len(build.tests) >= 4, "every example intent carries tests"
    assert {t.definition for t in build.tests} == set(build.definitions)


@pytest.mark.skipif(importlib.util.find_spec("policygen.rules.engine") is None, reason="validator not available")
def test_scaffolded_pack_validates_clean(tmp_path: Path) -> None:
    from policygen.rules.engine import validate_build

    scaffold(tmp_path / "pack")
    result = validate_build(compile_pack(tmp_path / "pack"))
    assert result.diagnostics == [] and result.findings == []


@pytest.mark.skipif(importlib.util.find_spec("policygen.evaluate.testing") is None, reason="evaluator not available")
def test_scaffolded_pack_tests_pass(tmp_path: Path) -> None:
    from policygen.evaluate.testing import run_tests

    scaffold(tmp_path / "pack")
    build = compile_pack(tmp_path / "pack")
    run = run_tests(build.definitions, build.tests)
    assert [r.failures for r in run.results if not r.passed] == []
    assert len(run.results) == len(build.tests) and run.untested == []


def test_owner_id_is_a_fresh_guid(tmp_path: Path) -> None:
    scaffold(tmp_path / "a")
    scaffold(tmp_path / "b")
    owners = {compile_pack(tmp_path / p).pack.owner_id for p in ("a", "b")}
    assert len(owners) == 2 and all(len(o) == 36 for o in owners)


def test_refuses_a_non_empty_folder_without_force(tmp_path: Path) -> None:
    target = tmp_path / "existing"
    target.mkdir()
    (target / "notes.md").write_text("mine")
    with pytest.raises(InputError, match="not empty"):
        scaffold(target)
    scaffold(target, force=True)
    assert (target / "notes.md").read_text() == "mine", "force replaces same-named files only"
    assert (target / "policygen.yaml").is_file()


def test_pack_name_from_folder() -> None:
    assert pack_name(Path("/x/ML Ops_Guardrails")) == "ml-ops-guardrails"
    assert pack_name(Path("/x/---")) == "policy-pack"


def test_github_workflow_validates_tests_plans_and_applies_with_oidc(tmp_path: Path) -> None:
    scaffold(tmp_path / "p", ci="github")
    text = (tmp_path / "p/.github/workflows/policygen.yml").read_text()
    wf = yaml.safe_load(text)
    jobs = wf["jobs"]
    assert wf[True]["pull_request"]["branches"] == ["main"], "`on:` parses as True in YAML 1.1"
    steps = jobs["validate"]["steps"]
    runs = [s.get("run", "") for s in steps]
    assert "policygen validate . --format sarif --output policygen.sarif" in runs
    assert "policygen test ." in runs
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert upload["if"].startswith("always()") and jobs["validate"]["permissions"]["security-events"] == "write"
    plan, apply = jobs["plan"], jobs["apply"]
    assert plan["if"] == "github.event_name == 'pull_request'"
    assert any("policygen plan . --env" in s.get("run", "") and "--out plan.json" in s["run"] for s in plan["steps"])
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in plan["steps"])
    assert apply["environment"] == "policy-production", "required reviewers on the environment gate the apply"
    assert "refs/heads/main" in apply["if"]
    for job in (plan, apply):
        assert job["permissions"] == {"contents": "read", "id-token": "write"}
        login = next(s for s in job["steps"] if s.get("uses", "").startswith("azure/login"))
        assert set(login["with"]) == {"client-id", "tenant-id", "subscription-id"}
    assert wf["permissions"] == {"contents": "read"}
    lowered = text.lower()
    assert "secret" not in lowered.replace("no client secret", "").replace("not secrets", "")


def test_azure_pipeline_uses_workload_identity_and_an_approval_environment(tmp_path: Path) -> None:
    scaffold(tmp_path / "p", ci="azure-pipelines")
    text = (tmp_path / "p/azure-pipelines.yml").read_text()
    pipe = yaml.safe_load(text)
    stages = {s["stage"]: s for s in pipe["stages"]}
    assert pipe["pr"]["branches"]["include"] == ["main"]
    validate_steps = stages["Validate"]["jobs"][0]["steps"]
    scripts = " ".join(s.get("script", "") for s in validate_steps)
    assert "policygen validate . --format sarif" in scripts and "policygen test ." in scripts
    assert any(s.get("inputs", {}).get("ArtifactName") == "CodeAnalysisLogs" for s in validate_steps)
    assert "PullRequest" in stages["Plan"]["condition"]
    plan_steps = stages["Plan"]["jobs"][0]["steps"]
    assert any(s.get("artifact") == "policygen-plan" for s in plan_steps)
    deploy = stages["Apply"]["jobs"][0]
    assert deploy["environment"] == "policy-production"
    apply_steps = deploy["strategy"]["runOnce"]["deploy"]["steps"]
    cli = next(s for s in apply_steps if s.get("task") == "AzureCLI@2")
    assert "policygen apply" in cli["inputs"]["inlineScript"]
    assert "refs/heads/main" in stages["Apply"]["condition"]
    lowered = text.lower()
    assert "clientsecret" not in lowered and "client_secret" not in lowered


@pytest.mark.parametrize(("ci", "path", "schema"), [
    ("github", ".github/workflows/policygen.yml", "vendor.github-workflows"),
    ("azure-pipelines", "azure-pipelines.yml", "vendor.azure-pipelines"),
])
def test_ci_files_match_the_published_schemas(tmp_path: Path, ci: str, path: str, schema: str) -> None:
    """SchemaStore's workflow / pipeline schemas, as vendored (offline) by check-jsonschema."""
    pytest.importorskip("check_jsonschema")
    import subprocess
    import sys

    scaffold(tmp_path / "p", ci=ci)
    # python regexes: the pipeline schema has patterns the default ECMAScript engine rejects
    run = subprocess.run([sys.executable, "-m", "check_jsonschema", "--regex-variant", "python",
                          "--builtin-schema", schema, str(tmp_path / "p" / path)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
