"""Where a pack is: the folder holding `policygen.yaml`. Every stage and command asks here, so what counts as
a pack is decided once."""

from __future__ import annotations

import os
from pathlib import Path

SETTINGS_FILE = "policygen.yaml"


def is_pack(path: Path) -> bool:
    """True for a folder with `policygen.yaml` in it."""
    return path.is_dir() and (path / SETTINGS_FILE).is_file()


def find_pack(path: Path) -> Path | None:
    """The nearest pack root at or above `path` (a file starts from its folder); None outside any pack.

    The search runs on the absolute path, so `x.yaml` named from inside `definitions/` still finds the
    `policygen.yaml` above it; a relative `path` gets a relative answer (messages keep the user's form).
    """
    path = Path(path)
    start = (path if path.is_dir() else path.parent).absolute()
    for folder in (start, *start.parents):
        if (folder / SETTINGS_FILE).is_file():
            if path.is_absolute():
                return folder
            return Path(os.path.relpath(folder))
    return None
