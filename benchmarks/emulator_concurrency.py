"""Emulator throughput under injected latency: concurrent SDK writes must not be serialised.

    python benchmarks/emulator_concurrency.py [--latency-ms 50] [--requests 200]

Prints, per concurrency level, wall time, requests/s and the speed-up over the sequential run. With a
threaded server the wall time is about requests x latency / concurrency.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from azure.core.pipeline.transport import RequestsTransport

from policygen.azure.clients import build_clients
from policygen.emulator import running_emulator

SUB = "11111111-1111-1111-1111-111111111111"
DEFINITION = {
    "properties": {
        "mode": "All",
        "displayName": "bench",
        "metadata": {"category": "b", "version": "1.0.0"},
        "policyRule": {"if": {"field": "location", "equals": "nowhere"}, "then": {"effect": "audit"}},
    }
}


def run(url: str, total: int, workers: int) -> float:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=max(workers, 10))
    session.mount("http://", adapter)
    clients = build_clients(
        SUB, endpoint=url, retry_total=0, transport=RequestsTransport(session=session, session_owner=False)
    )
    pd = clients.policy.policy_definitions
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda i: pd.create_or_update(f"bench-{workers}-{i}", DEFINITION), range(total)))
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument("--requests", type=int, default=200)
    args = ap.parse_args()
    with running_emulator(seed={"subscriptions": [SUB]}, latency_ms=args.latency_ms) as url:
        base = None
        print(f"{'workers':>7} {'requests':>8} {'seconds':>8} {'req/s':>8} {'speed-up':>8}")
        for workers in (1, 8, 32):
            n = args.requests if workers > 1 else max(10, args.requests // 10)
            secs = run(url, n, workers)
            rate = n / secs
            base = base or rate
            print(f"{workers:>7} {n:>8} {secs:>8.2f} {rate:>8.1f} {rate / base:>8.1f}")


if __name__ == "__main__":
    main()
