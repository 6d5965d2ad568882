"""The emulator's state: objects by kind, keyed on lower-cased ARM id, optionally written through to SQLite.

Every object is a plain JSON dict exactly as served, plus an optional private `_meta` dict (never sent on
the wire) for emulator bookkeeping. One re-entrant lock guards all of it: requests are short, and a single
lock keeps multi-object checks (referential integrity, remediation) consistent under a threaded server.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

KINDS = (
    "managementGroups",
    "subscriptions",
    "resourceGroups",
    "resources",
    "policyDefinitions",
    "policyDefinitionVersions",
    "policySetDefinitions",
    "policySetDefinitionVersions",
    "policyAssignments",
    "policyExemptions",
    "roleAssignments",
    "roleDefinitions",
    "principals",
    "remediations",
    "attestations",
    "policyEvents",
    "deployments",
    "asyncOperations",
    "meta",
)


class Store:
    """In-memory object store; `path` turns on SQLite write-through persistence (`--state FILE`)."""

    def __init__(self, path: str | Path | None = None):
        self.lock = threading.RLock()
        self._data: dict[str, dict[str, dict]] = {k: {} for k in KINDS}
        self._db: sqlite3.Connection | None = None
        if path:
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: no fsync per write, still crash-safe
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS objects (kind TEXT NOT NULL, key TEXT NOT NULL, "
                "body TEXT NOT NULL, PRIMARY KEY (kind, key))"
            )
            for kind, k, body in self._db.execute("SELECT kind, key, body FROM objects"):
                self._data.setdefault(kind, {})[k] = json.loads(body)

    # ------------------------------------------------------------------ basic operations

    def get(self, kind: str, k: str) -> dict | None:
        with self.lock:
            return self._data[kind].get(k.lower())

    def put(self, kind: str, k: str, obj: dict) -> dict:
        k = k.lower()
        with self.lock:
            self._data[kind][k] = obj
            if self._db is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO objects (kind, key, body) VALUES (?, ?, ?)", (kind, k, json.dumps(obj))
                )
        return obj

    def delete(self, kind: str, k: str) -> dict | None:
        k = k.lower()
        with self.lock:
            obj = self._data[kind].pop(k, None)
            if obj is not None and self._db is not None:
                self._db.execute("DELETE FROM objects WHERE kind = ? AND key = ?", (kind, k))
            return obj

    def items(self, kind: str) -> list[tuple[str, dict]]:
        with self.lock:
            return list(self._data[kind].items())

    def values(self, kind: str) -> list[dict]:
        with self.lock:
            return list(self._data[kind].values())

    def __iter__(self) -> Iterator[str]:
        return iter(KINDS)

    def is_empty(self) -> bool:
        with self.lock:
            return not any(v for k, v in self._data.items() if k != "meta")

    def counter(self, name: str) -> int:
        """Next value of a persistent counter (identity generations, operation ids)."""
        with self.lock:
            cur = (self.get("meta", name) or {"value": 0})["value"] + 1
            self.put("meta", name, {"value": cur})
            return cur

    def clear(self) -> None:
        with self.lock:
            for kind in self._data:
                self._data[kind].clear()
            if self._db is not None:
                self._db.execute("DELETE FROM objects")

    def snapshot(self) -> dict[str, Any]:
        """Every object by kind (for `GET /_admin/state`), private metadata included."""
        with self.lock:
            return {kind: dict(objs) for kind, objs in self._data.items()}

    def close(self) -> None:
        with self.lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def public(obj: dict) -> dict:
    """The object as served: without the private `_meta`."""
    return {k: v for k, v in obj.items() if k != "_meta"}
