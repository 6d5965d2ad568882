"""The libyaml loader and the pure-Python loader build the same data at the same positions, and report the
same problems at the same `file:line:col` (issue #17: the C parser for speed, with every bound of #16 kept).
YAML 1.1 as PyYAML implements it (https://pyyaml.org/wiki/PyYAMLDocumentation, "LibYAML bindings");
anchors and aliases: https://yaml.org/spec/1.2.2/#3222-anchors-and-aliases.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from policygen.arm.json_text import MAX_DEPTH
from policygen.errors import DiagnosticSink
from policygen.intents import yamlload
from policygen.intents.yamlload import LocatedDict, LocatedList, loads_yaml

pytestmark = pytest.mark.skipif(not yamlload.FAST, reason="PyYAML built without libyaml")


def shape(data: Any) -> Any:
    """Data with every position the loader recorded (Located equality ignores them)."""
    if isinstance(data, LocatedDict):
        return ("map", data.pos, [(k, data.key_pos[k], data.value_pos[k], shape(v)) for k, v in data.items()])
    if isinstance(data, LocatedList):
        return ("seq", data.pos, data.item_pos, [shape(v) for v in data])
    if isinstance(data, float) and math.isnan(data):
        return ("nan",)
    return (type(data).__name__, data)


def both(text: str) -> tuple[tuple[Any, list[tuple]], tuple[Any, list[tuple]]]:
    out = []
    for fast in (True, False):
        sink = DiagnosticSink()
        data = loads_yaml(text, "t.yaml", sink, fast=fast)
        out.append((shape(data), [(d.file, d.line, d.col, d.message) for d in sink.items]))
    return out[0], out[1]


def assert_same(text: str) -> None:
    fast, pure = both(text)
    assert fast == pure, text


# --------------------------------------------------------------------------- property tests

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=True),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.sampled_from(["yes", "No", "~", "0x1F", "1_000", "2024-01-31", "1.5e3", ".inf", "a: b", "- x", "#c", "'q'",
                     "[Audit, Deny]", "*", "&a", "é", "tags['x']", "[[concat('a')]]", "\t", ""]),
)
DATA = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=6) | st.integers(0, 9), inner, max_size=4)),
    max_leaves=24,
)


@given(DATA, st.sampled_from([None, True, False]), st.integers(2, 6), st.integers(20, 200),
       st.booleans(), st.booleans())
def test__dumped_documents__same_data_and_positions(data: Any, flow: bool | None, indent: int, width: int,
                                                    crlf: bool, explicit: bool):
    text = yaml.safe_dump(data, default_flow_style=flow, indent=indent, width=width, allow_unicode=True,
                          explicit_start=explicit)
    assert_same(text.replace("\n", "\r\n") if crlf else text)


FRAGMENTS = ["[", "{", "]", "}", "&a ", "*a", "&b ", "*b", "a: ", "b: ", "a: 1", ", ", "\n", "\r\n", " ", "  ", "\t",
             "- ", "? ", ": ", "x", "'s'", '"d\\n"', "# c\n", "<<: ", "!!str ", "!!map ", "|\n", ">-\n", "---\n",
             "...\n", "é", "\ufeff", "%YAML 1.1\n", "\x85", "\u2028", "key", "null", "~", "1", "-1.5", "\\"]


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=60))
def test__any_text__same_data_or_same_errors(parts: list[str]):
    assert_same("".join(parts))


@given(DATA, st.data())
def test__mutated_documents__same_data_or_same_errors(data: Any, draw: st.DataObject):
    text = yaml.safe_dump(data, default_flow_style=draw.draw(st.sampled_from([None, False])), allow_unicode=True)
    for _ in range(draw.draw(st.integers(1, 3))):
        at = draw.draw(st.integers(0, len(text)))
        cut = draw.draw(st.integers(0, 3))
        text = text[:at] + draw.draw(st.sampled_from(FRAGMENTS)) + text[at + cut:]
    assert_same(text)


def nested(styles: list[str]) -> str:
    """A document nested len(styles) levels deep, each level in its own style (block list, block mapping,
    flow list, flow mapping), around the depth limit."""
    lines, indent, opened, flow = ["x:"], 2, "", False
    for style in styles:
        if flow or style in ("[", "{"):
            opened += "]" if style == "[" or (flow and style == "-") else "}"
            lines[-1] += " [" if style == "[" or (flow and style == "-") else " {k:"
            flow = True
        elif style == "-":
            lines.append(" " * indent + "-")
            indent += 2
        else:
            lines.append(" " * indent + "k:")
            indent += 2
    lines[-1] += " 1" + opened[::-1]
    return "\n".join(lines) + "\n"


@settings(max_examples=20)  # each example is a 10 KB document read three times by the slow loader
@given(st.lists(st.sampled_from(["-", "k", "[", "{"]), min_size=MAX_DEPTH - 4, max_size=MAX_DEPTH + 4))
def test__nesting_around_the_limit__same_answer_and_refused_past_it(styles: list[str]):
    """The depth guard in front of libyaml's recursive composer: documents just under, at and over the limit,
    in mixed styles, give the pure loader's answer."""
    text = nested(styles)
    assert_same(text)
    sink = DiagnosticSink()
    loads_yaml(text, "t.yaml", sink)
    refused = any("nested more than" in d.message for d in sink.items)
    assert refused == (len(styles) + 1 >= MAX_DEPTH), text  # the top-level mapping, and the leaf below them


