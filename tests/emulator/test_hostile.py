"""The emulator under hostile clients (issue #16 items 1, 3, 4, 5), over real HTTP and raw sockets.

ARM's answers: 400 `InvalidRequestContent` for a body it cannot deserialize and 413 `RequestContentTooLarge`
("The request content size exceeds the maximum size of 4 MB.") - ../shared/reference/arm-rest-contract.md
section 5.2; the 4 MB limit: https://github.com/Azure/azure-resource-manager-rpc/pull/138.
`like`: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule#conditions
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from policygen.emulator import EmulatorServer, running_emulator
from policygen.emulator.server import make_config
from policygen.errors import InputError

from .conftest import RG1, SUB, tenant_seed

AUTH = {"Authorization": "Bearer emulator", "Content-Type": "application/json"}
DEF_URL = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policyDefinitions/{{}}?api-version=2023-04-01"
SECRET = "do-not-echo-this-line"


def _call(url: str, method: str, path: str, body: bytes | dict | None = None, headers: dict | None = None):
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method, headers=headers or AUTH)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def _raw(url: str, request: bytes, timeout: float = 30) -> bytes:
    """Send raw bytes on a fresh connection and read until the server closes it."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


# ------------------------------------------------------------------ item 1: file reads and the admin surface


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "outside" / "secret.json"
    path.parent.mkdir()
    path.write_text(SECRET + "\n")
    return path


@pytest.mark.parametrize("kind", ["absolute", "dotdot", "device"])
def test__admin_seed__names_no_files(tmp_path: Path, secret_file: Path, kind: str):
    name = {"absolute": str(secret_file), "dotdot": "../outside/secret.json", "device": "/dev/zero"}[kind]
    with running_emulator(seed=tenant_seed()) as url:
        before = len(url.emulator.store.snapshot().get("resources", {}))
        status, body = _call(url, "POST", "/_admin/seed", {"inventory": name})
        assert status == 400 and body["error"]["code"] == "InvalidSeed"
        assert SECRET not in json.dumps(body) and "only be named in a seed file" in body["error"]["message"]
        assert len(url.emulator.store.snapshot().get("resources", {})) == before


