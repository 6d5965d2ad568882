"""An https `POLICYGEN_ENDPOINT` that overrides a real cloud's endpoint is announced before any token leaves
(issue #16 item 1): the override exists for the emulator (http://), and with https the credential's real
bearer tokens for https://management.azure.com/.default go to that host instead
(https://learn.microsoft.com/azure/azure-resource-manager/management/control-plane-and-data-plane)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from policygen.azure.clients import cloud_named, override_notice


def _plan(repo: Path, endpoint: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    env.update(POLICYGEN_ENDPOINT=endpoint, COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "policygen", "plan", str(repo), "--env", "azure"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=repo,
    )


def test__https_override_of_a_real_cloud_is_announced(repo_dir: Path):
    proc = _plan(repo_dir, "https://127.0.0.1:9")
    assert "POLICYGEN_ENDPOINT=https://127.0.0.1:9 overrides the AzureCloud endpoint" in proc.stderr
    assert "bearer tokens" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.returncode not in (0,)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8765", "https://management.azure.com", "https://MANAGEMENT.azure.com/"],
)
def test__emulator_and_the_clouds_own_endpoint_are_not_announced(monkeypatch, url: str):
    monkeypatch.setenv("POLICYGEN_ENDPOINT", url)
    assert override_notice(url.rstrip("/"), cloud_named("AzureCloud")) is None


def test__an_explicit_endpoint_argument_is_not_an_override(monkeypatch):
    monkeypatch.delenv("POLICYGEN_ENDPOINT", raising=False)
    assert override_notice("https://proxy.example", cloud_named("AzureCloud")) is None
