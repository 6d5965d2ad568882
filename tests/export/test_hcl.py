"""The HCL writer: string escaping and terraform fmt's alignment rules (checked against the real
terraform binary when it is installed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policygen.export import hcl

TERRAFORM = shutil.which("terraform")
needs_terraform = pytest.mark.skipif(TERRAFORM is None, reason="terraform is not installed")
TF_ENV = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_CLI_CONFIG_FILE": os.devnull}


def terraform_fmt(text: str) -> str:
    return subprocess.run([TERRAFORM or "terraform", "fmt", "-"], input=text, capture_output=True, text=True,
                          check=True, env=TF_ENV, timeout=60).stdout


def terraform_eval(folder: Path, expression: str) -> Any:
    """Evaluate an expression with `terraform console` (no providers needed) and decode its JSON."""
    out = subprocess.run([TERRAFORM or "terraform", "console"], input=f"jsonencode({expression})\n", cwd=folder,
                         capture_output=True, text=True, check=True, env=TF_ENV, timeout=120).stdout
    return json.loads(json.loads(out.strip()))


def locals_text(name: str, value: Any) -> str:
    return hcl.render(hcl.block("locals", hcl.value_lines(name, value, 2)))


def test_strings_escape_quotes_backslashes_and_template_sequences() -> None:
    assert hcl.string('a"b\\c') == '"a\\"b\\\\c"'
    assert hcl.string("${var.x} and %{if}") == '"$${var.x} and %%{if}"'
    assert hcl.string("line\nnext\ttab\x01") == '"line\\nnext\\ttab\\u0001"'
    assert hcl.string("$ alone, % alone, {braces}") == '"$ alone, % alone, {braces}"'


def test_consecutive_single_line_attributes_align() -> None:
    text = locals_text("x", {"a": 1, "long_key": "v", "nested": {"k": True}, "z": [1, 2]})
    assert text == (
        "locals {\n"
        "  x = {\n"
        '    "a"        = 1\n'
        '    "long_key" = "v"\n'
        '    "nested" = {\n'
        '      "k" = true\n'
        "    }\n"
        '    "z" = [1, 2]\n'
        "  }\n"
        "}\n"
    ), "a multi-line value ends the run: keys before and after it align separately"


def test_lists_of_objects_and_long_lists_go_multi_line() -> None:
    text = locals_text("x", {"items": [{"b": 1, "aa": 2}], "long": ["x" * 30, "y" * 30]})
    assert '      {\n        "aa" = 2\n        "b"  = 1\n      },\n' in text
    assert '    "long" = [\n      "' + "x" * 30 + '",\n' in text


def test_empty_collections_are_inline() -> None:
    assert locals_text("x", {"a": {}, "bb": []}) == 'locals {\n  x = {\n    "a"  = {}\n    "bb" = []\n  }\n}\n'


json_data = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.sampled_from([0.1, 0.5, 2.25, 1e-05, 1234.5])
    | st.text(alphabet=st.sampled_from(list("ab $%{}[]\"\\\n\té'")), max_size=12),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(alphabet=st.sampled_from(list("abcdefgh_-$ {}")), min_size=1, max_size=9), children,
                      max_size=4),
    max_leaves=25,
)


@needs_terraform
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.text(alphabet="abcdefghij_", min_size=1, max_size=12), json_data, min_size=1, max_size=6))
def test_output_is_what_terraform_fmt_produces_and_decodes_to_the_same_data(tmp_path: Path, data: dict) -> None:
    text = locals_text("data", data)
    assert terraform_fmt(text) == text
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    (folder / "locals.tf").write_text(text, encoding="utf-8")
    assert terraform_eval(folder, "local.data") == json.loads(json.dumps(data))


@needs_terraform
def test_tricky_template_sequences_survive_terraform(tmp_path: Path) -> None:
    values = {"a": "$${x}", "b": "%%{x}", "c": "$$", "d": "${", "e": "x$", "f": "$$${y}", "g": "[parameters('x')]",
              "h": 'q"\\', "i": "é\u2028\x00"}
    (tmp_path / "l.tf").write_text(locals_text("d", values), encoding="utf-8")
    assert terraform_eval(tmp_path, "local.d") == values
