"""Findings as SARIF 2.1.0, the format GitHub code scanning and Azure DevOps ingest.

Every rule of the catalogue is listed in `tool.driver.rules` (so a clean run still documents what was
checked); results reference rules by id and index, carry a physical location when the line is known
and the JSON pointer as a logical location.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from policygen import __version__
from policygen.rules.base import Finding, Severity
from policygen.rules.registry import all_rules

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
INFO_URI = "https://github.com/policygen/policygen/blob/main/docs/rules.md"
# Unusable input (YAML syntax, unknown keys, a file that is not a pack or policy): not a rule of the
# catalogue, but code scanning must still show it at its line.
INPUT_RULE = {
    "id": "INPUT",
    "name": "input.unusable",
    "shortDescription": {"text": "The input cannot be read or compiled."},
    "fullDescription": {"text": "The input cannot be read or compiled (YAML syntax, unknown keys, wrong types)."},
    "helpUri": INFO_URI,
    "help": {"text": f"Fix the input at the reported line. See {INFO_URI}"},
    "defaultConfiguration": {"level": "error"},
    "properties": {"tags": ["INPUT"]},
}


def _uri(file: str, root: Path) -> str:
    path = Path(file)
    if path.is_absolute():
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return path.resolve().as_uri()
    return path.as_posix()


def build(findings: Sequence[Finding], *, root: Path | None = None) -> dict:
    root = root or Path(os.getcwd())
    rules = all_rules()
    index = {r.code: i for i, r in enumerate(rules)}
    driver_rules = [
        {
            "id": r.code,
            "name": r.name,
            "shortDescription": {"text": r.summary()},
            "fullDescription": {"text": r.summary()},
            "helpUri": r.source or INFO_URI,
            "help": {"text": f"{r.summary()} See {r.source or INFO_URI}"},
            "defaultConfiguration": {"level": LEVEL[r.severity]},
            "properties": {"tags": [r.code.split("-")[0]]},
        }
        for r in rules
    ]
    index[INPUT_RULE["id"]] = len(driver_rules)
    driver_rules.append(INPUT_RULE)
    results = []
    for f in findings:
        result: dict = {
            "ruleId": f.code,
            "level": LEVEL[f.severity],
            "message": {"text": f.message},
        }
        if f.code in index:
            result["ruleIndex"] = index[f.code]
        location: dict = {}
        if f.file:
            physical: dict = {"artifactLocation": {"uri": _uri(f.file, root)}}
            if not Path(f.file).is_absolute():
                physical["artifactLocation"]["uriBaseId"] = "%SRCROOT%"
            if f.line:
                physical["region"] = {"startLine": f.line, "startColumn": f.col or 1}
            location["physicalLocation"] = physical
        if f.pointer:
            location["logicalLocations"] = [{"fullyQualifiedName": f.pointer, "kind": "member"}]
        if location:
            result["locations"] = [location]
        result["partialFingerprints"] = {"policygen/v1": f"{f.code}:{f.file}:{f.pointer or f.line or ''}"}
        results.append(result)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "policygen",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFO_URI,
                        "rules": driver_rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root.resolve().as_uri() + "/"}},
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def render(findings: Sequence[Finding], *, root: Path | None = None) -> str:
    return json.dumps(build(findings, root=root), indent=2, ensure_ascii=False) + "\n"
