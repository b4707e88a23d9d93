"""`validate --against REF`: a software change must raise the version enough."""

from __future__ import annotations

import subprocess

import pytest

from envparity.core.diagnostics import SpecError
from envparity.core.spec import load_spec
from envparity.core.versioning import actual_bump
from envparity.flows.versioning import check_against
from tests.spec.conftest import GPU_SPEC, edit


@pytest.fixture
def repo(tmp_path):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "t@example.invalid")
    git("config", "user.name", "t")
    (tmp_path / "serve.yaml").write_text(GPU_SPEC)
    git("add", ".")
    git("commit", "-qm", "base")
    return tmp_path


def against(repo, text):
    (repo / "serve.yaml").write_text(text)
    return check_against(load_spec(repo / "serve.yaml"), "HEAD")


@pytest.mark.parametrize(
    ("change", "version", "needed"),
    [
        (("numpy==1.26.4", "numpy==1.26.5"), "1.0.1", "MINOR"),
        (('python: "3.11.9"', 'python: "3.12.7"'), "1.1.0", "MAJOR"),
        (("os: ubuntu22.04", "os: ubuntu20.04"), "1.9.0", "MAJOR"),
    ],
)
def test_too_small_bump_fails(repo, change, version, needed):
    text = edit(edit(GPU_SPEC, *change), "version: 1.0.0", f"version: {version}")
    [problem] = against(repo, text)
    assert f"needs a {needed} version bump" in problem.message
    assert problem.path == ("version",)


@pytest.mark.parametrize(
    ("change", "version"),
    [
        (("numpy==1.26.4", "numpy==1.26.5"), "1.1.0"),
        (('python: "3.11.9"', 'python: "3.12.7"'), "2.0.0"),
        (("description: test service", "description: reworded"), "1.0.0"),
        (("replicas: 3", "replicas: 4"), "1.0.0"),
    ],
)
def test_enough_bump_or_no_software_change_passes(repo, change, version):
    text = edit(edit(GPU_SPEC, *change), "version: 1.0.0", f"version: {version}")
    assert against(repo, text) == []


def test_version_going_down_fails(repo):
    [problem] = against(repo, edit(GPU_SPEC, "version: 1.0.0", "version: 0.9.0"))
    assert "version went down" in problem.message


def test_new_file_and_bad_ref(repo):
    new = repo / "new.yaml"
    new.write_text(GPU_SPEC)
    assert check_against(load_spec(new), "HEAD") == []
    with pytest.raises(SpecError, match="not a git commit"):
        check_against(load_spec(new), "no-such-ref")


def test_actual_bump():
    assert [actual_bump("1.2.3", v) for v in ("2.0.0", "1.3.0", "1.2.4", "1.2.3")] == [
        "major",
        "minor",
        "patch",
        "none",
    ]


def test_requirements_file_change_is_compared_at_the_ref(repo):
    def git(*args):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    spec = edit(
        GPU_SPEC, "  - fastapi==0.115.0", "  - fastapi==0.115.0\npython_requirements: reqs.txt"
    )
    (repo / "reqs.txt").write_text("six==1.16.0\n")
    (repo / "serve.yaml").write_text(spec)
    git("add", ".")
    git("commit", "-qm", "with a requirements file")
    (repo / "reqs.txt").write_text("six==1.17.0\n")
    [problem] = check_against(load_spec(repo / "serve.yaml"), "HEAD")
    assert "(python_packages, python_requirements)" in problem.message
    assert "needs a MINOR version bump" in problem.message
