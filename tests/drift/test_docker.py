"""The docker target against the real engine (started by `.ci/services up`)."""

from __future__ import annotations

import io
import os
import uuid

import pytest

from tests.drift.conftest import base_spec

pytestmark = pytest.mark.docker
BASE = os.environ.get("ENVPARITY_TEST_BASE_IMAGE", "envparity-test/bookworm-python:3.11.2")


@pytest.fixture
def engine():
    import docker

    client = docker.from_env()
    made: list = []
    yield client, made
    for kind, ident in reversed(made):  # only what this test created, by id
        try:
            if kind == "container":
                client.containers.get(ident).remove(force=True)
            else:
                client.images.remove(ident, force=True)
        except docker.errors.NotFound:
            pass
    client.close()


def build(engine, name: str, fingerprint: str, version: str = "1.0.0") -> str:
    client, made = engine
    dockerfile = (
        f"FROM {BASE}\nLABEL io.envparity.name={name} io.envparity.version={version} "
        f"io.envparity.fingerprint={fingerprint}\n"
    )
    image, _ = client.images.build(
        fileobj=io.BytesIO(dockerfile.encode()),
        rm=True,
        network_mode="none",
        tag=f"{name}:{fingerprint[:12]}",
    )
    made.append(("image", image.id))
    return image.id


def start(engine, image_id: str) -> str:
    client, made = engine
    container = client.containers.run(image_id, ["sleep", "300"], detach=True, network_mode="none")
    made.append(("container", container.id))
    return container.name


@pytest.fixture
def spec(resolved):
    name = f"dt{uuid.uuid4().hex[:10]}"
    data = base_spec(name=name, python="3.11.2", python_packages=[], os="debian12")
    return data, resolved(data, "local")[1]


def test_in_sync_image_and_container(engine, spec, write_spec, cli):
    data, env = spec
    start(engine, build(engine, env.name, env.fingerprint))
    run = cli(write_spec(data), "--stage", "local", "--target", "docker", "--json")
    assert run.code == 0, run.stdout
    checks = {c["field"] for c in run.json()["results"][0]["checks"]}
    assert {"io.envparity.fingerprint", "python", "image"} <= checks  # python was probed inside


def test_stale_container_and_newer_foreign_image(engine, spec, write_spec, cli):
    data, env = spec
    old = build(engine, env.name, "0" * 64, version="0.9.0")
    stale = start(engine, old)
    build(engine, env.name, env.fingerprint)
    run = cli(write_spec(data), "--stage", "local", "--target", "docker", "--json")
    assert run.code == 2
    [finding] = run.json()["results"][0]["findings"]
    assert finding["object"] == f"container {stale}" and finding["field"] == "image"


def test_python_inside_the_image_differs(engine, spec, write_spec, cli, resolved):
    data, _ = spec
    data = dict(data, python="3.11.9")
    _, env = resolved(data, "local")
    build(engine, env.name, env.fingerprint)
    run = cli(write_spec(data), "--stage", "local", "--target", "docker", "--json")
    assert run.code == 2
    found = {f["field"]: f for f in run.json()["results"][0]["findings"]}
    assert found["python"]["expected"] == "3.11.9" and found["python"]["actual"] == "3.11.2"


def test_no_image_is_drift(spec, write_spec, cli):
    data, _ = spec
    run = cli(write_spec(data), "--stage", "local", "--target", "docker", "--json")
    assert run.code == 2
    assert run.json()["results"][0]["findings"][0]["actual"] == "none"
