"""The YAML loader: positions, clean errors for broken or hostile documents."""

from __future__ import annotations

import pytest

from envparity.core.diagnostics import SpecError
from envparity.core.spec import load_spec, load_specs, parse_spec
from envparity.core.yamlsource import load_yaml


def test_positions_of_keys_and_values():
    data, source = load_yaml("a:\n  b: [1, {c: x}]\n", "f.yaml")
    assert data == {"a": {"b": [1, {"c": "x"}]}}
    assert source.values[("a", "b", 1, "c")] == (2, 14)
    assert source.keys[("a", "b")] == (2, 3)
    assert source.position(("a", "b", 7)) == (2, 6)  # a missing item falls back to its parent


def test_scalars_follow_yaml_but_dates_stay_text():
    data, _ = load_yaml("i: 0x10\nf: 1.5\nb: yes\nn: ~\nd: 2024-01-01\ns: '3.10'\n", "f")
    assert data == {"i": 16, "f": 1.5, "b": True, "n": None, "d": "2024-01-01", "s": "3.10"}


def test_alias_bomb_is_a_clean_error():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 9):
        bomb += f"b{i}: &b{i} [" + ", ".join([f"*{'a' if i == 1 else f'b{i - 1}'}"] * 10) + "]\n"
    with pytest.raises(SpecError, match="too deeply or too large"):
        load_yaml(bomb, "bomb.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "must be a YAML mapping"),
        ("- a\n- b\n", "must be a YAML mapping"),
        ("x: [\n", "YAML syntax error"),
        ("a: 1\n\tb: 2\n", "YAML"),
    ],
)
def test_documents_that_are_not_specs(text, message):
    with pytest.raises(SpecError, match=message) as info:
        parse_spec(text, "x.yaml")
    assert info.value.diagnostics[0].line is not None


def test_missing_and_undecodable_files(tmp_path):
    with pytest.raises(SpecError, match="no such file"):
        load_spec(tmp_path / "absent.yaml")
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(SpecError, match="not UTF-8"):
        load_spec(path)


def test_an_encoded_surrogate_in_a_file_is_not_utf8(tmp_path):
    """What a user can reach: strict UTF-8 decoding refuses an encoded lone surrogate."""
    path = tmp_path / "surrogate.yaml"
    path.write_bytes(b"name: a\xed\xa0\x80b\n")
    with pytest.raises(SpecError, match=r"not UTF-8 text \(invalid continuation byte at byte 7\)"):
        load_spec(path)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [("\ud800", 1, 1), ("envparity: 1\nname: a\udfffb\n", 2, 8), ("a: '\udc80'", 1, 5)],
)
def test_text_that_is_not_unicode_is_a_positioned_error(text, line, column):
    """A caller's str may hold a lone surrogate; it is one located error, not a crash."""
    with pytest.raises(SpecError) as info:
        load_yaml(text, "given.yaml")
    (problem,) = info.value.diagnostics
    assert (problem.file, problem.line, problem.column) == ("given.yaml", line, column)
    surrogate = next(c for c in text if "\ud800" <= c <= "\udfff")
    assert problem.message == f"character {surrogate!r} is not allowed in YAML"


def test_names_are_unique_across_specs(tmp_path, root):
    copy = tmp_path / "again.yaml"
    copy.write_text((root / "envspecs" / "train.yaml").read_text())
    with pytest.raises(SpecError, match="environment name 'train' is also used"):
        load_specs([root / "envspecs" / "train.yaml", copy])


def test_bundled_examples_are_valid(root):
    specs = load_specs(sorted((root / "envspecs").glob("*.yaml")))
    assert {s.name for s in specs} >= {"train", "serve", "features"}
    assert any(s.software.cuda for s in specs) and any(not s.software.cuda for s in specs)
