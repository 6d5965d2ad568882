"""Retries for ARM calls: backoff on 429/5xx and dropped connections honouring Retry-After, and the longer
`PrincipalNotFound` wait while a new managed identity replicates through Entra ID.

The SDK's own RetryPolicy is switched off per call (`retry_total=0`) so there is exactly one retry layer, it
is the same for every client, and every retry is visible to the progress display and the summary.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

T = TypeVar("T")
RETRY_STATUS = {408, 429, 500, 502, 503, 504}


@dataclass
class RetrySettings:
    """How hard to try. Tests shrink the waits; the defaults follow ARM guidance (about 5 minutes for
    PrincipalNotFound, as terraform-provider-azurerm does)."""

    attempts: int = 8  # per call, for 429 / 5xx / dropped connections
    connect_attempts: int = 4  # a request that could not be sent (refused, DNS): the endpoint is likely down
    base_s: float = 0.5  # first backoff (doubling, full jitter) when the server names no Retry-After
    cap_s: float = 30.0  # longest single wait
    principal_timeout_s: float = 300.0  # keep retrying PrincipalNotFound this long
    principal_base_s: float = 1.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)


@dataclass
class CallStats:
    """Counts shared by every call of one run (thread-safe)."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    server_errors: int = 0
    connection_errors: int = 0
    principal_waits: int = 0
    reads: int = 0
    writes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}


def error_code(exc: BaseException) -> str:
    err = getattr(exc, "error", None)
    return str(getattr(err, "code", "") or "")


def status_of(exc: BaseException) -> int:
    return int(getattr(exc, "status_code", 0) or 0)


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (Retry-After, retry-after-ms, x-ms-retry-after-ms)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    for name, scale in (("Retry-After", 1.0), ("retry-after-ms", 0.001), ("x-ms-retry-after-ms", 0.001)):
        raw = headers.get(name)
        if raw:
            try:
                return max(0.0, float(raw) * scale)
            except ValueError:
                continue
    return None


Notify = Callable[[str, int, float], None]  # (reason, attempt, delay seconds)


def call_with_retries(fn: Callable[[], T], settings: RetrySettings, stats: CallStats, *,
                      principal_retry: bool = False, on_retry: Notify | None = None, write: bool = False) -> T:
    """Run `fn` (one ARM request, or one paged listing) until it succeeds or retrying is pointless."""
    attempt = 0
    principal_started: float | None = None
    principal_attempt = 0
    unsent = 0  # requests that could not even be sent
    while True:
        attempt += 1
        stats.add(requests=1, **({"writes": 1} if write else {"reads": 1}))
        try:
            return fn()
        except (ServiceRequestError, ServiceResponseError) as exc:
            stats.add(connection_errors=1)
            unsent += isinstance(exc, ServiceRequestError)
            if attempt >= settings.attempts or unsent >= settings.connect_attempts:
                raise
            delay, reason = _backoff(settings, attempt), f"connection error ({type(exc).__name__})"
        except HttpResponseError as exc:
            status, code = status_of(exc), error_code(exc)
            if principal_retry and status == 400 and code == "PrincipalNotFound":
                now = time.monotonic()
                principal_started = principal_started or now
                if now - principal_started >= settings.principal_timeout_s:
                    raise
                principal_attempt += 1
                attempt -= 1  # replication waits do not use up the transient-error budget
                stats.add(principal_waits=1)
                delay = min(settings.cap_s, settings.principal_base_s * 2 ** min(principal_attempt - 1, 6))
                delay = min(delay, max(0.0, settings.principal_timeout_s - (now - principal_started)))
                reason = "PrincipalNotFound (identity replicating)"
            elif status in RETRY_STATUS:
                stats.add(**({"throttled": 1} if status == 429 else {"server_errors": 1}))
                if attempt >= settings.attempts:
                    raise
                hinted = retry_after(exc)
                delay = min(settings.cap_s, hinted) if hinted is not None else _backoff(settings, attempt)
                reason = f"{status} {code}".strip()
            else:
                raise
        stats.add(retries=1)
        if on_retry:
            on_retry(reason, attempt, delay)
        if delay > 0:
            settings.sleep(delay)


def _backoff(settings: RetrySettings, attempt: int) -> float:
    """Full-jitter exponential backoff; the first retry waits up to `base_s`."""
    ceiling = min(settings.cap_s, settings.base_s * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)


def kwargs_without_sdk_retry() -> dict[str, Any]:
    return {"retry_total": 0}
