"""Each generated file of each case byte for byte (regenerate: UPDATE_GOLDEN=1), hadolint-clean."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from envparity.adapters.uv import compile_locks
from envparity.core.lockfile import write_locks
from envparity.core.render.artifacts import render_env
from envparity.core.spec import load_spec
from tests.conftest import SCRIPTS, UPDATE_GOLDEN, assert_golden
from tests.render.conftest import CASES, GOLDEN

CASE_NAMES = sorted(p.name for p in CASES.iterdir() if (p / "envspec.yaml").exists())
HADOLINT = SCRIPTS / "hadolint"


def render_case(case: str, tmp_path: Path, wheelhouse: Path) -> dict[str, bytes]:
    """Lock (uv, against the local wheels only) and render one case from a copy of its spec."""
    spec_path = tmp_path / f"{case}.yaml"
    shutil.copy(CASES / case / "envspec.yaml", spec_path)
    for beside in (CASES / case).glob("*.txt"):  # e.g. the spec's python_requirements
        shutil.copy(beside, tmp_path / beside.name)
    spec = load_spec(spec_path)
    write_locks(spec, compile_locks(spec, find_links=wheelhouse, no_index=True))
    return render_env(spec)


@pytest.mark.parametrize("case", CASE_NAMES)
def test_generated_files_match_golden(case, tmp_path, wheelhouse):
    files = render_case(case, tmp_path, wheelhouse)
    for relative, content in files.items():
        assert_golden(GOLDEN / case / relative, content.decode())
    if not UPDATE_GOLDEN:  # a file render no longer makes must not linger as a golden
        on_disk = {
            str(p.relative_to(GOLDEN / case)) for p in (GOLDEN / case).rglob("*") if p.is_file()
        }
        assert on_disk == set(files)


@pytest.mark.parametrize("case", CASE_NAMES)
def test_rendering_is_deterministic(case, tmp_path, wheelhouse):
    # Two renders in two directories (as on two machines): the same bytes.
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = render_case(case, tmp_path / "a", wheelhouse)
    second = render_case(case, tmp_path / "b", wheelhouse)
    assert first == second
    for content in first.values():
        assert str(tmp_path).encode() not in content  # no absolute paths leak into the output


def test_key_order_and_comments_do_not_change_the_output(tmp_path, wheelhouse):
    (tmp_path / "a").mkdir()
    original = render_case("cpu-service", tmp_path / "a", wheelhouse)
    text = (CASES / "cpu-service" / "envspec.yaml").read_text()
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    # Move `python_packages` to the end and drop the comments: same spec, same bytes.
    moved = [line for line in lines if not line.startswith("python_packages")]
    moved.append("python_packages: [demo-web==2.0.1]  # same pin")
    (tmp_path / "b").mkdir()
    spec_path = tmp_path / "b" / "cpu-service.yaml"
    spec_path.write_text("\n".join(moved) + "\n")
    spec = load_spec(spec_path)
    write_locks(spec, compile_locks(spec, find_links=wheelhouse, no_index=True))
    assert render_env(spec) == original


@pytest.mark.parametrize("case", CASE_NAMES)
def test_golden_dockerfile_is_hadolint_clean(case):
    dockerfile = GOLDEN / case / "Dockerfile"
    done = subprocess.run(
        # hadolint's default settings: info findings (e.g. DL3059) fail too.
        [str(HADOLINT), "--no-color", str(dockerfile)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_fails_on_a_bad_dockerfile(tmp_path):
    # The lint test above can fail: hadolint does flag what it should.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:12\nRUN apt-get install curl\n")
    done = subprocess.run(
        [str(HADOLINT), str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
