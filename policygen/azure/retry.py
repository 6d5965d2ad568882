"""Retries for ARM calls: throttling and server errors retried within a time budget, paced with the other
calls of the same class (`policygen.azure.pacing`); dropped connections; and the longer `PrincipalNotFound`
wait while a new managed identity replicates through Entra ID.

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

from policygen.azure.pacing import Pacer

T = TypeVar("T")
RETRY_STATUS = {408, 429, 500, 502, 503, 504}
THROTTLE_STATUS = {429, 503}  # the server asks us to slow down: pace every call of the class


@dataclass
class RetrySettings:
    """How hard to try. Tests shrink the waits; the defaults follow ARM guidance (about 5 minutes for
    PrincipalNotFound, as terraform-provider-azurerm does)."""

    budget_s: float = 600.0  # per call: stop retrying 429 / 5xx / dropped connections after this long
    attempts: int = 8  # per call, for 5xx / dropped connections (429 is paced, not counted: see budget_s)
    connect_attempts: int = 4  # a request that could not be sent (refused, DNS): the endpoint is likely down
    base_s: float = 0.5  # first backoff (doubling, full jitter) when the server names no Retry-After
    cap_s: float = 30.0  # longest single backoff without Retry-After
    jitter: float = 0.25  # extra wait past Retry-After: up to this fraction of it (at least up to base_s)
    principal_timeout_s: float = 300.0  # keep retrying PrincipalNotFound this long
    principal_base_s: float = 1.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)


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


def jittered(settings: RetrySettings, hinted: float) -> float:
    """Retry-After plus a random extra moment: never earlier than the server asked, never all at once."""
    return hinted + random.uniform(0.0, max(settings.jitter * hinted, settings.base_s))


Notify = Callable[[str, int, float], None]  # (reason, attempt, delay seconds)


class _GiveUp(Exception):
    """Retrying is pointless or over budget: the request's own error is raised."""


@dataclass
class _Attempts:
    """The retry bookkeeping of one call: what to wait after each failure, and when to stop."""

    settings: RetrySettings
    stats: CallStats
    principal_retry: bool
    started: float
    tries: int = 0  # failed attempts of any kind
    attempt: int = 0  # 5xx / connection failures so far (429 and PrincipalNotFound are not counted)
    unsent: int = 0
    principal_started: float | None = None
    principal_attempt: int = 0

    def after(self, exc: Exception) -> tuple[float, str, str]:
        """(delay, reason, kind) for a failed attempt, kind in throttle | transient | principal; _GiveUp
        when the error is final or the budget is spent."""
        self.tries += 1
        if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
            return self._connection(exc)
        if not isinstance(exc, HttpResponseError):
            raise _GiveUp
        status, code = status_of(exc), error_code(exc)
        if self.principal_retry and status == 400 and code == "PrincipalNotFound":
            return self._principal()
        if status not in RETRY_STATUS:
            raise _GiveUp
        self.stats.add(**({"throttled": 1} if status == 429 else {"server_errors": 1}))
        hinted = retry_after(exc)
        if status != 429:
            self._count()
        delay = jittered(self.settings, hinted) if hinted is not None else self._backoff()
        kind = "throttle" if status in THROTTLE_STATUS else "transient"
        return self._within_budget(delay), f"{status} {code}".strip(), kind

    def _connection(self, exc: Exception) -> tuple[float, str, str]:
        self.stats.add(connection_errors=1)
        self.unsent += isinstance(exc, ServiceRequestError)
        self._count()
        if self.unsent >= self.settings.connect_attempts:
            raise _GiveUp
        return self._within_budget(self._backoff()), f"connection error ({type(exc).__name__})", "transient"

    def _principal(self) -> tuple[float, str, str]:
        s = self.settings
        now = s.clock()
        self.principal_started = self.principal_started if self.principal_started is not None else now
        waited = now - self.principal_started
        if waited >= s.principal_timeout_s:
            raise _GiveUp
        self.principal_attempt += 1
        self.stats.add(principal_waits=1)
        delay = min(s.cap_s, s.principal_base_s * 2 ** min(self.principal_attempt - 1, 6))
        return min(delay, s.principal_timeout_s - waited), "PrincipalNotFound (identity replicating)", "principal"

    def _count(self) -> None:
        self.attempt += 1
        if self.attempt >= self.settings.attempts:
            raise _GiveUp

    def _within_budget(self, delay: float) -> float:
        if self.settings.clock() + delay - self.started > self.settings.budget_s:
            raise _GiveUp
        return delay

    def _backoff(self) -> float:
        """Exponential backoff (in failures of any kind, so a 429 without Retry-After backs off too) with
        jitter over the upper half; the first retry waits up to `base_s`."""
        ceiling = min(self.settings.cap_s, self.settings.base_s * 2 ** min(max(self.tries - 1, 0), 16))
        return random.uniform(ceiling / 2, ceiling)

    def elapsed(self) -> float:
        return self.settings.clock() - self.started


