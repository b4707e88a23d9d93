"""On a real Docker engine: ENV, LABEL and CMD values come out of the image exactly as written.

The parser-level tests (test_injection.py) use dockerfile-parse; this checks the engine's
own lexer, which is the one that matters. Needs the engine of `.ci/services up` and its
local base image (ENVPARITY_TEST_BASE_IMAGE); no network inside the build.
"""

from __future__ import annotations

import io
import os
import tarfile
from dataclasses import replace

import pytest

from envparity.core.model import Run, frozen_map
from envparity.core.render.dockerfile import baked_env, command, labels
from envparity.core.spec import load_spec
from tests.render.conftest import CASES

pytestmark = pytest.mark.docker

TRICKY = [
    'say "hi" to $USER',
    "${PATH} and $(id) and `id`",
    "trailing backslash \\",
    'back\\slash \\\\ double \\$ \\"',
    "it's 'quoted'",
    "x; touch /pwned && echo | cat",
    "--index-url http://127.0.0.1:1/simple",
    "#not a comment",
    "é ü 中 ✓",
    "",
]


@pytest.fixture(scope="module")
def engine():
    import docker  # the dev extra installs it; imported here so collection stays light

    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        pytest.fail(
            f"no Docker engine ({exc}): run `bash .ci/services up` "
            "(or deselect with -m 'not docker')"
        )
    yield client
    client.close()


def test_engine_reads_values_back_exactly(engine):
    base = os.environ.get("ENVPARITY_TEST_BASE_IMAGE", "envparity-test/bookworm-python:3.11.2")
    spec = load_spec(CASES / "cpu-service" / "envspec.yaml")
    env = {f"V{i}": value for i, value in enumerate(TRICKY)}
    spec = replace(
        spec,
        description=TRICKY[0],
        run=Run(command=tuple(TRICKY[:-1])),
        software=replace(spec.software, env=frozen_map(env)),
    )
    dockerfile = (
        "\n\n".join(
            [
                f"ARG BASE_IMAGE={base}\nFROM ${{BASE_IMAGE}}",
                baked_env(spec),
                labels(spec),
                command(spec),
            ]
        )
        + "\n"
    )
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        data = dockerfile.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    image, _ = engine.images.build(
        fileobj=context,
        custom_context=True,
        rm=True,
        network_mode="none",
        tag="envparity-test/render-quoting:latest",
    )
    try:
        config = image.attrs["Config"]
        baked = dict(item.split("=", 1) for item in config["Env"])
        assert {k: baked[k] for k in env} == env
        assert config["Labels"]["org.opencontainers.image.description"] == TRICKY[0]
        assert config["Labels"]["org.opencontainers.image.base.name"] == base
        assert config["Labels"]["io.envparity.fingerprint"] == spec.fingerprint
        assert config["Cmd"] == list(TRICKY[:-1])
    finally:
        engine.images.remove(image.id, force=True)
