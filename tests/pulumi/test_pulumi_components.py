"""Components on their own, in Pulumi's documented unit-test style (set_mocks + runtime.test)."""

from __future__ import annotations

import dataclasses

import pulumi
import pytest
from envparity.components.image_repository import ImageRepository, ImageRepositoryArgs
from envparity.components.workload import Workload, WorkloadArgs
from pulumi.runtime import settings

from envparity.core.model import NodeRange
from envparity.core.placement import PlacementError, node_pool_plan
from envparity.core.resolve import resolve, restage
from envparity.core.spec import load_spec
from tests.pulumi.plan_helpers import ROOT


class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        return [f"{args.name}-id", args.inputs]

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


@pytest.fixture
def mocked():
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(Mocks(), project="envparity", stack="staging", preview=False)
    yield
    settings.ROOT.set(None)


def env(name: str = "serve", stage: str = "staging"):
    return resolve(load_spec(ROOT / "envspecs" / f"{name}.yaml"), stage)


@pulumi.runtime.test
def test_workload_outputs_its_namespace(mocked):
    workload = Workload(
        "serve", WorkloadArgs(env(), "reg.example/serve:2.1.0-x@sha256:" + "0" * 64)
    )
    return workload.namespace.apply(lambda namespace: _check(namespace == "serve"))


@pulumi.runtime.test
def test_external_registry_creates_no_repository(mocked):
    resolved = dataclasses.replace(env(), registry="registry.example:5000")
    repository = ImageRepository("serve-image", ImageRepositoryArgs(resolved))
    return repository.repository_url.apply(lambda url: _check(url == "registry.example:5000/serve"))


def _check(ok: bool) -> None:
    assert ok


def test_node_pool_sizes_for_gpus_per_replica():
    # train production: 4 replicas x 8 GPUs on 8-GPU p5.48xlarge -> 4 nodes, within {4, 8}.
    placement = node_pool_plan(env("train", "production"))
    assert (placement.min_size, placement.desired_size, placement.max_size) == (4, 4, 8)
    # serve staging: 2 replicas x 1 GPU on 1-GPU g6.xlarge -> 2 nodes.
    placement = node_pool_plan(env("serve", "staging"))
    assert (placement.desired_size, placement.gpu, placement.ami_type) == (
        2,
        "L4",
        "AL2023_x86_64_NVIDIA",
    )


def test_node_pool_without_node_range_fits_the_replicas():
    resolved = dataclasses.replace(env("serve", "production"), nodes=None, replicas=3)
    placement = node_pool_plan(resolved)
    assert (placement.min_size, placement.desired_size, placement.max_size) == (3, 3, 3)


def test_desired_size_stays_within_the_range():
    resolved = dataclasses.replace(env("serve", "production"), nodes=NodeRange(1, 2), replicas=6)
    assert node_pool_plan(resolved).desired_size == 2


def test_too_many_gpus_per_replica_is_a_placement_error():
    resolved = dataclasses.replace(env("serve", "staging"), gpus_per_replica=4)
    with pytest.raises(PlacementError, match=r"asks 4 GPUs per replica but g6\.xlarge has 1"):
        node_pool_plan(resolved)


def test_unknown_instance_type_is_not_guessed():
    resolved = restage(env("serve", "staging"), instance_type="x9.huge")
    with pytest.raises(PlacementError, match="not known to envparity") as info:
        node_pool_plan(resolved)
    assert info.value.hint


def test_no_instance_type_means_no_node_group():
    assert node_pool_plan(env("serve", "local")) is None
