"""`.ci/services`: idempotent `up`, `down` that stops only what it started, clear failures.

These run next to the team's services: they start their own registry on a free port with
their own cache dir, and never stop the shared engine or registry.
"""

from __future__ import annotations

import os
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.docker.conftest import BASE_IMAGE, REGISTRY

pytestmark = pytest.mark.docker

SERVICES = ROOT / ".ci" / "services"


def services(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SERVICES), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_up_is_idempotent_when_everything_runs(docker_client):
    done = services("up")
    assert done.returncode == 0, done.stderr
    assert "docker engine: already running" in done.stdout
    assert f"registry: already answering at http://{REGISTRY}/v2/" in done.stdout
    assert f"base image: {BASE_IMAGE} already present" in done.stdout
    for line in (
        "TLS registry: already answering at https://127.0.0.1:5001/v2/",
        "token realm: already answering at http://127.0.0.1:5003/healthz",
        "token registry: already answering at http://127.0.0.1:5002/v2/",
        "private index: already answering at http://127.0.0.1:8081/simple/",
    ):
        assert line in done.stdout


def test_up_starts_a_registry_and_down_stops_only_it(docker_client, tmp_path: Path):
    address = f"127.0.0.1:{free_port()}"
    env = {
        "ENVPARITY_CACHE_DIR": str(tmp_path),
        "ENVPARITY_TEST_REGISTRY": address,
        "ENVPARITY_SERVICES_KUBE": "0",  # the control plane is the shared cache's, not this one's
        "ENVPARITY_SERVICES_TRUST": "0",  # so are the TLS and token registries and the index
    }
    up = services("up", **env)
    try:
        assert up.returncode == 0, up.stderr
        assert f"registry: starting docker-registry on {address}" in up.stdout
        assert urllib.request.urlopen(f"http://{address}/v2/", timeout=5).status == 200
        assert f"ENVPARITY_TEST_REGISTRY={address}" in (tmp_path / "services.env").read_text()
    finally:
        down = services("down", **env)
    assert down.returncode == 0, down.stderr
    assert "registry: stopping pid" in down.stdout
    assert "dockerd: not started by this script" in down.stdout  # the shared engine stays up
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://{address}/v2/", timeout=2)
    docker_client.ping()


def test_a_registry_that_cannot_start_is_a_clear_failure(docker_client, tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        done = services(
            "up",
            ENVPARITY_CACHE_DIR=str(tmp_path),
            ENVPARITY_TEST_REGISTRY=address,
            ENVPARITY_SERVICES_WAIT="20",
            ENVPARITY_SERVICES_TRUST="0",
        )
    assert done.returncode == 1
    assert "services: error: registry exited while starting" in done.stderr
    assert "address already in use" in done.stderr  # the log's last lines say why
