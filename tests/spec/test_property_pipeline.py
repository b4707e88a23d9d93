"""Property: every field of the format, fuzzed; what the loader accepts resolves in every stage
and renders, or is refused in one line; and no input file makes the CLI print a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from envparity.cli.main import app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from envparity.core.diagnostics import SpecError, UserError
from envparity.core.render.artifacts import render_env
from envparity.core.render.workflow import render_workflow
from envparity.core.resolve import resolve
from envparity.core.schema import SCHEMA_FILE
from envparity.core.spec import parse_spec
from tests.conftest import FUZZ_SCALE, ROOT

SCHEMA = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
FIELDS = sorted(SCHEMA["properties"])  # every top-level field the format has, new ones included
STAGE_FIELDS = sorted(SCHEMA["$defs"]["stage"]["properties"])
RUN_FIELDS = sorted(SCHEMA["properties"]["run"]["properties"])
EXAMPLES = [
    yaml.safe_load(p.read_text(encoding="utf-8"))
    for p in sorted([*(ROOT / "envspecs").glob("*.yaml"), *(ROOT / "tests/cases").glob("*/*.yaml")])
]


def seen(pick) -> list:
    """The values a field takes in the bundled examples: valid ones, to reach the renderers."""
    values = []
    for data in EXAMPLES:
        for value in pick(data):
            if value is not None and value not in values:
                values.append(value)
    return values


def stage_values(name: str) -> list:
    return seen(lambda d: [s.get(name) for s in (d.get("stages") or {}).values()])


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def near(value):
    """`value` with any of its strings or numbers possibly replaced: mostly near-valid specs."""
    if isinstance(value, dict):
        return st.fixed_dictionaries({k: near(v) for k, v in value.items()})
    if isinstance(value, list):
        items = st.one_of([near(v) for v in value]) if value else JSONISH
        return st.lists(items, max_size=len(value) + 1)
    if isinstance(value, str):
        return st.just(value) | st.text(max_size=20) | st.text(max_size=8).map(value.__add__)
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.just(value) | st.integers(-2, 10**6)
    return st.just(value)


def value_for(values: list):
    if not values:
        return JSONISH
    return st.sampled_from(values) | st.sampled_from(values).flatmap(near) | JSONISH


SETTINGS = settings(
    max_examples=150 * FUZZ_SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def accepted_specs_render(text: str) -> None:
    """A SpecError names the file and says what is wrong in one line; an accepted spec resolves
    in each of its stages and renders (or a generator refuses it in one line)."""
    try:
        spec = parse_spec(text, "fuzz.yaml")
    except SpecError as exc:
        assert exc.diagnostics
        for d in exc.diagnostics:
            assert d.file == "fuzz.yaml" and d.message and "\n" not in d.message
        return
    for stage in spec.stages:
        env = resolve(spec, stage)
        assert env.fingerprint == spec.fingerprint and env.stage == stage
    try:
        files = render_env(spec, {}, require_locks=False)
    except UserError as exc:
        assert "\n" not in str(exc) and exc.message
        return
    assert b"FROM " in files["Dockerfile"]
    assert render_workflow([spec], Path.cwd())  # "fuzz.yaml" is relative to the working folder


@SETTINGS
@given(data=st.data(), base=st.sampled_from(EXAMPLES), field=st.sampled_from(FIELDS))
def test_any_value_in_any_field(data, base, field):
    spec = json.loads(json.dumps(base))
    spec[field] = data.draw(value_for(seen(lambda d: [d.get(field)])), label=field)
    accepted_specs_render(yaml.safe_dump(spec))


@SETTINGS
@given(data=st.data(), base=st.sampled_from(EXAMPLES), field=st.sampled_from(STAGE_FIELDS))
def test_any_value_in_any_stage_field(data, base, field):
    spec = json.loads(json.dumps(base))
    stage = data.draw(st.sampled_from(sorted(spec["stages"])), label="stage")
    spec["stages"][stage][field] = data.draw(value_for(stage_values(field)), label=field)
    accepted_specs_render(yaml.safe_dump(spec))


@SETTINGS
@given(data=st.data(), base=st.sampled_from(EXAMPLES), field=st.sampled_from(RUN_FIELDS))
def test_any_value_in_any_run_field(data, base, field):
    spec = json.loads(json.dumps(base))
    values = seen(lambda d: [(d.get("run") or {}).get(field)])
    spec.setdefault("run", {})[field] = data.draw(value_for(values), label=field)
    accepted_specs_render(yaml.safe_dump(spec))


@settings(max_examples=40 * FUZZ_SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    content=st.binary(max_size=300)
    | st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass"))
    | st.sampled_from(EXAMPLES).map(lambda d: yaml.safe_dump(d).encode()),
    command=st.sampled_from([["validate"], ["show", "--stage", "local"], ["parity"]]),
)
def test_no_input_file_prints_a_traceback(tmp_path_factory, content, command):
    path = tmp_path_factory.mktemp("cli") / "fuzz.yaml"
    path.write_bytes(content)
    result = CliRunner().invoke(app, [command[0], str(path), *command[1:]])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output)
    assert "Traceback" not in result.stdout + result.stderr
    if result.exit_code == 1:
        assert result.stderr.strip(), "a refusal says why"
        assert all(": " in line for line in result.stderr.strip().splitlines())
