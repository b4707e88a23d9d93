"""Fixtures for the trust and hostile-input services of `.ci/services up`: cosign, the TLS
registry with htpasswd, the registry behind a token realm, the private package index and
skopeo. Their facts come from `$ENVPARITY_CACHE_DIR/services.env` (or the environment)."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest

CACHE_DIR = Path(os.environ.get("ENVPARITY_CACHE_DIR", "/var/cache/envparity"))
SERVICES_HINT = "start them with `bash .ci/services up` (it builds cosign with .ci/tools first)"


def service_fact(name: str, default: str = "") -> str:
    """A fact `.ci/services up` wrote to services.env, unless the environment sets it."""
    if name in os.environ:
        return os.environ[name]
    env_file = CACHE_DIR / "services.env"
    if env_file.is_file():
        for line in env_file.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            if key == name and value:
                return value
    return default


REGISTRY = service_fact("ENVPARITY_TEST_REGISTRY", "127.0.0.1:5000")
TLS_REGISTRY = service_fact("ENVPARITY_TEST_TLS_REGISTRY", "127.0.0.1:5001")
TOKEN_REGISTRY = service_fact("ENVPARITY_TEST_TOKEN_REGISTRY", "127.0.0.1:5002")
TOKEN_REALM = service_fact("ENVPARITY_TEST_TOKEN_REALM", "http://127.0.0.1:5003/token")
TOKEN_SERVICE = service_fact("ENVPARITY_TEST_TOKEN_SERVICE", "envparity-test-registry")
PYPI = service_fact("ENVPARITY_TEST_PYPI", "http://127.0.0.1:8081/simple/")
CA = service_fact("ENVPARITY_TEST_CA", str(CACHE_DIR / "pki" / "ca.crt"))
DOCKER_HOST = "unix:///var/run/docker.sock"


@pytest.fixture(scope="session")
def passwords() -> dict[str, str]:
    """The two users every authenticated service knows: pusher and reader."""
    found = {
        user: service_fact(f"ENVPARITY_TEST_{user.upper()}_PASSWORD")
        for user in ("pusher", "reader")
    }
    if not all(found.values()):
        pytest.fail(
            f"no passwords in {CACHE_DIR / 'services.env'} -- {SERVICES_HINT}", pytrace=False
        )
    return found


def docker(*args: str, env: dict[str, str] | None = None, check: bool = True, input=None):
    """The docker CLI against the engine `.ci/services` manages."""
    return subprocess.run(
        ["docker", *args],
        capture_output=True,
        text=input is None or isinstance(input, str),
        input=input,
        env={**os.environ, "DOCKER_HOST": DOCKER_HOST, **(env or {})},
        timeout=300,
        check=check,
    )


def tiny_tar(content: str) -> bytes:
    """A one-file root filesystem: a one-layer image whose digest depends on CONTENT."""
    data = content.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def tiny_image():
    """A factory: push a one-layer image to REGISTRY, return `REGISTRY/REPO@sha256:...`."""
    made: list[str] = []

    def push(repository: str | None = None, tag: str = "1", registry: str = REGISTRY) -> str:
        reference = (
            f"{registry}/{repository or 'envparity-test/tiny-' + uuid.uuid4().hex[:8]}:{tag}"
        )
        imported = subprocess.run(
            ["docker", "import", "-", reference],
            input=tiny_tar(f"{reference} {uuid.uuid4()}\n"),
            capture_output=True,
            env={**os.environ, "DOCKER_HOST": DOCKER_HOST},
            timeout=120,
            check=False,
        )
        assert imported.returncode == 0, imported.stderr
        made.append(reference)
        docker("push", reference)
        digest = docker("inspect", "--format", "{{index .RepoDigests 0}}", reference).stdout
        return digest.strip()

    yield push
    for reference in made:
        docker("rmi", "--force", reference, check=False)
