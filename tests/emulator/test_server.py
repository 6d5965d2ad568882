"""The transport and the `policygen emulator` command: api-version required, URL printed, clean shutdown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from policygen.emulator import running_emulator

from .conftest import BEARER, tenant_seed


def test_api_version_is_required_and_errors_have_the_arm_shape():
    with running_emulator(seed=tenant_seed()) as url:
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(urllib.request.Request(f"{url}/subscriptions", headers=BEARER))
        body = json.load(err.value)
        assert err.value.code == 400
        assert body == {
            "error": {"code": "MissingApiVersionParameter", "message": body["error"]["message"], "details": []}
        }
        assert err.value.headers["Content-Type"].startswith("application/json")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(
                urllib.request.Request(f"{url}/subscriptions/x/nothing/here?api-version=1", headers=BEARER)
            )
        assert err.value.code == 404
        # Any api-version is accepted and recorded.
        with urllib.request.urlopen(
            urllib.request.Request(f"{url}/subscriptions?api-version=1999-01-01", headers=BEARER)
        ) as resp:
            assert resp.status == 200
        assert url.requests[-1]["api_version"] == "1999-01-01"


def test_cli_prints_url_logs_requests_and_stops_on_sigterm(tmp_path):
    log = tmp_path / "requests.jsonl"
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(tenant_seed()))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "policygen",
            "emulator",
            "--port",
            "0",
            "--seed",
            str(seed),
            "--request-log",
            str(log),
            "--latency-ms",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("policygen emulator listening on http://127.0.0.1:")
        url = first.split()[-1]
        with urllib.request.urlopen(
            urllib.request.Request(f"{url}/subscriptions?api-version=2022-12-01", headers=BEARER)
        ) as resp:
            assert len(json.load(resp)["value"]) == 2
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    entry = json.loads(log.read_text().splitlines()[0])
    assert entry["method"] == "GET" and entry["path"] == "/subscriptions" and entry["status"] == 200
    assert entry["api_version"] == "2022-12-01" and entry["ms"] >= 1


def test_cli_reports_a_bad_seed_without_traceback(tmp_path):
    seed = tmp_path / "seed.yaml"
    seed.write_text("managementGroups:\n  - name: a\n    parent: nowhere\n")
    proc = subprocess.run(
        [sys.executable, "-m", "policygen", "emulator", "--port", "0", "--seed", str(seed)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "parent 'nowhere'" in proc.stderr and "Traceback" not in proc.stderr
