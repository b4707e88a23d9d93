"""Fixtures for the tests against the real control plane of `.ci/services up`: etcd and
kube-apiserver on loopback (TLS, RBAC, Pod Security `restricted` by default) and
kube-controller-manager; no kubelet, so nodes are Node objects the tests create."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from tests.drift.conftest import cli, resolved, write_spec  # noqa: F401 (the drift fixtures)

CACHE_DIR = Path(os.environ.get("ENVPARITY_CACHE_DIR", "/var/cache/envparity"))
SERVICES_HINT = (
    "start the control plane with `bash .ci/services up` (it builds etcd, kube-apiserver, "
    "kube-controller-manager and Pulumi with `.ci/tools ensure` first)"
)


def service_fact(name: str, default: str) -> str:
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


KUBECONFIG = service_fact("ENVPARITY_TEST_KUBECONFIG", str(CACHE_DIR / "kube" / "admin.kubeconfig"))


def suffix() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def admin():
    """cluster-admin's ApiClient; without a ready API server the k8s tests fail (never skip)."""
    from kubernetes import client, config

    if not Path(KUBECONFIG).is_file():
        pytest.fail(f"no kubeconfig at {KUBECONFIG} -- {SERVICES_HINT}", pytrace=False)
    api = config.new_client_from_config(config_file=KUBECONFIG)
    try:
        client.VersionApi(api).get_code()
    except Exception as exc:  # whatever fails here, the API server is not usable
        pytest.fail(f"the API server of {KUBECONFIG} does not answer ({exc}) -- {SERVICES_HINT}")
    yield api
    api.close()


@pytest.fixture
def kubeconfig(admin, monkeypatch) -> str:
    """KUBECONFIG of the CLI and the collector: cluster-admin of the test control plane."""
    monkeypatch.setenv("KUBECONFIG", KUBECONFIG)
    return KUBECONFIG


@pytest.fixture
def cleanup(admin):
    """Deletes what a test registered, cluster-scoped objects included, after it."""
    from kubernetes import client

    undo: list = []
    yield undo.append
    core, rbac = client.CoreV1Api(admin), client.RbacAuthorizationV1Api(admin)
    deleters = {
        "namespace": core.delete_namespace,
        "node": core.delete_node,
        "clusterrole": rbac.delete_cluster_role,
        "clusterrolebinding": rbac.delete_cluster_role_binding,
    }
    for kind, name in reversed(undo):
        try:
            deleters[kind](name)
        except client.ApiException as exc:
            if exc.status != 404:
                raise
