"""`envparity build` against the real engine and loopback registry of `.ci/services up`."""

from __future__ import annotations

import io

import pytest
import yaml
from docker.errors import ImageNotFound

from envparity.adapters.docker_build import verify
from envparity.core.image_check import Difference
from envparity.core.render.artifacts import render_env
from tests.docker.conftest import BASE_IMAGE, run_cli

pytestmark = pytest.mark.docker

OFFLINE = ("--base-image", BASE_IMAGE)


def build_args(project, stage: str, wheelhouse, *extra: str) -> tuple[str, ...]:
    return (
        "build",
        str(project.spec),
        "--stage",
        stage,
        *OFFLINE,
        "--wheelhouse",
        str(wheelhouse),
        "--stacks",
        str(project.stacks),
        *extra,
    )


def assert_one_error_line(stderr: str, *fragments: str) -> str:
    """The error is one `error: ... (hint: ...)` line, no traceback; return it."""
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, stderr
    assert "(hint: " in errors[0]
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


def test_build_tags_labels_and_verifies(project, wheelhouse, docker_client):
    p = project()
    env = p.resolved("production")
    done = run_cli(*build_args(p, "production", wheelhouse, "--tag", f"{p.name}:extra"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"{env.image_ref}"]
    assert env.image_ref == f"127.0.0.1:5000/{p.name}:0.1.0-{env.fingerprint[:12]}"
    assert "verified: Python 3.11.2" in done.stderr
    # Not a terminal: plain step lines, not a progress bar.
    assert "Step 1/" in done.stderr
    image = docker_client.images.get(env.image_ref)
    assert f"{p.name}:extra" in image.tags
    assert image.labels["io.envparity.fingerprint"] == env.fingerprint
    assert image.labels["io.envparity.name"] == p.name
    assert image.labels["io.envparity.version"] == "0.1.0"
    assert image.attrs["Config"]["User"] == "10001:10001"
    # The image runs its CMD without network, as the environment's python.
    out = docker_client.containers.run(env.image_ref, network_mode="none", remove=True)
    assert out.decode().strip() == "six 1.16.0"


def test_testing_adds_a_layer_on_top_of_production(project, wheelhouse, docker_client):
    p = project()
    images = {}
    for stage in ("production", "testing"):
        done = run_cli(*build_args(p, stage, wheelhouse))
        assert done.returncode == 0, done.stderr
        # Both stages get the same tag today (see docs/build.md): keep each image by id.
        images[stage] = docker_client.images.get(p.resolved(stage).image_ref)
    production, testing = images["production"], images["testing"]
    # Every image ends with its own provenance record layer; the rest is shared.
    prod_layers = production.attrs["RootFS"]["Layers"][:-1]
    test_layers = testing.attrs["RootFS"]["Layers"]
    assert test_layers[: len(prod_layers)] == prod_layers
    assert len(test_layers) > len(prod_layers)
    out = docker_client.containers.run(
        testing.id,
        ["python", "-c", "import idna; print(idna.__version__)"],
        network_mode="none",
        remove=True,
    )
    assert out.decode().strip() == "3.10"


def test_rebuild_without_change_uses_the_cache(project, wheelhouse, docker_client):
    p = project()
    ref = p.resolved("production").image_ref
    first = run_cli(*build_args(p, "production", wheelhouse))
    assert first.returncode == 0, first.stderr
    layers = len(docker_client.images.get(ref).attrs["RootFS"]["Layers"])
    for _ in range(2):
        again = run_cli(*build_args(p, "production", wheelhouse))
        assert again.returncode == 0, again.stderr
        # The image of these exact inputs exists: nothing is sent to the engine, nothing runs.
        assert "Step 1/" not in again.stderr and "Running in" not in again.stderr
        assert "reused sha256:" in again.stderr and ": built before from the same" in again.stderr
        assert "dependency layers: reused 1-heavy\n" in again.stderr
        # It gets its provenance layer again, on the image as built, not on the stamped one.
        assert len(docker_client.images.get(ref).attrs["RootFS"]["Layers"]) == layers


def test_a_moved_base_tag_is_not_the_same_inputs(project, wheelhouse, docker_client):
    p = project()
    other = f"{p.name}-base:latest"
    docker_client.images.get(BASE_IMAGE).tag(other)  # the same base under a name of its own
    try:
        args = build_args(p, "production", wheelhouse, "--base-image", other)
        assert run_cli(*args).returncode == 0
        # The name now points at another image: the earlier build is not reused for it.
        dockerfile = f"FROM {BASE_IMAGE}\nLABEL moved={p.name}\n".encode()
        docker_client.images.build(fileobj=io.BytesIO(dockerfile), tag=other)
        done = run_cli(*args)
        assert done.returncode == 0, done.stderr
        assert "reused sha256:" not in done.stderr and "Step 1/" in done.stderr
    finally:
        docker_client.images.remove(other, force=True)


def test_python_the_base_lacks_fails_at_the_check_step(project, wheelhouse):
    p = project(python="3.11.9")
    done = run_cli(*build_args(p, "production", wheelhouse))
    assert done.returncode == 1
    line = assert_one_error_line(done.stderr, "failed at step", "python --version")
    assert "use a base image that provides the spec's Python" in line
    # The step's own output is shown under the error line.
    assert "this image has Python 3.11.2 but the spec says Python 3.11.9" in done.stderr


def test_verify_reports_each_difference_from_the_lock(project, wheelhouse, docker_client):
    built = project()
    assert run_cli(*build_args(built, "production", wheelhouse)).returncode == 0
    image = built.resolved("production").image_ref
    # The same image checked against another lock: six 1.17.0, plus packaging.
    other = project(packages=("six==1.17.0", "packaging==24.2"))
    env = other.resolved("production")
    differences = verify(docker_client, env, render_env(other.loaded()), image)
    assert Difference("six", "1.17.0", "1.16.0") in differences
    assert Difference("packaging", "24.2", None) in differences
    assert Difference("label io.envparity.name", other.name, built.name) in differences
    # ... and against its own spec: no difference.
    own = built.resolved("production")
    assert verify(docker_client, own, render_env(built.loaded()), image) == []


def dirty_base(docker_client, wheelhouse) -> str:
    """A base whose /opt/venv already holds `packaging` (made once, kept by name like the base)."""
    name = "envparity-test/dirty-base:it"
    try:
        docker_client.images.get(name)
        return name
    except ImageNotFound:
        pass
    container = docker_client.containers.run(
        BASE_IMAGE,
        [
            "sh",
            "-c",
            "python3 -m venv /opt/venv && /opt/venv/bin/pip install -q "
            "--no-index --find-links /wheels packaging==24.2",
        ],
        volumes={str(wheelhouse): {"bind": "/wheels", "mode": "ro"}},
        network_mode="none",
        detach=True,
    )
    try:
        assert container.wait()["StatusCode"] == 0, container.logs().decode()
        repository, tag = name.split(":")
        container.commit(repository, tag)
    finally:
        container.remove(force=True)
    return name


def test_extra_distribution_in_the_image_fails_with_a_table(project, wheelhouse, docker_client):
    # The build keeps the base's virtualenv, so the image has a distribution the lock does
    # not: the verify step must catch it, show it, and leave the reference untagged.
    base = dirty_base(docker_client, wheelhouse)
    p = project()
    done = run_cli(
        "build",
        str(p.spec),
        "--stage",
        "production",
        "--base-image",
        base,
        "--wheelhouse",
        str(wheelhouse),
        "--stacks",
        str(p.stacks),
    )
    assert done.returncode == 1
    assert_one_error_line(done.stderr, "does not match", "1 difference(s)")
    table_row = next(line for line in done.stderr.splitlines() if "packaging" in line)
    assert "(absent)" in table_row and "24.2" in table_row
    assert f"the image is kept as {p.name}:unverified for inspection" in done.stderr
    with pytest.raises(ImageNotFound):
        docker_client.images.get(p.resolved("production").image_ref)
    docker_client.images.remove(f"{p.name}:unverified")


def test_push_records_the_digest_and_pulls_back_by_digest(project, wheelhouse, docker_client):
    p = project()
    env = p.resolved("production")
    done = run_cli(*build_args(p, "production", wheelhouse, "--push"))
    assert done.returncode == 0, done.stderr
    ref, pushed = done.stdout.splitlines()
    assert ref == env.image_ref
    repository, _, digest = pushed.partition("@")
    assert repository == env.image_repository and digest.startswith("sha256:")
    config = yaml.safe_load((p.stacks / "Pulumi.production.yaml").read_text())["config"]
    assert config["envparity:images"] == [f"{env.image_ref}@{digest}"]
    built_id = docker_client.images.get(env.image_ref).id
    docker_client.images.remove(env.image_ref)
    pulled = docker_client.images.pull(f"{env.image_repository}@{digest}")
    assert pulled.id == built_id


def test_registry_unreachable_is_one_line(project, wheelhouse):
    p = project(registry="127.0.0.1:5999")
    done = run_cli(*build_args(p, "production", wheelhouse, "--push"))
    assert done.returncode == 1
    assert_one_error_line(done.stderr, "registry 127.0.0.1:5999 unreachable")


def test_missing_base_image_is_one_line(project, wheelhouse):
    p = project()
    done = run_cli(
        "build",
        str(p.spec),
        "--stage",
        "production",
        "--base-image",
        "envparity-test/no-such-base:1",
        "--wheelhouse",
        str(wheelhouse),
    )
    assert done.returncode == 1
    assert_one_error_line(
        done.stderr, "base image envparity-test/no-such-base:1 is not on the engine"
    )


def test_wheelhouse_without_a_locked_wheel_is_one_line(project, wheelhouse, tmp_path):
    p = project()
    partial = tmp_path / "partial"
    partial.mkdir()
    six = next(wheelhouse.glob("six-1.16.0-*.whl"))
    (partial / six.name).write_bytes(six.read_bytes())
    done = run_cli(
        "build", str(p.spec), "--stage", "production", *OFFLINE, "--wheelhouse", str(partial)
    )
    assert done.returncode == 1
    # The testing lock's idna is needed too: one context serves every stage.
    assert_one_error_line(done.stderr, "no file for idna==3.10")
    # A tampered wheel (same name, other bytes) does not pass the hash check either.
    (partial / six.name).write_bytes(six.read_bytes() + b"\0")
    done = run_cli(
        "build", str(p.spec), "--stage", "production", *OFFLINE, "--wheelhouse", str(partial)
    )
    assert_one_error_line(done.stderr, "no file for six==1.16.0")


def test_engine_unreachable_is_one_line(project):
    p = project()
    done = run_cli(
        "build", str(p.spec), "--stage", "production", env={"DOCKER_HOST": "tcp://127.0.0.1:1"}
    )
    assert done.returncode == 1
    assert_one_error_line(done.stderr, "cannot reach the Docker engine at tcp://127.0.0.1:1")
    assert done.stdout == ""


def test_push_denied_is_one_line(project, wheelhouse, auth_registry):
    p = project(registry=auth_registry)
    done = run_cli(*build_args(p, "production", wheelhouse, "--push"))
    assert done.returncode == 1
    assert_one_error_line(
        done.stderr,
        f"push of {p.resolved('production').image_ref} denied",
        f"docker login {auth_registry}",
    )
