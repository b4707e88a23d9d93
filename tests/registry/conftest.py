"""Each registry test starts with no cached logins or tokens and a Docker config of its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envparity.adapters import registry, registry_auth, registry_http
from tests.docker.conftest import docker_client, project, wheelhouse  # noqa: F401 -- fixtures
from tests.services.conftest import passwords, tiny_image  # noqa: F401 -- fixtures


@pytest.fixture(autouse=True)
def fresh_logins(tmp_path: Path, monkeypatch):
    """An empty DOCKER_CONFIG (never the user's); `write(config)` fills its config.json."""
    directory = tmp_path / "docker-config"
    directory.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    monkeypatch.delenv("ENVPARITY_INSECURE_REGISTRIES", raising=False)
    registry._sessions.clear()
    registry_auth._TOKENS.clear()
    registry_http._SCHEMES.clear()

    def write(config: dict) -> Path:
        path = directory / "config.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        return path

    yield write
    registry._sessions.clear()
    registry_auth._TOKENS.clear()
