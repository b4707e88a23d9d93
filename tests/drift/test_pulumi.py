"""The pulumi target: a `pulumi stack export` file against the offline plan of the stage."""

from __future__ import annotations

import copy
import json

import pytest

from envparity.adapters.pulumi_plan import plan
from tests.conftest import ROOT
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

    from envparity.core.spec import load_spec

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


# A real `pulumi stack export` of stage local, made by the real engine and Kubernetes provider
# (tests/cluster/test_pulumi_up.py writes it with UPDATE_GOLDEN=1), with the specs and stack
# config it was deployed from: parent-qualified URNs, provider references, the provider's
# own annotations and managed fields in the outputs.
REAL_EXPORT = ROOT / "tests" / "golden" / "drift" / "pulumi-export-local"
SERVE_DEPLOYMENT = "kubernetes:apps/v1:Deployment serve-deployment"


def drift_real_export(cli, state: dict | None, tmp_path, spec: str = "serve.yaml"):
    file = REAL_EXPORT / "export.json"
    if state is not None:
        file = tmp_path / "export.json"
        file.write_text(json.dumps(state))
    return cli(
        REAL_EXPORT / "envspecs" / spec,
        "--stage",
        "local",
        "--target",
        "pulumi",
        "--state",
        file,
        "--stacks",
        REAL_EXPORT / "stacks",
        "--json",
    )


def real_export() -> dict:
    return json.loads((REAL_EXPORT / "export.json").read_text())


def test_a_real_export_is_in_sync(cli, tmp_path):
    items = real_export()["deployment"]["resources"]
    serve = next(i for i in items if i["urn"].endswith("::serve-deployment"))
    assert "::envparity:workload:Workload$kubernetes:apps/v1:Deployment::" in serve["urn"]
    assert serve["provider"].startswith("urn:pulumi:local::envparity::pulumi:providers:kubernetes")
    for spec in ("features.yaml", "serve.yaml", "train.yaml"):
        result = drift_real_export(cli, None, tmp_path, spec)
        assert result.code == 0, result.stdout
    checks = {(c["object"], c["field"]) for c in result.json()["results"][0]["checks"]}
    assert ("kubernetes:batch/v1:Job train-job", "spec.parallelism") in checks  # a batch command


def test_a_real_export_with_one_drifted_field(cli, tmp_path):
    state = real_export()
    deployment = next(
        i for i in state["deployment"]["resources"] if i["urn"].endswith("::serve-deployment")
    )
    deployment["inputs"]["spec"]["replicas"] = 7
    result = drift_real_export(cli, state, tmp_path)
    assert result.code == 2
    [finding] = result.json()["results"][0]["findings"]
    assert (finding["object"], finding["field"]) == (SERVE_DEPLOYMENT, "spec.replicas")
    assert (finding["expected"], finding["actual"]) == (1, 7)


def test_annotations_others_add_are_not_drift_but_a_changed_one_is(cli, tmp_path):
    state = real_export()
    deployment = next(
        i for i in state["deployment"]["resources"] if i["urn"].endswith("::serve-deployment")
    )
    annotations = deployment["inputs"]["metadata"]["annotations"]
    annotations["example.com/added-by-a-transform"] = "yes"
    assert drift_real_export(cli, state, tmp_path).code == 0
    annotations["envparity.io/fingerprint"] = "0" * 64
    result = drift_real_export(cli, state, tmp_path)
    assert result.code == 2
    [finding] = result.json()["results"][0]["findings"]
    assert (finding["object"], finding["field"]) == (SERVE_DEPLOYMENT, "metadata.annotations")
    assert finding["actual"] == {"envparity.io/fingerprint": "0" * 64}


def test_a_batch_commands_job_is_compared(cli, tmp_path):
    """No run.port: the plan has a Job, and its key inputs are compared with the state."""
    import yaml

    from envparity.core.spec import load_spec

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