def _seed_file(folder: Path, inventory: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    seed = folder / "seed.yaml"
    seed.write_text(f"subscriptions: ['{SUB}']\ninventory: {json.dumps(inventory)}\n")
    return seed


@pytest.mark.parametrize("kind", ["absolute", "dotdot", "device", "symlink"])
def test__seed_file__inventory_stays_in_its_folder_and_is_not_echoed(tmp_path: Path, secret_file: Path, kind: str):
    folder = tmp_path / "seeds"
    folder.mkdir()
    if kind == "symlink":
        (folder / "link.json").symlink_to(secret_file)
    name = {"absolute": str(secret_file), "dotdot": "../outside/secret.json", "device": "/dev/zero"}.get(
        kind, "link.json"
    )
    seed = _seed_file(folder, name)
    with pytest.raises(InputError) as err:
        EmulatorServer(make_config(seed=seed))
    text = str(err.value)
    assert SECRET not in text and "seed.yaml" in text or "secret.json" in text or "/dev/zero" in text
    assert any(word in text for word in ("absolute", "leaves the seed's project folder"))


def test__seed_file__a_device_inside_the_folder_is_refused_unread(tmp_path: Path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "zero.json").symlink_to("/dev/zero")
    os.symlink("/dev/zero", folder / "inside")  # resolved target leaves the folder too
    with pytest.raises(InputError, match="leaves the seed's project folder|not a regular file"):
        EmulatorServer(make_config(seed=_seed_file(folder, "zero.json")))


def test__seed_file__inventory_that_is_not_json_is_reported_by_position_only(tmp_path: Path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "inv.json").write_text(SECRET)
    with pytest.raises(InputError) as err:
        EmulatorServer(make_config(seed=_seed_file(folder, "inv.json")))
    assert "inv.json:1:1: inventory is not JSON" in str(err.value) and SECRET not in str(err.value)


def test__non_loopback_bind__refused_without_the_flag_and_a_token():
    with pytest.raises(InputError, match="not a loopback address"):
        EmulatorServer(make_config(), host="0.0.0.0")
    with pytest.raises(InputError, match="admin token"):
        EmulatorServer(make_config(), host="0.0.0.0", allow_remote=True)


def test__non_loopback_bind__admin_needs_the_token():
    cfg = make_config(seed=tenant_seed())
    cfg.admin_token = "s3cret-token"
    server = EmulatorServer(cfg, host="0.0.0.0", port=0, allow_remote=True).start()
    url = f"http://127.0.0.1:{server.httpd.server_address[1]}"
    try:
        status, body = _call(url, "POST", "/_admin/reset", b"", headers={})
        assert status == 401 and body["error"]["code"] == "AuthenticationFailed"
        status, _ = _call(url, "GET", "/_admin/state", None, headers={"Authorization": "Bearer wrong"})
        assert status == 401
        status, _ = _call(url, "GET", "/_admin/health", None, headers={"Authorization": "Bearer s3cret-token"})
        assert status == 200
    finally:
        server.stop()


def test__non_loopback_bind__arm_needs_the_token_too(monkeypatch):
    """Serving other machines, the ARM surface takes only the operator's token (401 InvalidAuthenticationToken,
    which azure-core raises as ClientAuthenticationError - ../shared/reference/arm-rest-contract.md section 5);
    policygen's own SDK clients send it when POLICYGEN_EMULATOR_TOKEN is set."""
    from azure.core.exceptions import ClientAuthenticationError

    from policygen.azure.clients import build_clients

    cfg = make_config(seed=tenant_seed())
    cfg.admin_token = "s3cret-token"
    server = EmulatorServer(cfg, host="0.0.0.0", port=0, allow_remote=True).start()
    url = f"http://127.0.0.1:{server.httpd.server_address[1]}"
    try:
        status, body = _call(url, "GET", DEF_URL.format("x"), None, headers=AUTH)
        assert status == 401 and body["error"]["code"] == "InvalidAuthenticationToken"
        monkeypatch.delenv("POLICYGEN_EMULATOR_TOKEN", raising=False)
        with pytest.raises(ClientAuthenticationError):
            list(build_clients(SUB, endpoint=url, retry_total=0).policy.policy_definitions.list())
        monkeypatch.setenv("POLICYGEN_EMULATOR_TOKEN", "s3cret-token")
        listed = list(build_clients(SUB, endpoint=url, retry_total=0).policy.policy_definitions.list())
        assert isinstance(listed, list)
    finally:
        server.stop()
    with running_emulator(seed=tenant_seed()) as local:  # on loopback any token still does
        status, _ = _call(local, "GET", DEF_URL.format("x"), None, headers=AUTH)
        assert status == 404


def test__cli__non_loopback_host_is_refused_loudly():
    env = {k: v for k, v in os.environ.items() if k != "POLICYGEN_EMULATOR_TOKEN"}
    proc = subprocess.run(
        [sys.executable, "-m", "policygen", "emulator", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.returncode == 2 and "not a loopback address" in proc.stderr and "Traceback" not in proc.stderr


# ------------------------------------------------------------------ item 4: bodies the reader refuses


@pytest.mark.parametrize("levels", [1_000, 100_000])
def test__deep_json_body__answers_400(levels: int):
    rule = '{"if": ' * levels + '{"field": "type", "equals": "x"}' + "}" * levels
    body = ('{"properties": {"policyRule": ' + rule + "}}").encode()
    with running_emulator(seed=tenant_seed()) as url:
        status, answer = _call(url, "PUT", DEF_URL.format("deep"), body)
        assert status == 400 and answer["error"]["code"] == "InvalidRequestContent"
        assert "nested more than" in answer["error"]["message"]
        assert [r["status"] for r in url.requests] == [400]


def test__duplicate_json_keys__answer_400():
    body = b'{"properties": {"mode": "All", "policyRule": {"if": {"field": "type", "equals": "x"}, '
    body += b'"then": {"effect": "deny", "effect": "audit"}}}}'
    with running_emulator(seed=tenant_seed()) as url:
        status, answer = _call(url, "PUT", DEF_URL.format("dup"), body)
        assert status == 400 and answer["error"]["code"] == "InvalidRequestContent"
        assert "duplicate key 'effect'" in answer["error"]["message"]


# ------------------------------------------------------------------ item 5: connections


def _head(response: bytes) -> tuple[int, dict]:
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body) if body else {}


@pytest.mark.parametrize("length", [b"abc", b"-1", b"1e3", b" "])
def test__bad_content_length__answers_400_and_logs_no_traceback(length: bytes, capfd):
    with running_emulator(seed=tenant_seed()) as url:
        request = b"PUT " + DEF_URL.format("x").encode() + b" HTTP/1.1\r\nHost: e\r\nAuthorization: Bearer x\r\n"
        answer = _raw(url, request + b"Content-Length: " + length + b"\r\n\r\n{}")
        status, body = _head(answer)
        assert status == 400 and body["error"]["code"] == "InvalidRequestContent"
    assert "Traceback" not in capfd.readouterr().err


def test__oversized_body__answers_413_without_reading_it():
    with running_emulator(seed=tenant_seed()) as url:
        request = b"PUT " + DEF_URL.format("x").encode() + b" HTTP/1.1\r\nHost: e\r\nAuthorization: Bearer x\r\n"
        answer = _raw(url, request + b"Content-Length: 5000000000\r\n\r\n")
        status, body = _head(answer)
        assert status == 413 and body["error"]["code"] == "RequestContentTooLarge"


def test__oversized_body__sent_whole_by_a_client_still_gets_413():
    with running_emulator(seed=tenant_seed()) as url:
        status, body = _call(url, "PUT", DEF_URL.format("big"), b'{"x": "' + b"a" * (5 * 1024 * 1024) + b'"}')
        assert status == 413 and body["error"]["code"] == "RequestContentTooLarge"


def test__idle_and_slow_clients_are_disconnected():
    options = {"idle_timeout": 0.5, "request_timeout": 2.0}
    with running_emulator(seed=tenant_seed(), server_options=options) as url:
        host, port = url.removeprefix("http://").split(":")
        # slowloris: a partial request line, then nothing - the server closes it (recv answers b"").
        with socket.create_connection((host, int(port)), timeout=30) as idle:
            idle.sendall(b"GET /subscriptions?api-version=1 HTTP/1.1\r\n")
            assert idle.recv(100) == b""
        # a client that trickles a byte at a time faster than the idle timeout still runs out of time.
        with socket.create_connection((host, int(port)), timeout=30) as slow:
            closed = False
            for ch in b"GET /subscriptions?api-version=1 HTTP/1.1\r\nHost: e\r\nX-Long: " + b"a" * 200:
                try:
                    slow.sendall(bytes([ch]))
                except OSError:
                    closed = True
                    break
                time.sleep(0.1)
            if not closed:
                slow.settimeout(30)
                try:
                    closed = slow.recv(100) == b""
                except OSError:
                    closed = True
            assert closed


def test__connections_are_bounded_and_the_excess_get_503():
    with running_emulator(seed=tenant_seed(), server_options={"max_connections": 4}) as url:
        host, port = url.removeprefix("http://").split(":")
        threads_before = threading.active_count()
        idle = [socket.create_connection((host, int(port)), timeout=30) for _ in range(4)]
        try:
            time.sleep(0.2)  # let the server accept them
            extra = [_raw(url, b"GET /subscriptions?api-version=1 HTTP/1.1\r\nHost: e\r\n\r\n") for _ in range(3)]
            assert all(_head(r)[0] == 503 for r in extra)
            assert all(b"Retry-After: 1" in r for r in extra)
            assert threading.active_count() - threads_before <= 4
        finally:
            for sock in idle:
                sock.close()
        for _ in range(50):  # the slots come back as the idle connections end
            status, _ = _call(url, "GET", f"/subscriptions/{SUB}?api-version=2022-12-01")
            if status == 200:
                break
            time.sleep(0.1)
        assert status == 200


# ------------------------------------------------------------------ item 3: like under an enforced deny


def test__like_with_many_stars_under_deny_does_not_stall_the_server(tmp_path: Path):
    """A subprocess emulator, so the old exponential regex (which holds the interpreter lock) fails this test
    through the client's timeout instead of freezing the test run."""
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(tenant_seed()))
    proc = subprocess.Popen(
        [sys.executable, "-m", "policygen", "emulator", "--port", "0", "--seed", str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        url = proc.stdout.readline().split()[-1]
        pattern = "*a" * 60 + "*b"
        definition = {
            "properties": {
                "mode": "All",
                "policyRule": {"if": {"field": "tags['owner']", "like": pattern}, "then": {"effect": "deny"}},
            }
        }
        status, made = _call(url, "PUT", DEF_URL.format("many-stars"), definition)
        assert status == 201, made
        assignment = {"properties": {"policyDefinitionId": made["id"], "enforcementMode": "Default"}}
        path = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policyAssignments/stars?api-version=2023-04-01"
        assert _call(url, "PUT", path, assignment)[0] == 201
        rid = f"{RG1}/providers/Microsoft.KeyVault/vaults/kv-stars?api-version=2023-07-01"
        for owner, expected in (("a" * 3_000, {200, 201}), ("a" * 60 + "b", {403})):
            status, _ = _call(url, "PUT", rid, {"location": "westeurope", "tags": {"owner": owner}, "properties": {}})
            assert status in expected
    finally:
        proc.terminate()
        proc.wait(timeout=30)
