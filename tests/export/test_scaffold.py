"""`policygen init`: the scaffolded pack builds, validates and tests clean; CI uses OIDC, never secrets."""

from __future__ import annotations

import importlib.util
import json
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


# --------------------------------------------------------------------------- #16 item 16: runs out of the box

INTENT_FOLDERS = {"definitions": "definition", "initiatives": "initiative", "assignments": "assignment"}


@pytest.mark.parametrize("ci", ["github", "azure-pipelines"])
def test_scaffold_runs_the_demo_and_validates_clean_out_of_the_box(tmp_path: Path, ci: str) -> None:
    """`policygen init DIR` then `policygen demo DIR`: the local environment, its seed and the emulator are there."""
    from policygen.cli import run
    from policygen.intents.load import load_pack

    pack = tmp_path / "new-pack"
    assert run(["init", str(pack), "--ci", ci]) == 0
    local = load_pack(pack).settings.environments["local"]
    assert local.cloud == "local" and local.endpoint and (pack / str(local.seed)).is_file()
    assert run(["demo", str(pack), "--quiet"]) == 0
    assert run(["validate", str(pack)]) == 0
    assert run(["test", str(pack)]) == 0


def test_every_scaffolded_intent_names_its_schema_and_passes_it(tmp_path: Path) -> None:
    """First line `# yaml-language-server: $schema=<relative path>` (the form yaml-language-server reads,
    https://github.com/redhat-developer/yaml-language-server#using-inlined-schema); the schemas are the ones the
    schema code writes, and each file validates against its own."""
    import jsonschema

    from policygen.intents.schema import schema_texts

    scaffold(tmp_path / "p")
    root = tmp_path / "p"
    assert {p.name: p.read_text(encoding="utf-8") for p in (root / "schemas").iterdir()} == schema_texts()
    intents = [root / "policygen.yaml"] + [p for f in INTENT_FOLDERS for p in sorted((root / f).glob("*.yaml"))]
    assert len(intents) == 6
    for path in intents:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        expected = "pack" if path.name == "policygen.yaml" else INTENT_FOLDERS[path.parent.name]
        assert first.startswith("# yaml-language-server: $schema="), path
        schema_file = (path.parent / first.split("=", 1)[1]).resolve()
        assert schema_file == (root / "schemas" / f"{expected}.schema.json").resolve(), path
        schema = json.loads(schema_file.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator(schema).validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def _break_an_intent(root: Path) -> None:
    path = root / "definitions" / "storage-public-network.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("\ndisplayName:", "\ndisplayNam:"), encoding="utf-8")
    (root / "definitions" / "broken.yaml").write_text("intent: custom\n  displayName: [x\n", encoding="utf-8")


def _assert_sarif_shows_intent_errors(sarif_path: Path) -> None:
    """SARIF 2.1.0 results with a repository-relative artifact uri and a line, as code scanning requires
    (https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning)."""
    run_ = json.loads(sarif_path.read_text(encoding="utf-8"))["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    found = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
              r["locations"][0]["physicalLocation"]["region"]["startLine"], r["ruleId"], r["level"])
             for r in run_["results"]}
    assert ("definitions/broken.yaml", 2, "INPUT", "error") in found, found
    assert ("definitions/storage-public-network.yaml", 5, "INPUT", "error") in found, found
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in run_["results"])


def test_github_code_scanning_upload_shows_intent_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workflow's own validate command, run as the runner runs it (in the checkout), writes the file the
    upload step sends even though validation fails, and the upload runs after a failed step."""
    import shlex

    from policygen.cli import run

    root = tmp_path / "p"
    scaffold(root, ci="github")
    _break_an_intent(root)
    steps = yaml.safe_load((root / ".github/workflows/policygen.yml").read_text())["jobs"]["validate"]["steps"]
    validate = next(s["run"] for s in steps if s.get("run", "").startswith("policygen validate"))
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    monkeypatch.chdir(root)
    assert run(shlex.split(validate)[1:]) == 2
    assert upload["if"].startswith("always()")
    _assert_sarif_shows_intent_errors(root / upload["with"]["sarif_file"])


def test_azure_pipelines_publishes_intent_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shlex

    from policygen.cli import run

    root = tmp_path / "p"
    scaffold(root, ci="azure-pipelines")
    _break_an_intent(root)
    stages = {s["stage"]: s for s in yaml.safe_load((root / "azure-pipelines.yml").read_text())["stages"]}
    steps = stages["Validate"]["jobs"][0]["steps"]
    staging = tmp_path / "staging"
    script = next(s["script"] for s in steps if "policygen validate" in s.get("script", ""))
    script = script.replace("$(Build.ArtifactStagingDirectory)", str(staging))
    publish = next(s for s in steps if s.get("task", "").startswith("PublishBuildArtifacts"))
    assert publish["condition"] == "always()"
    (staging / "CodeAnalysisLogs").mkdir(parents=True)
    validate = next(line for line in script.splitlines() if line.startswith("policygen validate"))
    monkeypatch.chdir(root)
    assert run(shlex.split(validate)[1:]) == 2
    published = Path(publish["inputs"]["PathtoPublish"].replace("$(Build.ArtifactStagingDirectory)", str(staging)))
    _assert_sarif_shows_intent_errors(published / "policygen.sarif")
