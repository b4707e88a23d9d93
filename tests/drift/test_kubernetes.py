"""The kubernetes target through the real `kubernetes` client against a fake API server."""

from __future__ import annotations

import os
import time

import pytest
import yaml

from envparity.drift.checker import expected_node_pool
from envparity.drift.collectors import kubernetes as kube_collector
from envparity.names import k8s_labels
from tests.drift.conftest import gpu_spec
from tests.drift.fake_kube import FakeKube

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


def api(fake):
    from kubernetes import config

    return config.new_client_from_config(config_file=os.environ["KUBECONFIG"])


def add_deployment(fake, env, image, replicas=None, gpus="1", selector=None, annotations=None):
    from kubernetes import client

    pool = expected_node_pool(env)
    body = {
        "metadata": {
            "name": env.name,
            "labels": k8s_labels(env),
            "annotations": annotations or {"envparity.io/fingerprint": env.fingerprint},
        },
        "spec": {
            "replicas": replicas if replicas is not None else env.replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/name": env.name}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": env.name}},
                "spec": {
                    "nodeSelector": selector or dict(pool.labels),
                    "containers": [
                        {
                            "name": env.name,
                            "image": image,
                            "resources": {"limits": {"nvidia.com/gpu": gpus}},
                        }
                    ],
                },
            },
        },
    }
    with api(fake) as c:
        client.AppsV1Api(c).create_namespaced_deployment(env.name, body)


def add_node(
    fake, env, name, product="NVIDIA-H100-80GB-HBM3", driver=("550", "54", "15"), deprecated=False
):
    from kubernetes import client

    labels = dict(expected_node_pool(env).labels)
    labels["nvidia.com/gpu.product"] = product
    keys = (
        (
            "nvidia.com/cuda.driver.major",
            "nvidia.com/cuda.driver.minor",
            "nvidia.com/cuda.driver.rev",
        )
        if deprecated
        else (
            "nvidia.com/cuda.driver-version.major",
            "nvidia.com/cuda.driver-version.minor",
            "nvidia.com/cuda.driver-version.revision",
        )
    )
    labels.update(zip(keys, driver, strict=True))
    with api(fake) as c:
        client.CoreV1Api(c).create_node({"metadata": {"name": name, "labels": labels}})


def drift_json(cli, path, stacks, *extra):
    return cli(
        path,
        "--stage",
        "production",
        "--target",
        "kubernetes",
        "--stacks",
        stacks,
        "--json",
        *extra,
    )


def test_in_sync(fake, setup, cli):
    path, env, stacks, image = setup
    add_deployment(fake, env, image)
    add_node(fake, env, "gpu-1")
    add_node(fake, env, "gpu-2", deprecated=True)  # old GFD labels are read as a fallback
    run = drift_json(cli, path, stacks)
    assert run.code == 0, run.stdout
    checks = {(c["object"], c["field"]) for c in run.json()["results"][0]["checks"]}
    assert ("deployment demo/demo", "image digest") in checks
    assert ("node gpu-2", "driver") in checks


def test_drift_in_deployment_and_nodes(fake, setup, cli):
    path, env, stacks, _ = setup
    other = f"registry.example/production/demo:{env.image_tag}@sha256:{'cd' * 32}"
    add_deployment(
        fake,
        env,
        other,
        replicas=5,
        gpus="2",
        selector={"kubernetes.io/os": "linux"},
        annotations={"envparity.io/fingerprint": "0" * 64},
    )
    add_node(fake, env, "gpu-old", driver=("535", "104", "05"))
    add_node(fake, env, "gpu-l4", product="NVIDIA-L4")
    run = drift_json(cli, path, stacks)
    assert run.code == 2
    found = {(f["object"], f["field"]): f for f in run.json()["results"][0]["findings"]}
    dep = "deployment demo/demo"
    assert found[(dep, "replicas")]["expected"] == 2 and found[(dep, "replicas")]["actual"] == 5
    assert found[(dep, "image digest")]["actual"] == f"sha256:{'cd' * 32}"
    assert found[(dep, "envparity.io/fingerprint")]["actual"] == "0" * 64
    assert found[(dep, "limits.nvidia.com/gpu")]["actual"] == "2"
    assert found[(dep, "nodeSelector")]["actual"] == {"kubernetes.io/os": "linux"}
    assert found[("node gpu-old", "driver")]["actual"] == "535.104.05"
    assert found[("node gpu-l4", "gpu")]["actual"] == "L4"


