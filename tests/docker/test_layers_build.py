"""Dependency layers on the real engine: a light pin change rebuilds only the light layer,
the CLI says which layers were reused, and verify still checks every locked distribution."""

from __future__ import annotations

import re

import pytest

from envparity.adapters.docker_build import build, verify
from envparity.core.image_check import Difference
from envparity.core.lockfile import SIZE_KEY
from envparity.core.render.artifacts import render_env
from tests.docker.conftest import BASE_IMAGE, run_cli
from tests.docker.test_docker_build import build_args

pytestmark = pytest.mark.docker

PACKAGES = ("packaging==24.2", "six==1.16.0")


def make_heavy(project, name: str = "packaging") -> None:
    """Record `name` as a 100 MB wheel in the lock, so the small six lands in its own layer.

    The recorded size is data `envparity lock` writes; the real wheels are a few kB, which
    keeps the builds fast while the grouping is what a big wheel gets.
    """
    lock = project.spec.with_suffix(".lock")
    text = lock.read_text()
    block = re.search(rf"^{name}==.*?^{re.escape(SIZE_KEY)}(\d+)$", text, re.M | re.S)
    start, end = block.span(1)
    lock.write_text(text[:start] + "100000000" + text[end:])


def test_a_light_pin_change_reuses_the_heavy_layer(project, wheelhouse):
    first = project(packages=PACKAGES)
    make_heavy(first)
    files = render_env(first.loaded())
    assert "requirements.1-heavy.lock" in files and "requirements.2-light.lock" in files
    cold = run_cli(*build_args(first, "production", wheelhouse))
    assert cold.returncode == 0, cold.stderr
    assert "dependency layers: none reused; installed 1-heavy (" in cold.stderr
    assert "layer 1-heavy: installed" in cold.stderr  # not a terminal: one line per layer

    # The same name, six moved: packaging's layer comes from the cache, six's is installed.
    changed = project(name=first.name, packages=("packaging==24.2", "six==1.17.0"))
    make_heavy(changed)
    again = run_cli(*build_args(changed, "production", wheelhouse))
    assert again.returncode == 0, again.stderr
    summary = [line for line in again.stderr.splitlines() if line.startswith("dependency layers")]
    assert len(summary) == 1 and summary[0].startswith(
        "dependency layers: reused 1-heavy; installed 2-light ("
    ), again.stderr

    same = run_cli(*build_args(changed, "testing", wheelhouse))
    assert same.returncode == 0, same.stderr
    # The testing target adds its own layer for its extra packages, on top of the shared ones.
    assert "dependency layers: reused 1-heavy, 2-light; installed testing (" in same.stderr


def test_verify_checks_every_locked_distribution_not_only_the_layers(
    project, wheelhouse, docker_client
):
    p = project(packages=PACKAGES)
    make_heavy(p)
    env = p.resolved("production")
    files = render_env(p.loaded())
    # An image whose light layer installs nothing: the shared lock still names six.
    header = files["requirements.2-light.lock"].decode().splitlines()[0]
    tampered = {**files, "requirements.2-light.lock": (header + "\n").encode()}
    built = build(docker_client, env, tampered, wheelhouse=wheelhouse, base_image=BASE_IMAGE)
    assert [(layer.id, layer.reused) for layer in built.layers] == [
        ("1-heavy", False),
        ("2-light", False),
    ]
    assert verify(docker_client, env, files, built.image_id) == [Difference("six", "1.16.0", None)]
