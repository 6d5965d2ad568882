"""What a list of paths holds: intent packs (to compile) and policy JSON files, in the order they are checked."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from policygen.errors import Diagnostic
from policygen.intents.pack import SETTINGS_FILE, find_pack, is_pack


@dataclass(frozen=True)
class PackInput:
    root: Path
    only: Path | None = None  # an intent YAML named on the command line: report only its findings


@dataclass(frozen=True)
class JsonInput:
    path: str
    explicit: bool  # named on the command line (not found in a folder): a non-policy file is an error


def walk_folder(root: Path) -> tuple[list[Path], list[str]]:
    """Pack roots (folders with policygen.yaml) and the JSON files outside them, in a stable order."""
    packs: list[Path] = []
    files: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if SETTINGS_FILE in filenames:
            packs.append(Path(dirpath))
            dirnames[:] = []  # the pack's own JSON (build output, tests) is not third-party input
            continue
        files.extend(os.path.join(dirpath, f) for f in filenames if f.endswith(".json"))
    files.sort()
    return packs, files


@dataclass
class Inputs:
    """What a list of paths holds, in the order it is validated; packs still have to be compiled."""

    items: list[PackInput | JsonInput] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def packs(self) -> list[Path]:
        """Pack roots to compile (each once, even when named several times)."""
        return list(dict.fromkeys(i.root for i in self.items if isinstance(i, PackInput)))


def find_inputs(paths: Sequence[Path]) -> Inputs:
    """Sort paths into packs (folders with policygen.yaml, or intent YAML inside one) and policy JSON."""
    inputs = Inputs()
    add = inputs.items.append
    for raw_path in paths:
        path = Path(raw_path)
        if path.is_dir():
            if is_pack(path):
                add(PackInput(path))
                continue
            packs, json_files = walk_folder(path)
            enclosing = find_pack(path) if not packs else None
            if enclosing is not None:  # a folder inside a pack, e.g. `cd definitions && policygen validate`
                add(PackInput(enclosing, path))
            for pack in packs:
                add(PackInput(pack))
            for f in json_files:
                add(JsonInput(f, False))
            if not packs and not json_files and enclosing is None:
                inputs.diagnostics.append(
                    Diagnostic(
                        str(path),
                        0,
                        0,
                        f"nothing to validate: no {SETTINGS_FILE} here or above, and no policy JSON files",
                    )
                )
        elif path.is_file():
            suffix = path.suffix.lower()
            if suffix == ".json":
                add(JsonInput(str(path), True))
            elif suffix in (".yaml", ".yml"):
                root = find_pack(path)
                if root is None:
                    inputs.diagnostics.append(
                        Diagnostic(str(path), 0, 0, "intent YAML outside a pack (no policygen.yaml above it)")
                    )
                else:
                    add(PackInput(root, path))
            else:
                inputs.diagnostics.append(Diagnostic(str(path), 0, 0, "not a JSON or YAML file"))
        else:
            inputs.diagnostics.append(Diagnostic(str(path), 0, 0, "no such file or folder"))
    return inputs
