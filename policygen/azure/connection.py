"""Credential and client options for a target: Azure through azure-identity, or the emulator over http.

For `cloud: local` (or any http:// endpoint) the bearer-token policy is told to allow plain http (the
per-client policy of the ARM contract, section 8.2) and a fixed token is used; real clouds use
`DefaultAzureCredential` (CLI, environment, workload identity federation, managed identity).
One requests session with a connection pool as large as the apply concurrency is shared by all clients,
so parallel writes do not queue behind urllib3's default pool of 10.
"""

from __future__ import annotations

import time
from typing import Any

from azure.core.credentials import AccessToken
from azure.core.pipeline.policies import SansIOHTTPPolicy

from policygen.azure.target import CLOUDS, Target


class AllowHttpBearer(SansIOHTTPPolicy):
    """Let the bearer-token policy attach a token to an http:// emulator URL."""

    def on_request(self, request: Any) -> None:
        request.context["enforce_https"] = False


class EmulatorCredential:
    """A TokenCredential for the emulator, which accepts any bearer token."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("policygen-emulator", int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo("policygen-emulator", int(time.time()) + 3600)


def credential(target: Target) -> Any:
    if target.is_local or target.endpoint.startswith("http://"):
        return EmulatorCredential()
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(**({"additionally_allowed_tenants": ["*"]} if target.tenant_id else {}))


def client_kwargs(target: Target, pool_size: int = 64) -> dict[str, Any]:
    import requests
    from azure.core.pipeline.transport import RequestsTransport
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=8, pool_maxsize=max(10, pool_size))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    audience = CLOUDS.get(target.cloud, CLOUDS["AzureCloud"])[1]
    kw: dict[str, Any] = {
        "base_url": target.endpoint,
        "credential_scopes": [audience],
        "transport": RequestsTransport(session=session, session_owner=False),
        "polling_interval": 1,
    }
    if target.endpoint.startswith("http://"):
        kw["per_call_policies"] = [AllowHttpBearer()]
        kw["polling_interval"] = 0
    return kw
