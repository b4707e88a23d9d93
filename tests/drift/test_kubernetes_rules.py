"""The kubernetes target's gaps: unlabelled nodes, answers that are not JSON, a deadline
passing between pages; each with its exact reason and exit code (fake API server)."""

from __future__ import annotations

from envparity.adapters.collectors import kubernetes as kube_collector
from envparity.flows.drift_check import expected_node_pool
from tests.drift.fake_kube import NOT_JSON
from tests.drift.kube_objects import add_deployment, add_node, api
from tests.drift.test_kubernetes import drift_json, fake, setup

__all__ = ["fake", "setup"]  # fixtures shared with test_kubernetes.py


def unchecked(run) -> list[tuple[str, str]]:
    return [(u["object"], u["reason"]) for u in run.json()["results"][0]["unchecked"]]


def add_bare_node(env, name: str, extra: dict | None = None) -> None:
    """A node of the stage's pool that GPU Feature Discovery never labelled."""
    from kubernetes import client

    labels = {**expected_node_pool(env).labels, **(extra or {})}
    with api() as c:
        client.CoreV1Api(c).create_node({"metadata": {"name": name, "labels": labels}})


def test_nodes_without_gfd_labels_could_not_be_checked(fake, setup, cli):
    path, env, stacks, image = setup
    add_deployment(env, image)
    add_node(env, "gpu-1")
    add_bare_node(env, "bare-1")
    add_bare_node(env, "bare-2", {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"})
    run = drift_json(cli, path, stacks)
    assert run.code == 3, run.stdout
    reason = (
        "no GPU Feature Discovery labels (nvidia.com/gpu.product, nvidia.com/cuda.driver-version.*)"
    )
    assert unchecked(run) == [("node bare-1", reason), ("node bare-2", reason)]
    [gap] = run.json()["results"][0]["unchecked"][:1]
    assert gap["hint"] == "install NVIDIA GPU Feature Discovery (the GPU operator) on the cluster"
    checks = {(c["object"], c["field"]) for c in run.json()["results"][0]["checks"]}
    assert ("node gpu-1", "driver") in checks and ("node bare-2", "gpu") not in checks


def test_an_answer_that_is_not_json_is_unchecked(fake, setup, cli):
    path, env, stacks, image = setup
    add_deployment(env, image)
    add_node(env, "gpu-1")
    fake.faults = [NOT_JSON, NOT_JSON]  # the first request of each of the two lists
    run = drift_json(cli, path, stacks)
    assert run.code == 3, run.stdout
    gaps = unchecked(run)
    assert [what for what, _ in gaps] == ["deployments", "nodes"]
    assert all(
        reason.startswith("the API server sent something that is not JSON: ") for _, reason in gaps
    ), gaps
    assert run.json()["results"][0]["findings"] == []  # nothing reported missing


def test_a_deadline_passing_between_pages_is_unchecked(fake, setup):
    """Each part of a page arrives within the read timeout, but the page ends past the deadline:
    the next page is not requested and what was read is not reported as everything."""
    _, env, _, image = setup
    add_deployment(env, image)
    for index in range(3):
        add_node(env, f"gpu-{index}")
    fake.trickle = (6, 0.45)  # the first page of each list takes 2.25 s, the deadline is 2 s
    observation = kube_collector.collect(env, expected_node_pool(env), timeout=2.0, page_size=1)
    assert observation.facts.nodes is None
    assert [(u.object, u.reason) for u in observation.unchecked] == [
        ("nodes", "timed out after reading 1 object(s)")
    ]
    assert fake.lists("/api/v1/nodes") == 1  # gave up before asking for page two
    assert len(observation.facts.deployments) == 1  # one page, no continue: complete
