"""PAR-06 (parameters.schema)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from policygen.rules.base import DEFINITION, INITIATIVE, Hit, Rule, Severity
from policygen.rules.model import Doc
from policygen.rules.par.common import PARAMS, params_with
from policygen.rules.schema_check import certainly_fine

_SCHEMAS: dict[str, tuple[object, str | None]] = {}


def _schema_validator(schema: object) -> tuple[object, str | None]:
    """A Draft 2019-09 validator per distinct schema (checking a schema costs milliseconds; 128 repeat)."""
    key = json.dumps(schema, sort_keys=True)
    cached = _SCHEMAS.get(key)
    if cached is None:
        from jsonschema import Draft201909Validator
        from jsonschema.exceptions import SchemaError

        try:
            Draft201909Validator.check_schema(schema)
            cached = (Draft201909Validator(schema), None)
        except SchemaError as exc:
            cached = (None, exc.message)
        _SCHEMAS[key] = cached
    return cached


class ObjectSchema(Rule):
    """`schema` only on object parameters; defaultValue and allowedValues satisfy it (JSON Schema 2019-09).

    Only object parameters take a schema, and their values are validated against it.

    **Anti-pattern**

    ```json
    {"tagName": {"type": "String", "schema": {"type": "string"}}}
    ```

    **Better**

    ```json
    {"tagRules": {"type": "Object", "schema": {"type": "object", "required": ["name"]},
                  "defaultValue": {"name": "costCenter"}}}
    ```

    Code: PAR-06 (error)
    Source: https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-parameters
    """

    code = "PAR-06"
    name = "parameters.schema"
    severity = Severity.ERROR
    kinds = frozenset({DEFINITION, INITIATIVE})
    source = PARAMS
    needs = ("params",)

    def check(self, doc: Doc) -> Iterable[Hit]:
        for name, spec, ptr, lk in params_with(doc, "schema"):
            sk = lk["schema"]
            t = spec.get(lk.get("type", ""))
            if not (isinstance(t, str) and t.lower() == "object"):
                if not doc.custom:
                    continue  # one built-in initiative carries a schema on a string parameter
                yield ptr + "/" + sk, f"schema is allowed only on object parameters; {name!r} is {t!r}"
                continue
            yield from self._validate(name, spec, spec[sk], ptr, sk, lk)

    @staticmethod
    def _validate(name: str, spec: dict, schema: object, ptr: str, sk: str, lk: dict[str, str]) -> Iterable[Hit]:
        dk, ak = lk.get("defaultvalue"), lk.get("allowedvalues")
        instances = [spec[dk]] if dk is not None and isinstance(spec[dk], dict) else []
        if ak is not None and isinstance(spec[ak], list):
            instances += [v for v in spec[ak] if isinstance(v, dict)]
        if certainly_fine(schema, instances):
            return  # what jsonschema would confirm, without importing it
        validator, problem = _schema_validator(schema)
        if problem:
            yield ptr + "/" + sk, f"schema of {name!r} is not a valid JSON Schema: {problem}"
            return
        if dk is not None and isinstance(spec[dk], dict):
            err = next(iter(validator.iter_errors(spec[dk])), None)
            if err is not None:
                yield ptr + "/" + dk, f"defaultValue of {name!r} does not satisfy its schema: {err.message}"
        if ak is not None and isinstance(spec[ak], list):
            for i, v in enumerate(spec[ak]):
                if isinstance(v, dict):
                    err = next(iter(validator.iter_errors(v)), None)
                    if err is not None:
                        yield (
                            f"{ptr}/{ak}/{i}",
                            f"allowedValues[{i}] of {name!r} does not satisfy its schema: {err.message}",
                        )
