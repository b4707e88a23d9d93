"""`envparity run` on the real engine: built when missing, folder mounted, exit code passed on."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import ROOT
from tests.docker.conftest import BASE_IMAGE

pytestmark = pytest.mark.docker

ENVPARITY = str(ROOT / ".venv" / "bin" / "envparity")


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
