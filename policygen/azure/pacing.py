"""Pacing under ARM throttling: per operation class (read, write, delete), how many requests may be in
flight and when the next one may go.

ARM throttles with a token bucket per principal and operation class; a 429 says the bucket is empty and
`Retry-After` says when a token is due (https://learn.microsoft.com/azure/azure-resource-manager/management/
request-limits-and-throttling). Retrying each call on its own clock makes every worker come back at the
same instant and lose again, so all calls of one class share a `Pacer`:

- a hold: after a 429 no request of the class is sent before its Retry-After has passed; each caller waits
  a random extra moment past it, so they do not all return at once;
- an adaptive limit on requests in flight (AIMD, as TCP does): halved when throttled, at most once per
  hold, and grown by one per `limit` successes afterwards, back up to the ceiling.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

OP_CLASSES = ("read", "write", "delete")


@dataclass
class Pacer:
    """Shared by every thread sending one class of requests. `clock` is injectable for tests."""

    ceiling: int
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    floor: float = 1.0
    limit: float = field(init=False)
    lowest: float = field(init=False)  # the smallest limit reached (reported by benchmarks)
    in_flight: int = 0
    hold_until: float = -math.inf
    cuts: int = 0
    _no_cut_before: float = field(default=-math.inf, repr=False)
    _cond: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def __post_init__(self) -> None:
        self.ceiling = max(1, self.ceiling)
        self.limit = self.lowest = float(self.ceiling)

    @property
    def slots(self) -> int:
        return max(1, int(self.limit))

    def acquire(self) -> None:
        """Block until fewer than `limit` requests of this class are in flight."""
        with self._cond:
            while self.in_flight >= self.slots:
                self._cond.wait()
            self.in_flight += 1

    def release(self) -> None:
        with self._cond:
            self.in_flight -= 1
            self._cond.notify_all()

    def wait_s(self) -> float:
        """Seconds until requests of this class may be sent again (0 when not held)."""
        return max(0.0, self.hold_until - self.clock())

    def throttled(self, retry_after: float) -> None:
        """A 429 (or 503): hold the class for `retry_after` and cut the limit once per hold.

        Replies to requests sent before the cut arrive during the hold; they must not cut it again."""
        with self._cond:
            now = self.clock()
            self.hold_until = max(self.hold_until, now + retry_after)
            if now >= self._no_cut_before:
                self.limit = max(self.floor, self.limit / 2)
                self.lowest = min(self.lowest, self.limit)
                self.cuts += 1
                self._no_cut_before = self.hold_until

    def succeeded(self) -> None:
        """Additive increase: one more slot per `limit` successes, up to the ceiling."""
        with self._cond:
            if self.limit < self.ceiling:
                self.limit = min(float(self.ceiling), self.limit + 1.0 / self.limit)
                self._cond.notify_all()


@dataclass
class Pacing:
    """One Pacer per ARM operation class, as ARM keeps one token bucket per class."""

    ceiling: int
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    pacers: dict[str, Pacer] = field(init=False)

    def __post_init__(self) -> None:
        self.pacers = {c: Pacer(self.ceiling, self.clock) for c in OP_CLASSES}

    def __getitem__(self, op_class: str) -> Pacer:
        return self.pacers[op_class]

    def summary(self) -> dict[str, float]:
        """The lowest limit each class reached and how often it was cut."""
        return {f"{c}_{k}": v for c, p in self.pacers.items() for k, v in (("lowest", p.lowest), ("cuts", p.cuts))}
