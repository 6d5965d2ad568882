"""Built-in policy definitions and initiatives served at `/providers/Microsoft.Authorization/...`.

The catalogue directory follows the azure-policy repository layout (`policyDefinitions/**.json`,
`policySetDefinitions/**.json`). Thousands of files would cost seconds and hundreds of MB to parse, so the
index is built by scanning each file for its top-level `"name"` and files are parsed on first use.
"""

from __future__ import annotations

import json
import re
import threading
from functools import lru_cache
from pathlib import Path

_NAME = re.compile(r'^  "name"\s*:\s*"([^"]+)"', re.M)
_ROLE = re.compile(r"/providers/Microsoft\.Authorization/roleDefinitions/([0-9a-fA-F-]{36})")
KINDS = {"policydefinitions": "policyDefinitions", "policysetdefinitions": "policySetDefinitions"}


class Catalogue:
    def __init__(self, directory: str | Path | None):
        self.directory = Path(directory) if directory else None
        self._index: dict[str, dict[str, Path]] | None = None
        self._lock = threading.Lock()
        self._roles: set[str] = set()

    def _build(self) -> dict[str, dict[str, Path]]:
        index: dict[str, dict[str, Path]] = {"policyDefinitions": {}, "policySetDefinitions": {}}
        if not self.directory or not self.directory.is_dir():
            return index
        for kind in index:
            root = self.directory / kind
            if not root.is_dir():
                continue
            # Sovereign-cloud copies ("Azure Government/...") repeat public names: public copies win.
            files = sorted(root.rglob("*.json"), key=lambda p: ("Azure Government" in p.parts, str(p)))
            for path in files:
                text = path.read_text(encoding="utf-8-sig", errors="replace")
                m = _NAME.search(text)
                name = m.group(1) if m else path.stem
                index[kind].setdefault(name.lower(), path)
                self._roles.update(g.lower() for g in _ROLE.findall(text))
        return index

    @property
    def index(self) -> dict[str, dict[str, Path]]:
        with self._lock:
            if self._index is None:
                self._index = self._build()
            return self._index

    def role_guids(self) -> set[str]:
        """Every role GUID the built-ins name in `roleDefinitionIds` (all of them Azure built-in roles)."""
        _ = self.index
        return self._roles

    def names(self, kind: str) -> list[str]:
        return sorted(self.index[kind])

    def get(self, kind: str, name: str) -> dict | None:
        path = self.index[kind].get(name.lower())
        return json.loads(json.dumps(_load(path, kind))) if path else None

    def all(self, kind: str) -> list[dict]:
        """Every built-in of a kind, shared and read-only (lists only serialise them; no copy per request)."""
        return [_load(self.index[kind][n], kind) for n in self.names(kind)]


@lru_cache(maxsize=4096)
def _load(path: Path, kind: str) -> dict:
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    name = data.get("name") or path.stem
    props = dict(data.get("properties") or {})
    props["policyType"] = "BuiltIn"
    if "Version" in props and "version" not in props:
        props["version"] = props.pop("Version")
    props.setdefault("version", (props.get("metadata") or {}).get("version", "1.0.0"))
    props["versions"] = [props["version"]]
    return {
        "id": f"/providers/Microsoft.Authorization/{kind}/{name}",
        "type": f"Microsoft.Authorization/{kind}",
        "name": name,
        "properties": props,
    }
