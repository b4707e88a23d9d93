"""Property: `render` and `import` answer any input with one line per problem and an exit code,
never a traceback or an internal error (validate, show and parity: test_property_pipeline.py).

Each example runs in a project of its own (a folder with .git) as the working folder, since
render writes the stack configs and the workflow of the project it runs in.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import yaml
from envparity.cli.main import app
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.conftest import FUZZ_SCALE, ROOT
from tests.spec.test_property_pipeline import EXAMPLES, JSONISH, near

SETTINGS = settings(
    max_examples=30 * FUZZ_SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
PEERS = sorted((ROOT / "tests" / "fixtures").glob("*/*/*.yaml"))
PEER_NAMES = ["cog.yaml", "config.yaml", "bentofile.yaml"]
PEER_DATA = [(p.name, yaml.safe_load(p.read_text(encoding="utf-8"))) for p in PEERS]
# Paths a hostile file may name: outside the project, a system file, a device.
PATHS = ["../../../../etc/passwd", "/proc/self/environ", "reqs.txt", "link.txt", "\x00", "."]


@contextlib.contextmanager
def inside(folder: Path):
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def project(factory) -> Path:
    root = factory.mktemp("project")
    (root / ".git").mkdir()
    (root / "envspecs").mkdir()
    (root / "envspecs" / "reqs.txt").write_text("six==1.16.0\n")
    (root / "envspecs" / "link.txt").symlink_to("/dev/zero")
    return root


def answered(result) -> None:
    """Exit 0 or 1; a refusal is lines of `where: what`, none an internal error."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code in (0, 1), (result.exit_code, result.output)
    assert "Traceback" not in result.output and "internal error" not in result.stderr
    if result.exit_code == 1:
        assert result.stderr.strip(), "a refusal says why"
        assert all(": " in line for line in result.stderr.strip().splitlines())


def spec_text(base: dict, field: str, value) -> bytes:
    data = {**base, field: value}
    return yaml.safe_dump(data).encode()


SPECS = (
    st.binary(max_size=300)
    | st.builds(
        spec_text,
        st.sampled_from(EXAMPLES),
        st.sampled_from(["python_requirements", "package_indexes", "env", "run", "description"]),
        st.sampled_from(PATHS) | JSONISH,
    )
    | st.sampled_from(EXAMPLES).flatmap(near).map(lambda d: yaml.safe_dump(d).encode())
)


@SETTINGS
@given(content=SPECS)
# seed 101: a rule quoted `cudnn: "\r"` raw, and the line broke in two
@example(
    content=b"base_image: nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04\n"
    b'cuda: "12.4.1"\ncudnn: "\\r"\n'
)
def test_render_answers_any_spec(tmp_path_factory, content):
    root = project(tmp_path_factory)
    (root / "envspecs" / "fuzz.yaml").write_bytes(content)
    with inside(root):
        answered(CliRunner().invoke(app, ["render", "envspecs/fuzz.yaml", "--out", "build"]))


def peer_text(peer: tuple[str, dict], key: str | None, value) -> tuple[str, bytes]:
    name, data = peer
    data = dict(data or {})
    if key is not None:
        data[key] = value
    return name, yaml.safe_dump(data).encode()


PEER_FILES = st.builds(
    peer_text,
    st.sampled_from(PEER_DATA),
    st.sampled_from([None, "build", "python_version", "requirements_file", "python", "docker"]),
    JSONISH | st.fixed_dictionaries({"python_requirements": st.sampled_from(PATHS)}),
) | st.tuples(st.sampled_from(PEER_NAMES), st.binary(max_size=200))


@SETTINGS
@given(peer=PEER_FILES)
def test_import_answers_any_peer_file(tmp_path_factory, peer):
    name, content = peer
    root = project(tmp_path_factory)
    (root / "envspecs" / name).write_bytes(content)
    with inside(root):
        answered(CliRunner().invoke(app, ["import", f"envspecs/{name}"]))
