"""A private index (Basic auth, `.ci/services`) works with credentials from the environment
only, and they appear in nothing envparity writes or prints (issue 20, item 4, in part:
lock, render and show; the image build is not covered yet)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.services.conftest import PYPI, passwords  # noqa: F401 - a fixture

pytestmark = pytest.mark.docker  # the services of `.ci/services up`

SPEC = f"""\
envparity: 1
name: priv
version: 0.1.0
python: "3.12.7"
python_packages: [envparity-private-demo==0.1.0]
package_indexes: ["{PYPI}"]
stages:
  production: {{}}
"""


def envparity(root, *args, env):
    return subprocess.run(
        [sys.executable, "-m", "envparity.cli.main", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_lock_render_and_show_with_netrc_credentials_write_none(tmp_path, passwords):  # noqa: F811
    secret = passwords["reader"]
    root = tmp_path / "proj"
    (root / "envspecs").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "envspecs" / "priv.yaml").write_text(SPEC)
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1\nlogin reader\npassword {secret}\n")
    netrc.chmod(0o600)
    env = {**os.environ, "NETRC": str(netrc)}
    env.pop("UV_INDEX_URL", None)

    outputs = []
    for args in (
        ("lock", "envspecs/priv.yaml"),
        ("render", "envspecs/priv.yaml", "--out", "build"),
        ("show", "envspecs/priv.yaml", "--stage", "production", "--json"),
    ):
        done = envparity(root, *args, env=env)
        assert done.returncode == 0, (args, done.stderr)
        outputs += [done.stdout, done.stderr]
    lock = (root / "envspecs" / "priv.lock").read_text()
    assert f"--extra-index-url {PYPI}" in lock and "envparity-private-demo==0.1.0" in lock
    written = [p for p in root.rglob("*") if p.is_file()]
    assert any(p.name == "Dockerfile" for p in written)
    for text in [*outputs, *(p.read_text(errors="replace") for p in written)]:
        assert secret not in text and "reader:" not in text
