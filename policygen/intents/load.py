"""Load a pack: `policygen.yaml` plus definition, initiative, assignment and exemption intents.

Every problem of every file is collected and reported together as `file:line:col: message`.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from policygen.errors import Diagnostic, DiagnosticSink, InputError
from policygen.intents.lifecycle import ExemptionIntent
from policygen.intents.models import AssignmentIntent, DefinitionIntent, InitiativeIntent, PackFile
from policygen.intents.pack import SETTINGS_FILE
from policygen.intents.yamlload import key_position, load_yaml, position

M = TypeVar("M", bound=BaseModel)
FOLDERS = {"definitions": DefinitionIntent, "initiatives": InitiativeIntent, "assignments": AssignmentIntent,
           "exemptions": ExemptionIntent}


@dataclass
class Loaded(Generic[M]):
    """A validated intent with its file, raw located data (for positions) and its effective name."""

    model: M
    file: str  # as shown in messages (relative to the working directory when possible)
    data: Any
    name: str
    rel: str = ""  # relative to the pack root: stable, used in rendered metadata

    def pos(self, *loc: Any) -> tuple[int, int]:
        return position(self.data, loc)

    def key_pos(self, *loc: Any) -> tuple[int, int]:
        """Position of the key itself (for 'unknown key' style messages)."""
        return key_position(self.data, loc)


@dataclass
class Pack:
    root: Path
    settings: PackFile
    settings_file: str
    definitions: list[Loaded[DefinitionIntent]]
    initiatives: list[Loaded[InitiativeIntent]]
    assignments: list[Loaded[AssignmentIntent]]
    exemptions: list[Loaded[ExemptionIntent]] = field(default_factory=list)


def display_path(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent if root.name else root))
    except ValueError:
        return str(path)


def load_pack(root: Path) -> Pack:
    """Read and validate everything under `root`; raises InputError with all diagnostics."""
    root = Path(root)
    sink = DiagnosticSink()
    settings_path = root / SETTINGS_FILE
    shown = _Shown()
    if not root.is_dir():
        raise InputError(Diagnostic(str(root), 0, 0, f"not a folder (expected a pack with {SETTINGS_FILE})"))
    settings = None
    if not settings_path.is_file():
        sink.add(shown(settings_path), 0, 0, f"missing {SETTINGS_FILE}: run `policygen init {root}` to create a pack")
    else:
        settings_data = load_yaml(settings_path, sink, shown(settings_path))
        if settings_data is None and not any(d.file == shown(settings_path) for d in sink.items):
            sink.add(shown(settings_path), 1, 1, "file is empty: expected the pack's settings (name, ownerId, …)")
        settings = validate_model(PackFile, settings_data, shown(settings_path), sink)
    loaded: dict[str, list[Loaded[Any]]] = {}
    for folder, model in FOLDERS.items():
        loaded[folder] = []
        seen: dict[str, str] = {}
        assigned: dict[str, list[tuple[str, set[str]]]] = {}  # assignment name -> [(file, its scopes as written)]
        for path in sorted((root / folder).rglob("*.y*ml")) if (root / folder).is_dir() else []:
            if path.suffix not in (".yaml", ".yml"):
                continue
            name_shown = shown(path)
            data = load_yaml(path, sink, name_shown)
            if data is None:
                if not any(d.file == name_shown for d in sink.items):
                    sink.add(name_shown, 1, 1, "file is empty")
                continue
            obj = validate_model(model, data, name_shown, sink)
            if obj is None:
                continue
            name = obj.name or path.stem
            if folder == "assignments":  # ARM names an assignment per scope: one name, several intents
                name_scopes = {str(s).lower() for s in obj.scopes}
                clash = next((other for other, scopes in assigned.get(name, []) if scopes & name_scopes), None)
                if clash is not None:
                    line, col = position(data, ("name",)) if "name" in data else (1, 1)
                    sink.add(name_shown, line, col, f"assignment name {name!r} is already assigned at "
                             f"{', '.join(sorted(name_scopes & dict(assigned[name])[clash]))} by {clash}")
                    continue
                assigned.setdefault(name, []).append((name_shown, name_scopes))
            elif name in seen:
                line, col = position(data, ("name",)) if "name" in data else (1, 1)
                sink.add(name_shown, line, col, f"{folder[:-1]} name {name!r} is already used by {seen[name]}")
                continue
            seen[name] = name_shown
            loaded[folder].append(Loaded(obj, name_shown, data, name, path.relative_to(root).as_posix()))
    sink.raise_if_any()
    if settings is None:  # defensive: every path that leaves it None has added a diagnostic
        raise InputError(Diagnostic(shown(settings_path), 1, 1, f"{SETTINGS_FILE} could not be read"))
    return Pack(
        root, settings, shown(settings_path), loaded["definitions"], loaded["initiatives"], loaded["assignments"],
        loaded["exemptions"],
    )


class _Shown:
    """A file's name in messages: relative to the working directory when below it. Folders are resolved once
    each (resolving every path of an estate's 7,500 files cost 0.5 s); a symlinked file is resolved itself."""

    def __init__(self) -> None:
        self.cwd = Path.cwd().resolve()
        self.dirs: dict[Path, Path] = {}

    def __call__(self, path: Path) -> str:
        try:
            if path.is_symlink():
                real = path.resolve()
            else:
                folder = self.dirs.get(path.parent)
                if folder is None:
                    folder = self.dirs[path.parent] = path.parent.resolve()
                real = folder / path.name
            return str(real.relative_to(self.cwd))
        except (ValueError, OSError):
            return str(path)


def validate_model(model: type[M], data: Any, file: str, sink: DiagnosticSink) -> M | None:
    """Validate loaded YAML against a model, turning every pydantic error into a positioned diagnostic."""
    if data is None:
        return None
    if not isinstance(data, dict):
        line, col = getattr(data, "pos", (1, 1))
        sink.add(file, line, col, f"expected a mapping of keys at the top level, got {_kind_of(data)}")
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            sink.add(file, *_error_position(data, loc, err["type"]), _message(model, loc, err))
        return None


def _kind_of(value: Any) -> str:
    """A YAML reader's word for a value's kind (never a Python class name)."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string" if isinstance(value, str) else "a scalar"


def _error_position(data: Any, loc: tuple[Any, ...], kind: str) -> tuple[int, int]:
    loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith(("function-", "union["))))
    if kind == "extra_forbidden":
        return key_position(data, loc)
    return position(data, loc)


def _message(model: type[BaseModel], loc: tuple[Any, ...], err: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in loc if not (isinstance(p, str) and p.startswith("function-")))
    if err["type"] == "extra_forbidden":
        known = sorted(_fields_at(model, loc[:-1]))
        hint = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        tip = f"; did you mean {hint[0]!r}?" if hint else (f"; expected one of: {', '.join(known)}" if known else "")
        return f"unknown key {loc[-1]!r}{tip}"
    if err["type"] == "missing":
        return f"missing required key {where!r}"
    msg = err["msg"].removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def _fields_at(model: Any, loc: tuple[Any, ...]) -> set[str]:
    """Key names accepted at `loc` inside `model` (following lists, dicts and optionals)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part or n == part), None)
            if field is None:
                return set()
            current = field.annotation
        else:
            origin = typing.get_origin(current)
            args = typing.get_args(current)
            if origin in (list, dict) and args:
                current = args[-1]
            else:
                return set()
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return {f.alias or n for n, f in current.model_fields.items()}
    return set()


def _unwrap(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if arg is not type(None):
                return _unwrap(arg)
    if origin in (list, dict):
        return tp
    return tp
