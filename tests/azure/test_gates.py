"""build, plan and apply refuse what the validator rejects; a person at a terminal gets one useful line
(issue #16, items 11, 14 and 15).

Azure would answer a misspelled alias with 400 at apply time (Microsoft Learn, "Azure Policy definition
structure — aliases": a policy rule may only reference aliases that exist), after part of the estate was
written; the gate stops before anything is read or written.
"""

from __future__ import annotations

import socket

import pytest

from policygen.cli import run

PACK = {
    "policygen.yaml": """
        name: gate
        ownerId: policygen-gate
        definitionScope: /providers/Microsoft.Management/managementGroups/contoso
        environments:
          local:
            cloud: local
            endpoint: http://127.0.0.1:{port}
            seed: seeds/local.yaml
            scopes: {{prod: /providers/Microsoft.Management/managementGroups/contoso}}
    """,
    "definitions/kv-typo.yaml": """
        intent: custom
        displayName: Key vaults without public access (misspelled alias)
        effect: {{default: Audit, allowed: [Audit, Disabled]}}
        settings:
          mode: Indexed
          if:
            allOf:
              - {{field: type, equals: Microsoft.KeyVault/vaults}}
              - {{field: Microsoft.KeyVault/vaults/publicNetworkAcces, notEquals: Disabled}}
    """,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def pack(make_tree, tmp_path):
    port = _free_port()  # nothing listens here
    return make_tree({k: v.format(port=port) for k, v in PACK.items()}, tmp_path / "pack"), port


def test_build_refuses_validation_errors_unless_told(pack, tmp_path, capsys) -> None:
    root, _ = pack
    assert run(["build", str(root), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "FLD-02" in err and "kv-typo.yaml" in err and "refusing to build" in err
    assert not (tmp_path / "out").exists()
    assert run(["build", str(root), "--out", str(tmp_path / "out"), "--skip-validation"]) == 0


def test_plan_and_apply_refuse_before_reading_azure(pack, capsys) -> None:
    root, _ = pack
    for argv in (["plan", str(root), "--env", "local"], ["apply", str(root), "--env", "local", "--yes"]):
        assert run(argv) == 1
        err = capsys.readouterr().err
        assert "FLD-02" in err and "refusing to deploy" in err
        assert "nothing is listening" not in err  # the gate comes first: no request was made


def test_a_stopped_emulator_names_the_environments_endpoint_and_seed(pack, capsys) -> None:
    root, port = pack
    assert run(["plan", str(root), "--env", "local", "--skip-validation"]) == 2
    err = capsys.readouterr().err
    assert f"http://127.0.0.1:{port}" in err and "'local'" in err
    assert "policygen emulator --env local" in err and "seeds/local.yaml" in err
    assert "examples/seed/local.yaml" not in err  # the environment's own seed, not the shipped pack's


def test_missing_credentials_print_one_line_with_what_to_do(repo_dir, capsys, monkeypatch) -> None:
    for var in ("POLICYGEN_ENDPOINT", "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET",
                "AZURE_FEDERATED_TOKEN_FILE", "IDENTITY_ENDPOINT", "MSI_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")  # no az, azd or pwsh to ask
    assert run(["plan", str(repo_dir), "--env", "azure", "--skip-validation"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "az login" in err[0] and "--env local" in err[0] and "--verbose" in err[0]
