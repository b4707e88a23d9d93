"""The stack program under Pulumi's mock runtime: resources and key inputs per stage."""

from __future__ import annotations

import json
import re

import pulumi_aws
import pytest

from envparity.adapters.pulumi_plan import PlanError, plan
from envparity.core.model import STAGES
from envparity.core.resolve import resolve
from envparity.core.spec import load_spec
from tests.pulumi.plan_helpers import ROOT, SPECS, copy_project, one

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
JOB = "kubernetes:batch/v1:Job"
WORKLOADS = (DEPLOYMENT, JOB, "kubernetes:batch/v1:CronJob")
FINGERPRINT = "envparity.io/fingerprint"
TAG_KEYS = {"envparity.io/name", "envparity.io/stage", FINGERPRINT}


def workload(p):
    """The one Deployment, Job or CronJob of the environment (the drift job's CronJob aside)."""
    found = [r for r in p.resources if r.type in WORKLOADS and not r.parent.endswith("-drift")]
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def pod_spec(p):
    spec = workload(p).inputs["spec"]
    return spec.get("jobTemplate", {}).get("spec", spec)["template"]["spec"]


def replicas(p):
    spec = workload(p).inputs["spec"]
    return spec["replicas"] if "replicas" in spec else spec["parallelism"]


def test_train_production_runs_on_h100_nodes(plans):
    p = plans[("train", "production")]
    group = one(p, NODE_GROUP).inputs
    assert group["instanceTypes"] == ["p5.48xlarge"]
    assert group["amiType"] == "AL2023_x86_64_NVIDIA"
    assert group["scalingConfig"] == {"minSize": 4, "maxSize": 8, "desiredSize": 4}
    assert group["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert group["labels"]["envparity.io/gpu-product"] == "H100-80GB"
    job = one(p, JOB).inputs  # a training command runs to completion
    assert (job["spec"]["parallelism"], job["spec"]["completions"]) == (4, 4)
    assert job["spec"]["completionMode"] == "Indexed"
    assert job["spec"]["backoffLimit"] == 3
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"  # up does not wait
    assert not p.of_type(DEPLOYMENT)
    container = pod_spec(p)["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "8"
    assert container["resources"]["requests"] == {"cpu": "96", "memory": "1024Gi"}
    assert {"name": "LOG_LEVEL", "value": "warning"} in container["env"]
    assert {
        "name": "WANDB_API_KEY",
        "valueFrom": {"secretKeyRef": {"name": "train-secrets", "key": "WANDB_API_KEY"}},
    } in container["env"]
    assert pod_spec(p)["nodeSelector"] == group["labels"]
    assert pod_spec(p)["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]
    assert "readinessProbe" not in container  # train has no run.port
    assert not p.of_type("kubernetes:core/v1:Service")


@pytest.mark.parametrize(("name", "stage"), [(n, s) for n in SPECS for s in STAGES if s != "local"])
def test_every_aws_stage_follows_its_resolved_stage(plans, project, name, stage):
    p = plans[(name, stage)]
    env = resolve(load_spec(project.parent / "envspecs" / f"{name}.yaml"), stage)
    group = one(p, NODE_GROUP).inputs
    assert group["instanceTypes"] == [env.instance_type]
    assert (group["scalingConfig"]["minSize"], group["scalingConfig"]["maxSize"]) == (
        env.nodes.min,
        env.nodes.max,
    )
    assert one(p, "pulumi:providers:aws").inputs["region"] == env.region
    assert replicas(p) == env.replicas
    limits = pod_spec(p)["containers"][0]["resources"].get("limits", {})
    gpu = env.instance_gpu
    if gpu:
        assert group["amiType"] == "AL2023_x86_64_NVIDIA"
        assert pod_spec(p)["nodeSelector"]["envparity.io/gpu-product"] == gpu
        assert limits["nvidia.com/gpu"] == str(env.gpus_per_replica)
    else:
        assert group["amiType"] == "AL2023_x86_64_STANDARD"
        assert "taints" not in group or group["taints"] == []
        assert "nvidia.com/gpu" not in limits
        assert "tolerations" not in pod_spec(p)
    repository = one(p, "aws:ecr/repository:Repository").inputs
    assert repository["name"] == f"{stage}/{name}"
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    rules = json.loads(one(p, "aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs["policy"])["rules"]
    assert [r["action"]["type"] for r in rules] == ["expire", "expire"]


@pytest.mark.parametrize("name", SPECS)
def test_local_has_no_aws_resources(plans, name):
    p = plans[(name, "local")]
    assert [
        r.type for r in p.resources if r.type.startswith(("aws:", "pulumi:providers:aws"))
    ] == []
    assert one(p, "pulumi:providers:kubernetes").inputs["context"] == "kind-envparity"
    assert workload(p)  # the same Workload, against the local context
    assert "nvidia.com/gpu" not in json.dumps(pod_spec(p))  # every example runs on CPU locally


def test_every_aws_resource_carries_the_tags(plans):
    # These AWS resource types have no tags at all (checked against the SDK below).
    untaggable = {
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    }
    for cls in (
        pulumi_aws.iam.RolePolicyAttachment,
        pulumi_aws.iam.RolePolicy,
        pulumi_aws.ecr.LifecyclePolicy,
    ):
        assert not hasattr(cls, "tags")
    checked = 0
    for (name, stage), p in plans.items():
        env_fingerprint = workload(p).inputs["metadata"]["annotations"][FINGERPRINT]
        for r in p.resources:
            if not r.type.startswith("aws:") or r.type in untaggable:
                continue
            checked += 1
            assert set(r.inputs["tags"]) == TAG_KEYS, (stage, r.name)
            assert r.inputs["tags"]["envparity.io/stage"] == stage
            if r.parent and not r.parent.startswith("envparity-"):  # owned by one environment
                assert r.inputs["tags"] == {
                    "envparity.io/name": name,
                    "envparity.io/stage": stage,
                    FINGERPRINT: env_fingerprint,
                }, r.name
    assert checked > 50


def test_every_kubernetes_object_carries_labels_and_annotation(plans):
    for (name, stage), p in plans.items():
        for r in p.resources:
            if r.type.startswith("kubernetes:") and not r.parent.endswith("-nvidia"):
                meta = r.inputs["metadata"]
                assert meta["labels"]["app.kubernetes.io/name"] == name
                assert meta["labels"]["app.kubernetes.io/managed-by"] == "envparity"
                assert meta["labels"]["envparity.io/stage"] == stage
                assert re.fullmatch(r"[0-9a-f]{64}", meta["annotations"][FINGERPRINT])


def test_drift_job_is_read_only(plans):
    for p in plans.values():
        roles = p.of_type("kubernetes:rbac.authorization.k8s.io/v1:Role") + p.of_type(
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
        )
        assert len(roles) == 2
        for role in roles:
            verbs = {verb for rule in role.inputs["rules"] for verb in rule["verbs"]}
            assert verbs == {"get", "list", "watch"}
            assert not any("secrets" in rule["resources"] for rule in role.inputs["rules"])
        cron = one(p, "kubernetes:batch/v1:CronJob").inputs["spec"]
        command = cron["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"]
        assert command[:2] == ["envparity", "drift"]
        assert command[command.index("--target") + 1] == "kubernetes" and command[-1] == "--json"
        assert cron["schedule"] == "0 * * * *"
        # The job reads the promoted digest from a stack config mounted beside the spec.
        stacks = command[command.index("--stacks") + 1]
        [mount] = cron["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
        assert mount["mountPath"] == stacks
        [data] = [
            c.inputs["data"]
            for c in p.of_type("kubernetes:core/v1:ConfigMap")
            if c.inputs["metadata"]["name"] == "envparity-spec"
        ]
        stage = command[command.index("--stage") + 1]
        assert "envparity:images" in data[f"Pulumi.{stage}.yaml"]


def test_drift_iam_role_only_describes_lists_and_gets(plans):
    for (_name, stage), p in plans.items():
        policies = p.of_type("aws:iam/rolePolicy:RolePolicy")
        if stage == "local":
            assert policies == []
            continue
        [policy] = policies
        statements = json.loads(policy.inputs["policy"])["Statement"]
        actions = [a for s in statements for a in s["Action"]]
        assert actions and all(
            re.fullmatch(r"[a-z0-9]+:(Describe|List|Get)[A-Za-z]*", a) for a in actions
        )
        assert all(s["Effect"] == "Allow" for s in statements)
        association = one(p, "aws:eks/podIdentityAssociation:PodIdentityAssociation").inputs
        assert association["serviceAccount"] == "envparity-drift"


def test_service_and_readiness_probe_with_run_port(plans):
    p = plans[("serve", "production")]
    container = pod_spec(p)["containers"][0]
    assert container["readinessProbe"]["tcpSocket"] == {"port": 8080}
    service = one(p, "kubernetes:core/v1:Service").inputs["spec"]
    assert service["ports"][0]["port"] == 8080
    assert service["selector"] == one(p, DEPLOYMENT).inputs["spec"]["selector"]["matchLabels"]


def test_components_follow_the_pattern(plans):
    for p in plans.values():
        for r in p.resources:
            if r.type.startswith("envparity:"):
                assert re.fullmatch(r"envparity:[a-z]+:[A-Z][A-Za-z]+", r.type)
                assert r.parent is None
            elif r.type.startswith(("aws:", "kubernetes:")):
                assert r.parent is not None and r.name.startswith(f"{r.parent}-")


def test_cluster_is_created_with_its_roles(plans):
    p = plans[("train", "production")]
    cluster = one(p, "aws:eks/cluster:Cluster").inputs
    assert cluster["name"] == "envparity-production"
    assert cluster["roleArn"].endswith(":role/envparity-production-us-east-1-cluster-role")
    assert len(p.of_type("aws:iam/role:Role")) == 3  # cluster, nodes, drift job
    assert one(p, "aws:eks/addon:Addon").inputs["addonName"] == "eks-pod-identity-agent"


def test_existing_cluster_by_name(project, tmp_path):
    stacks = copy_project(tmp_path)
    (stacks / "Pulumi.staging.yaml").write_text(
        "config:\n  envparity:clusterMode: existing\n  envparity:clusterName: ml-shared\n",
        encoding="utf-8",
    )
    p = plan([load_spec(tmp_path / "envspecs" / "serve.yaml")], "staging", stacks)
    assert p.of_type("aws:eks/cluster:Cluster") == []
    group = one(p, NODE_GROUP).inputs
    assert group["clusterName"] == "ml-shared"
    assert group["subnetIds"] == [
        "subnet-cluster-a",
        "subnet-cluster-b",
    ]  # from the looked-up cluster


def test_plan_is_deterministic_and_reentrant(plans, project):
    again = plan([load_spec(project.parent / "envspecs" / "serve.yaml")], "staging", project)
    assert again == plans[("serve", "staging")]


def test_fifty_environments_in_one_stack(tmp_path):
    text = (ROOT / "envspecs" / "serve.yaml").read_text(encoding="utf-8")
    (tmp_path / "stacks").mkdir()
    paths = []
    for i in range(50):
        path = tmp_path / f"serve{i}.yaml"
        path.write_text(text.replace("name: serve", f"name: serve{i}"), encoding="utf-8")
        paths.append(path)
    p = plan([load_spec(x) for x in paths], "production", tmp_path / "stacks")
    assert len(p.of_type(DEPLOYMENT)) == 50
    assert len(p.of_type("aws:eks/cluster:Cluster")) == 1  # one cluster per region, shared


def test_stage_not_declared_is_one_clear_error(project, tmp_path):
    spec_text = (project.parent / "envspecs" / "features.yaml").read_text(encoding="utf-8")
    path = tmp_path / "features.yaml"
    path.write_text(spec_text.split("  staging:")[0], encoding="utf-8")
    with pytest.raises(PlanError, match="no spec given declares stage 'staging'"):
        plan([load_spec(path)], "staging", project)


def test_bad_stack_setting_is_one_clear_error(tmp_path):
    stacks = copy_project(tmp_path)
    (stacks / "Pulumi.testing.yaml").write_text(
        "config:\n  envparity:clusterMode: maybe\n", encoding="utf-8"
    )
    with pytest.raises(PlanError) as info:
        plan([load_spec(tmp_path / "envspecs" / "train.yaml")], "testing", stacks)
    assert "clusterMode is 'maybe'" in str(info.value) and "hint:" in str(info.value)
    assert "\n" not in str(info.value)


def test_environments_in_two_regions_get_a_cluster_each(project):
    specs = [load_spec(project.parent / "envspecs" / f"{n}.yaml") for n in ("features", "serve")]
    p = plan(specs, "production", project)
    regions = sorted(r.inputs["region"] for r in p.of_type("pulumi:providers:aws"))
    assert regions == ["eu-west-1", "us-east-1"]
    clusters = p.of_type("aws:eks/cluster:Cluster")
    assert sorted(c.parent for c in clusters) == [
        "envparity-production-eu-west-1",
        "envparity-production-us-east-1",
    ]
    # EKS cluster names are unique per region only
    assert {c.inputs["name"] for c in clusters} == {"envparity-production"}


def test_drift_job_only_by_digest(tmp_path):
    """No drift image recorded: no drift job, a warning. A tag without a digest: one error."""
    stacks = copy_project(tmp_path, drift_image=None)
    serve = load_spec(tmp_path / "envspecs" / "serve.yaml")
    p = plan([serve], "staging", stacks)
    assert not p.of_type("envparity:drift:DriftJob")
    assert any("no drift job" in w and "drift/envparity-drift.yaml" in w for w in p.warnings)
    (stacks / "Pulumi.staging.yaml").write_text(
        "config:\n  envparity:driftImage: envparity-drift:0.1.0\n", encoding="utf-8"
    )
    with pytest.raises(PlanError, match="is not pinned by digest"):
        plan([serve], "staging", stacks)


@pytest.mark.parametrize(("name", "stage"), [(n, s) for n in SPECS for s in STAGES])
def test_device_plugin_exactly_where_gpu_nodes_are(plans, name, stage):
    """GPU stages get NVIDIA's device plugin with GFD, pinned, on GPU nodes only; others none."""
    p = plans[(name, stage)]
    releases = p.of_type("kubernetes:helm.sh/v3:Release")
    gpu_nodes = [g for g in p.of_type(NODE_GROUP) if g.inputs.get("taints")]
    assert len(releases) == (1 if gpu_nodes else 0)
    if not gpu_nodes:
        return
    release = releases[0].inputs
    assert (release["chart"], release["version"]) == ("nvidia-device-plugin", "0.17.1")
    assert release["repositoryOpts"]["repo"] == "https://nvidia.github.io/k8s-device-plugin"
    values = release["values"]
    assert values["gfd"]["enabled"] is True
    gpu_toleration = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    for placement in (values, values["nfd"]["worker"]):
        assert placement["tolerations"] == [gpu_toleration]
        [term] = placement["affinity"]["nodeAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"
        ]["nodeSelectorTerms"]
        [expression] = term["matchExpressions"]
        assert expression["key"] in gpu_nodes[0].inputs["labels"]  # GPU node groups' label
    namespace = next(
        r for r in p.of_type("kubernetes:core/v1:Namespace") if r.parent.endswith("-nvidia")
    )
    assert release["namespace"] == namespace.inputs["metadata"]["name"]


@pytest.mark.parametrize(("name", "stage"), [(n, s) for n in SPECS for s in STAGES])
def test_workload_kind_follows_the_spec(plans, project, name, stage):
    """run.port: Deployment + Service + probes (+ PDB when replicas > 1); else a Job."""
    env = resolve(load_spec(project.parent / "envspecs" / f"{name}.yaml"), stage)
    p = plans[(name, stage)]
    kind = workload(p).type.rsplit(":", 1)[1]
    pdbs = p.of_type("kubernetes:policy/v1:PodDisruptionBudget")
    if env.port:
        assert kind == "Deployment" and len(p.of_type("kubernetes:core/v1:Service")) == 1
        container = pod_spec(p)["containers"][0]
        assert container["livenessProbe"]["tcpSocket"] == {"port": env.port}
        assert len(pdbs) == (1 if env.replicas > 1 else 0)
    else:
        assert kind == "Job" and not pdbs and not p.of_type("kubernetes:core/v1:Service")


def test_health_path_and_schedule(tmp_path):
    """A health path makes HTTP probes; a stage schedule makes a batch command a CronJob."""
    stacks = copy_project(tmp_path)
    serve = tmp_path / "envspecs" / "serve.yaml"
    serve.write_text(
        serve.read_text().replace("  port: 8080", "  port: 8080\n  health_path: /healthz")
    )
    p = plan([load_spec(serve)], "staging", stacks)
    probe = pod_spec(p)["containers"][0]["readinessProbe"]
    assert probe["httpGet"] == {"path": "/healthz", "port": 8080}
    train = tmp_path / "envspecs" / "train.yaml"
    text = train.read_text().replace(
        "    nodes: {min: 0, max: 2}", '    nodes: {min: 0, max: 2}\n    schedule: "0 3 * * *"'
    )
    train.write_text(text)
    p = plan([load_spec(train)], "staging", stacks)
    [cron] = [
        r for r in p.of_type("kubernetes:batch/v1:CronJob") if not r.parent.endswith("-drift")
    ]
    assert cron.inputs["spec"]["schedule"] == "0 3 * * *"
    assert cron.inputs["spec"]["jobTemplate"]["spec"]["backoffLimit"] == 3
    assert not p.of_type(JOB)
