"""The real Azure SDK clients, built one way for Azure (any sovereign cloud) and for the emulator.

Only the endpoint, the credential and the http switch differ: the emulator gets `base_url=http://...`, a
static fake token and a per-call policy that lets the bearer-token policy run over plain http (see
`../shared/reference/arm-rest-contract.md` section 8); Azure gets the cloud's ARM endpoint, its token
audience and `DefaultAzureCredential` for the cloud's authority. `POLICYGEN_ENDPOINT` selects the emulator
without code changes. SDK retries can be switched off (`retry_total=0`) when the caller retries itself.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.pipeline.policies import SansIOHTTPPolicy

ENDPOINT_ENV = "POLICYGEN_ENDPOINT"
log = logging.getLogger("policygen.azure")  # no handler configured: Python prints warnings to stderr
_ANNOUNCED: set[str] = set()
CLOUD_ENV = "AZURE_CLOUD"


@dataclass(frozen=True)
class Cloud:
    name: str
    arm: str  # Resource Manager endpoint
    audience: str  # token scope for ARM
    authority: str  # Entra ID authority host


CLOUDS: dict[str, Cloud] = {
    "AzureCloud": Cloud(
        "AzureCloud",
        "https://management.azure.com",
        "https://management.azure.com/.default",
        "login.microsoftonline.com",
    ),
    "AzureUSGovernment": Cloud(
        "AzureUSGovernment",
        "https://management.usgovcloudapi.net",
        "https://management.usgovcloudapi.net/.default",
        "login.microsoftonline.us",
    ),
    "AzureChinaCloud": Cloud(
        "AzureChinaCloud",
        "https://management.chinacloudapi.cn",
        "https://management.chinacloudapi.cn/.default",
        "login.chinacloudapi.cn",
    ),
}
_ALIASES = {
    "public": "AzureCloud",
    "azurepubliccloud": "AzureCloud",
    "azurecloud": "AzureCloud",
    "usgovernment": "AzureUSGovernment",
    "azureusgovernment": "AzureUSGovernment",
    "azureusgovernmentcloud": "AzureUSGovernment",
    "china": "AzureChinaCloud",
    "azurechinacloud": "AzureChinaCloud",
}


def cloud_named(name: str | None) -> Cloud:
    """A cloud by its `az cloud` name (AzureCloud, AzureUSGovernment, AzureChinaCloud) or a common alias."""
    canon = _ALIASES.get((name or "AzureCloud").replace(" ", "").replace("_", "").lower())
    if canon is None:
        raise ValueError(f"unknown Azure cloud {name!r}; known: {', '.join(CLOUDS)}")
    return CLOUDS[canon]


class AllowHttpBearer(SansIOHTTPPolicy):
    """Let azure-core's bearer-token policy send a token to an http:// endpoint (the local emulator only)."""

    def on_request(self, request: Any) -> None:
        request.context["enforce_https"] = False


