"""What every resource family may use of the running emulator: its configuration, state and services.

Families take a `Context` rather than `app.Emulator`, so none of them imports the application that routes to
them: the import graph is a tree from `app` down to `core`/`store`. `Emulator` implements this protocol.
`write_resource` is the one service that goes back up: a deployment's resources pass Azure Policy's
request-time effects and trigger deployIfNotExists, which deploys templates again (see `writes`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from policygen.emulator.builtins import Catalogue
from policygen.emulator.core import DEFAULT_TENANT
from policygen.emulator.faults import FaultConfig, Faults
from policygen.emulator.store import Store


@dataclass
class EmulatorConfig:
    tenant_id: str = DEFAULT_TENANT
    state: str | Path | None = None  # SQLite file; None keeps state in memory
    seed: str | Path | dict | None = None  # seed file or an already-loaded seed document
    builtins: str | Path | None = None  # directory of built-in definitions (the azure-policy layout)
    request_log: str | Path | None = None  # one JSON line per request
    page_size: int = 100  # default page size of list operations
    lro_poll_ms: int = 20  # retry-after-ms sent on 202 responses
    evaluation_s: float = 0.0  # how long triggerEvaluation stays "running"
    remediation_step_s: float = 0.05  # pause between remediation states (Accepted → Evaluating → ...)
    faults: FaultConfig = field(default_factory=FaultConfig)
    admin_token: str | None = None  # required as 'Authorization: Bearer <token>' on /_admin when set
    arm_token: str | None = None  # when set, every ARM request needs it too (serving other machines)


@runtime_checkable
class Context(Protocol):
    config: EmulatorConfig
    store: Store
    faults: Faults
    builtins: Catalogue
    requests: list[dict[str, Any]]
    stopping: threading.Event

    @property
    def tenant_id(self) -> str: ...

    def spawn(self, target: Callable[..., Any], *args: Any) -> None:
        """Run background work (remediation tasks) on a thread the emulator waits for when it closes."""

    def reset(self) -> None:
        """Drop all state and apply the seed again."""

    def write_resource(self, resource: dict, *, policy: bool) -> dict:
        """Store a resource; with `policy`, through request-time effects and deployIfNotExists."""
