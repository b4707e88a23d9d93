"""The aws target's rules and failure branches, each with its exact finding and exit code.

Drifted state is built in moto (server mode on 127.0.0.1); answers moto cannot give
(access denied) come from a loopback endpoint speaking the AWS JSON error protocol.
"""

from __future__ import annotations

import pytest
import yaml

from envparity.adapters.collectors import aws as aws_collector
from envparity.core.drift import engine
from envparity.core.drift.engine import Expectations
from envparity.core.drift.findings import exit_code
from envparity.flows.drift_check import expected_node_pool
from tests.drift.conftest import aws_error_endpoint, gpu_spec
from tests.drift.test_aws import CLUSTER, add_group, aws, push, run_json

__all__ = ["aws"]  # a fixture shared with test_aws.py
pytestmark = pytest.mark.aws


def findings(run) -> dict:
    return {(f["object"], f["field"]): f for f in run.json()["results"][0]["findings"]}


def exact(finding: dict) -> tuple:
    return finding["object"], finding["field"], finding["expected"], finding["actual"]


def unchecked(run) -> list[tuple[str, str, str]]:
    return sorted(
        (u["object"], u["reason"], u["hint"]) for u in run.json()["results"][0]["unchecked"]
    )


def spec_with(write_spec, resolved, stage: str = "production", **stage_fields):
    data = gpu_spec()
    data["stages"][stage] = {**data["stages"].get(stage, {}), **stage_fields}
    data["stages"][stage] = {k: v for k, v in data["stages"][stage].items() if v is not None}
    path = write_spec(data)
    _, env = resolved(data, stage)
    return path, env


def record(stacks, env, digest: str, stage: str = "production") -> None:
    """What `envparity build --push` records in the stage's stack config."""
    stacks.mkdir(exist_ok=True)
    ref = (
        f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{stage}/{env.name}:{env.image_tag}@{digest}"
    )
    (stacks / f"Pulumi.{stage}.yaml").write_text(
        yaml.safe_dump({"config": {"envparity:images": [ref]}})
    )


def test_ecr_tag_pointing_at_another_digest_is_drift(aws, tmp_path, write_spec, resolved, cli):
    eks, ecr = aws
    path, env = spec_with(write_spec, resolved)
    stacks = tmp_path / "stacks"
    add_group(eks, env, "demo-production")
    pushed = push(ecr, env)
    promoted = "sha256:" + "9" * 64
    record(stacks, env, promoted)
    run = run_json(cli, path, stacks)
    assert run.code == 2, run.stdout
    [finding] = run.json()["results"][0]["findings"]
    assert exact(finding) == (f"ecr production/demo:{env.image_tag}", "digest", promoted, pushed)
    assert finding["hint"].startswith("the tag points at another image than the promoted one")


def test_node_group_label_drift_is_reported(aws, tmp_path, write_spec, resolved, cli):
    eks, ecr = aws
    path, env = spec_with(write_spec, resolved)
    stacks = tmp_path / "stacks"
    add_group(eks, env, "demo-production")
    eks.update_nodegroup_config(
        clusterName=CLUSTER,
        nodegroupName="demo-production",
        labels={"addOrUpdateLabels": {"envparity.io/gpu-product": "A100-80GB"}},
    )
    push(ecr, env, stacks)
    run = run_json(cli, path, stacks)
    assert run.code == 2, run.stdout
    want = dict(expected_node_pool(env).labels)
    assert [exact(f) for f in run.json()["results"][0]["findings"]] == [
        (
            f"nodegroup {CLUSTER}/demo-production",
            "labels",
            want,
            {**want, "envparity.io/gpu-product": "A100-80GB"},
        )
    ]


def test_the_stages_cluster_is_the_only_one_listed(aws, tmp_path, write_spec, resolved, cli):
    """A drifted group of the same env and stage in another cluster is not this stage's."""
    eks, ecr = aws
    path, env = spec_with(write_spec, resolved, cluster="team-gpu")
    stacks = tmp_path / "stacks"
    eks.create_cluster(
        name="team-gpu",
        roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={"subnetIds": ["subnet-1"]},
    )
    pool = expected_node_pool(env)
    eks.create_nodegroup(
        clusterName="team-gpu",
        nodegroupName="demo-production",
        nodeRole="arn:aws:iam::123456789012:role/node",
        subnets=["subnet-1"],
        instanceTypes=[pool.instance_type],
        amiType=pool.ami_type,
        scalingConfig={"minSize": pool.min_size, "maxSize": pool.max_size, "desiredSize": 1},
        labels=dict(pool.labels),
        tags={
            "envparity.io/name": env.name,
            "envparity.io/stage": env.stage,
            "envparity.io/fingerprint": env.fingerprint,
        },
    )
    add_group(eks, env, "demo-production-old", instance="g5.xlarge")  # in envparity-production
    push(ecr, env, stacks)
    observation = aws_collector.collect(env, "production/demo")
    assert observation.facts.clusters == ("team-gpu",)
    run = run_json(cli, path, stacks)
    assert run.code == 0, run.stdout
    checks = {(c["object"], c["field"]) for c in run.json()["results"][0]["checks"]}
    assert ("nodegroup team-gpu/demo-production", "instanceTypes") in checks


