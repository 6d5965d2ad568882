"""SARIF 2.1.0 output has the shape GitHub code scanning and Azure DevOps require."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from policygen.rules import all_rules
from policygen.rules.base import Finding, Severity
from policygen.views import findings_json, findings_sarif, findings_text

# The parts of the SARIF 2.1.0 schema (oasis-tcs/sarif-spec) that code-scanning uploads rely on.
SARIF_SUBSET = {
    "type": "object",
    "required": ["version", "$schema", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["tool", "results"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name", "rules"],
                                "properties": {
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id", "shortDescription", "defaultConfiguration"],
                                            "properties": {
                                                "defaultConfiguration": {
                                                    "properties": {
                                                        "level": {"enum": ["none", "note", "warning", "error"]}
                                                    }
                                                }
                                            },
                                        },
                                    }
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["ruleId", "message", "level"],
                            "properties": {
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "message": {"type": "object", "required": ["text"]},
                                "ruleIndex": {"type": "integer", "minimum": 0},
                                "locations": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "physicalLocation": {
                                                "type": "object",
                                                "required": ["artifactLocation"],
                                                "properties": {
                                                    "artifactLocation": {"type": "object", "required": ["uri"]},
                                                    "region": {
                                                        "type": "object",
                                                        "required": ["startLine"],
                                                        "properties": {
                                                            "startLine": {"type": "integer", "minimum": 1},
                                                            "startColumn": {"type": "integer", "minimum": 1},
                                                        },
                                                    },
                                                },
                                            }
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}

FINDINGS = [
    Finding("PAR-03", Severity.ERROR, "default not allowed", "defs/a.json", 12, "/properties/parameters/e", 9),
    Finding("PAR-07", Severity.WARNING, "no description", "defs/a.json", None, "/properties/parameters/e"),
    Finding("FN-04", Severity.INFO, "escaped", "defs/b.json", 1, "", 1),
]


def test__sarif__shape_levels_and_rule_index(tmp_path: Path) -> None:
    sarif = json.loads(findings_sarif.render(FINDINGS, root=tmp_path))
    jsonschema.validate(sarif, SARIF_SUBSET)
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.code for r in all_rules()] + ["INPUT"]  # unusable input, see tasks.validate
    results = run["results"]
    assert [r["level"] for r in results] == ["error", "warning", "note"]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    first = results[0]["locations"][0]
    assert first["physicalLocation"]["artifactLocation"] == {"uri": "defs/a.json", "uriBaseId": "%SRCROOT%"}
    assert first["physicalLocation"]["region"] == {"startLine": 12, "startColumn": 9}
    assert first["logicalLocations"][0]["fullyQualifiedName"] == "/properties/parameters/e"
    assert "region" not in results[1]["locations"][0]["physicalLocation"]


def test__sarif__absolute_paths_become_relative_to_root(tmp_path: Path) -> None:
    f = Finding("DEF-01", Severity.ERROR, "bad name", str(tmp_path / "x" / "d.json"), 2, "/name", 3)
    sarif = findings_sarif.build([f], root=tmp_path)
    assert sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "x/d.json"


def test__json_and_text_views() -> None:
    data = json.loads(findings_json.render(FINDINGS))
    assert data[0] == {
        "code": "PAR-03",
        "severity": "error",
        "file": "defs/a.json",
        "line": 12,
        "pointer": "/properties/parameters/e",
        "message": "default not allowed",
        "col": 9,
    }
    text = findings_text.render(FINDINGS, objects=2)
    assert text.splitlines()[0] == "defs/a.json:12:9: error PAR-03 default not allowed [/properties/parameters/e]"
    assert text.splitlines()[-1] == "1 error(s), 1 warning(s), 1 info in 2 object(s)."