def test_missing_deployment_and_nodes_are_drift(fake, setup, cli):
    path, _, stacks, _ = setup
    run = drift_json(cli, path, stacks)
    assert run.code == 2
    assert {(f["object"], f["field"]) for f in run.json()["results"][0]["findings"]} == {
        ("deployments", "present"),
        ("nodes", "GPU nodes"),
    }


def test_lists_are_paged(fake, setup):
    _, env, _, image = setup
    add_deployment(fake, env, image)
    for index in range(7):
        add_node(fake, env, f"gpu-{index}")
    observation = kube_collector.collect(env, expected_node_pool(env), page_size=2)
    assert len(observation.facts.nodes) == 7
    assert fake.lists("/api/v1/nodes") == 4  # 2 + 2 + 2 + 1
    queries = [q for m, p, q in fake.requests if m == "GET" and p == "/api/v1/nodes"]
    assert all(q["limit"] == "2" for q in queries) and "continue" in queries[-1]
    assert queries[0]["labelSelector"] == (
        "envparity.io/environment=demo,envparity.io/gpu-product=H100-80GB,envparity.io/stage=production"
    )


def test_one_throttled_answer_is_retried(fake, setup, cli):
    path, env, stacks, image = setup
    add_deployment(fake, env, image)
    add_node(fake, env, "gpu-1")
    fake.faults = [429]
    assert drift_json(cli, path, stacks).code == 0


def test_persistent_throttling_is_exit_3_with_what_was_checked(fake, setup, cli):
    path, env, stacks, image = setup
    add_deployment(fake, env, image)
    add_node(fake, env, "gpu-1")
    fake.faults = [429] * 20
    started = time.monotonic()
    run = drift_json(cli, path, stacks)
    assert time.monotonic() - started < 10
    assert run.code == 3
    result = run.json()["results"][0]
    assert result["status"] == "unchecked"
    assert any("429" in u["reason"] for u in result["unchecked"])


def test_denied_is_exit_3_with_a_hint(fake, setup, cli):
    path, _, stacks, _ = setup
    fake.faults = [403, 403, 403]  # cluster-wide list, its namespaced fallback, and the nodes
    run = drift_json(cli, path, stacks)
    assert run.code == 3
    reasons = run.json()["results"][0]["unchecked"]
    assert any("403" in u["reason"] and "read access" in u["hint"] for u in reasons)


def test_a_hanging_server_times_out(fake, setup, cli):
    path, _, stacks, _ = setup
    fake.faults = [5.0, 5.0, 5.0, 5.0]
    started = time.monotonic()
    run = drift_json(cli, path, stacks, "--timeout", "1")
    assert run.code == 3
    assert time.monotonic() - started < 5


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


def test_namespaced_rbac_falls_back_to_the_envs_namespace(fake, setup, cli):
    """The DriftJob's Role may list Deployments only in the environment's own namespace."""
    path, env, stacks, image = setup
    add_deployment(fake, env, image)
    add_node(fake, env, "gpu-1")
    fake.forbidden.add("/apis/apps/v1/deployments")
    run = drift_json(cli, path, stacks)
    assert run.code == 0, run.stdout
    paths = [p for m, p, _ in fake.requests if m == "GET"]
    assert "/apis/apps/v1/namespaces/demo/deployments" in paths


def test_half_answered_paging_is_unchecked_not_missing(fake, resolved):
    """The first page arrives, the next ones fail: nothing is reported missing, exit 3."""
    from kubernetes import client

    from tests.drift.conftest import base_spec

    _, env = resolved(base_spec(), "local")
    with api(fake) as c:
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
    with api(fake) as c:
        client.BatchV1Api(c).create_namespaced_job(env.name, job)
    add_node(fake, env, "gpu-1")
    run = drift_json(cli, path, stacks)
    assert run.code == 0, run.stdout
    checks = {(c["object"], c["field"]) for c in run.json()["results"][0]["checks"]}
    assert ("job demo/demo", "image digest") in checks
