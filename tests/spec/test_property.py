"""Property: random and mutated specs give a valid spec or clean errors, never a crash."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from envparity.core.diagnostics import SpecError
from envparity.core.spec import parse_spec
from tests.conftest import FUZZ_SCALE
from tests.spec.conftest import CPU_SPEC, GPU_SPEC

SETTINGS = settings(
    max_examples=300 * FUZZ_SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def outcome(text: str) -> None:
    try:
        spec = parse_spec(text, "fuzz.yaml")
    except SpecError as exc:
        assert exc.diagnostics, "a SpecError must say what is wrong"
        for d in exc.diagnostics:
            assert d.file == "fuzz.yaml" and d.message and "\n" not in d.message
    else:
        assert len(spec.fingerprint) == 64


@SETTINGS
@given(st.text(max_size=400))
@example("\ud800")  # a lone surrogate: st.text draws them about once in fifteen runs
@example("envparity: 1\nname: \udfff\n")
def test_random_text(text):
    outcome(text)


LINES = GPU_SPEC.splitlines() + CPU_SPEC.splitlines()


@SETTINGS
@given(
    base=st.sampled_from([GPU_SPEC, CPU_SPEC]),
    edits=st.lists(
        st.tuples(
            st.sampled_from(["drop", "dup", "insert", "char"]),
            st.integers(0, 60),
            st.sampled_from(LINES),
            st.characters(),
        ),
        max_size=5,
    ),
)
def test_mutated_specs(base, edits):
    lines = base.splitlines()
    for kind, index, other, char in edits:
        i = index % len(lines)
        if kind == "drop" and len(lines) > 1:
            del lines[i]
        elif kind == "dup":
            lines.insert(i, lines[i])
        elif kind == "insert":
            lines.insert(i, other)
        elif kind == "char" and lines[i]:
            j = index % len(lines[i])
            lines[i] = lines[i][:j] + char + lines[i][j + 1 :]
    outcome("\n".join(lines) + "\n")


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


@SETTINGS
@given(
    field=st.sampled_from(
        [
            "python",
            "cuda",
            "gpus",
            "env",
            "run",
            "stages",
            "python_packages",
            "system_packages",
            "base_image",
            "driver",
            "cudnn",
            "os",
        ]
    ),
    value=JSONISH,
)
# seed 119: a NUL in the file name reached open() (ValueError: embedded null byte)
@example(field="python_requirements", value="\x00")
# seed 133: 1.0e+16 is an integer to JSON Schema, and reached compat as '1e+16'
@example(field="run", value={"command": ["x"], "memory": 1e16, "cpu": 2.0})
def test_any_value_in_any_field(field, value):
    data = yaml.safe_load(GPU_SPEC)
    data[field] = value
    outcome(yaml.safe_dump(data))


FRAGMENTS = [
    "six==1.16.0",
    "Six>=1",
    "numpy==1.26.4",
    "--hash=sha256:" + "a" * 64,
    "--hash=md5:0",
    "--hash",
    "\\",
    "#",
    " ",
    "-i",
    "--index-url",
    "--extra-index-url=https://example.org/simple",
    "https://example.org/simple",
    "-r x.txt",
    "git+https://x/y.git",
    "torch==2.4.1+cu124; python_version >= '3.9'",
    "\t",
]


@SETTINGS
@given(
    st.lists(
        st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=12), max_size=5).map(" ".join),
        max_size=8,
    ).map("\n".join)
)
def test_requirements_file_gives_content_or_located_errors(text):
    from envparity.core import requirements_file

    content, problems = requirements_file.parse(text, "reqs.txt", ["numpy==1.26.4"])
    if content is None:
        assert problems
    for d in problems:
        assert d.file == "reqs.txt" and d.line is not None and d.column is not None
        assert d.message and "\n" not in d.message
