"""The kubernetes target against a fake API server, for what a real one cannot be made to do:
429 storms, hangs, a page that fails halfway; and the failures that need no server at all.
Everything a real API server can show runs against it in tests/cluster/."""

from __future__ import annotations

import pytest
import yaml

from envparity.adapters.collectors import kubernetes as kube_collector
from envparity.core.names import k8s_labels
from envparity.flows.drift_check import expected_node_pool
from tests.drift.conftest import gpu_spec
from tests.drift.fake_kube import FakeKube
from tests.drift.kube_objects import add_deployment, add_node, api, drift_json

DIGEST = "sha256:" + "ab" * 32


@pytest.fixture
def fake(tmp_path, monkeypatch):
    server = FakeKube().start()
    monkeypatch.setenv("KUBECONFIG", str(server.kubeconfig(tmp_path / "kubeconfig")))
    yield server
    server.stop()


@pytest.fixture
def setup(tmp_path, write_spec, resolved):
    """The spec file, its resolved production stage, and a stacks dir with the promoted digest."""
    path = write_spec(gpu_spec())
    _, env = resolved(gpu_spec(), "production")
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    image = f"registry.example/production/demo:{env.image_tag}@{DIGEST}"
    (stacks / "Pulumi.production.yaml").write_text(
        yaml.safe_dump({"config": {"envparity:images": [image]}})
    )
    return path, env, stacks, image


def test_one_throttled_answer_is_retried(fake, setup, cli):
    path, env, stacks, image = setup
    add_deployment(env, image)
    add_node(env, "gpu-1")
    fake.faults = [429]
    run = drift_json(cli, path, stacks)
    assert run.code == 0, run.stdout
    gets = [p for m, p, _ in fake.requests if m == "GET"]
    assert len(gets) == 3  # the deployments and nodes lists, and one of them again


def test_persistent_throttling_is_exit_3_with_what_was_checked(fake, setup, cli):
    path, env, stacks, image = setup
    add_deployment(env, image)
    add_node(env, "gpu-1")
    fake.faults = [429] * 20
    run = drift_json(cli, path, stacks)
    assert run.code == 3
    result = run.json()["results"][0]
    assert result["status"] == "unchecked"
    reason = (
        "the API server answered 429 Too Many Requests (after 3 attempt(s)); "
        "read 0 object(s) before that"
    )
    assert [(u["object"], u["reason"]) for u in result["unchecked"]] == [
        ("deployments", reason),
        ("nodes", reason),
    ]
    assert fake.lists("/apis/apps/v1/deployments") == 3 and fake.lists("/api/v1/nodes") == 3


def test_a_hanging_server_times_out(fake, setup, cli):
    path, _, stacks, _ = setup
    fake.faults = [5.0, 5.0, 5.0, 5.0]
    run = drift_json(cli, path, stacks, "--timeout", "1")
    assert run.code == 3
    gaps = [(u["object"], u["reason"]) for u in run.json()["results"][0]["unchecked"]]
    reason = (
        "cannot reach the API server: ReadTimeoutError (after 1 attempt(s)); "
        "read 0 object(s) before that"
    )
    assert gaps == [("deployments", reason), ("nodes", reason)]
    assert len([m for m, _, _ in fake.requests if m == "GET"]) == 2  # no retry past the deadline


def test_unreachable_api_server_is_exit_3(setup, cli, tmp_path, monkeypatch):
    path, _, stacks, _ = setup
    server = FakeKube()  # bound, never served: then closed, so the port refuses connections
    config = server.kubeconfig(tmp_path / "kubeconfig")
    server.server.server_close()
    monkeypatch.setenv("KUBECONFIG", str(config))
    run = cli(path, "--stage", "production", "--target", "kubernetes", "--stacks", stacks)
    assert run.code == 3
    assert "cannot reach the API server" in run.stdout


def test_missing_kubeconfig_context_is_exit_3(setup, cli, tmp_path, monkeypatch):
    path, _, stacks, _ = setup
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    run = cli(path, "--stage", "production", "--target", "kubernetes", "--stacks", stacks, "--json")
    assert run.code == 3
    assert run.json()["results"][0]["unchecked"][0]["object"] == "kubeconfig"


def test_half_answered_paging_is_unchecked_not_missing(fake, resolved):
    """The first page arrives, the next ones fail: nothing is reported missing, exit 3."""
    from kubernetes import client

    from tests.drift.conftest import base_spec

    _, env = resolved(base_spec(), "local")
    with api() as c:
        for index in range(5):
            body = {
                "metadata": {
                    "name": f"demo-{index}",
                    "labels": k8s_labels(env),
                },
                "spec": {
                    "selector": {"matchLabels": {"app.kubernetes.io/name": "demo"}},
                    "template": {"spec": {"containers": [{"name": "demo", "image": "demo"}]}},
                },
            }
            client.AppsV1Api(c).create_namespaced_deployment(f"ns{index}", body)
    fake.faults = [0, 500, 500, 500]
    observation = kube_collector.collect(env, None, page_size=2)
    assert observation.facts.deployments is None
    [gap] = observation.unchecked
    assert "500" in gap.reason and "read 2 object(s) before that" in gap.reason


def test_a_batch_command_is_checked_as_its_job(fake, tmp_path, write_spec, resolved, cli):
    """No run.port: the stacks deploy a Job, and drift reads that Job (its pod template)."""
    from kubernetes import client

    spec = gpu_spec()
    del spec["run"]["port"]
    path = write_spec(spec)
    _, env = resolved(spec, "production")
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    image = f"registry.example/production/demo:{env.image_tag}@{DIGEST}"
    (stacks / "Pulumi.production.yaml").write_text(
        yaml.safe_dump({"config": {"envparity:images": [image]}})
    )
    pod = {
        "nodeSelector": dict(expected_node_pool(env).labels),
        "containers": [
            {"name": env.name, "image": image, "resources": {"limits": {"nvidia.com/gpu": "1"}}}
        ],
    }
    job = {
        "metadata": {
            "name": env.name,
            "labels": k8s_labels(env),
            "annotations": {"envparity.io/fingerprint": env.fingerprint},
        },
        "spec": {"parallelism": env.replicas, "template": {"spec": pod}},
    }
    with api() as c:
        client.BatchV1Api(c).create_namespaced_job(env.name, job)
    add_node(env, "gpu-1")
    run = drift_json(cli, path, stacks)
    assert run.code == 0, run.stdout
    checks = {(c["object"], c["field"]) for c in run.json()["results"][0]["checks"]}
    assert ("job demo/demo", "image digest") in checks
