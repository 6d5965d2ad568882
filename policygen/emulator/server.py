"""HTTP transport: a threaded stdlib server around `Emulator.handle`, runnable in-process or from the CLI.

The standard library's `ThreadingHTTPServer` is enough: one thread per connection means injected latency
(time.sleep in the handler) never serialises concurrent clients, and HTTP/1.1 keep-alive matches what the
SDK's requests session expects. No new dependency.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import struct
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from policygen.emulator.app import Emulator
from policygen.emulator.context import EmulatorConfig
from policygen.emulator.core import Request
from policygen.emulator.faults import FaultConfig


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "policygen-emulator"
    emulator: Emulator  # set on the subclass made per server

    def setup(self) -> None:
        """Disable Nagle: headers and body go out in separate writes, and with keep-alive a delayed ACK would
        otherwise add ~40 ms to every response."""
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silence the stdlib access log; the emulator keeps its own JSON request log."""

    def _serve(self) -> None:
        path, _, query = self.path.partition("?")
        while "//" in path:
            path = path.replace("//", "/")
        if len(path) > 1:
            path = path.rstrip("/")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("Host") or f"{self.server.server_address[0]}:{self.server.server_address[1]}"
        req = Request(
            self.command, path, query, {k.lower(): v for k, v in self.headers.items()}, body, base_url=f"http://{host}"
        )
        resp, action = self.emulator.handle(req)
        if action == "reset" or resp is None:
            self._reset()
            return
        payload = b"" if resp.body is None else json.dumps(resp.body).encode("utf-8")
        self.send_response(resp.status)
        if payload:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-ms-request-id", req.headers.get("x-ms-client-request-id", "emulator"))
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    def _reset(self) -> None:
        """Drop the connection with a TCP RST, as a flaky load balancer would."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.close()

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _serve  # noqa: N815


class _ThreadingServer(ThreadingHTTPServer):
    # The stdlib listens with a backlog of 5: a client opening dozens of connections at once (apply at
    # --concurrency 32) gets SYNs dropped (a 1 s retransmit) or resets. ARM takes such bursts.
    request_queue_size = 256


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # socketserver's default backlog of 5 drops bursts of concurrent connects (1 s SYN retry)


class EmulatorServer:
    """An `Emulator` bound to a socket; `start()` serves on a background thread, `url` says where."""

    def __init__(self, config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0):
        self.emulator = Emulator(config)
        handler = type("Handler", (_Handler,), {"emulator": self.emulator})
        self.httpd = _ThreadingServer((host, port), handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="policygen-emulator", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self.emulator.close()


class EmulatorURL(str):
    """The base URL of a running emulator (a `str`), with its server attached for tests and tools."""

    server: EmulatorServer

    @property
    def emulator(self) -> Emulator:
        return self.server.emulator

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.server.emulator.requests

    def set_faults(self, **knobs: Any) -> None:
        em = self.server.emulator
        em.faults.set(FaultConfig.from_dict(knobs, em.faults.config))

    def clear_faults(self) -> None:
        self.server.emulator.faults.set(FaultConfig())


def make_config(
    *,
    seed: Any = None,
    state: Any = None,
    builtins: Any = None,
    request_log: Any = None,
    tenant_id: str | None = None,
    page_size: int | None = None,
    lro_poll_ms: int | None = None,
    evaluation_s: float | None = None,
    remediation_step_s: float | None = None,
    faults: FaultConfig | dict | None = None,
    **fault_knobs: Any,
) -> EmulatorConfig:
    """Build an `EmulatorConfig` from keywords; unknown keywords are fault knobs (`latency_ms=50`, ...)."""
    cfg = EmulatorConfig(seed=seed, state=state, builtins=builtins, request_log=request_log)
    for name, value in (
        ("tenant_id", tenant_id),
        ("page_size", page_size),
        ("lro_poll_ms", lro_poll_ms),
        ("evaluation_s", evaluation_s),
        ("remediation_step_s", remediation_step_s),
    ):
        if value is not None:
            setattr(cfg, name, value)
    if isinstance(faults, dict):
        faults = FaultConfig.from_dict(faults)
    cfg.faults = FaultConfig.from_dict(fault_knobs, faults or FaultConfig())
    return cfg


@contextlib.contextmanager
def running_emulator(*, host: str = "127.0.0.1", port: int = 0, **options: Any) -> Iterator[EmulatorURL]:
    """Serve an emulator on a free port in a background thread for the duration of the block.

    `with running_emulator(seed="seed.yaml", latency_ms=50) as url:` - `url` is the base URL (a str) and
    also carries `.emulator`, `.requests`, `.set_faults(...)`. Options: see `make_config`.
    """
    server = EmulatorServer(make_config(**options), host=host, port=port).start()
    url = EmulatorURL(server.url)
    url.server = server
    try:
        yield url
    finally:
        server.stop()


def serve(config: EmulatorConfig, host: str, port: int, announce: Any = print) -> None:
    """Run in the foreground until SIGINT or SIGTERM, then shut down cleanly (state flushed, log closed)."""
    server = EmulatorServer(config, host=host, port=port)
    stop = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    server.start()
    announce(server.url)
    try:
        while not stop.wait(0.2):
            pass
    finally:
        server.stop()
        for s, h in previous.items():
            signal.signal(s, h)
