"""Names with any character Azure allows travel from intents through build, validate, every export and
`policygen apply` (issue #13, "Done means").

Microsoft's own REST examples name a definition "Audit a tag and it's value" (azure-rest-api-specs,
specification/resources/resource-manager/Microsoft.Authorization/policy/.../examples/createPolicyDefinition.json);
Azure refuses only `<>*%&:\\?.+/` and control characters in policy object names.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

import pytest

from policygen.cli import run
from tests.azure.deploy_support import emulator, write_pack

DEFINITION = "Audit a tag and it's value"
INITIATIVE = "Tag baseline (prod) – ü"
ASSIGNMENT = "Tag's baseline"

PACK = {
    "policygen.yaml": """
        name: names
        ownerId: policygen-names
        definitionScope: /providers/Microsoft.Management/managementGroups/contoso
        environments:
          local:
            cloud: local
            definitionScope: /providers/Microsoft.Management/managementGroups/contoso
            scopes: {prod: /providers/Microsoft.Management/managementGroups/mlops-prod}
          azure:
            cloud: AzureCloud
            tenantId: 11111111-1111-1111-1111-111111111111
            scopes: {prod: /providers/Microsoft.Management/managementGroups/mlops-prod}
    """,
    "definitions/tag.yaml": f"""
        intent: custom
        name: "{DEFINITION}"
        displayName: Audit a tag and its value
        effect: {{default: Audit, allowed: [Audit, Disabled]}}
        settings:
          mode: Indexed
          if:
            allOf:
              - {{field: type, equals: Microsoft.Storage/storageAccounts}}
              - {{field: "tags['env']", exists: false}}
    """,
    "initiatives/baseline.yaml": f"""
        name: "{INITIATIVE}"
        displayName: Tag baseline
        members:
          - {{definition: "{DEFINITION}"}}
    """,
    "assignments/prod.yaml": f"""
        name: "{ASSIGNMENT}"
        displayName: Tag baseline (production)
        initiative: "{INITIATIVE}"
        scope: prod
    """,
}


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    return write_pack(tmp_path / "pack", PACK)


def test_build_validate_and_every_export_keep_the_names(pack: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(["build", str(pack), "--out", str(out), "--env", "local"]) == 0
    body = json.loads((out / "definitions" / f"{DEFINITION}.json").read_text(encoding="utf-8"))
    assert body["name"] == DEFINITION
    assert run(["validate", str(pack)]) == 0
    for fmt in ("epac", "alz", "arm", "bicep", "terraform"):
        target = tmp_path / fmt
        assert run(["export", str(pack), "--format", fmt, "--out", str(target)]) == 0, fmt
        text = "\n".join(p.read_text(encoding="utf-8") for p in target.rglob("*") if p.is_file())
        assert DEFINITION in text or json.dumps(DEFINITION)[1:-1] in text, fmt


def test_apply_creates_them_as_written_and_converges(pack: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    with emulator(monkeypatch) as url:
        assert run(["apply", str(pack), "--env", "local", "--yes"]) == 0
        assert run(["plan", str(pack), "--env", "local", "--detailed-exitcode"]) == 0
        out = capsys.readouterr().out
        assert "No changes." in out
        puts = [unquote(r["path"]) for r in url.requests if r["method"] == "PUT"]  # the log keeps the wire form
    assert any(p.endswith("/policyDefinitions/Audit a tag and it's value") for p in puts), puts
    assert any(p.endswith(f"/policyAssignments/{ASSIGNMENT}") for p in puts), puts
