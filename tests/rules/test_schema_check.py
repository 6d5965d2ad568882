"""PAR-06's fast path (policygen.rules.schema_check) never vouches for what jsonschema refuses: a schema it
calls fine passes the Draft 2019-09 meta-schema (Draft201909Validator.check_schema) and every instance it
calls fine has no error (Draft201909Validator(schema).iter_errors), so every PAR-06 message still comes
from jsonschema. Keywords as in https://json-schema.org/draft/2019-09/json-schema-validation; the corpus's
object-parameter schemas (built-ins, e.g. AKS_Maintenance_DINE.json) take the fast path."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft201909Validator
from jsonschema.exceptions import SchemaError

from policygen.rules.schema_check import certainly_fine, satisfies, valid_schema

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from([0.5, 1.0, -2.0])
    | st.sampled_from(["", "a", "ab", "x1", "Aa"])
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abc"), inner, max_size=3),
    max_leaves=10,
)  # fmt: skip
type_names = st.sampled_from(["array", "boolean", "integer", "null", "number", "object", "string", "float", 3])
counts = st.integers(-1, 3) | st.sampled_from([1.0, True, "2"])
bounds = st.integers(-2, 2) | st.sampled_from([0.5, True, "1"])


def _keyword(schema: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        st.tuples(st.just("type"), type_names | st.lists(type_names, max_size=3)),
        st.tuples(st.just("enum"), st.lists(scalars, max_size=3) | scalars),
        st.tuples(st.just("required"), st.lists(st.sampled_from(["a", "b", 1]), max_size=3)),
        st.tuples(
            st.sampled_from(["minItems", "maxItems", "minProperties", "maxProperties", "minLength", "maxLength"]),
            counts,
        ),  # fmt: skip
        st.tuples(st.sampled_from(["minimum", "maximum"]), bounds),
        st.tuples(st.just("pattern"), st.sampled_from(["^a", "b$", "[", "(x", "\\d", 5])),
        st.tuples(st.sampled_from(["description", "title", "format", "$comment"]), st.sampled_from(["d", 1, None])),
        st.tuples(st.just("properties"), st.dictionaries(st.sampled_from("abc"), schema, max_size=3) | scalars),
        st.tuples(st.sampled_from(["items", "additionalProperties"]), schema | st.lists(schema, max_size=2)),
        st.tuples(st.sampled_from(["default", "x-ms-enum", "examples"]), values),
        st.tuples(st.sampled_from(["const", "$ref", "uniqueItems", "not", "definitions"]), values),
    )


schemas = st.recursive(
    st.booleans() | st.just({}),
    lambda inner: st.lists(_keyword(inner), max_size=4).map(dict),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schemas, st.lists(values, max_size=3))
def test_what_the_fast_path_vouches_for_jsonschema_confirms(schema: object, instances: list[object]) -> None:
    if valid_schema(schema):
        Draft201909Validator.check_schema(schema)  # raises SchemaError if the fast path was wrong
        validator = Draft201909Validator(schema)
        for value in instances:
            if satisfies(value, schema):
                assert next(iter(validator.iter_errors(value)), None) is None, value
    if certainly_fine(schema, instances):
        assert all(next(iter(Draft201909Validator(schema).iter_errors(v)), None) is None for v in instances)


def _valid_keyword(schema: st.SearchStrategy) -> st.SearchStrategy:
    """Keywords in their valid forms only, so that many instances satisfy the schema."""
    names = st.sampled_from(["object", "string", "integer", "number", "array", "boolean", "null"])
    return st.one_of(
        st.tuples(st.just("type"), names | st.lists(names, min_size=1, max_size=3, unique=True)),
        st.tuples(st.just("enum"), st.lists(scalars, max_size=4)),
        st.tuples(st.just("required"), st.lists(st.sampled_from("abc"), max_size=2, unique=True)),
        st.tuples(
            st.sampled_from(["minItems", "maxItems", "minProperties", "maxProperties", "minLength", "maxLength"]),
            st.integers(0, 3),
        ),  # fmt: skip
        st.tuples(st.sampled_from(["minimum", "maximum"]), st.integers(-2, 2) | st.just(0.5)),
        st.tuples(st.just("pattern"), st.sampled_from(["^a", "b$", "\\d", ""])),
        st.tuples(st.just("properties"), st.dictionaries(st.sampled_from("abc"), schema, max_size=3)),
        st.tuples(st.sampled_from(["items", "additionalProperties"]), schema),
        st.tuples(st.sampled_from(["description", "format"]), st.just("int32")),
    )


valid_schemas = st.recursive(
    st.booleans() | st.just({}), lambda inner: st.lists(_valid_keyword(inner), max_size=3).map(dict), max_leaves=8
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_schemas, values)
def test_instances_the_fast_path_accepts_have_no_jsonschema_error(schema: object, value: object) -> None:
    assert valid_schema(schema)
    Draft201909Validator.check_schema(schema)
    if satisfies(value, schema):
        assert next(iter(Draft201909Validator(schema).iter_errors(value)), None) is None


def test_plain_cases() -> None:
    schema = {"type": "object", "properties": {"size": {"type": "integer", "minimum": 1}}, "required": ["size"],
              "additionalProperties": False, "x-ms-enum": {"name": "x"}, "description": "d"}  # fmt: skip
    assert certainly_fine(schema, [{"size": 3}, {"size": 1}])
    assert not certainly_fine(schema, [{"size": 0}])  # fails minimum: jsonschema words the message
    assert not certainly_fine(schema, [{"size": 3, "extra": 1}])
    assert not certainly_fine(schema, [{"size": 3.0}])  # an integral float: jsonschema decides
    assert not certainly_fine({"type": "object", "pattern": "("}, [])  # not a regex: invalid schema
    assert not certainly_fine({"$ref": "#/x"}, [])
    with pytest.raises(SchemaError):
        Draft201909Validator.check_schema({"type": "object", "pattern": "("})


def test_the_corpus_schemas_take_the_fast_path(shared_dir: Path) -> None:
    """Every object-parameter schema of the built-ins (with its defaultValue and allowedValues) is told
    without jsonschema, and jsonschema agrees on each."""
    seen = 0
    for path in sorted((shared_dir / "corpus" / "azure-policy-builtins").rglob("*.json")):
        doc = orjson.loads(path.read_bytes())
        props = doc.get("properties", doc)
        for spec in (props.get("parameters") or {}).values():
            if not isinstance(spec, dict) or "schema" not in spec or str(spec.get("type")).lower() != "object":
                continue
            instances = [spec["defaultValue"]] if isinstance(spec.get("defaultValue"), dict) else []
            instances += [v for v in spec.get("allowedValues") or [] if isinstance(v, dict)]
            assert certainly_fine(spec["schema"], instances), path
            Draft201909Validator.check_schema(spec["schema"])
            assert not any(next(Draft201909Validator(spec["schema"]).iter_errors(v), None) for v in instances)
            seen += 1
    assert seen >= 150