def request_label(method: str, url: str) -> str:
    """`METHOD scheme://host/path`: the query is left out (paging links carry skip tokens, SAS-style URLs
    carry signatures) and so is any user:password."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{method} {parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


class NameFailedRequest(SansIOHTTPPolicy):
    """Stamp a transport failure with the request it belongs to: azure-core's connection errors name no
    URL, so a list call that gave up after a storm of resets could not say which one it was."""

    def on_exception(self, request: Any) -> None:
        exc = sys.exc_info()[1]
        if exc is not None and not hasattr(exc, "policygen_request"):
            http = request.http_request
            exc.policygen_request = request_label(http.method, http.url)  # type: ignore[union-attr]


EMULATOR_TOKEN_ENV = "POLICYGEN_EMULATOR_TOKEN"


class StaticTokenCredential:
    """A TokenCredential with a fixed token: the emulator's (any token on this machine, the operator's when it
    serves others)."""

    def __init__(self, token: str = "policygen-emulator-token"):
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        return AccessTokenInfo(self._token, int(time.time()) + 3600)


@dataclass
class AzureClients:
    """Lazily built SDK clients sharing one endpoint, credential and pipeline options."""

    subscription_id: str
    endpoint: str
    cloud: Cloud
    emulator: bool
    credential: Any
    options: dict[str, Any] = field(default_factory=dict)

    def _kw(self) -> dict[str, Any]:
        kw = {"base_url": self.endpoint, "credential_scopes": [self.cloud.audience], **self.options}
        ours = [AllowHttpBearer(), NameFailedRequest()] if self.emulator else [NameFailedRequest()]
        kw["per_call_policies"] = [*ours, *kw.get("per_call_policies", [])]
        return kw

    @cached_property
    def policy(self) -> Any:
        from azure.mgmt.resource.policy import PolicyClient

        return PolicyClient(self.credential, self.subscription_id, **self._kw())

    @cached_property
    def insights(self) -> Any:
        from azure.mgmt.policyinsights import PolicyInsightsClient

        return PolicyInsightsClient(self.credential, self.subscription_id, **self._kw())

    @cached_property
    def authorization(self) -> Any:
        from azure.mgmt.authorization import AuthorizationManagementClient

        return AuthorizationManagementClient(self.credential, self.subscription_id, **self._kw())

    @cached_property
    def management_groups(self) -> Any:
        from azure.mgmt.managementgroups import ManagementGroupsMgmtClient

        return ManagementGroupsMgmtClient(self.credential, **self._kw())

    @cached_property
    def resources(self) -> Any:
        from azure.mgmt.resource.resources import ResourceManagementClient

        return ResourceManagementClient(self.credential, self.subscription_id, **self._kw())

    def for_subscription(self, subscription_id: str) -> AzureClients:
        """The same connection settings for another subscription (clients are per subscription)."""
        return AzureClients(
            subscription_id, self.endpoint, self.cloud, self.emulator, self.credential, dict(self.options)
        )

    def close(self) -> None:
        for name in ("policy", "insights", "authorization", "management_groups", "resources"):
            client = self.__dict__.get(name)
            if client is not None:
                client.close()


def override_notice(url: str | None, cloud: Cloud) -> str | None:
    """What to say when POLICYGEN_ENDPOINT sends a real cloud's bearer tokens to another https host: the
    override is meant for the emulator (http://), so an https one is either deliberate or an attack on CI."""
    override = (os.environ.get(ENDPOINT_ENV) or "").rstrip("/")
    if not url or url != override or not url.lower().startswith("https://"):
        return None
    host = (urlsplit(url).hostname or "").lower()
    if host == (urlsplit(cloud.arm).hostname or "").lower():
        return None
    return (
        f"warning: {ENDPOINT_ENV}={url} overrides the {cloud.name} endpoint {cloud.arm}: "
        f"Azure bearer tokens for {cloud.audience} will be sent to {host}"
    )


def resolve_endpoint(endpoint: str | None = None) -> str | None:
    return (endpoint or os.environ.get(ENDPOINT_ENV) or "").rstrip("/") or None


def build_clients(
    subscription_id: str = "00000000-0000-0000-0000-000000000000",
    *,
    endpoint: str | None = None,
    cloud: str | None = None,
    credential: Any = None,
    retry_total: int | None = None,
    polling_interval: float | None = None,
    **client_options: Any,
) -> AzureClients:
    """SDK clients for Azure or the emulator.

    `endpoint` (or `POLICYGEN_ENDPOINT`) starting with `http://` selects the emulator: fake token, plain
    http allowed, 0 s LRO polling default (the emulator always sends `retry-after-ms`). Otherwise the
    cloud (`cloud`, `AZURE_CLOUD`, default AzureCloud) decides the endpoint and token audience, and the
    credential defaults to `DefaultAzureCredential` for that cloud's authority. `retry_total=0` disables
    the SDK's own retries; other keywords (`retry_backoff_factor`, `logging_enable`, `per_call_policies`,
    ...) go to every client.
    """
    the_cloud = cloud_named(cloud or os.environ.get(CLOUD_ENV))
    url = resolve_endpoint(endpoint)
    emulator = bool(url and url.lower().startswith("http://"))
    notice = override_notice(url, the_cloud)
    if notice and notice not in _ANNOUNCED:
        _ANNOUNCED.add(notice)
        log.warning(notice)
    options = dict(client_options)
    if retry_total is not None:
        options["retry_total"] = retry_total
    if emulator:
        options.setdefault("polling_interval", 0 if polling_interval is None else polling_interval)
        # An emulator serving other machines wants its operator's token; on this machine any token does.
        cred = credential or StaticTokenCredential(os.environ.get(EMULATOR_TOKEN_ENV) or "policygen-emulator-token")
    else:
        if polling_interval is not None:
            options["polling_interval"] = polling_interval
        url = url or the_cloud.arm
        if credential is None:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential(authority=the_cloud.authority)
        cred = credential
    return AzureClients(subscription_id, url, the_cloud, emulator, cred, options)
