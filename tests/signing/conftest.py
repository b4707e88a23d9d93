"""The docker tests' fixtures (engine, wheelhouse, small projects), for the signing tests."""

from tests.docker.conftest import docker_client, project, wheelhouse  # noqa: F401
