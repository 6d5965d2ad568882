"""Every fault knob, observed through the real SDK clients (and the admin endpoint)."""

from __future__ import annotations

import json
import threading
import urllib.request

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

from policygen.azure.clients import build_clients
from policygen.emulator.faults import FaultConfig, Faults

from .conftest import SUB


def admin(url: str, path: str, body: dict | None = None, method: str | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"{url}/_admin/{path}",
        data=data,
        method=method or ("POST" if data else "GET"),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req) as resp:
        return json.load(resp)


def test_latency_does_not_serialise_concurrent_requests(emulator):
    emulator.set_faults(latency_ms=150)
    clients = build_clients(SUB, endpoint=emulator, retry_total=0)
    threads = [threading.Thread(target=lambda: list(clients.resources.resource_groups.list())) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log = [r for r in emulator.requests if r["path"].endswith("/resourcegroups")]
    assert len(log) == 6 and all(r["ms"] >= 150 for r in log)
    # Each request's interval [ts - ms, ts] overlaps every other one: they were served concurrently.
    spans = [(r["ts"] - r["ms"] / 1000, r["ts"]) for r in log]
    assert max(s for s, _ in spans) < min(e for _, e in spans)


def test_jitter_stays_within_bounds(emulator):
    """The drawn delays lie in [latency, latency + jitter) and vary; served requests take at least the latency.
    (No upper bound on wall time: a loaded machine may take longer, which says nothing about the fault.)"""
    faults = Faults(FaultConfig(latency_ms=10, jitter_ms=20, fault_seed=7))
    drawn = [faults.delay() for _ in range(200)]
    assert all(0.010 <= d < 0.030 for d in drawn) and len(set(drawn)) > 1
    emulator.set_faults(latency_ms=10, jitter_ms=20, fault_seed=7)
    clients = build_clients(SUB, endpoint=emulator, retry_total=0)
    for _ in range(5):
        clients.resources.resource_groups.get("rg1")
    ms = [r["ms"] for r in emulator.requests if r["path"].endswith("/rg1")]
    assert len(ms) == 5 and all(m >= 10 for m in ms)


def test_throttling_429_with_retry_after(emulator):
    emulator.set_faults(rate_429=1.0, retry_after=1)
    clients = build_clients(SUB, endpoint=emulator, retry_total=0)
    with pytest.raises(HttpResponseError) as err:
        clients.resources.resource_groups.get("rg1")
    assert err.value.status_code == 429 and err.value.error.code == "SubscriptionRequestsThrottled"
    assert err.value.response.headers["Retry-After"] == "1"


def test_sdk_retries_injected_5xx(emulator):
    emulator.set_faults(rate_5xx=1.0, status_5xx=500)
    clients = build_clients(SUB, endpoint=emulator, retry_total=2, retry_backoff_factor=0.01)
    with pytest.raises(HttpResponseError) as err:
        clients.resources.resource_groups.get("rg1")
    assert err.value.status_code == 500
    assert len([r for r in emulator.requests if r["path"].endswith("/rg1")]) == 3  # 1 + 2 retries
    emulator.set_faults(rate_5xx=1.0, status_5xx=503)
    with pytest.raises(HttpResponseError) as err:
        build_clients(SUB, endpoint=emulator, retry_total=0).resources.resource_groups.get("rg1")
    assert err.value.status_code == 503 and "Retry-After" in err.value.response.headers


def test_connection_resets(emulator):
    emulator.set_faults(rate_reset=1.0)
    clients = build_clients(SUB, endpoint=emulator, retry_total=0)
    with pytest.raises((ServiceRequestError, ServiceResponseError)):
        clients.resources.resource_groups.get("rg1")
    assert emulator.requests[-1]["fault"] == "reset"


def test_faults_can_target_paths(emulator):
    emulator.set_faults(rate_429=1.0, only_paths="roleAssignments")
    clients = build_clients(SUB, endpoint=emulator, retry_total=0)
    assert clients.resources.resource_groups.get("rg1").name == "rg1"
    with pytest.raises(HttpResponseError):
        list(clients.authorization.role_assignments.list_for_subscription())


def test_token_bucket_follows_arm_limits(emulator):
    emulator.set_faults(throttle=True, bucket_scale=0.02)  # 5 reads, 4 writes; refill 0.5 and 0.2 per second
    clients = build_clients(SUB, endpoint=emulator, retry_total=0)
    remaining = []
    for _ in range(5):
        rg = clients.resources.resource_groups.get("rg1", cls=lambda resp, obj, hdrs: resp.http_response.headers)
        remaining.append(int(rg["x-ms-ratelimit-remaining-subscription-reads"]))
    assert remaining == [4, 3, 2, 1, 0]
    with pytest.raises(HttpResponseError) as err:
        clients.resources.resource_groups.get("rg1")
    assert err.value.status_code == 429 and int(err.value.response.headers["Retry-After"]) >= 1
    # Writes have their own bucket.
    clients.resources.resource_groups.create_or_update("rg9", {"location": "westeurope"})


def test_admin_endpoint(emulator):
    assert admin(emulator, "faults", {"latency_ms": 5})["latency_ms"] == 5
    assert admin(emulator, "faults")["latency_ms"] == 5
    assert admin(emulator, "faults", method="DELETE")["latency_ms"] == 0
    with pytest.raises(urllib.error.HTTPError) as err:
        admin(emulator, "faults", {"no_such_knob": 1})
    assert err.value.code == 400
    clients = build_clients(SUB, endpoint=emulator, retry_total=0)
    clients.resources.resource_groups.create_or_update("rg9", {"location": "westeurope"})
    state = admin(emulator, "state")
    assert state["counts"]["resourceGroups"] == 3
    admin(
        emulator,
        "seed",
        {
            "resources": [
                {
                    "id": f"/subscriptions/{SUB}/resourceGroups/new/providers/Microsoft.Web/sites/app",
                    "location": "westeurope",
                }
            ]
        },
    )
    assert clients.resources.resource_groups.check_existence("new")
    assert admin(emulator, "reset", {})["status"] == "reset"
    assert not clients.resources.resource_groups.check_existence("rg9")
    assert admin(emulator, "requests")["value"][-1]["path"].endswith("/rg9")


def test_scripted_failures(emulator):
    emulator.set_faults(
        inject=[{"path": "roleAssignments", "method": "GET", "status": 403, "code": "AuthorizationFailed", "count": 2}]
    )
    clients = build_clients(SUB, endpoint=emulator, retry_total=0)
    codes = []
    for _ in range(3):
        try:
            list(clients.authorization.role_assignments.list_for_subscription())
            codes.append(200)
        except HttpResponseError as exc:
            codes.append((exc.status_code, exc.error.code))
    assert codes == [(403, "AuthorizationFailed"), (403, "AuthorizationFailed"), 200]
    assert clients.resources.resource_groups.get("rg1").name == "rg1"  # other paths untouched
    with pytest.raises(urllib.error.HTTPError) as err:
        admin(emulator, "faults", {"inject": [{"path": "x"}]})
    assert err.value.code == 400
