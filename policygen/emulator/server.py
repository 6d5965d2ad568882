"""HTTP transport: a threaded stdlib server around `Emulator.handle`, runnable in-process or from the CLI.

The standard library's `ThreadingHTTPServer` is enough: one thread per connection means injected latency
(time.sleep in the handler) never serialises concurrent clients, and HTTP/1.1 keep-alive matches what the
SDK's requests session expects. No new dependency.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import json
import logging
import signal
import socket
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from policygen.arm.json_text import MAX_BODY_BYTES
from policygen.emulator.app import Emulator
from policygen.emulator.context import EmulatorConfig
from policygen.emulator.core import ArmError, Request
from policygen.emulator.faults import FaultConfig
from policygen.errors import InputError

log = logging.getLogger("policygen.emulator")

IDLE_TIMEOUT_S = 30.0  # a connection that sends nothing for this long is closed (slowloris, idle keep-alive)
REQUEST_TIMEOUT_S = 60.0  # a request's line, headers and body must all arrive within this
MAX_CONNECTIONS = 256  # one thread each; beyond this a connection gets 503 + Retry-After and is closed
MAX_ADMIN_BODY_BYTES = 64 * 1024 * 1024  # /_admin/seed carries whole tenants; ARM requests keep ARM's 4 MB


class _DeadlineReader(io.RawIOBase):
    """The socket as the handler reads it: each wait for bytes lasts at most the idle timeout, and the whole
    request at most the request timeout, so a client sending one byte at a time cannot hold a thread."""

    def __init__(self, sock: socket.socket, handler: _Handler):
        self.sock, self.handler = sock, handler

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        remaining = self.handler.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request took too long to arrive")
        self.sock.settimeout(min(self.handler.idle_timeout, remaining))
        return self.sock.recv_into(buf)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "policygen-emulator"
    emulator: Emulator  # set on the subclass made per server
    idle_timeout = IDLE_TIMEOUT_S
    request_timeout = REQUEST_TIMEOUT_S
    deadline = 0.0

    def setup(self) -> None:
        """Disable Nagle: headers and body go out in separate writes, and with keep-alive a delayed ACK would
        otherwise add ~40 ms to every response. Reads go through the deadline reader."""
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = io.BufferedReader(_DeadlineReader(self.connection, self), 65536)

    def handle_one_request(self) -> None:
        """Each request (and the idle wait before it) gets its own time budget; the stdlib closes the
        connection on TimeoutError."""
        self.deadline = time.monotonic() + self.request_timeout
        super().handle_one_request()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silence the stdlib access log; the emulator keeps its own JSON request log."""

    def _serve(self) -> None:
        path, _, query = self.path.partition("?")
        while "//" in path:
            path = path.replace("//", "/")
        if len(path) > 1:
            path = path.rstrip("/")
        body = self._body(path)
        if body is None:
            return
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

    def _body(self, path: str) -> bytes | None:
        """The request body, or None after answering ARM's error for a length that cannot be trusted."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self._refuse(411, "LengthRequired", "The request must carry a Content-Length header.")
            return None
        header = self.headers.get("Content-Length")
        raw = "0" if header is None else header.strip()
        if not (raw.isascii() and raw.isdigit()):  # '-1', '1e3', 'abc', an empty value
            self._refuse(400, "InvalidRequestContent", "The Content-Length header is not a non-negative integer.")
            return None
        length = int(raw)
        limit = MAX_ADMIN_BODY_BYTES if path.startswith("/_admin/") else MAX_BODY_BYTES
        if length > limit:
            self._refuse(
                413,
                "RequestContentTooLarge",
                f"The request content size exceeds the maximum size of {limit // (1024 * 1024)} MB.",
                drain=min(length, 4 * limit),
            )
            return None
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the client went away mid-body
            self.close_connection = True
            return None
        return body

    def _refuse(self, status: int, code: str, message: str, drain: int = 0) -> None:
        """Answer an ARM-shaped error and close: the unread body makes the rest of the stream meaningless.

        `drain`: read and drop up to that many body bytes after answering (within the request's deadline), so
        a client that sends its whole body before reading gets the answer instead of a reset."""
        payload = json.dumps(ArmError(status, code, message).body()).encode("utf-8")
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()
        self.idle_timeout = min(self.idle_timeout, 1.0)  # drain what is already coming, wait for nothing more
        with contextlib.suppress(OSError):  # TimeoutError included
            while drain > 0:
                chunk = self.rfile.read1(min(drain, 65536))
                if not chunk:
                    break
                drain -= len(chunk)

    def _reset(self) -> None:
        """Drop the connection with a TCP RST, as a flaky load balancer would."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.close()

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _serve  # noqa: N815


class _ThreadingServer(ThreadingHTTPServer):
    """One daemon thread per connection, at most `max_connections` of them."""

    # The stdlib listens with a backlog of 5: a client opening dozens of connections at once (apply at
    # --concurrency 32) gets SYNs dropped (a 1 s retransmit) or resets. ARM takes such bursts.
    request_queue_size = 256
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], max_connections: int):
        self.slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            self._busy(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    @staticmethod
    def _busy(request: socket.socket) -> None:
        body = json.dumps(
            ArmError(503, "ServerBusy", "The emulator has too many open connections; retry shortly.").body()
        ).encode()
        head = (
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
            f"Retry-After: 1\r\nConnection: close\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        with contextlib.suppress(OSError):
            request.settimeout(1.0)
            request.sendall(head + body)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that resets or vanishes is routine, not a traceback on the console."""
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


def is_loopback(host: str) -> bool:
    """Whether every address `host` names is a loopback one ('' and 0.0.0.0 mean all interfaces)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


class EmulatorServer:
    """An `Emulator` bound to a socket; `start()` serves on a background thread, `url` says where."""

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        allow_remote: bool = False,
        idle_timeout: float = IDLE_TIMEOUT_S,
        request_timeout: float = REQUEST_TIMEOUT_S,
        max_connections: int = MAX_CONNECTIONS,
    ):
        config = config or EmulatorConfig()
        if not is_loopback(host):
            # /_admin rewrites the tenant and ARM writes it: off this machine only on purpose, and then both
            # surfaces need the operator's token.
            if not allow_remote:
                raise InputError(
                    f"refusing to listen on {host!r}: not a loopback address. Anyone who can reach it could read "
                    "and change the emulated tenant. Pass --allow-remote and set POLICYGEN_EMULATOR_TOKEN to "
                    "serve other machines."
                )
            if not config.admin_token:
                raise InputError(
                    f"refusing to listen on {host!r} without an admin token: set POLICYGEN_EMULATOR_TOKEN "
                    "(sent back as 'Authorization: Bearer <token>' on every request)."
                )
            config.arm_token = config.admin_token
        self.emulator = Emulator(config)
        handler = type(
            "Handler",
            (_Handler,),
            {"emulator": self.emulator, "idle_timeout": idle_timeout, "request_timeout": request_timeout},
        )
        self.httpd = _ThreadingServer((host, port), handler, max_connections)
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
def running_emulator(
    *, host: str = "127.0.0.1", port: int = 0, server_options: dict[str, Any] | None = None, **options: Any
) -> Iterator[EmulatorURL]:
    """Serve an emulator on a free port in a background thread for the duration of the block.

    `with running_emulator(seed="seed.yaml", latency_ms=50) as url:` - `url` is the base URL (a str) and
    also carries `.emulator`, `.requests`, `.set_faults(...)`. Options: see `make_config`; `server_options`
    go to `EmulatorServer` (timeouts, max_connections).
    """
    server = EmulatorServer(make_config(**options), host=host, port=port, **(server_options or {})).start()
    url = EmulatorURL(server.url)
    url.server = server
    try:
        yield url
    finally:
        server.stop()


def serve(config: EmulatorConfig, host: str, port: int, announce: Any = print, **server_options: Any) -> None:
    """Run in the foreground until SIGINT or SIGTERM, then shut down cleanly (state flushed, log closed)."""
    server = EmulatorServer(config, host=host, port=port, **server_options)
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
