"""Loading intents: every problem reported with file:line:col, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from policygen.errors import DiagnosticSink, InputError
from policygen.intents.load import load_pack
from policygen.intents.yamlload import loads_yaml, position

SETTINGS = """
name: demo
ownerId: owner-1
definitionScope: /providers/Microsoft.Management/managementGroups/root
environments:
  dev:
    cloud: local
    scopes: {dev: /providers/Microsoft.Management/managementGroups/dev}
"""

GOOD_DEF = """
intent: disable-public-network-access
resourceTypes: [Microsoft.KeyVault/vaults]
displayName: Key vaults should disable public network access
"""


def diagnostics(root: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load_pack(root)
    return [str(d) for d in info.value.diagnostics]


def test_valid_pack_loads(make_tree) -> None:
    root = make_tree({"policygen.yaml": SETTINGS, "definitions/kv.yaml": GOOD_DEF})
    pack = load_pack(root)
    assert [d.name for d in pack.definitions] == ["kv"]
    assert pack.definitions[0].rel == "definitions/kv.yaml"


def test_unknown_key_suggests_the_right_one(make_tree) -> None:
    root = make_tree(
        {"policygen.yaml": SETTINGS, "definitions/kv.yaml": GOOD_DEF + "efect: {default: Audit, allowed: [Audit]}\n"}
    )
    [msg] = diagnostics(root)
    assert msg.endswith("definitions/kv.yaml:4:1: unknown key 'efect'; did you mean 'effect'?")


def test_duplicate_keys_are_errors_with_both_lines(make_tree) -> None:
    root = make_tree({"policygen.yaml": SETTINGS, "definitions/kv.yaml": GOOD_DEF + "displayName: again\n"})
    [msg] = diagnostics(root)
    assert "kv.yaml:4:1: duplicate key 'displayName' (first defined at line 3)" in msg


def test_wrong_types_and_missing_keys_reported_together(make_tree) -> None:
    root = make_tree(
        {
            "policygen.yaml": SETTINGS,
            "definitions/a.yaml": "intent: private-link\nresourceTypes: not-a-list\ndisplayName: A\n",
            "definitions/b.yaml": "intent: private-link\nresourceTypes: [Microsoft.KeyVault/vaults]\n",
            "assignments/c.yaml": "displayName: C\ninitiative: x\nscope: dev\nenforcementMode: Sometimes\n",
        }
    )
    msgs = diagnostics(root)
    assert any("a.yaml:2:16: resourceTypes: Input should be a valid list" in m for m in msgs)
    assert any("b.yaml:1:1: missing required key 'displayName'" in m for m in msgs)
    assert any("c.yaml:4:18: enforcementMode: Input should be 'Default' or 'DoNotEnforce'" in m for m in msgs)
    assert len(msgs) == 3


def test_malformed_yaml_is_positioned(make_tree) -> None:
    root = make_tree({"policygen.yaml": SETTINGS, "definitions/bad.yaml": "intent: [unclosed\ndisplayName: x\n"})
    [msg] = diagnostics(root)
    assert "definitions/bad.yaml:" in msg and "invalid YAML" in msg


def test_missing_settings_file_is_explained(tmp_path: Path) -> None:
    [msg] = diagnostics(tmp_path)
    assert "missing policygen.yaml" in msg and "policygen init" in msg


def test_duplicate_intent_names(make_tree) -> None:
    root = make_tree(
        {
            "policygen.yaml": SETTINGS,
            "definitions/a.yaml": GOOD_DEF + "name: same\n",
            "definitions/b.yaml": GOOD_DEF + "name: same\n",
        }
    )
    [msg] = diagnostics(root)
    assert "b.yaml:4:7: definition name 'same' is already used by" in msg


def test_positions_follow_nested_paths() -> None:
    sink = DiagnosticSink()
    data = loads_yaml("a:\n  b:\n    - x\n    - {c: 1}\n", "f.yaml", sink)
    assert position(data, ("a", "b", 1, "c")) == (4, 11)
    assert not sink.items


def test_control_characters_are_a_clean_error(make_tree) -> None:
    root = make_tree({"policygen.yaml": SETTINGS, "definitions/x.yaml": GOOD_DEF + "description: \x07bell\n"})
    [msg] = diagnostics(root)
    assert "definitions/x.yaml" in msg and "invalid YAML" in msg
