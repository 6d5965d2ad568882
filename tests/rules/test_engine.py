"""validate_paths / validate_object over real files: forms, escaping, line numbers, crashes, input errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policygen.errors import InputError
from policygen.rules import Severity, validate_object, validate_paths
from policygen.rules.base import Rule

DEFINITION = {
    "name": "audit-kv",
    "properties": {
        "displayName": "Key vaults use RBAC",
        "mode": "Indexed",
        "metadata": {"category": "Key Vault", "version": "1.0.0"},
        "parameters": {
            "effect": {
                "type": "String",
                "allowedValues": ["Audit", "Disabled"],
                "defaultValue": "Audit",
                "metadata": {"displayName": "Effect", "description": "Effect."},
            }
        },
        "policyRule": {
            "if": {
                "allOf": [
                    {"field": "type", "equals": "Microsoft.KeyVault/vaults"},
                    {"field": "Microsoft.KeyVault/vaults/enableRbacAuthorization", "notEquals": True},
                ]
            },
            "then": {"effect": "[parameters('effect')]"},
        },
    },
}


def write(tmp_path: Path, name: str, obj: object, indent: int = 2) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=indent), encoding="utf-8")
    return path


def test__engine__rest_bare_and_template_escaped_forms_are_all_clean(tmp_path: Path) -> None:
    # An ARM template resource (apiVersion beside type, as Enterprise-Scale writes them) escapes `[[`:
    # https://learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions#escape-characters
    write(tmp_path, "rest.json", DEFINITION)
    write(tmp_path, "bare.json", DEFINITION["properties"])
    escaped = json.loads(json.dumps(DEFINITION).replace('"[parameters', '"[[parameters'))
    escaped |= {"type": "Microsoft.Authorization/policyDefinitions", "apiVersion": "2021-06-01"}
    write(tmp_path, "nested/escaped.json", escaped)
    findings = validate_paths([tmp_path])
    assert [f for f in findings if f.severity is not Severity.INFO] == []
    assert [(Path(f.file).name, f.code) for f in findings] == [("escaped.json", "FN-04")]


@pytest.mark.parametrize("form", ["rest", "bare"])
def test__engine__escaped_expressions_in_a_rest_body_are_errors(tmp_path: Path, form: str) -> None:
    """A REST body is what Azure receives: `[[parameters('effect')]` is the literal `[parameters('effect')]`
    (template-expressions#escape-characters), so the effect is no effect at all: FN-04 error, not info."""
    escaped = json.loads(json.dumps(DEFINITION).replace('"[parameters', '"[[parameters'))
    findings = validate_paths([write(tmp_path, "e.json", escaped if form == "rest" else escaped["properties"])])
    fn04 = [f for f in findings if f.code == "FN-04"]
    assert fn04 and all(f.severity is Severity.ERROR for f in fn04)
    assert any(f.pointer.endswith("/policyRule/then/effect") and f.line for f in fn04)


def test__engine__findings_carry_file_line_and_pointer(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(DEFINITION))
    bad["properties"]["policyRule"]["if"]["allOf"][1]["notEqual"] = bad["properties"]["policyRule"]["if"]["allOf"][
        1
    ].pop("notEquals")
    path = write(tmp_path, "bad.json", bad)
    findings = [f for f in validate_paths([path]) if f.code == "OP-01"]
    assert len(findings) == 1
    f = findings[0]
    assert f.file == str(path) and f.pointer == "/properties/policyRule/if/allOf/1/notEqual"
    line = path.read_text().splitlines()[f.line - 1]
    assert '"notEqual"' in line and line.index('"notEqual"') + 1 == f.col


def test__engine__unusable_inputs_are_collected(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"properties": ', encoding="utf-8")
    other = write(tmp_path, "other.json", {"hello": "world"})
    with pytest.raises(InputError) as exc:
        validate_paths([broken, other, tmp_path / "missing.json", tmp_path / "x.txt"])
    messages = [str(d) for d in exc.value.diagnostics]
    assert len(messages) == 4
    assert any("invalid JSON" in m and ":1:" in m for m in messages)


def test__engine__a_refused_lone_surrogate_is_located(tmp_path: Path) -> None:
    # RFC 8259 section 8.2: "\ud800" alone is JSON syntax but no Unicode text; the fast parser refuses it
    # where the standard library would not, so the position comes from the fast parser's own error.
    path = tmp_path / "sur.json"
    path.write_text('{"properties": {\n  "displayName": "a\\ud800"}}\n', encoding="utf-8")
    with pytest.raises(InputError) as exc:
        validate_paths([path])
    (diag,) = exc.value.diagnostics
    assert (diag.line, diag.col) != (0, 0) and diag.line == 2, str(diag)
    assert str(diag).startswith(f"{path}:2:")


def test__engine__folder_walk_skips_non_policy_json(tmp_path: Path) -> None:
    write(tmp_path, "package.json", {"name": "x"})
    write(tmp_path, "def.json", DEFINITION)
    assert validate_paths([tmp_path]) == []


def test__engine__crashing_rule_becomes_a_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    class Boom(Rule):
        """Always crashes."""

        code = "DEF-99"
        name = "test.boom"
        severity = Severity.ERROR

        def check(self, doc):
            raise RuntimeError("kaput")

    from policygen.rules import registry

    original = registry.gated_rules
    monkeypatch.setattr(registry, "gated_rules", lambda *key: [Boom(), *original(*key)])
    findings = validate_object(DEFINITION, own=True)
    assert [(f.code, f.severity, "kaput" in f.message) for f in findings] == [("DEF-99", Severity.ERROR, True)]


def test__engine__builtins_detected_from_policy_type(tmp_path: Path) -> None:
    builtin = json.loads(json.dumps(DEFINITION))
    builtin["properties"]["policyType"] = "BuiltIn"
    builtin["properties"]["displayName"] = "x" * 140  # built-ins exceed custom limits
    assert validate_paths([write(tmp_path, "b.json", builtin)]) == []


def test__engine__validate_object_detects_kind_and_rejects_non_policy() -> None:
    assert (
        validate_object(
            {
                "properties": {"policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/x"},
                "name": "a",
            }
        )
        == []
    )
    [f] = validate_object({"foo": 1})
    assert f.code == "DEF-00" and f.severity is Severity.ERROR


def test__engine__escaped_file_with_unescaped_expression(tmp_path: Path) -> None:
    mixed = json.loads(json.dumps(DEFINITION).replace('"[parameters', '"[[parameters'))
    mixed |= {"type": "Microsoft.Authorization/policyDefinitions", "apiVersion": "2021-06-01"}
    mixed["properties"]["policyRule"]["if"]["allOf"].append({"field": "location", "equals": "[field('x')]"})
    mixed["properties"]["policyRule"]["if"]["allOf"].append({"field": "name", "equals": "[[field('name')]"})
    findings = validate_paths([write(tmp_path, "m.json", mixed)])
    assert any(
        f.code == "FN-04" and f.severity is Severity.ERROR and f.pointer.endswith("/allOf/2/equals") for f in findings
    )


def test__engine__arbitrary_json_never_raises_or_crashes_a_rule() -> None:
    """Property: whatever JSON comes in (mutated policy shapes included), validation returns findings."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.sampled_from(
            [
                "[parameters('effect')]",
                "[[x]",
                "[concat(",
                "[]",
                "audit",
                "[*]",
                "Microsoft.Storage/storageAccounts/x[*].y",
                "[current()]",
                "tags['a']",
            ]
        ),
    )
    keys = st.sampled_from(
        [
            "if",
            "then",
            "effect",
            "details",
            "allOf",
            "anyOf",
            "not",
            "field",
            "value",
            "count",
            "where",
            "equals",
            "in",
            "exists",
            "parameters",
            "mode",
            "policyRule",
            "properties",
            "name",
            "type",
            "operations",
            "deployment",
            "existenceCondition",
            "policyDefinitions",
            "policyDefinitionId",
            "roleDefinitionIds",
            "x",
        ]
    )
    json_values = st.recursive(
        leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4), max_leaves=25
    )

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(json_values, st.sampled_from([None, "definition", "initiative", "assignment"]), st.booleans())
    def check(obj, kind, own) -> None:
        for candidate in (obj, {"properties": obj}, {"properties": {"policyRule": obj, "mode": "All"}}):
            findings = validate_object(candidate, kind=kind, own=own)
            assert not [f for f in findings if "crashed" in f.message], findings

    check()


def test__engine__validate_object_from_threads() -> None:
    """The emulator validates PUT bodies from a threading HTTP server."""
    from concurrent.futures import ThreadPoolExecutor

    bad = json.loads(json.dumps(DEFINITION))
    bad["properties"]["mode"] = "Everything"
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda o: validate_object(o, own=True), [DEFINITION, bad] * 50))
    assert all(r == [] for r in results[::2])
    assert all([f.code for f in r] == ["MODE-01"] for r in results[1::2])


def test__engine__packs_are_checked_from_the_callers_build(tmp_path: Path) -> None:
    """The engine never compiles a pack (issue #11): the caller compiles each pack once and passes the Build."""
    from policygen.export.scaffold import scaffold
    from policygen.render import compile_pack
    from policygen.rules.engine import validate_build, validate_files
    from policygen.rules.inputs import JsonInput, PackInput, find_inputs

    scaffold(tmp_path / "pack")
    loose = write(tmp_path, "loose/audit-kv.json", DEFINITION)
    intent = next((tmp_path / "pack").rglob("*.yaml"))
    inputs = find_inputs([tmp_path, intent])
    assert inputs.packs == [tmp_path / "pack"]  # named twice, compiled once
    assert inputs.items == [PackInput(tmp_path / "pack"), JsonInput(str(loose), False), PackInput(tmp_path / "pack", intent)]
    with pytest.raises(ValueError, match="not compiled"):
        validate_files(inputs)
    build = compile_pack(tmp_path / "pack")
    artefacts = len(build.artefacts())
    assert validate_files(inputs, builds={tmp_path / "pack": build}).objects == 2 * artefacts + 1
    assert validate_files(inputs, builds={tmp_path / "pack": None}).objects == 1  # the caller reported why
    assert validate_build(build).objects == artefacts


def test__engine__intent_yaml_names_only_its_own_findings(tmp_path: Path) -> None:
    from policygen.export.scaffold import scaffold
    from policygen.render import compile_pack
    from policygen.rules.engine import validate_build

    scaffold(tmp_path / "pack")
    build = compile_pack(tmp_path / "pack")
    for art in build.artefacts():  # a finding in every artefact: displayName over 128 characters (DEF-02/ASG-01)
        art.body.setdefault("properties", art.body)["displayName"] = "x" * 200
    everything = validate_build(build).findings
    files = {f.file for f in everything}
    assert len(files) > 1
    one = sorted(files)[0]
    only = validate_build(build, only=Path(one)).findings
    assert only and {f.file for f in only} == {one}
