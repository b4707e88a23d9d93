"""`envparity run`: the container's confinement, and on the real engine: built when missing,
folder mounted, exit code passed on."""

from __future__ import annotations

import os
import subprocess

import pytest

from envparity.core.resolve import resolve
from envparity.core.spec import load_spec
from envparity.flows import run as run_flow
from tests.conftest import ROOT
from tests.docker.conftest import BASE_IMAGE

ENVPARITY = str(ROOT / ".venv" / "bin" / "envparity")


def test_the_container_runs_as_the_caller_without_capabilities_or_new_privileges(monkeypatch):
    """The options themselves: as root in CI, a file's owner cannot tell the caller from root."""
    monkeypatch.setattr(run_flow.os, "getuid", lambda: 1234)
    monkeypatch.setattr(run_flow.os, "getgid", lambda: 5678)
    env = resolve(load_spec(ROOT / "envspecs" / "features.yaml"), "production")
    options = run_flow.container_options(env, env.image_ref, ROOT, (), None, {})
    assert options["user"] == "1234:5678"
    assert options["cap_drop"] == ["ALL"]
    assert options["security_opt"] == ["no-new-privileges"]
    assert "privileged" not in options and "cap_add" not in options
    assert options["environment"]["HOME"] == "/tmp"  # uid 1234 has no home in the image


@pytest.mark.docker
def test_run_builds_once_mounts_the_folder_and_passes_the_exit_code(project, wheelhouse, tmp_path):
    p = project()
    work = tmp_path / "work"
    work.mkdir()
    (work / "hello.txt").write_text("hello from the host")

    def run(*command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                *(ENVPARITY, "run", str(p.spec), "--stage", "testing"),
                *("--base-image", BASE_IMAGE, "--wheelhouse", str(wheelhouse), "--", *command),
            ],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    script = (
        "import os, six; print(six.__version__, open('hello.txt').read(), "
        "os.environ['ENVPARITY_STAGE'], os.environ['ENVPARITY_NAME'], os.getcwd()); "
        "open('made-inside.txt', 'w').write('x')"
    )
    first = run("python", "-c", script)
    assert first.returncode == 0, first.stderr
    assert "building" in first.stderr  # not built before
    assert first.stdout.split() == [
        "1.16.0",
        "hello",
        "from",
        "the",
        "host",
        "testing",
        p.name,
        "/workspace",
    ]
    made = work / "made-inside.txt"
    assert made.read_text() == "x" and made.stat().st_uid == os.getuid()  # the caller's file
    again = run("python", "-c", "raise SystemExit(7)")
    assert again.returncode == 7, again.stderr
    assert "building" not in again.stderr  # the image of this software is there
