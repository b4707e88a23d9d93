"""The aws target against moto in server mode on 127.0.0.1 (EKS node groups, ECR images)."""

from __future__ import annotations

import json
import time
import urllib.request

import boto3
import pytest
import yaml

from envparity.adapters.collectors import aws as aws_collector
from envparity.flows.drift_check import expected_node_pool
from tests.drift.conftest import aws_error_endpoint, gpu_spec

pytestmark = pytest.mark.aws
CLUSTER = "envparity-production"
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": "sha256:" + "1" * 64,
            "size": 2,
        },
        "layers": [],
    }
)


@pytest.fixture
def aws(moto_url, monkeypatch):
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"))
    for key, value in {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    eks = boto3.client("eks", region_name="us-east-1")
    eks.create_cluster(
        name=CLUSTER,
        roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={"subnetIds": ["subnet-1"]},
    )
    return eks, boto3.client("ecr", region_name="us-east-1")


@pytest.fixture
def setup(tmp_path, write_spec, resolved):
    path = write_spec(gpu_spec())
    _, env = resolved(gpu_spec(), "production")
    return path, env, tmp_path / "stacks"


def add_group(
    eks,
    env,
    name,
    *,
    instance="p5.48xlarge",
    ami="AL2023_x86_64_NVIDIA",
    low=1,
    high=2,
    fingerprint=None,
    env_name=None,
):
    pool = expected_node_pool(env)
    eks.create_nodegroup(
        clusterName=CLUSTER,
        nodegroupName=name,
        nodeRole="arn:aws:iam::123456789012:role/node",
        subnets=["subnet-1"],
        instanceTypes=[instance],
        amiType=ami,
        scalingConfig={"minSize": low, "maxSize": high, "desiredSize": low},
        labels=dict(pool.labels),
        tags={
            "envparity.io/name": env_name or env.name,
            "envparity.io/stage": env.stage,
            "envparity.io/fingerprint": fingerprint or env.fingerprint,
        },
    )


def push(ecr, env, stacks=None) -> str:
    ecr.create_repository(repositoryName=f"production/{env.name}")
    digest = ecr.put_image(
        repositoryName=f"production/{env.name}", imageManifest=MANIFEST, imageTag=env.image_tag
    )["image"]["imageId"]["imageDigest"]
    if stacks is not None:
        stacks.mkdir(exist_ok=True)
        registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
        ref = f"{registry}/production/{env.name}:{env.image_tag}@{digest}"
        (stacks / "Pulumi.production.yaml").write_text(
            yaml.safe_dump({"config": {"envparity:images": [ref]}})
        )
    return digest


def run_json(cli, path, stacks, *extra):
    return cli(
        path, "--stage", "production", "--target", "aws", "--stacks", stacks, "--json", *extra
    )


def test_in_sync(aws, setup, cli):
    eks, ecr = aws
    path, env, stacks = setup
    add_group(eks, env, "demo-production")
    add_group(eks, env, "other-production", instance="g5.xlarge", env_name="other")  # not ours
    push(ecr, env, stacks)
    run = run_json(cli, path, stacks)
    assert run.code == 0, run.stdout
    checks = {(c["object"], c["field"]) for c in run.json()["results"][0]["checks"]}
    assert (f"nodegroup {CLUSTER}/demo-production", "instanceTypes") in checks
    assert (f"ecr production/demo:{env.image_tag}", "digest") in checks


def test_drifted_node_group_and_missing_image(aws, setup, cli):
    eks, ecr = aws
    path, env, stacks = setup
    add_group(
        eks,
        env,
        "demo-production",
        instance="p4de.24xlarge",
        ami="AL2_x86_64_GPU",
        low=0,
        high=9,
        fingerprint="f" * 64,
    )
    ecr.create_repository(repositoryName="production/demo")
    run = run_json(cli, path, stacks)
    assert run.code == 2
    found = {(f["object"], f["field"]): f for f in run.json()["results"][0]["findings"]}
    group = f"nodegroup {CLUSTER}/demo-production"
    assert found[(group, "instanceTypes")]["actual"] == ["p4de.24xlarge"]
    assert found[(group, "amiType")]["actual"] == "AL2_x86_64_GPU"
    assert found[(group, "amiType support")]["severity"] == "warning"
    assert found[(group, "scalingConfig.maxSize")] | {"hint": ""} == {
        "target": "aws",
        "object": group,
        "field": "scalingConfig.maxSize",
        "expected": 2,
        "actual": 9,
        "severity": "drift",
        "hint": "",
    }
    assert found[(group, "envparity.io/fingerprint")]["actual"] == "f" * 64
    assert found[(f"ecr production/demo:{env.image_tag}", "present")]["actual"] == "none"


def test_missing_node_group_and_repository(aws, setup, cli):
    path, env, stacks = setup
    run = run_json(cli, path, stacks)
    assert run.code == 2
    assert {(f["object"], f["field"]) for f in run.json()["results"][0]["findings"]} == {
        ("node groups", "present"),
        (f"ecr production/demo:{env.image_tag}", "repository"),
    }


def test_listing_is_paged_and_finds_every_group(aws, setup):
    eks, ecr = aws
    _, env, _ = setup
    for index in range(5):
        add_group(eks, env, f"demo-production-{index}")
    push(ecr, env)
    requested = []  # moto honours maxResults: five groups at two a page are three list calls

    class Counting(boto3.session.Session):
        def client(self, *args, **kwargs):
            client = super().client(*args, **kwargs)
            client.meta.events.register(
                "provide-client-params.eks.ListNodegroups",
                lambda params, **_: requested.append(params.get("maxResults")),
            )
            return client

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(boto3.session, "Session", Counting)
        observation = aws_collector.collect(env, "production/demo", page_size=2)
    assert [g.name for g in observation.facts.node_groups] == [
        f"demo-production-{i}" for i in range(5)
    ]
    assert requested == [2, 2, 2]
    assert observation.unchecked == ()


def test_unreachable_endpoint_is_exit_3(setup, cli, monkeypatch):
    path, _, stacks = setup
    import socket

    with socket.socket() as s:  # a loopback port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for key, value in {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(key, value)
    started = time.monotonic()
    run = run_json(cli, path, stacks, "--timeout", "2")
    assert time.monotonic() - started < 30
    assert run.code == 3
    unchecked = run.json()["results"][0]["unchecked"]
    assert {u["object"] for u in unchecked} == {"EKS node groups", "ECR production/demo"}
    assert all("cannot reach AWS" in u["reason"] for u in unchecked)


def test_throttled_api_is_exit_3_after_bounded_retries(setup, cli, monkeypatch):
    """A loopback endpoint that answers every call as AWS does when throttling."""
    server = aws_error_endpoint(monkeypatch, 429, "ThrottlingException", "Rate exceeded")
    path, _, stacks = setup
    try:
        started = time.monotonic()
        run = run_json(cli, path, stacks)
        assert time.monotonic() - started < 30
    finally:
        server.shutdown()
        server.server_close()
    assert run.code == 3
    unchecked = run.json()["results"][0]["unchecked"]
    assert all("still throttled after retries" in u["reason"] for u in unchecked), unchecked
    assert len(server.calls) == 6  # 3 attempts each for EKS and ECR: bounded
