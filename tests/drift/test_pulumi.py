"""The pulumi target: a `pulumi stack export` file against the offline plan of the stage."""

from __future__ import annotations

import copy
import json

import pytest

from envparity.plan import plan
from tests.drift.conftest import gpu_spec


def export(resources) -> dict:
    """What `pulumi stack export` writes (version 3), for the planned resources."""
    stack = "urn:pulumi:production::envparity::pulumi:pulumi:Stack::envparity-production"
    items = [{"urn": stack, "custom": False, "type": "pulumi:pulumi:Stack"}]
    for r in resources:
        items.append(
            {
                "urn": f"urn:pulumi:production::envparity::{r.type}::{r.name}",
                "custom": not r.type.startswith("envparity:"),
                "type": r.type,
                "id": f"{r.name}-id",
                "inputs": copy.deepcopy(r.inputs),
                "outputs": copy.deepcopy(r.inputs),
            }
        )
    return {
        "version": 3,
        "deployment": {"manifest": {"time": "2026-01-01T00:00:00Z"}, "resources": items},
    }


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    import yaml

    from envparity.spec import load_spec

    root = tmp_path_factory.mktemp("pulumi")
    path = root / "demo.yaml"
    path.write_text(yaml.safe_dump(gpu_spec()))
    (root / "stacks").mkdir()
    return path, root / "stacks", plan([load_spec(path)], "production", root / "stacks")


def run(cli, planned, state: dict, tmp_path):
    path, stacks, _ = planned
    file = tmp_path / "state.json"
    file.write_text(json.dumps(state))
    return cli(
        path,
        "--stage",
        "production",
        "--target",
        "pulumi",
        "--state",
        file,
        "--stacks",
        stacks,
        "--json",
    )


def test_state_matching_the_plan_is_in_sync(cli, planned, tmp_path):
    result = run(cli, planned, export(planned[2].resources), tmp_path)
    assert result.code == 0, result.stdout
    checks = {(c["object"], c["field"]) for c in result.json()["results"][0]["checks"]}
    assert ("aws:eks/nodeGroup:NodeGroup demo-nodes-group", "instanceTypes") in checks


def test_missing_extra_and_changed_resources(cli, planned, tmp_path):
    state = export(planned[2].resources)
    items = state["deployment"]["resources"]
    group = next(i for i in items if i["type"] == "aws:eks/nodeGroup:NodeGroup")
    group["inputs"]["instanceTypes"] = ["p4d.24xlarge"]
    items.remove(next(i for i in items if i["type"] == "aws:ecr/repository:Repository"))
    items.append(
        {
            "urn": "urn:pulumi:production::envparity::aws:s3/bucket:Bucket::demo-scratch",
            "custom": True,
            "type": "aws:s3/bucket:Bucket",
            "inputs": {},
        }
    )
    items.append(
        {
            "urn": "urn:pulumi:production::envparity::aws:s3/bucket:Bucket::other-env-bucket",
            "custom": True,
            "type": "aws:s3/bucket:Bucket",
            "inputs": {},
        }
    )  # another env's
    result = run(cli, planned, state, tmp_path)
    assert result.code == 2
    found = {(f["object"], f["field"]): f for f in result.json()["results"][0]["findings"]}
    assert found[("aws:eks/nodeGroup:NodeGroup demo-nodes-group", "instanceTypes")]["actual"] == [
        "p4d.24xlarge"
    ]
    assert (
        found[("aws:ecr/repository:Repository demo-image-repository", "present")]["actual"]
        == "missing"
    )
    assert found[("aws:s3/bucket:Bucket demo-scratch", "present")]["actual"] == "in the stack"
    assert ("aws:s3/bucket:Bucket other-env-bucket", "present") not in found


def test_state_that_is_not_an_export_is_a_usage_error(cli, planned, tmp_path):
    result = run(cli, planned, {"hello": "world"}, tmp_path)
    assert result.code == 1
    assert "deployment.resources" in result.stderr and "hint:" in result.stderr


def test_pulumi_target_without_state_is_a_usage_error(cli, planned):
    path, stacks, _ = planned
    result = cli(path, "--stage", "production", "--target", "pulumi", "--stacks", stacks)
    assert result.code == 1
    assert "pulumi stack export --stack production" in result.stderr


def test_a_batch_commands_job_is_compared(cli, tmp_path):
    """No run.port: the plan has a Job, and its key inputs are compared with the state."""
    import yaml

    from envparity.spec import load_spec

    spec = gpu_spec()
    del spec["run"]["port"]
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(spec))
    (tmp_path / "stacks").mkdir()
    job_plan = (
        path,
        tmp_path / "stacks",
        plan([load_spec(path)], "production", tmp_path / "stacks"),
    )
    state = export(job_plan[2].resources)
    job = next(
        i for i in state["deployment"]["resources"] if i["type"] == "kubernetes:batch/v1:Job"
    )
    job["inputs"]["spec"]["parallelism"] = 9
    result = run(cli, job_plan, state, tmp_path)
    assert result.code == 2, result.stdout
    fields = {(f["object"], f["field"]) for f in result.json()["results"][0]["findings"]}
    assert ("kubernetes:batch/v1:Job demo-job", "spec.parallelism") in fields
