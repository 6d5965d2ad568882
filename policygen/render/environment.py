"""The one Jinja2 environment: sandboxed, StrictUndefined, no autoescape (output is JSON via |tojson)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import StrictUndefined
from jinja2.loaders import FunctionLoader
from jinja2.sandbox import ImmutableSandboxedEnvironment

TEMPLATE_PACKAGE = "policygen.render"


def _load(name: str) -> str | None:
    path = resources.files(TEMPLATE_PACKAGE).joinpath("templates", name)
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _tojson(value: Any) -> str:
    # Plain JSON (no HTML escaping): values land inside JSON, and the text is parsed back at once.
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@cache
def make_environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=FunctionLoader(_load),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.filters["tojson"] = _tojson
    env.policies["json.dumps_function"] = json.dumps
    return env