def call_with_retries(fn: Callable[[], T], settings: RetrySettings, stats: CallStats, *,
                      principal_retry: bool = False, on_retry: Notify | None = None, write: bool = False,
                      pacer: Pacer | None = None) -> T:
    """Run `fn` (one ARM request, or one paged listing) until it succeeds or retrying is pointless.

    With a `pacer` the call holds one of its slots while it runs and backs off (a throttled call keeps its
    slot, so fewer calls compete for the bucket), and waits out the class's hold before every attempt.
    An identity-replication wait gives its slot up: it is not congestion."""
    state = _Attempts(settings, stats, principal_retry, settings.clock())
    if pacer is not None:
        pacer.acquire()
    try:
        while True:
            _wait_for_hold(pacer, settings)
            stats.add(requests=1, **({"writes": 1} if write else {"reads": 1}))
            try:
                result = fn()
            except Exception as exc:
                delay, reason, kind = _next_or_raise(state, exc, pacer)
            else:
                if pacer is not None:
                    pacer.succeeded()
                return result
            stats.add(retries=1)
            if on_retry:
                on_retry(reason, state.tries, delay)
            _pause(settings, pacer, delay, release=kind == "principal")
    finally:
        if pacer is not None:
            pacer.release()


def _next_or_raise(state: _Attempts, exc: Exception, pacer: Pacer | None) -> tuple[float, str, str]:
    try:
        step: tuple[float, str, str] | None = state.after(exc)
    except _GiveUp:
        step = None
    if step is None:
        if _is_transport(exc):
            raise _named(exc, state) from exc
        raise exc
    if step[2] == "throttle" and pacer is not None:
        pacer.throttled(retry_after(exc) or step[0])
    return step


def _wait_for_hold(pacer: Pacer | None, settings: RetrySettings) -> None:
    hold = pacer.wait_s() if pacer is not None else 0.0
    if hold > 0:
        settings.sleep(jittered(settings, hold))


def _pause(settings: RetrySettings, pacer: Pacer | None, delay: float, *, release: bool) -> None:
    if delay <= 0:
        return
    if release and pacer is not None:
        pacer.release()
        try:
            settings.sleep(delay)
        finally:
            pacer.acquire()
        return
    settings.sleep(delay)


def _is_transport(exc: BaseException) -> bool:
    return isinstance(exc, (ServiceRequestError, ServiceResponseError))


def _named(exc: BaseException, state: _Attempts) -> BaseException:
    """A transport error raised after the last retry, naming the request it gave up on (query dropped:
    paging links carry tokens) and how long it tried."""
    where = getattr(exc, "policygen_request", None) or "an ARM request"
    first = (str(exc).splitlines() or [type(exc).__name__])[0]
    tries = state.tries
    return type(exc)(f"{where} failed after {tries} attempt{'s' if tries != 1 else ''} in "
                     f"{state.elapsed():.1f} s: {first}", error=exc)


def kwargs_without_sdk_retry() -> dict[str, Any]:
    return {"retry_total": 0}
