"""The small JSON/YAML files evaluation reads beside an inventory (`--parameters`, `--context`).

They come from the same hands as the pack, so they get the pack's bounds: the bounded YAML loader (depth,
alias expansion, size) and the depth-checked JSON reader. A plain `yaml.safe_load` of a 100,000-deep flow
list ends in RecursionError, and nine nested anchors expand to half a million nodes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from policygen.arm.json_text import JsonTextError
from policygen.arm.json_text import loads as json_loads
from policygen.errors import Diagnostic, DiagnosticSink, InputError
from policygen.intents.yamlload import load_yaml, to_plain


def load_data_file(path: Path, what: str) -> Any:
    """JSON or YAML (by suffix) as plain data; any problem is an InputError at the file's line and column."""
    if path.suffix.lower() in (".yaml", ".yml"):
        sink = DiagnosticSink()
        data = load_yaml(path, sink)
        if sink.items:
            raise InputError([Diagnostic(d.file, d.line, d.col, f"cannot read {what}: {d.message}")
                              for d in sink.items])
        return to_plain(data)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(Diagnostic(str(path), 0, 0, f"cannot read {what}: {exc.strerror}")) from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return json_loads(raw, duplicates=True)
    except JsonTextError as exc:
        raise InputError(Diagnostic(str(path), exc.line, exc.col, f"cannot read {what}: {exc.message}")) from None
