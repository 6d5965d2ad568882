"""Injectable faults: latency, throttling (random or ARM's token bucket), 5xx, connection resets, and
the role-assignment `PrincipalNotFound` replication window.

All knobs live in one `FaultConfig`, settable at start (CLI options, `running_emulator(...)` keywords) and
at run time (`POST /_admin/faults` with the same field names). Randomness comes from one seeded RNG so a
run with `fault_seed` set is reproducible.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from policygen.emulator.core import ArmError

# ARM's documented per-subscription, per-principal token buckets (size, refill per second).
ARM_LIMITS = {"read": (250, 25.0), "write": (200, 10.0), "delete": (200, 10.0)}


@dataclass
class FaultConfig:
    latency_ms: float = 0.0  # added to every ARM request
    jitter_ms: float = 0.0  # plus uniform(0, jitter_ms)
    rate_429: float = 0.0  # probability of 429 SubscriptionRequestsThrottled
    retry_after: int = 1  # seconds, sent with every 429 / 503
    rate_5xx: float = 0.0  # probability of a 5xx
    status_5xx: int = 503  # which 5xx (503 carries Retry-After; 500 does not)
    rate_reset: float = 0.0  # probability of closing the connection without a response
    principal_delay_s: float = 0.0  # PrincipalNotFound for this long after an identity is created
    principal_failures: int = 0  # ... or for the first N role-assignment PUTs per new principal
    throttle: bool = False  # ARM token bucket (reads/writes/deletes per subscription)
    bucket_scale: float = 1.0  # multiply bucket sizes and refill rates (small values for tests)
    fault_seed: int | None = None
    only_paths: str = ""  # substring: random faults only for paths containing it
    # Scripted failures, in order: {"path": substring, "method": "PUT", "status": 403, "code": "AuthorizationFailed",
    # "message": "...", "count": 2, "retry_after": 1}; each answers the next `count` matching requests.
    inject: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any], base: FaultConfig | None = None) -> FaultConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault option(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        for item in data.get("inject") or []:
            if not isinstance(item, dict) or not isinstance(item.get("status"), int) or not item.get("code"):
                raise ValueError(f"an inject entry needs an integer 'status' and a 'code': {item!r}")
        merged = asdict(base) if base else {}
        merged.update(data)
        return cls(**merged)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TokenBucket:
    def __init__(self, size: float, refill: float):
        self.size, self.refill = size, refill
        self.tokens, self.stamp = size, time.monotonic()

    def take(self) -> tuple[bool, int, int]:
        """(allowed, remaining, retry-after seconds)."""
        t = time.monotonic()
        self.tokens = min(self.size, self.tokens + (t - self.stamp) * self.refill)
        self.stamp = t
        if self.tokens >= 1:
            self.tokens -= 1
            return True, int(self.tokens), 0
        return False, 0, max(1, math.ceil((1 - self.tokens) / self.refill))


def op_class(method: str) -> str:
    return {"GET": "read", "HEAD": "read", "DELETE": "delete"}.get(method, "write")


class Faults:
    """Decides, per request, whether to delay, throttle, fail or reset it."""

    def __init__(self, config: FaultConfig | None = None):
        self._lock = threading.Lock()
        self.set(config or FaultConfig())

    def set(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self.rng = random.Random(config.fault_seed)
            self.buckets: dict[tuple[str, str], TokenBucket] = {}
            self.scripted = [dict(item, remaining=int(item.get("count", 1))) for item in config.inject]

    def delay(self) -> float:
        c = self.config
        if not (c.latency_ms or c.jitter_ms):
            return 0.0
        with self._lock:
            jitter = self.rng.uniform(0, c.jitter_ms) if c.jitter_ms else 0.0
        return (c.latency_ms + jitter) / 1000.0

    def check(self, method: str, path: str, subscription: str | None) -> tuple[str | None, dict[str, str]]:
        """Return ("reset" | None, rate-limit headers); raise ArmError for an injected failure."""
        c = self.config
        headers: dict[str, str] = {}
        kind = op_class(method)
        if c.throttle:
            size, refill = ARM_LIMITS[kind]
            scope = f"subscription-{subscription}" if subscription else "tenant"
            with self._lock:
                bucket = self.buckets.get((scope, kind))
                if bucket is None:
                    bucket = self.buckets[(scope, kind)] = TokenBucket(
                        max(1.0, size * c.bucket_scale), max(0.01, refill * c.bucket_scale)
                    )
                ok, remaining, wait = bucket.take()
            level = "subscription" if subscription else "tenant"
            headers[f"x-ms-ratelimit-remaining-{level}-{kind}s"] = str(remaining)
            if not ok:
                raise throttled(kind, subscription, wait)
        self._scripted(method, path)
        if c.only_paths and c.only_paths.lower() not in path.lower():
            return None, headers
        with self._lock:
            r_reset, r_429, r_5xx = self.rng.random(), self.rng.random(), self.rng.random()
        if c.rate_reset and r_reset < c.rate_reset:
            return "reset", headers
        if c.rate_429 and r_429 < c.rate_429:
            raise throttled(kind, subscription, c.retry_after)
        if c.rate_5xx and r_5xx < c.rate_5xx:
            h = {"Retry-After": str(c.retry_after)} if c.status_5xx in (503,) else {}
            code = {
                500: "InternalServerError",
                502: "BadGateway",
                503: "ServiceUnavailable",
                504: "GatewayTimeout",
            }.get(c.status_5xx, "ServerError")
            raise ArmError(c.status_5xx, code, "The emulator injected a server error (fault rate_5xx).", headers=h)
        return None, headers

    def _scripted(self, method: str, path: str) -> None:
        with self._lock:
            for item in self.scripted:
                if item["remaining"] <= 0 or str(item.get("path", "")).lower() not in path.lower():
                    continue
                if item.get("method") and str(item["method"]).upper() != method:
                    continue
                item["remaining"] -= 1
                headers = {"Retry-After": str(item["retry_after"])} if item.get("retry_after") else {}
                raise ArmError(
                    item["status"],
                    str(item["code"]),
                    str(item.get("message") or f"The emulator injected {item['code']}."),
                    headers=headers,
                )


def throttled(kind: str, subscription: str | None, wait: int) -> ArmError:
    if subscription:
        code, what = "SubscriptionRequestsThrottled", f"subscription '{subscription}'"
    else:
        code, what = "TenantRequestsThrottled", "tenant"
    return ArmError(
        429,
        code,
        f"Number of '{kind}' requests for {what} actor 'policygen-emulator' exceeded. Please try "
        f"again after '{wait}' seconds after additional tokens are available. Refer to "
        "https://aka.ms/arm-throttling for additional information.",
        headers={"Retry-After": str(wait)},
    )