# --------------------------------------------------------------------------- examples

@pytest.mark.parametrize("text", [
    "a: 1\na: 2\n",  # duplicate key: reported by the pure loader, at the second key
    "a: [1, 2\nb: 3\n",  # syntax error
    "x:\n  - a\n - b\n",  # bad indentation (with the hint)
    "a: &a [1, *a]\n",  # recursive alias
    "base: &b {effect: Audit}\nx: *b\ny: {<<: *b, name: n}\n",  # small aliases and a merge key
    "x: " + "[" * 200 + "]" * 200 + "\n",  # deep flow (the regex)
    "x:\n" + "".join(" " * i + "- \n" for i in range(300)),  # deep block (libyaml's events)
    "x:\n" + "- " * 5_000 + "1\n",  # deep compact block: libyaml's composer would crash on it
    "l0: &l0 [" + ", ".join(['"lol"'] * 9) + "]\n" + "".join(
        f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n" for i in range(1, 10)),  # billion laughs
    "? [a, b]\n: c\n",  # a key that is not a plain scalar
    "a: \x07\n",  # a control character
    "",
    "# only a comment\n",
    "--- 1\n--- 2\n",  # two documents
])
def test__hostile_or_broken_documents__same_answer(text: str):
    assert_same(text)


def test__deep_documents_never_reach_libyaml_composer():
    """100,000 levels in one line: the event walk refuses before libyaml's recursive composer runs."""
    sink = DiagnosticSink()
    assert loads_yaml("x:\n" + "- " * 100_000 + "1\n", "deep.yaml", sink) is None
    assert "nested more than" in sink.items[0].message


def test__clean_documents_are_loaded_by_libyaml(repo_dir: Path):
    """Every YAML file shipped in the repository: the fast path decides it (the pure loader is not a silent
    fallback for ordinary packs) and its data and positions equal the pure loader's."""
    files = [p for p in sorted(repo_dir.rglob("*.yaml")) if ".git" not in p.parts and "node_modules" not in p.parts]
    assert len(files) > 20
    for path in files:
        text = path.read_text(encoding="utf-8")
        done, data = yamlload._load_fast(text, str(path))
        if not done:  # only a document the pure loader refuses may leave the fast path
            sink = DiagnosticSink()
            assert loads_yaml(text, str(path), sink, fast=False) is None and sink.items, path
            continue
        sink = DiagnosticSink()
        assert shape(data) == shape(loads_yaml(text, str(path), sink, fast=False)), path
