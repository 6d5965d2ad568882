"""`build_clients`: one code path for Azure (sovereign clouds) and the emulator."""

from __future__ import annotations

import os

import pytest

from policygen.azure.clients import CLOUDS, StaticTokenCredential, build_clients, cloud_named
from policygen.emulator import running_emulator

SUB = "11111111-1111-1111-1111-111111111111"


def test_endpoint_env_selects_the_emulator(monkeypatch):
    with running_emulator(seed={"subscriptions": [SUB]}) as url:
        monkeypatch.setenv("POLICYGEN_ENDPOINT", url)
        c = build_clients(SUB)
        assert c.emulator and c.endpoint == url and isinstance(c.credential, StaticTokenCredential)
        # Every client reaches the emulator over plain http with its own default api-version.
        assert list(c.policy.policy_definitions.list(filter="policyType eq 'Custom'")) == []
        assert list(c.insights.remediations.list_for_subscription()) == []
        assert list(c.authorization.role_assignments.list_for_subscription()) == []
        assert [g.name for g in c.management_groups.management_groups.list()] == [url.emulator.tenant_id]
        assert list(c.resources.resource_groups.list()) == []
        assert {r["api_version"] for r in url.requests} >= {"2026-06-01", "2019-07-01", "2022-04-01", "2023-04-01"}
        other = c.for_subscription("22222222-2222-2222-2222-222222222222")
        assert other.subscription_id != c.subscription_id and other.endpoint == url
        c.close()


def test_retries_can_be_disabled_and_polling_is_fast_against_the_emulator():
    c = build_clients(SUB, endpoint="http://127.0.0.1:1", retry_total=0)
    assert c.policy._config.retry_policy.total_retries == 0
    assert c.insights._config.polling_interval == 0
    default = build_clients(SUB, endpoint="http://127.0.0.1:1")
    assert default.policy._config.retry_policy.total_retries == 10


@pytest.mark.parametrize(
    ("name", "arm", "authority"),
    [
        ("AzureCloud", "https://management.azure.com", "login.microsoftonline.com"),
        ("AzureUSGovernment", "https://management.usgovcloudapi.net", "login.microsoftonline.us"),
        ("AzureChinaCloud", "https://management.chinacloudapi.cn", "login.chinacloudapi.cn"),
    ],
)
def test_sovereign_clouds(monkeypatch, name, arm, authority):
    monkeypatch.delenv("POLICYGEN_ENDPOINT", raising=False)
    c = build_clients(SUB, cloud=name)
    assert not c.emulator and c.endpoint == arm
    assert c.cloud.audience == f"{arm}/.default"
    assert type(c.credential).__name__ == "DefaultAzureCredential"
    assert c.policy._config.credential_scopes == [f"{arm}/.default"]
    assert CLOUDS[name].authority == authority


def test_cloud_names_and_env(monkeypatch):
    assert cloud_named("usgovernment").name == "AzureUSGovernment"
    assert cloud_named(None).name == "AzureCloud"
    with pytest.raises(ValueError):
        cloud_named("mars")
    monkeypatch.delenv("POLICYGEN_ENDPOINT", raising=False)
    monkeypatch.setenv("AZURE_CLOUD", "AzureChinaCloud")
    assert build_clients(SUB, credential=StaticTokenCredential()).endpoint == "https://management.chinacloudapi.cn"


def test_no_http_without_the_emulator_switch():
    """A plain client refuses http; ours allows it only in emulator mode."""
    from azure.core.exceptions import ServiceRequestError
    from azure.mgmt.resource.policy import PolicyClient

    with running_emulator() as url:
        plain = PolicyClient(StaticTokenCredential(), SUB, base_url=url, retry_total=0)
        with pytest.raises(ServiceRequestError):
            plain.policy_definitions.get("x")


def test_default_azure_credential_against_the_emulator(monkeypatch):
    """Code that insists on DefaultAzureCredential gets a token from the emulator's /MSI/token endpoint."""
    from azure.identity import DefaultAzureCredential

    with running_emulator() as url:
        for name in [k for k in os.environ if k.startswith("AZURE_")]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("IDENTITY_ENDPOINT", f"{url}/MSI/token")
        monkeypatch.setenv("IDENTITY_HEADER", "x")
        c = build_clients(SUB, endpoint=url, credential=DefaultAzureCredential())
        assert [g.name for g in c.management_groups.management_groups.list()] == [url.emulator.tenant_id]