def test_a_node_group_for_a_stage_without_instance_type_is_drift(
    aws, tmp_path, write_spec, resolved, cli
):
    eks, _ = aws
    path, env = spec_with(write_spec, resolved, stage="staging", region="us-east-1")
    assert env.instance_type is None
    eks.create_nodegroup(
        clusterName=CLUSTER,
        nodegroupName="demo-staging",
        nodeRole="arn:aws:iam::123456789012:role/node",
        subnets=["subnet-1"],
        scalingConfig={"minSize": 1, "maxSize": 1, "desiredSize": 1},
        tags={"envparity.io/name": env.name, "envparity.io/stage": "staging"},
    )
    run = cli(path, "--stage", "staging", "--target", "aws", "--stacks", tmp_path, "--json")
    assert run.code == 2, run.stdout
    found = findings(run)
    assert exact(found[(f"nodegroup {CLUSTER}/demo-staging", "present")]) == (
        f"nodegroup {CLUSTER}/demo-staging",
        "present",
        "none (the stage names no instance_type)",
        "demo-staging",
    )
    assert found[(f"nodegroup {CLUSTER}/demo-staging", "present")]["hint"] == (
        "delete it or set stages.staging.instance_type"
    )


@pytest.fixture
def no_aws_settings(monkeypatch, tmp_path):
    """An environment with no AWS credentials or region anywhere the SDK looks (no IMDS)."""
    for key in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_no_credentials_is_exit_3_with_a_hint(
    moto_url, no_aws_settings, monkeypatch, tmp_path, write_spec, resolved, cli
):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    path, _ = spec_with(write_spec, resolved)
    run = run_json(cli, path, tmp_path)
    assert run.code == 3, run.stdout
    hint = "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
    assert unchecked(run) == [
        ("ECR production/demo", "no AWS credentials found", hint),
        ("EKS node groups", "no AWS credentials found", hint),
    ]


def test_no_region_is_exit_3_with_a_hint(
    moto_url, no_aws_settings, monkeypatch, tmp_path, write_spec, resolved, cli
):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    path, _ = spec_with(write_spec, resolved, region=None)
    run = run_json(cli, path, tmp_path)
    assert run.code == 3, run.stdout
    hint = "set the stage's `region:` or AWS_REGION"
    assert unchecked(run) == [
        ("ECR production/demo", "no AWS region", hint),
        ("EKS node groups", "no AWS region", hint),
    ]


@pytest.fixture
def aws_error(monkeypatch):
    servers = []
    yield lambda *answer: servers.append(aws_error_endpoint(monkeypatch, *answer))
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_cluster_that_does_not_exist_is_unchecked(aws_error, write_spec, resolved):
    """moto answers a missing cluster with a 500, so the endpoint answers as EKS does."""
    aws_error(404, "ResourceNotFoundException", "No cluster found for name: no-such-cluster.")
    _, env = spec_with(write_spec, resolved, cluster="no-such-cluster")
    observation = aws_collector.collect(env, None)
    assert observation.facts.node_groups is None
    assert [(u.object, u.reason, u.hint) for u in observation.unchecked] == [
        (
            "cluster no-such-cluster",
            "EKS cluster 'no-such-cluster' does not exist",
            "set the stage's `cluster:` to an existing cluster, or run pulumi up",
        )
    ]
    result = engine.compare("aws", env, observation, Expectations(node_pool=None))
    assert result.findings == () and exit_code([result]) == 3  # not "node groups missing"


def test_access_denied_is_exit_3_naming_the_permissions(
    aws_error, tmp_path, write_spec, resolved, cli
):
    aws_error(403, "AccessDeniedException", "not authorized")
    path, _ = spec_with(write_spec, resolved)
    run = run_json(cli, path, tmp_path)
    assert run.code == 3, run.stdout
    reason = "AWS answered AccessDeniedException: not authorized"
    hint = "grant eks:List*/Describe* and ecr:DescribeImages to this identity"
    assert unchecked(run) == [
        ("ECR production/demo", reason, hint),
        ("EKS node groups", reason, hint),
    ]
