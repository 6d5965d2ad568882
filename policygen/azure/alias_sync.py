"""`policygen aliases sync`: pull the live alias catalogue through azure-mgmt-resource into the cache.

Reads `GET /subscriptions/{id}/providers?$expand=resourceTypes/aliases` (the JSON `az provider list --expand
resourceTypes/aliases` prints) and writes the per-type document the package ships (resource type → alias →
default path, paths per API version, the Modifiable attribute; `policygen.arm.alias_data`), which
`policygen.arm.aliases.load_catalogue` reads from `default_cache_dir()/aliases.json` on top of the
packaged catalogue. `endpoint` points the real SDK client at a local emulator
(plain http needs the bearer policy's `enforce_https` switch; the token is a placeholder there).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from policygen.errors import AzureError, InputError

EMULATOR_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


class _AllowHttpBearer:
    """Per-call policy: lets the bearer-token policy send to an http:// emulator endpoint."""

    def on_request(self, request: Any) -> None:
        request.context["enforce_https"] = False

    def on_response(self, request: Any, response: Any) -> None:
        return None

    def on_exception(self, request: Any) -> None:
        return None


class _EmulatorCredential:
    """A TokenCredential for the local emulator, which accepts any bearer token."""

    def get_token(self, *scopes: str, **kwargs: Any):
        from azure.core.credentials import AccessToken

        return AccessToken("policygen-emulator", int(time.time()) + 3600)


def _client(endpoint: str | None, subscription_id: str | None, credential: Any = None):
    try:
        from azure.mgmt.resource import ResourceManagementClient  # type: ignore[attr-defined]
    except ImportError:  # azure-mgmt-resource >= 25 is a namespace package
        from azure.mgmt.resource.resources import ResourceManagementClient
    if endpoint:
        from azure.core.pipeline.policies import SansIOHTTPPolicy

        class AllowHttp(_AllowHttpBearer, SansIOHTTPPolicy):
            pass

        return ResourceManagementClient(
            credential or _EmulatorCredential(),
            subscription_id or EMULATOR_SUBSCRIPTION,
            base_url=endpoint,
            credential_scopes=["https://management.azure.com/.default"],
            per_call_policies=[AllowHttp()],
            retry_total=int(os.environ.get("POLICYGEN_RETRIES", "3")),
            retry_backoff_factor=0.2,
        )
    if not subscription_id:
        raise InputError("aliases sync needs a subscription: pass --subscription or set AZURE_SUBSCRIPTION_ID")
    if credential is None:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    return ResourceManagementClient(credential, subscription_id)


def fetch_providers(
    endpoint: str | None = None, subscription_id: str | None = None, credential: Any = None
) -> list[dict]:
    """Every provider with its resource types and aliases, as REST JSON."""
    from azure.core.exceptions import AzureError as SdkError

    client = _client(endpoint, subscription_id, credential)
    try:
        return [_as_rest(p) for p in client.providers.list(expand="resourceTypes/aliases")]
    except SdkError as exc:
        where = endpoint or "Azure"
        raise AzureError(
            f"listing providers from {where} failed: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}"
        ) from None


def _as_rest(model: Any) -> dict:
    if isinstance(model, dict):
        return json.loads(json.dumps(dict(model), default=_plain))
    if hasattr(model, "as_dict"):
        try:
            return model.as_dict()
        except TypeError:
            pass
    return model.serialize(keep_readonly=True)


def _plain(o: Any) -> Any:
    return dict(o) if hasattr(o, "keys") else str(o)


def sync_aliases(
    target: Path, *, endpoint: str | None = None, subscription_id: str | None = None, credential: Any = None
) -> tuple[int, int]:
    """Fetch and write `target` atomically; returns (providers, aliases)."""
    from datetime import UTC, datetime

    from policygen.arm.alias_data import aliases_from_provider_json, to_document

    providers = fetch_providers(endpoint, subscription_id, credential)
    records = list(aliases_from_provider_json(providers))
    source = f"aliases sync from {endpoint or 'Azure'}"
    doc = to_document(records, source, datetime.now(UTC).strftime("%Y-%m-%d"))
    n_aliases = len(records)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, target)
    return len(providers), n_aliases
