"""render.settings_check: settings it calls valid are valid for jsonschema (which still decides everything
else), every kind's settings schema is read by it, and rendering valid settings never imports jsonschema.
JSON Schema 2020-12 validation keywords: https://json-schema.org/draft/2020-12/json-schema-validation"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from policygen.intents.kinds import load_table
from policygen.render.settings_check import certainly_valid

TYPES = ["string", "integer", "number", "boolean", "array", "object", "null"]
names = st.sampled_from(["a", "b", "c", "locations", "effect"])
scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([0.0, 1.0, 1.5, -2.0]),
                    st.sampled_from(["", "x", "westeurope", "1", "true"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(names, inner, max_size=3)), max_leaves=8)


def _schemas(inner: st.SearchStrategy) -> st.SearchStrategy:
    keyword = st.one_of(
        st.tuples(st.just("type"), st.one_of(st.sampled_from(TYPES), st.lists(st.sampled_from(TYPES), max_size=3))),
        st.tuples(st.just("enum"), st.lists(scalars, max_size=4)),
        st.tuples(st.sampled_from(["minLength", "maxLength", "minItems", "maxItems"]), st.integers(0, 3)),
        st.tuples(st.just("items"), inner),
        st.tuples(st.just("properties"), st.dictionaries(names, inner, max_size=3)),
        st.tuples(st.just("additionalProperties"), st.one_of(st.booleans(), inner)),
        st.tuples(st.just("required"), st.lists(names, max_size=2, unique=True)),
        st.tuples(st.just("default"), scalars),
        st.tuples(st.just("pattern"), st.just("^w")),  # not read here: jsonschema decides
    )
    return st.lists(keyword, max_size=4).map(dict)


schemas = st.recursive(st.one_of(st.just(True), st.just(False), st.builds(dict)), _schemas, max_leaves=6)


def _valid(instance: object, schema: object) -> bool:
    return not list(jsonschema.Draft202012Validator(schema).iter_errors(instance))


@given(values, schemas)
def test_certainly_valid_means_valid(instance: object, schema: object) -> None:
    if certainly_valid(instance, schema):
        assert _valid(instance, schema)


@given(values, st.sampled_from(sorted(load_table().kinds)))
def test_kind_schemas(instance: object, kind: str) -> None:
    schema = load_table().kinds[kind].settings_schema()
    if certainly_valid(instance, schema):
        assert _valid(instance, schema)


@pytest.mark.parametrize("kind", sorted(load_table().kinds))
def test_every_kind_schema_is_read_here(kind: str) -> None:
    """Each kind's defaults are valid settings and are told valid without jsonschema."""
    spec = load_table().kinds[kind]
    defaults = {k: v["default"] for k, v in spec.settings.items() if "default" in v}
    if all(k in defaults for k in spec.required):
        assert certainly_valid(defaults, spec.settings_schema())


@pytest.mark.parametrize(
    ("instance", "schema"),
    [
        (1.0, {"type": "integer"}),  # valid for jsonschema, but left to it
        (True, {"type": "integer"}),
        (1, {"enum": [True]}),
        (True, {"enum": [1]}),
        ("x", {"type": ["bogus", "string"]}),  # jsonschema raises on the unknown type
        ({"a": 1}, {"additionalProperties": {"type": "integer"}}),
        ({1: "x"}, {"properties": {"1": {}}, "additionalProperties": False}),
        ("ab", {"maxLength": 1}),
        ([], {"minItems": 1}),
        ({}, {"required": ["a"]}),
        ("x", {"pattern": "^x"}),
    ],
)
def test_left_to_jsonschema(instance: object, schema: object) -> None:
    assert not certainly_valid(instance, schema)


def test_valid_settings_render_without_jsonschema(repo_dir: Path) -> None:
    code = ("import sys; from policygen.render import compile_pack; b = compile_pack(sys.argv[1]);"
            " print(len(b.definitions), 'jsonschema' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, str(repo_dir)], capture_output=True, text=True, check=True)
    count, imported = done.stdout.split()
    assert int(count) > 10 and imported == "False"


def test_invalid_settings_still_get_jsonschemas_messages(make_tree) -> None:
    from policygen.errors import InputError
    from policygen.render import compile_pack

    pack = make_tree({
        "policygen.yaml": "name: t\nownerId: me\ndefinitionScope: /providers/Microsoft.Management/managementGroups/mg\n",
        "definitions/loc.yaml": "intent: allowed-locations\ndisplayName: L\nsettings:\n  locations: westeurope\n",
    })
    with pytest.raises(InputError) as err:
        compile_pack(pack)
    assert any("settings.locations: 'westeurope' is not of type 'array'" in str(d) for d in err.value.diagnostics)
