"""Transport shared by the SDK clients of one run (credentials and endpoints: `policygen.azure.clients`)."""

from __future__ import annotations

from typing import Any


def pooled_transport(pool_size: int, *, local: bool = False) -> Any:
    """A requests transport whose connection pool fits `pool_size` parallel requests (urllib3 keeps only 10
    per host by default and discards the rest, which turns parallel writes into new TCP connections).

    `local` (the emulator on loopback): skip requests' per-request scan of the environment for proxy
    settings, which costs about half a millisecond of CPU per request and never applies to 127.0.0.1."""
    import requests
    from azure.core.pipeline.transport import RequestsTransport
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    if local:
        session.trust_env = False
    adapter = HTTPAdapter(pool_connections=8, pool_maxsize=max(64, pool_size))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return RequestsTransport(session=session, session_owner=False)
