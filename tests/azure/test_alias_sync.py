"""`policygen aliases sync` against a local HTTP server, through the real azure-mgmt-resource client."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policygen.arm.aliases import load_catalogue
from policygen.cli import app

PROVIDERS = {
    "value": [
        {
            "id": "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Contoso",
            "namespace": "Microsoft.Contoso",
            "resourceTypes": [
                {
                    "resourceType": "widgets",
                    "locations": ["West Europe"],
                    "aliases": [
                        {
                            "name": "Microsoft.Contoso/widgets/colour",
                            "defaultPath": "properties.colour",
                            "paths": [{"path": "properties.colour", "apiVersions": ["2024-01-01"]}],
                            "defaultMetadata": {"type": "String", "attributes": "Modifiable"},
                        },
                    ],
                }
            ],
        }
    ]
}


class Handler(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        Handler.requests.append(self.path)
        if "/providers" in self.path and "expand=resourceTypes" in self.path.replace("%2F", "/"):
            body, status = json.dumps(PROVIDERS).encode(), 200
        else:
            body, status = b'{"error": {"code": "NotFound", "message": "no"}}', 404
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test__alias_sync__writes_cache_that_load_catalogue_reads(server: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["aliases", "sync", "--endpoint", server, "--cache-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "wrote 1 aliases from 1 providers" in result.stdout
    assert any("api-version=" in r for r in Handler.requests)
    cat = load_catalogue(cache_dir=tmp_path)
    assert cat.path("microsoft.contoso/widgets/colour") == "properties.colour"
    assert str(tmp_path / "aliases.json") in cat.describe()


def test__alias_sync__unreachable_endpoint_exits_two(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYGEN_RETRIES", "0")
    result = CliRunner().invoke(
        app, ["aliases", "sync", "--endpoint", "http://127.0.0.1:9", "--cache-dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert not (tmp_path / "aliases.json").exists()


def test__alias_sync__modifiable_attribute_reaches_the_validator(server: str, tmp_path: Path) -> None:
    from policygen.arm.aliases import synced_modifiable_aliases

    assert (
        CliRunner().invoke(app, ["aliases", "sync", "--endpoint", server, "--cache-dir", str(tmp_path)]).exit_code == 0
    )
    assert synced_modifiable_aliases(tmp_path) == {"microsoft.contoso/widgets/colour"}


def test__alias_sync__writes_the_per_type_form_with_api_version_paths(server: str, tmp_path: Path) -> None:
    """The cache is the document the package ships: type → alias → default path, paths per API version and
    the Modifiable attribute (providers list: https://learn.microsoft.com/rest/api/resources/providers/list)."""
    assert (
        CliRunner().invoke(app, ["aliases", "sync", "--endpoint", server, "--cache-dir", str(tmp_path)]).exit_code == 0
    )
    doc = json.loads((tmp_path / "aliases.json").read_text(encoding="utf-8"))
    assert doc["format"] == "policygen.aliases/1" and doc["source"].startswith("aliases sync from http://127.0.0.1")
    entry = doc["types"]["Microsoft.Contoso/widgets"]["Microsoft.Contoso/widgets/colour"]
    assert entry == {
        "defaultPath": "properties.colour",
        "modifiable": True,
        "paths": [{"path": "properties.colour", "apiVersions": ["2024-01-01"]}],
    }
    cat = load_catalogue(cache_dir=tmp_path)
    assert cat.path("Microsoft.Contoso/widgets/colour", "Microsoft.Contoso/widgets", "2024-01-01") == "properties.colour"
    assert cat.modifiable("Microsoft.Contoso/widgets/colour", "Microsoft.Contoso/widgets") is True
    # the packaged catalogue is still underneath the synced one
    assert "Microsoft.DocumentDB/databaseAccounts/disableLocalAuth" in cat
