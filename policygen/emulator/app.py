"""The emulator application: configuration, state, faults and request log, independent of HTTP.

`Emulator.handle(request)` is the whole ARM surface; `server.py` only moves bytes. Keeping the two apart
lets the CLI, `running_emulator()` and tests share one code path.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from typing import Any

from policygen.emulator import admin, resources, routes, seed
from policygen.emulator.builtins import Catalogue
from policygen.emulator.context import EmulatorConfig
from policygen.emulator.core import ArmError, Request, Response
from policygen.emulator.faults import Faults
from policygen.emulator.store import Store

log = logging.getLogger("policygen.emulator")
MAX_KEPT_REQUESTS = 200_000  # in-memory request log; --request-log keeps everything


def _authenticate(req: Request, expected: str | None) -> None:
    """ARM answers 401 to a request without a bearer token, before anything else, so a client that forgets
    the header fails here as it would in Azure. On this machine any token is accepted; an emulator serving
    other machines (`expected` set) accepts only its own, or anyone who can reach the port owns the tenant."""
    header = (req.headers.get("authorization") or "").strip()
    if not header:
        raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        raise ArmError(
            401,
            "AuthenticationFailed",
            f"Authentication failed. The authentication scheme of {scheme} is not supported.",
        )
    if not token.strip():
        raise ArmError(
            401, "InvalidAuthenticationToken", "The access token is invalid: the 'Authorization' header has no token."
        )
    if expected and not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.")


class Emulator:
    """State + behaviour of one emulated tenant; implements `context.Context` for the resource families."""

    def __init__(self, config: EmulatorConfig | None = None):
        self.config = config or EmulatorConfig()
        self.store = Store(self.config.state)
        self.faults = Faults(self.config.faults)
        self.builtins = Catalogue(self.config.builtins)
        self.requests: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()
        self._log_file = open(self.config.request_log, "a", encoding="utf-8") if self.config.request_log else None  # noqa: SIM115
        self.workers: list[threading.Thread] = []
        self.stopping = threading.Event()
        if self.store.is_empty():
            seed.apply(self, self.config.seed)
        else:
            seed.ensure_root(self)
            self._interrupted_tasks()

    def _interrupted_tasks(self) -> None:
        """Remediation tasks that were running when a persisted emulator stopped end as Failed."""
        for rid, rem in self.store.items("remediations"):
            props = rem["properties"]
            if props.get("provisioningState", "").lower() not in ("succeeded", "failed", "canceled", "complete"):
                props.update(provisioningState="Failed", statusMessage="The emulator stopped while the task ran.")
                self.store.put("remediations", rid, rem)

    @property
    def tenant_id(self) -> str:
        return self.config.tenant_id

    # ------------------------------------------------------------------ request handling

    def handle(self, req: Request) -> tuple[Response | None, str | None]:
        """Route one request; returns (response, "reset" to drop the connection instead)."""
        started = time.perf_counter()
        action: str | None = None
        resp: Response | None = None
        try:
            if req.path.startswith("/_admin/"):
                resp = admin.handle(self, req)
            elif req.path.lower().startswith("/msi/token"):
                resp = routes.msi_token(self, req)
            else:
                resp, action = self._arm(req)
        except ArmError as err:
            resp = Response(err.status, err.body(), dict(err.headers))
        except Exception as exc:  # a bug must surface as a 500 with a message, never hang the client
            log.exception("emulator error on %s %s", req.method, req.path)
            resp = Response(500, ArmError(500, "InternalServerError", f"emulator error: {exc!r}").body())
        ms = (time.perf_counter() - started) * 1000
        self._record(req, resp.status if resp and action is None else 0, ms, action)
        return resp, action

    def _arm(self, req: Request) -> tuple[Response | None, str | None]:
        delay = self.faults.delay()
        if delay:
            time.sleep(delay)
        _authenticate(req, self.config.arm_token)
        if not req.api_version:
            raise ArmError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        sub = routes.subscription_of(req.path)
        action, headers = self.faults.check(req.method, req.path, sub)
        if action == "reset":
            return None, "reset"
        try:
            resp = routes.dispatch(self, req)
        except ArmError as err:
            err.headers = {**headers, **err.headers}
            raise
        resp.headers = {**headers, **resp.headers}
        return resp, None

    def _record(self, req: Request, status: int, ms: float, action: str | None) -> None:
        entry = {
            "ts": time.time(),
            "method": req.method,
            "path": req.path,
            "api_version": req.api_version,
            "status": status,
            "ms": round(ms, 2),
        }
        if action:
            entry["fault"] = action
        with self._log_lock:
            self.requests.append(entry)
            if len(self.requests) > MAX_KEPT_REQUESTS:  # a long-running server keeps the recent half in memory
                del self.requests[: MAX_KEPT_REQUESTS // 2]
            if self._log_file:
                self._log_file.write(json.dumps(entry) + "\n")
                self._log_file.flush()

    # ------------------------------------------------------------------ lifecycle

    def spawn(self, target: Any, *args: Any) -> None:
        """Run background work (remediation tasks) on a daemon thread the emulator can wait for."""
        t = threading.Thread(target=target, args=args, daemon=True)
        self.workers = [w for w in self.workers if w.is_alive()] + [t]
        t.start()

    def reset(self) -> None:
        self.store.clear()
        with self._log_lock:
            self.requests.clear()
        seed.apply(self, self.config.seed)

    def write_resource(self, resource: dict, *, policy: bool) -> dict:
        return resources.put_raw(self, resource, policy=policy)

    def close(self) -> None:
        self.stopping.set()
        for w in list(self.workers):
            w.join(timeout=5)
        self.store.close()
        if self._log_file:
            self._log_file.close()
            self._log_file = None
