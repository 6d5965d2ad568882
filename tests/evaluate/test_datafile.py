"""`--parameters` and `--context` files get the pack's bounds: a hostile file is a located error (exit 2),
never a RecursionError or an alias bomb expanded in memory (developers' guide: "Hostile input ... refused
quickly with bounded memory")."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policygen.cli import run
from policygen.errors import InputError
from policygen.evaluate.context import load_context
from policygen.evaluate.datafile import load_data_file
from policygen.evaluate.sources import load_parameters

BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdef", "bcdefg", strict=True)
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "text", "where", "words"),
    [
        ("deep.yaml", "a: " + "[" * 5000 + "]" * 5000, (1, 132), "nested more than 128"),
        ("deep.json", '{"a": ' + "[" * 5000 + "]" * 5000 + "}", (1, 134), "nested more than 128"),
        ("bomb.yaml", BOMB, (7, 8), "alias bomb"),
        ("bad.json", '{"a": 1,\n "b": }', (2, 7), "Expecting value"),
        ("bad.yaml", "a: [1, 2\nb: 3\n", None, "invalid YAML"),
    ],
)
@pytest.mark.parametrize("loader", [load_parameters, load_context])
def test_hostile_files_are_located_errors(tmp_path, loader, name, text, where, words):
    path = _write(tmp_path, name, text)
    with pytest.raises(InputError) as caught:
        loader(path)
    (diag,) = caught.value.diagnostics
    assert diag.file == str(path) and words in diag.message
    if where:
        assert (diag.line, diag.col) == where


def test_parameters_yaml_and_json_agree(tmp_path):
    yml = _write(tmp_path, "p.yaml", "effect: Deny\nlocations: [westeurope, northeurope]\n")
    jsn = _write(tmp_path, "p.json", '{"parameters": {"effect": {"value": "Deny"}, '
                 '"locations": {"value": ["westeurope", "northeurope"]}}, "contentVersion": "1.0.0.0"}')
    assert load_parameters(yml) == {"effect": "Deny", "locations": ["westeurope", "northeurope"]}
    assert load_parameters(jsn) == {"effect": {"value": "Deny"}, "locations": {"value": ["westeurope", "northeurope"]}}
    assert type(load_parameters(yml)) is dict  # plain data, no line bookkeeping leaking into JSON output


def test_cli_exits_2_with_the_location(tmp_path, capsys, repo_dir):
    bomb = _write(tmp_path, "bomb.yaml", BOMB)
    code = run(["impact", str(repo_dir / "definitions"), "-r", str(repo_dir / "examples" / "inventory"),
                "-p", str(bomb)])
    out = capsys.readouterr()
    assert code == 2
    assert f"{bomb}:7:8:" in (out.out + out.err).replace("\n", "")


@given(st.text(max_size=300), st.sampled_from(["x.yaml", "x.json"]))
def test_any_text_is_data_or_an_input_error(tmp_path_factory, text, name):
    path = tmp_path_factory.mktemp("d") / name
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_data_file(path, "parameters")
    except InputError as exc:
        assert all(d.file == str(path) for d in exc.diagnostics)
