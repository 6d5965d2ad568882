"""Pacing under ARM throttling, on a fake clock: the shared hold after a 429, Retry-After honoured with
jitter (never earlier), the limit on requests in flight halved once per hold and grown back (AIMD), and a
time budget instead of a count for throttled calls.

ARM's token buckets and Retry-After: https://learn.microsoft.com/azure/azure-resource-manager/management/
request-limits-and-throttling ("Retry-After ... the number of seconds to wait before sending another request").
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from azure.core.exceptions import HttpResponseError

from policygen.azure.pacing import Pacer, Pacing
from policygen.azure.retry import CallStats, RetrySettings, call_with_retries


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def throttled(retry_after: float) -> HttpResponseError:
    exc = HttpResponseError(message="429 SubscriptionRequestsThrottled")
    exc.status_code = 429
    exc.response = SimpleNamespace(headers={"Retry-After": str(retry_after)})
    exc.error = SimpleNamespace(code="SubscriptionRequestsThrottled", message="throttled")
    return exc


def replies(*errors: BaseException):
    queue = list(errors)

    def fn() -> str:
        if queue:
            raise queue.pop(0)
        return "ok"

    return fn


def test_limit_is_halved_once_per_hold_and_recovers_additively() -> None:
    clock = FakeClock()
    p = Pacer(32, clock)
    p.throttled(2.0)
    assert p.limit == 16 and p.wait_s() == 2.0
    for _ in range(10):  # replies to requests sent before the cut: same hold, no further cut
        p.throttled(2.0)
    assert p.limit == 16 and p.cuts == 1
    clock.now += 2.5  # the hold is over; a request sent after it is throttled again
    p.throttled(1.0)
    assert p.limit == 8 and p.cuts == 2 and p.wait_s() == 1.0
    for _ in range(10):
        clock.now += 5
        p.throttled(1.0)
    assert p.limit == p.lowest == 1.0  # never below one request in flight
    successes = 0
    while p.limit < 32:
        p.succeeded()
        successes += 1
    # one more slot per `limit` successes (one per round trip): about 1 + 2 + ... + 31
    assert 31 * 32 // 2 <= successes <= 31 * 32 // 2 + 32
    assert p.slots == 32 and p.lowest == 1.0


def test_a_slot_is_free_only_when_a_request_ends() -> None:
    p = Pacer(2)
    p.acquire()
    p.acquire()
    third = threading.Thread(target=p.acquire, daemon=True)
    third.start()
    third.join(0.05)
    assert third.is_alive()  # blocked: two of two in flight
    p.release()
    third.join(10)
    assert not third.is_alive() and p.in_flight == 2


def test_throttling_is_retried_within_a_time_budget_not_a_count() -> None:
    clock = FakeClock()
    settings = RetrySettings(budget_s=120.0, attempts=3, base_s=0.5, sleep=clock.sleep, clock=clock)
    stats = CallStats()
    pacer = Pacer(8, clock)
    fn = replies(*[throttled(1)] * 20)  # far more than `attempts`: throttling is paced, not counted
    assert call_with_retries(fn, settings, stats, pacer=pacer) == "ok"
    assert stats.throttled == 20 and stats.requests == 21
    assert all(d >= 1.0 for d in clock.slept)  # never earlier than Retry-After
    assert len(set(clock.slept)) > 1  # jittered: callers do not all come back at the same instant
    assert pacer.in_flight == 0 and pacer.limit < 8

    clock.slept.clear()
    with pytest.raises(HttpResponseError):  # the budget ends it: 10 s waits, 25 s budget
        call_with_retries(replies(*[throttled(10)] * 20), RetrySettings(budget_s=25.0, sleep=clock.sleep,
                                                                          clock=clock), CallStats())
    assert len(clock.slept) == 2 and clock.slept[0] >= 10


def test_a_throttled_call_holds_back_the_other_calls_of_its_class() -> None:
    clock = FakeClock()
    settings = RetrySettings(base_s=0.5, sleep=clock.sleep, clock=clock)
    pacing = Pacing(8, clock)
    pacing["write"].throttled(3.0)  # another thread's write was just told to come back in 3 s
    sent_at: list[float] = []

    def write() -> str:
        sent_at.append(clock.now)
        return "ok"

    start = clock.now
    call_with_retries(write, settings, CallStats(), write=True, pacer=pacing["write"])
    assert sent_at[0] >= start + 3.0  # waited out the hold before its first attempt
    clock.slept.clear()
    pacing["read"].acquire()
    pacing["read"].release()
    call_with_retries(lambda: "ok", settings, CallStats(), pacer=pacing["read"])
    assert clock.slept == []  # reads have their own bucket, not held
