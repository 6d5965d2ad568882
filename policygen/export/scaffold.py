"""`policygen init`: a new pack that builds, validates, tests and runs `policygen demo` clean, plus a CI workflow.

The pack files are static examples except `policygen.yaml`, rendered in the project's one Jinja sandbox
(StrictUndefined, every value through `|tojson`). The owner id is a fresh GUID, as EPAC recommends, so
two packs scaffolded from the same template never claim each other's objects. A `local` environment and its
emulator seed make the first run need no tenant; the intent schemas are written by the schema code itself
(never a stale copy) and every intent's first line points editors at its schema.
"""

from __future__ import annotations

import re
import uuid
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from policygen.errors import InputError
from policygen.intents.schema import schema_texts
from policygen.render.environment import make_environment

CI_FILES = {"github": (".github/workflows/policygen.yml", "github.yml"),
            "azure-pipelines": ("azure-pipelines.yml", "azure-pipelines.yml")}
RENAMES = {"gitignore": ".gitignore"}  # dotfiles are not reliably packaged; renamed on the way out


def _templates() -> Traversable:
    return resources.files("policygen.export").joinpath("templates", "init")


def pack_name(folder: Path) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", folder.resolve().name.lower()).strip("-")[:63]
    return name if name and name[0].isalnum() else "policy-pack"


def _walk(node: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    out = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        rel = f"{prefix}{child.name}"
        out += _walk(child, rel + "/") if child.is_dir() else [(rel, child)]
    return out


def render_files(name: str, ci: str, owner_id: str | None = None) -> dict[str, str]:
    """Relative path → text of every file `init` writes."""
    if ci not in CI_FILES:
        raise InputError(f"unknown CI {ci!r}; choose one of: {', '.join(CI_FILES)}")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", name):
        raise InputError(f"pack name {name!r}: use lower-case letters, digits and '-' (at most 63)")
    context = {"name": name, "owner_id": owner_id or str(uuid.uuid4())}
    env = make_environment()
    files: dict[str, str] = {}
    for rel, node in _walk(_templates().joinpath("pack")):
        text = node.read_text(encoding="utf-8")
        if rel.endswith(".j2"):
            rel, text = rel[:-3], env.from_string(text).render(**context)
        files[RENAMES.get(rel, rel)] = text
    files.update({f"schemas/{filename}": text for filename, text in schema_texts().items()})
    target, source = CI_FILES[ci]
    files[target] = _templates().joinpath("ci", source).read_text(encoding="utf-8")
    return files


def scaffold(folder: Path | str, ci: str = "github", name: str | None = None, force: bool = False) -> list[str]:
    """Write a new pack into `folder`; a non-empty folder is refused unless `force` (then same-named files
    are replaced and nothing else is touched). Returns the written paths."""
    root = Path(folder)
    if root.exists() and not root.is_dir():
        raise InputError(f"{root}: exists and is not a folder")
    if root.is_dir() and any(root.iterdir()) and not force:
        raise InputError(f"{root}: folder is not empty; choose a new folder or pass --force to write into it")
    files = render_files(name or pack_name(root), ci)
    for rel, text in sorted(files.items()):
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return sorted(files)
