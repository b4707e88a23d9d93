"""The client against the real registries of `.ci/services up`: the TLS registry with htpasswd
(127.0.0.1:5001, its CA in /etc/docker/certs.d), the registry behind a token realm
(127.0.0.1:5002; `pusher` may push `team/*`, `reader` only pull) and the plain one (5000).
Logins go through `docker login` into a temp DOCKER_CONFIG, as a user's would."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import yaml

from envparity.adapters import registry
from envparity.adapters.collectors.kubernetes import _provenance
from envparity.core import ledger
from envparity.core.render.stack_config import render_stack_configs
from tests.docker.conftest import BASE_IMAGE, run_cli
from tests.services.conftest import REGISTRY, TLS_REGISTRY, TOKEN_REGISTRY, docker

pytestmark = pytest.mark.docker


@pytest.fixture
def login(fresh_logins, passwords, tmp_path):
    """`login(host, user)`: `docker login` into this test's DOCKER_CONFIG."""
    config = fresh_logins({})

    def run(host: str, user: str) -> None:
        done = docker(
            "login", host, "--username", user, "--password-stdin",
            input=passwords[user], env={"DOCKER_CONFIG": str(config.parent)}, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        registry._sessions.clear()

    return run


def test_copy_through_htpasswd_tls_and_token_registries(tiny_image, login):
    source_ref = tiny_image()
    source = registry.Repository.parse(source_ref.partition("@")[0])
    digest = source_ref.rpartition("@")[2]
    suffix = uuid.uuid4().hex[:8]
    tls = registry.Repository.parse(f"{TLS_REGISTRY}/team/tiny-{suffix}")
    token = registry.Repository.parse(f"{TOKEN_REGISTRY}/team/tiny-{suffix}")

    with pytest.raises(registry.LoginMissing, match=f"docker login {TLS_REGISTRY}"):
        registry.copy(source, digest, tls, "1")
    with pytest.raises(registry.LoginMissing, match=r"repository:team/tiny-.*:pull,push"):
        registry.copy(source, digest, token, "1")

    login(TLS_REGISTRY, "pusher")
    login(TOKEN_REGISTRY, "pusher")
    assert registry.copy(source, digest, tls, "1").digest == digest  # verified by certs.d CA
    assert registry.copy(source, digest, token, "1").digest == digest
    mounted = registry.Repository.parse(f"{TOKEN_REGISTRY}/team/tiny-{suffix}-mounted")
    assert registry.copy(token, digest, mounted, "1").digest == digest  # same registry: mount
    for repo in (tls, token, mounted):
        manifest = registry.get_manifest(repo, "1")
        assert manifest.digest == digest
        registry.image_config(repo, manifest)  # read and digest-checked
        assert registry.manifest_exists(repo, digest)

    login(TOKEN_REGISTRY, "reader")
    assert registry.get_manifest(token, digest).digest == digest
    with pytest.raises(registry.AuthRefused) as refused:
        registry.copy(token, digest, registry.Repository.parse(f"{token}-x"), "1")
    assert f"registry {TOKEN_REGISTRY} refused the login from" in str(refused.value)
    assert "pull,push" in str(refused.value)


def test_promote_rollback_history_provenance_and_drift_across_logins(project, wheelhouse, login):
    """testing on the plain registry, staging on the TLS one (htpasswd), production behind
    the token realm: the whole workflow through the CLI, with logins from `docker login`."""
    prefix = f"team/reg-{uuid.uuid4().hex[:8]}"
    p = project(packages=("six==1.16.0",), testing_extra=())
    data = yaml.safe_load(p.spec.read_text(encoding="utf-8"))
    data["stages"] = {
        "testing": {"registry": f"{REGISTRY}/{prefix}"},
        "staging": {"registry": f"{TLS_REGISTRY}/{prefix}"},
        "production": {"registry": f"{TOKEN_REGISTRY}/{prefix}"},
    }
    p.spec.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    render_stack_configs([p.loaded()], p.stacks)

    def cli(*args):
        return run_cli(*args[:1], str(p.spec), *args[1:], "--stacks", str(p.stacks))

    built = run_cli(
        "build", str(p.spec), "--stage", "testing", "--base-image", BASE_IMAGE,
        "--wheelhouse", str(wheelhouse), "--stacks", str(p.stacks), "--push",
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    testing = p.resolved("testing")
    digest = ledger.recorded(p.stacks, testing).digest

    refused = cli("promote", "--from", "testing", "--to", "staging")
    assert refused.returncode == 1
    assert f"docker login {TLS_REGISTRY}" in refused.stderr and "Traceback" not in refused.stderr

    login(TLS_REGISTRY, "pusher")
    login(TOKEN_REGISTRY, "pusher")
    for source, target in (("testing", "staging"), ("staging", "production")):
        done = cli("promote", "--from", source, "--to", target)
        assert done.returncode == 0, done.stderr
    production = p.resolved("production")
    assert ledger.recorded(p.stacks, production).digest == digest

    history = cli("history", "--stage", "production", "--json")
    assert history.returncode == 0
    assert json.loads(history.stdout)["history"][0]["digest"] == digest
    back = cli("rollback", "--stage", "production", "--to", digest)
    assert back.returncode == 0, back.stderr  # its existence check logged in as pusher

    for repository in (p.resolved("staging").image_repository, production.image_repository):
        shown = run_cli("provenance", f"{repository}@{digest}", "--json")  # DOCKER_CONFIG: ours
        assert shown.returncode == 0, shown.stderr
        record = json.loads(shown.stdout)
        assert record["subject"][0]["digest"]["sha256"] == production.fingerprint
        found = _provenance(f"{repository}:{production.image_tag}@{digest}", time.monotonic() + 30)
        assert found is not None and found.fingerprint == production.fingerprint
