"""Just the pack's settings (`policygen.yaml`), for commands that need an environment before, or without,
compiling the pack: the emulator's `--env`, the export's default environment."""

from __future__ import annotations

from pathlib import Path

from policygen.errors import DiagnosticSink, InputError
from policygen.intents.load import validate_model
from policygen.intents.models import PackFile
from policygen.intents.pack import SETTINGS_FILE
from policygen.intents.yamlload import load_yaml


def read_settings(pack_dir: Path | str, *, strict: bool = False) -> PackFile | None:
    """The validated settings; None when missing or invalid, or (strict) an InputError with every problem."""
    path = Path(pack_dir) / SETTINGS_FILE
    if not path.is_file():
        if strict:
            raise InputError(f"{path}: not found (run from a pack folder, or pass --pack)")
        return None
    sink = DiagnosticSink()
    settings = validate_model(PackFile, load_yaml(path, sink, str(path)), str(path), sink)
    if strict:
        sink.raise_if_any()
    return settings
