"""The single retry layer: Retry-After honoured on 429/5xx, backoff without it, dropped connections,
PrincipalNotFound waited out within its own budget, other errors raised at once."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

from policygen.azure.retry import CallStats, RetrySettings, call_with_retries


def http_error(status: int, code: str = "", headers: dict | None = None) -> HttpResponseError:
    exc = HttpResponseError(message=f"{status} {code}")
    exc.status_code = status
    exc.response = SimpleNamespace(headers=headers or {})
    exc.error = SimpleNamespace(code=code, message=code)
    return exc


def failing(*errors: BaseException):
    queue = list(errors)

    def fn() -> str:
        if queue:
            raise queue.pop(0)
        return "ok"

    return fn


def settings(**kw) -> tuple[RetrySettings, list[float]]:  # noqa: ANN003
    slept: list[float] = []
    return RetrySettings(sleep=slept.append, **kw), slept


def test_retry_after_is_honoured_on_429_and_503() -> None:
    s, slept = settings(base_s=0.1, jitter=0.25)
    stats = CallStats()
    fn = failing(http_error(429, "SubscriptionRequestsThrottled", {"Retry-After": "3"}),
                 http_error(503, "ServiceUnavailable", {"retry-after-ms": "250"}))
    assert call_with_retries(fn, s, stats, write=True) == "ok"
    # never earlier than asked, at most a quarter (or base_s) later: jitter
    assert 3.0 <= slept[0] <= 3.75 and 0.25 <= slept[1] <= 0.35
    assert (stats.requests, stats.retries, stats.throttled, stats.server_errors, stats.writes) == (3, 2, 1, 1, 3)


def test_backoff_without_retry_after_and_connection_errors() -> None:
    s, slept = settings(base_s=0.5, cap_s=4.0)
    fn = failing(http_error(500), ServiceResponseError("reset"), http_error(502), ServiceRequestError("refused"))
    assert call_with_retries(fn, s, CallStats()) == "ok"
    assert len(slept) == 4 and all(0 < d <= 4.0 for d in slept)
    assert slept[2] >= 1.0  # doubling: the third wait is at least half of 0.5 * 2**2


def test_gives_up_after_the_attempt_budget() -> None:
    s, slept = settings(attempts=3)
    with pytest.raises(HttpResponseError):
        call_with_retries(failing(*[http_error(500, "InternalServerError")] * 5), s, CallStats())
    assert len(slept) == 2
    s, _ = settings(connect_attempts=2)
    with pytest.raises(ServiceRequestError):
        call_with_retries(failing(*[ServiceRequestError("refused")] * 5), s, CallStats())


def test_principal_not_found_only_where_asked_and_within_its_timeout() -> None:
    s, slept = settings(principal_base_s=0.5, principal_timeout_s=60)
    stats = CallStats()
    errors = [http_error(400, "PrincipalNotFound")] * 12  # more than `attempts`: it has its own budget
    assert call_with_retries(failing(*errors), s, stats, principal_retry=True) == "ok"
    assert stats.principal_waits == 12 and slept[:3] == [0.5, 1.0, 2.0]
    with pytest.raises(HttpResponseError):  # not a role-assignment call: a 400 is final
        call_with_retries(failing(http_error(400, "PrincipalNotFound")), s, CallStats())


def test_other_client_errors_are_not_retried() -> None:
    s, slept = settings()
    for status, code in ((400, "InvalidPolicyRule"), (403, "AuthorizationFailed"), (404, "PolicyDefinitionNotFound")):
        with pytest.raises(HttpResponseError):
            call_with_retries(failing(http_error(status, code)), s, CallStats())
    assert slept == []
