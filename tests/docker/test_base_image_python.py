"""A base_image envparity cannot tell about: the build uses its python3 when that is the spec's
Python, and goes to uv otherwise (real engine; containers have no network)."""

from __future__ import annotations

import contextlib
import shutil
import uuid
from pathlib import Path

import pytest

from envparity.adapters.build_context import context_wheels
from envparity.adapters.uv import compile_locks
from envparity.core.lockfile import write_locks
from envparity.core.render.artifacts import render_env
from envparity.core.render.dockerfile import UV_IMAGE
from envparity.core.spec import load_spec
from tests.docker.conftest import BASE_IMAGE

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def local_uv(docker_client, tmp_path_factory):
    """An image holding the uv binary of this venv (the pinned version) as /uv, like uv's image:
    ghcr.io is out of reach here, and the test is about the RUN that uses it."""
    from uv import find_uv_bin

    context = tmp_path_factory.mktemp("uv-image")
    shutil.copy(find_uv_bin(), context / "uv")
    (context / "Dockerfile").write_text("FROM scratch\nCOPY uv /uv\n", encoding="utf-8")
    tag = f"envparity-test/uv-{uuid.uuid4().hex[:8]}:local"
    docker_client.images.build(path=str(context), tag=tag, rm=True)
    yield tag
    with contextlib.suppress(Exception):
        docker_client.images.remove(tag, force=True)


def _build(docker_client, tmp_path: Path, wheelhouse: Path, uv_tag: str, python: str):
    name = f"it-{uuid.uuid4().hex[:8]}"
    spec_path = tmp_path / f"{name}.yaml"
    spec_path.write_text(
        f'envparity: 1\nname: {name}\nversion: 0.1.0\npython: "{python}"\n'
        f"base_image: {BASE_IMAGE}\npython_packages: [six==1.16.0]\nstages:\n  production: {{}}\n",
        encoding="utf-8",
    )
    spec = load_spec(spec_path)
    write_locks(spec, compile_locks(spec, find_links=wheelhouse, no_index=True))
    context = tmp_path / "context"
    context.mkdir()
    files = render_env(spec)
    for relative, content in files.items():
        (context / relative).write_bytes(content)
    shutil.copy(spec_path.with_suffix(".lock"), context / "requirements.lock")
    # Each dependency layer copies its own wheels, from wheelhouse/<layer>/ (docs/render.md).
    for relative, wheel in context_wheels(wheelhouse, files).items():
        (context / "wheelhouse" / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(wheel, context / "wheelhouse" / relative)
    dockerfile = (context / "Dockerfile").read_text(encoding="utf-8")
    assert f"FROM {UV_IMAGE} AS uv" in dockerfile
    (context / "Dockerfile").write_text(dockerfile.replace(UV_IMAGE, uv_tag), encoding="utf-8")
    tag = f"envparity-test/{name}:it"
    try:
        docker_client.images.build(
            path=str(context),
            tag=tag,
            target="production",
            buildargs={"ENVPARITY_OFFLINE": "1"},
            rm=True,
            forcerm=True,
        )
        out = docker_client.containers.run(
            tag,
            ["python", "-c", "import sys, six; print(sys.prefix, sys.version.split()[0])"],
            remove=True,
            network_disabled=True,
        )
        return out.decode().split()
    finally:
        with contextlib.suppress(Exception):
            docker_client.images.remove(tag, force=True)


def test_base_python_of_the_spec_version_is_used(docker_client, tmp_path, wheelhouse, local_uv):
    assert _build(docker_client, tmp_path, wheelhouse, local_uv, "3.11.2") == [
        "/opt/venv",
        "3.11.2",
    ]


def test_other_python_goes_to_uv(docker_client, tmp_path, wheelhouse, local_uv):
    from docker.errors import BuildError

    # uv must fetch CPython 3.11.9; with no network the build fails there, not with 3.11.2.
    with pytest.raises(BuildError) as caught:
        _build(docker_client, tmp_path, wheelhouse, local_uv, "3.11.9")
    # The step that failed is the one making the venv (its else branch), not the version check
    # after it, which is where a venv of the base's Python 3.11.2 would have failed.
    assert "uv python install 3.11.9" in caught.value.msg
    assert "this image has" not in caught.value.msg
