"""The fast schema check says yes exactly when jsonschema finds no error.

`check_schema` trusts a yes from `conforms` without asking jsonschema, so a yes on an
invalid spec would let it through: every spec here, valid and broken, is put to both.
"""

from __future__ import annotations

import copy

import jsonschema
import pytest
import yaml

from envparity.core.schema import schema
from envparity.core.schema.conforms import conforms
from tests.conftest import ROOT
from tests.spec.conftest import CPU_SPEC, GPU_SPEC

EXAMPLES = sorted((ROOT / "envspecs").glob("*.yaml"))
BASES = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in EXAMPLES] + [
    yaml.safe_load(GPU_SPEC),
    yaml.safe_load(CPU_SPEC),
]
# Values of every JSON type and the edge cases of jsonschema's types: 2.0 is an integer,
# true is neither 1 nor an integer, "1" is not 1, a newline ends a `$` pattern match.
ODD = [None, True, False, 0, 1, -1, 2.0, 2.5, "", "x", "1", "3.11.9\n", "A B", [], ["x", "x"]]
ODD += [[1, True], {}, {"a": 1}, {1: "x"}, 70000, "9", "ubuntu22.04", "Bad-Name"]


VALIDATOR = jsonschema.Draft202012Validator(schema())


def jsonschema_says_valid(data) -> bool:
    return next(VALIDATOR.iter_errors(data), None) is None


def paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from paths(value, (*prefix, i))


def replaced(data, path, value):
    out = copy.deepcopy(data)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


def mutants(data):
    """`data` with each value in turn replaced by each odd value, and each mapping
    given an unknown key or lacking one of its keys."""
    for path in paths(data):
        if not path:
            continue
        for value in ODD:
            yield replaced(data, path, value)
        node = data
        for key in path:
            node = node[key]
        if isinstance(node, dict):
            yield replaced(data, path, {**node, "unknown_field": 1})
            for key in node:
                yield replaced(data, path, {k: v for k, v in node.items() if k != key})


@pytest.mark.parametrize("base", range(len(BASES)))
def test_conforms_agrees_with_jsonschema(base):
    data = BASES[base]
    assert conforms(data, schema(), schema()), "a valid spec must not need jsonschema"
    for mutant in mutants(data):
        assert conforms(mutant, schema(), schema()) == jsonschema_says_valid(mutant), mutant


@pytest.mark.parametrize("value", ODD)
def test_conforms_agrees_on_a_whole_document(value):
    assert conforms(value, schema(), schema()) == jsonschema_says_valid(value)


def test_an_unknown_keyword_is_left_to_jsonschema():
    assert not conforms("x", {"format": "email"}, {})


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("description",), "x" * 4096),
        (("description",), "x" * 4097),
        (("python_packages",), [f"p{i}==1.0" for i in range(2000)]),
        (("python_packages",), [f"p{i}==1.0" for i in range(2001)]),
        (("env",), {f"V{i}": "1" for i in range(1001)}),
        (("env",), {"N" * 257: "1"}),
        (("run", "command"), ["x"] * 1001),
    ],
)
def test_conforms_agrees_at_the_caps(path, value):
    """maxLength, maxItems and maxProperties: one past the cap is a no from both."""
    data = replaced(BASES[-1], path, value)  # CPU_SPEC, which has run.command
    assert conforms(data, schema(), schema()) == jsonschema_says_valid(data)
