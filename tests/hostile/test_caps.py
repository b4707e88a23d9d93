"""Bounded input: each string field has a length cap, reported at file:line:col with a hint."""

from __future__ import annotations

import pytest

from envparity.core.diagnostics import SpecError
from envparity.core.spec import parse_spec
from tests.hostile.conftest import BASE, cli, with_field


@pytest.mark.parametrize(
    ("field", "written", "title", "length", "cap"),
    [
        ("description", "x" * 4097, "description", 4097, 4096),
        ("env", "{A: " + "v" * 4097 + "}", "environment variable value", 4097, 4096),
        ("env", "{" + "N" * 257 + ": v}", "environment variable name", 257, 256),
        ("package_indexes", "[https://x.org/" + "s" * 2040 + "]", "package index URL", 2054, 2048),
        ("python_requirements", "r" * 1025, "requirements file", 1025, 1024),
    ],
)
def test_a_string_over_its_cap_is_one_located_line(project, field, written, title, length, cap):
    spec = project.spec(with_field(field, written))
    done = cli("validate", str(spec))
    assert done.code == 1
    expected = (
        f"{title} is {length} characters long, more than {cap} "
        f"(hint: shorten it to at most {cap} characters)"
    )
    lines = done.err.splitlines()
    assert any(line.startswith(f"{spec}:5:") and line.endswith(expected) for line in lines), lines
    assert all(len(line) < 600 for line in lines), "a message never echoes the whole value"


def test_a_description_of_4096_characters_is_fine(project):
    assert project.validate(with_field("description", "x" * 4096)).code == 0


def test_a_long_value_breaking_a_pattern_is_quoted_short(project):
    spec = project.spec(with_field("description", '"' + "\\x01" * 5000 + '"'))
    done = cli("validate", str(spec))
    assert done.code == 1
    assert done.err.count("\n") == 2  # too long, and not a valid description: each in one line
    assert "… (20002 characters) is not a valid description" in done.err


def test_text_over_one_mib_is_refused_before_parsing():
    with pytest.raises(SpecError) as raised:
        parse_spec(BASE + "#" * (1 << 20), "big.yaml")
    (problem,) = raised.value.diagnostics
    assert problem.format() == (
        f"big.yaml: error: the spec is {len(BASE) + (1 << 20)} characters, more than the "
        "1048576 (1 MiB) envparity reads (hint: a spec is a page of YAML: keep long lists in a "
        "requirements file)"
    )


def test_a_memory_quantity_yaml_reads_as_a_float_is_an_integer_not_a_crash():
    """Seed 133: `memory: 1.0e+16` is the integer 10^16 to JSON Schema; it reached compat as
    '1e+16', which is no Kubernetes quantity (ValueError: internal error)."""
    text = BASE.replace("  command: [flask, run]", "  command: [flask, run]\n  memory: 1.0e+16")
    try:
        spec = parse_spec(text, "q.yaml")
    except SpecError as exc:
        assert all("\n" not in d.message for d in exc.diagnostics)
        assert any("memory" in d.format() for d in exc.diagnostics)
    else:
        assert spec.run.memory == "10000000000000000"


def test_a_list_over_its_cap_is_one_line_and_its_rules_read_no_further(project):
    pins = "".join(f"  - p{i}>=1\n" for i in range(2001))  # each also breaks a rule
    text = BASE.replace("python_packages: [flask==3.0.3]", "python_packages:\n" + pins.rstrip())
    done = project.validate(text)
    assert done.code == 1
    lines = done.err.splitlines()
    assert lines[0].endswith(
        "error: python_packages: Python packages has 2001 entries, more than 2000 "
        "(hint: keep it to at most 2000 entries)"
    )
    assert len(lines) == 1 + 2000  # the rule on pins read the first 2000 only


def test_a_requirements_file_over_2000_pins_is_refused_at_the_first_beyond(project):
    reqs = project.root / "envspecs" / "reqs.txt"
    reqs.write_text("".join(f"p{i}==1.0\n" for i in range(2001)))
    done = project.validate(with_field("python_requirements", "reqs.txt"))
    assert done.code == 1
    assert done.err == (
        f"{reqs}:2001:1: error: python_requirements: more than 2000 requirements: this is the "
        "first beyond them (hint: keep the file to at most 2000 pins)\n"
    )


def test_a_control_character_a_rule_quotes_is_escaped(project):
    """Seed 101: the base_image rule quoted `cudnn: "\\r"` as written, breaking the line."""
    text = BASE.replace(
        "python_packages:",
        'cuda: "12.4.1"\ncudnn: "\\r"\nbase_image: '
        "nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04\npython_packages:",
    )
    done = project.validate(text)
    assert done.code == 1
    assert "base_image has cuDNN 9 but cudnn is \\r (hint: " in done.err
    assert "\r" not in done.err
