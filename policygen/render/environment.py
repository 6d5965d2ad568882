"""The one Jinja2 environment: sandboxed, StrictUndefined, no autoescape (output is JSON via |tojson)."""

from __future__ import annotations

import contextlib
import json
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from jinja2 import StrictUndefined
from jinja2.bccache import Bucket, FileSystemBytecodeCache
from jinja2.loaders import FunctionLoader
from jinja2.sandbox import ImmutableSandboxedEnvironment

TEMPLATE_PACKAGE = "policygen.render"


def _load(name: str) -> str | None:
    path = resources.files(TEMPLATE_PACKAGE).joinpath("templates", name)
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _tojson(value: Any) -> str:
    # Plain JSON (no HTML escaping): values land inside JSON, and the text is parsed back at once.
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class _TemplateCache(FileSystemBytecodeCache):
    """Compiled templates kept between runs (Jinja's bytecode cache: parsing and generating the code of a
    pack's templates is ~30 ms of every build, impact and plan). Jinja keeps them in its per-user folder
    (`$TMPDIR/_jinja2-cache-UID`, mode 0700, checked to be the user's own; no folder, no cache); file names
    carry the Jinja version and say they hold this sandboxed environment's code (which differs from an
    unsandboxed one's: calls go through the sandbox), and an entry is used only for the very source text
    it was compiled from. A cache that cannot be read or written is not used: templates are compiled."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - anything but a sound entry: compile the template
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _bytecode_cache() -> _TemplateCache | None:
    try:
        return _TemplateCache(pattern=f"__policygen_sandboxed_{jinja2.__version__}_%s.cache")
    except (OSError, RuntimeError):  # no private temporary folder
        return None


@cache
def make_environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=FunctionLoader(_load),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        bytecode_cache=_bytecode_cache(),
    )
    env.filters["tojson"] = _tojson
    env.policies["json.dumps_function"] = json.dumps
    return env
