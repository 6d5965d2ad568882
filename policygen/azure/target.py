"""Where a pack deploys: one environment of `policygen.yaml`, resolved (endpoint override, owner, strategy).

`POLICYGEN_ENDPOINT` overrides any environment's endpoint, so tests and CI can point the `local`
environment (or a real one) at an emulator on any port without editing the pack.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from policygen.artefacts import Build
from policygen.errors import InputError

ENDPOINT_ENV = "POLICYGEN_ENDPOINT"

LOCAL_ENDPOINT = "http://127.0.0.1:8765"


def default_endpoint(cloud: str) -> str:
    """The ARM endpoint of a cloud (`local`: the emulator's default address)."""
    if cloud == "local":
        return LOCAL_ENDPOINT
    from policygen.azure.clients import cloud_named

    return cloud_named(cloud).arm


@dataclass(frozen=True)
class Target:
    """A resolved deployment environment."""

    env: str
    cloud: str
    endpoint: str
    tenant_id: str | None
    definition_scope: str
    scopes: dict[str, str] = field(default_factory=dict)
    identity_location: str = "westeurope"
    owner_id: str = ""
    strategy: str = "ownedOnly"
    seed: str | None = None

    @property
    def is_local(self) -> bool:
        return self.cloud == "local"

    def describe(self) -> dict[str, Any]:
        """What a plan file records about its target (no secrets: ids and URLs only)."""
        return {"name": self.env, "cloud": self.cloud, "endpoint": self.endpoint, "tenantId": self.tenant_id,
                "definitionScope": self.definition_scope, "scopes": dict(self.scopes),
                "identityLocation": self.identity_location, "ownerId": self.owner_id, "strategy": self.strategy}

    @classmethod
    def from_description(cls, data: dict[str, Any]) -> Target:
        cloud = data.get("cloud", "AzureCloud")
        endpoint = os.environ.get(ENDPOINT_ENV) or data.get("endpoint") or default_endpoint(cloud)
        return cls(env=data["name"], cloud=cloud, endpoint=endpoint.rstrip("/"),
                   tenant_id=data.get("tenantId"), definition_scope=data["definitionScope"],
                   scopes=dict(data.get("scopes") or {}), identity_location=data.get("identityLocation", "westeurope"),
                   owner_id=data.get("ownerId", ""), strategy=data.get("strategy", "ownedOnly"))


def resolve_target(build: Build, env: str | None) -> Target:
    """The environment `env` of the build's pack (default: the first declared)."""
    envs = build.pack.environments
    name = env or next(iter(envs), None)
    if name is None or name not in envs:
        declared = ", ".join(envs) or "none"
        raise InputError(f"{build.pack.root}/policygen.yaml: no environment {name!r}; declared: {declared}")
    spec = envs[name]
    cloud = spec.get("cloud") or "AzureCloud"
    endpoint = os.environ.get(ENDPOINT_ENV) or spec.get("endpoint") or default_endpoint(cloud)
    return Target(
        env=name, cloud=cloud, endpoint=endpoint.rstrip("/"), tenant_id=spec.get("tenantId"),
        definition_scope=build.pack.definition_scope, scopes=dict(spec.get("scopes") or {}),
        identity_location=spec.get("identityLocation") or "westeurope", owner_id=build.pack.owner_id,
        strategy=spec.get("strategy") or "ownedOnly", seed=spec.get("seed"),
    )
