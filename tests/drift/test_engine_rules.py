"""Every comparer of the drift engine on hand-built facts: each finding exact, hint included.

The engine is pure (facts in, Result out), so these run in milliseconds; they are the
tests bench/mutation.py runs against each mutant of envparity/core/drift/engine.py.
"""

from __future__ import annotations

import dataclasses

import pytest

from envparity.core.drift import engine, targets
from envparity.core.drift.engine import Expectations
from envparity.core.drift.observed import (
    AwsFacts,
    ContainerFacts,
    DeploymentFacts,
    DockerFacts,
    EcrImageFacts,
    GpuDevice,
    HostFacts,
    ImageFacts,
    KubernetesFacts,
    NodeFacts,
    NodeGroupFacts,
    Observation,
    PulumiFacts,
    StateResource,
    WorkloadContainer,
)
from envparity.core.names import FINGERPRINT_LABEL, NAME_LABEL, VERSION_LABEL
from envparity.core.resolve import restage
from envparity.flows import drift_check
from envparity.flows.drift_check import expected_node_pool

SPEC = {
    "envparity": 1,
    "name": "demo",
    "version": "1.0.0",
    "python": "3.11.9",
    "cuda": "12.4.1",
    "driver": "550.54.15",
    "gpus": ["H100-80GB", "A100-80GB"],
    "os": "ubuntu22.04",
    "python_packages": ["numpy==1.26.4", "PyYAML==6.0.1", "pywin32==306; sys_platform == 'win32'"],
    "env": {"MODE": "strict"},
    "run": {"command": ["python", "-m", "demo"], "gpus": 1},
    "stages": {
        "staging": {"region": "us-east-1"},
        "production": {
            "replicas": 2,
            "instance_type": "p5.48xlarge",
            "nodes": {"min": 1, "max": 2},
            "env": {"LOG": "info"},
            "secrets": ["TOKEN"],
        },
    },
}
UP = "pulumi up --stack production"
BUILD = "envparity build envspecs/demo.yaml --stage production"
ALLOWED = ["A100-80GB", "H100-80GB"]
DIGEST = "sha256:" + "ab" * 32
OTHER_DIGEST = "sha256:" + "cd" * 32


@pytest.fixture
def env(resolved):
    return resolved(SPEC, "production")[1]


def rows(result) -> list[tuple]:
    """The findings, once every finding, check and gap is known to carry the result's target."""
    entries = (*result.findings, *result.checks, *result.unchecked)
    assert {entry.target for entry in entries} <= {result.target}
    return [(f.object, f.field, f.expected, f.actual, f.hint, f.severity) for f in result.findings]


def checks(result) -> list[tuple[str, str]]:
    return [(c.object, c.field) for c in result.checks]


def gaps(result) -> list[tuple[str, str, str]]:
    return [(u.object, u.reason, u.hint) for u in result.unchecked]


# --- host --------------------------------------------------------------------------------
def test_host_in_sync_checks_everything_it_compares(env):
    facts = HostFacts(
        "3.11.9",
        {"numpy": "1.26.4", "pyyaml": "6.0.1", "idna": "3.7"},
        {"MODE": "strict", "LOG": "info", "TOKEN": "x"},
        "550.54.15",
        (GpuDevice("NVIDIA H100 80GB HBM3", None),),  # capability from the GPU table
    )
    result = engine.compare(
        "host", env, Observation(facts), Expectations(lock={"idna": "3.7", "numpy": "1.0"})
    )
    assert rows(result) == [] and gaps(result) == []
    assert checks(result) == [
        ("python", "version"),
        ("distribution numpy", "version"),  # the spec's pin wins over the lock's
        ("distribution pyyaml", "version"),
        ("distribution idna", "version"),
        ("env MODE", "value"),
        ("env LOG", "value"),
        ("secret TOKEN", "present"),
        ("gpu driver", "driver"),
        ("gpu", "count"),
        ("gpu 0", "gpu"),
        ("gpu 0", "compute capability"),
    ]
    assert result.status == "in_sync"


def test_host_drift_in_every_field(env):
    facts = HostFacts(
        "3.11.8",
        {"numpy": "1.26.4.0", "pyyaml": "6.0.1x"},  # same version spelled longer; unreadable
        {"MODE": "strict", "LOG": "debug"},
        "550.54.15",
        (GpuDevice("NVIDIA L4", (8, 9)), GpuDevice("NVIDIA Mystery", (3, 0))),
    )
    result = engine.compare("host", env, Observation(facts), Expectations(lock={"idna": "3.7"}))
    assert rows(result) == [
        (
            "python",
            "version",
            "3.11.9",
            "3.11.8",
            "run with Python 3.11.9 (the image or a venv made from it)",
            "drift",
        ),
        ("distribution pyyaml", "version", "6.0.1", "6.0.1x", "pip install pyyaml==6.0.1", "drift"),
        (
            "distribution idna",
            "version",
            "3.7",
            None,
            "install what the lock pins: idna==3.7",
            "drift",
        ),
        ("env LOG", "value", "info", "debug", "export LOG as the spec sets it", "drift"),
        (
            "secret TOKEN",
            "present",
            "set",
            "unset",
            "provide TOKEN from the stage's secret store",
            "drift",
        ),
        (
            "gpu 0",
            "gpu",
            ALLOWED,
            "L4",
            "run on A100-80GB or H100-80GB, or add L4 to `gpus` if CUDA supports it",
            "drift",
        ),
        (
            "gpu 1",
            "gpu",
            ALLOWED,
            "NVIDIA Mystery",
            "GPU 'NVIDIA Mystery' is not known to envparity; add it to the knowledge "
            "snapshot's gpus "
            "with its source, or run on a GPU the spec lists",
            "drift",
        ),
    ]
    assert checks(result) == [
        ("distribution numpy", "version"),
        ("env MODE", "value"),
        ("gpu driver", "driver"),
        ("gpu", "count"),
        ("gpu 0", "compute capability"),
    ]
    assert gaps(result) == [
        (
            "gpu 1",
            "whether CUDA 12.4.1 supports sm_30 is not known to envparity",
            "add the architecture to the knowledge snapshot's arch_support with its source",
        )
    ]


def test_an_unknown_gpu_is_a_warning_when_the_spec_lists_none(env):
    any_gpu = restage(env, software=dataclasses.replace(env.software, gpus=()))
    facts = HostFacts(
        "3.11.9",
        {"numpy": "1.26.4", "pyyaml": "6.0.1"},
        {"MODE": "strict", "LOG": "info", "TOKEN": "x"},
        "550.54.15",
        (GpuDevice("NVIDIA Mystery", (9, 0)), GpuDevice("NVIDIA L4", None)),
    )
    result = engine.compare("host", any_gpu, Observation(facts))
    assert [r[:4] + r[5:] for r in rows(result)] == [
        ("gpu 0", "gpu", "a GPU CUDA supports", "NVIDIA Mystery", "warning")
    ]
    assert result.status == "in_sync"
    assert ("gpu 1", "compute capability") in checks(result)
    assert ("gpu 1", "gpu") not in checks(result)  # no list of GPUs to compare with


def test_a_gpu_cuda_does_not_target_is_drift(env):
    old_cuda = restage(env, software=dataclasses.replace(env.software, cuda="11.8.0"))
    facts = HostFacts("3.11.9", {}, {}, "550.54.15", (GpuDevice("NVIDIA H100 80GB HBM3", (12, 0)),))
    result = engine.compare("host", old_cuda, Observation(facts))
    [capability] = [r for r in rows(result) if r[1] == "compute capability"]
    assert capability == (
        "gpu 0",
        "compute capability",
        "supported by CUDA 11.8.0",
        "sm_120",
        "pick a CUDA release that targets sm_120",
        "drift",
    )


def test_a_gpu_stage_on_a_host_without_a_driver(env):
    facts = HostFacts("3.11.9", {"numpy": "1.26.4", "pyyaml": "6.0.1"}, {"MODE": "strict"})
    no_reason = engine.compare("host", env, Observation(facts))
    assert [r for r in rows(no_reason) if r[0] == "gpu"] == [
        (
            "gpu",
            "present",
            "1 NVIDIA GPU(s)",
            "none (NVML found no driver)",
            "stage production needs 1 GPU(s) per replica: run it on a GPU host, "
            "or check a CPU stage (gpus: 0)",
            "drift",
        )
    ]
    why = dataclasses.replace(facts, no_gpu_reason="nvidia-ml-py is not installed")
    [finding] = [r for r in rows(engine.compare("host", env, Observation(why))) if r[0] == "gpu"]
    assert finding[3] == "none (nvidia-ml-py is not installed)"


def test_without_cuda_no_compute_capability_is_judged(env):
    no_cuda = restage(env, software=dataclasses.replace(env.software, cuda=None))
    facts = HostFacts("3.11.9", {}, {}, "550.54.15", (GpuDevice("NVIDIA H100 80GB HBM3", (9, 0)),))
    result = engine.compare("host", no_cuda, Observation(facts))
    assert [c for c in checks(result) if c[0] == "gpu 0"] == [("gpu 0", "gpu")]
    assert gaps(result) == []


def test_a_cpu_stage_never_looks_at_gpus(resolved):
    _, cpu = resolved(SPEC, "staging")
    cpu = dataclasses.replace(cpu, gpus_per_replica=0)
    facts = HostFacts("3.11.9", {"numpy": "1.26.4", "pyyaml": "6.0.1"}, {"MODE": "strict"})
    result = engine.compare("host", cpu, Observation(facts))
    assert rows(result) == []
    assert checks(result) == [
        ("python", "version"),
        ("distribution numpy", "version"),
        ("distribution pyyaml", "version"),
        ("env MODE", "value"),
    ]


# --- docker ------------------------------------------------------------------------------
def labels(fingerprint: str, version: str = "1.0.0", name: str = "demo") -> dict:
    return {NAME_LABEL: name, FINGERPRINT_LABEL: fingerprint, VERSION_LABEL: version}


def test_docker_in_sync(env):
    image = ImageFacts(
        "sha256:" + "d" * 64,
        ("demo:new", "demo:latest"),
        "2026-01-02T00:00:00Z",
        labels(env.fingerprint),
        "3.11.9",
        {"numpy": "1.26.4.0", "pyyaml": "6.0.1"},  # the same version, spelled longer
    )
    container = ContainerFacts("web", "sha256:" + "d" * 64, "demo:new")
    result = engine.compare("docker", env, Observation(DockerFacts((image,), (container,))))
    assert rows(result) == []
    assert checks(result) == [
        ("image demo:new", FINGERPRINT_LABEL),
        ("image demo:new", VERSION_LABEL),
        ("image demo:new", "python"),
        ("image demo:new distribution numpy", "version"),
        ("image demo:new distribution pyyaml", "version"),
        ("container web", "image"),
    ]


def test_docker_drift_newest_image_and_containers(env):
    current = ImageFacts(
        "sha256:" + "a" * 64,
        ("demo:old",),
        "2026-01-01T00:00:00Z",
        labels(env.fingerprint, "0.9.0"),
        "3.11.8",
        {"numpy": "1.0", "pyyaml": "6.0.1"},
    )
    newest = ImageFacts("sha256:" + "b" * 64, (), "2026-01-03T00:00:00Z", labels("f" * 64))
    foreign = ImageFacts("sha256:" + "c" * 64, ("x:1",), "2026-01-04T00:00:00Z", {NAME_LABEL: "x"})
    containers = (
        ContainerFacts("web", "sha256:" + "a" * 64, "demo:old"),
        ContainerFacts("job", "sha256:" + "b" * 64, ""),
    )
    facts = DockerFacts((newest, foreign, current), containers)
    result = engine.compare("docker", env, Observation(facts))
    rebuild = f"rebuild: {BUILD}"
    assert rows(result) == [
        (
            "image sha256:bbbbbbbbbbbb",
            FINGERPRINT_LABEL,
            env.fingerprint,
            "f" * 64,
            f"the newest image was built from other software: {BUILD}",
            "drift",
        ),
        ("image demo:old", VERSION_LABEL, "1.0.0", "0.9.0", rebuild, "drift"),
        ("image demo:old", "python", "3.11.9", "3.11.8", rebuild, "drift"),
        (
            "image demo:old distribution numpy",
            "version",
            "1.26.4",
            "1.0",
            "rebuild with numpy==1.26.4",
            "drift",
        ),
        (
            "container job",
            "image",
            "image demo:old",
            "sha256:bbbbbbbbbbbb",
            "restart job from image demo:old",
            "drift",
        ),
    ]
    assert checks(result) == [
        ("image demo:old distribution pyyaml", "version"),
        ("container web", "image"),
    ]


def test_docker_without_an_image_of_the_env(env):
    foreign = ImageFacts("sha256:" + "c" * 64, ("x:1",), "2026-01-04T00:00:00Z", {NAME_LABEL: "x"})
    facts = DockerFacts((foreign,), (ContainerFacts("web", "sha256:" + "c" * 64, "x:1"),))
    result = engine.compare("docker", env, Observation(facts))
    assert rows(result) == [
        (
            "image",
            "present",
            "an image labelled io.envparity.name=demo",
            "none",
            f"build it: {BUILD}",
            "drift",
        )
    ]
    assert checks(result) == []


def test_docker_with_only_other_software_compares_no_container(env):
    stale = ImageFacts("sha256:" + "b" * 64, ("demo:x",), "2026-01-03T00:00:00Z", labels("f" * 64))
    facts = DockerFacts((stale,), (ContainerFacts("job", "sha256:" + "b" * 64, "demo:x"),))
    result = engine.compare("docker", env, Observation(facts))
    assert [(r[0], r[1]) for r in rows(result)] == [("image demo:x", FINGERPRINT_LABEL)]
    assert checks(result) == []


# --- kubernetes --------------------------------------------------------------------------
def gfd(product: str, driver: str | None = None) -> dict:
    found = {"nvidia.com/gpu.product": product}
    if driver is not None:
        found["nvidia.com/cuda.driver-version.full"] = driver
    return found


def test_kubernetes_drift_in_deployments_and_nodes(env):
    pool = expected_node_pool(env)
    selector = dict(pool.labels)
    deployments = (
        DeploymentFacts(
            "demo",
            "demo",
            {},
            {"envparity.io/fingerprint": env.fingerprint},
            2,
            (
                WorkloadContainer("sidecar", "x", None),
                WorkloadContainer("demo", f"r@{DIGEST}", "1"),
            ),
            selector,
        ),
        DeploymentFacts(
            "ns3", "demo-c", {}, {"envparity.io/fingerprint": env.fingerprint}, 2, (), selector
        ),
        DeploymentFacts(
            "ns2", "demo-b", {}, {}, 3, (WorkloadContainer("other", "r/demo:t", None),), {}
        ),
    )
    nodes = (
        NodeFacts("n1", gfd("NVIDIA-H100-80GB-HBM3", "550.54.15")),
        NodeFacts("n2", gfd("NVIDIA-L4", "535.1")),
        NodeFacts("n3", gfd("NVIDIA-H100-80GB-HBM3")),
        NodeFacts("n4", gfd("NVIDIA-H100-80GB-HBM3", "bad")),
    )
    result = engine.compare(
        "kubernetes",
        env,
        Observation(KubernetesFacts(deployments, nodes)),
        Expectations(promoted_digest=DIGEST, node_pool=pool),
    )
    restore = f"restore it: {UP}"
    assert rows(result) == [
        ("deployment ns3/demo-c", "containers", "demo", "none", restore, "drift"),
        (
            "deployment ns2/demo-b",
            "envparity.io/fingerprint",
            env.fingerprint,
            None,
            f"deployed from other software: {UP}",
            "drift",
        ),
        ("deployment ns2/demo-b", "replicas", 2, 3, f"scale back: {UP}", "drift"),
        ("deployment ns2/demo-b", "nodeSelector", selector, {}, restore, "drift"),
        ("deployment ns2/demo-b", "limits.nvidia.com/gpu", "1", None, restore, "drift"),
        (
            "deployment ns2/demo-b",
            "image digest",
            DIGEST,
            None,
            f"deploy the promoted image: {UP}",
            "drift",
        ),
        (
            "node n2",
            "gpu",
            ALLOWED,
            "L4",
            "run on A100-80GB or H100-80GB, or add L4 to `gpus` if CUDA supports it",
            "drift",
        ),
        (
            "node n2",
            "driver",
            ">= 550.54.15",
            "535.1",
            "upgrade the NVIDIA driver to 550.54.15 or newer",
            "drift",
        ),
        (
            "node n4",
            "driver",
            ">= 550.54.15",
            "bad",
            "the driver reports an unreadable version",
            "drift",
        ),
    ]
    assert checks(result) == [
        ("deployment demo/demo", "envparity.io/fingerprint"),
        ("deployment demo/demo", "replicas"),
        ("deployment demo/demo", "nodeSelector"),
        ("deployment demo/demo", "limits.nvidia.com/gpu"),
        ("deployment demo/demo", "image digest"),
        ("deployment ns3/demo-c", "envparity.io/fingerprint"),
        ("deployment ns3/demo-c", "replicas"),
        ("deployment ns3/demo-c", "nodeSelector"),
        ("node n1", "gpu"),
        ("node n1", "compute capability"),
        ("node n1", "driver"),
        ("node n2", "compute capability"),
        ("node n4", "gpu"),
        ("node n4", "compute capability"),
    ]
    assert gaps(result) == [
        (
            "node n3",
            "no GPU Feature Discovery labels (nvidia.com/gpu.product, "
            "nvidia.com/cuda.driver-version.*)",
            "install NVIDIA GPU Feature Discovery (the GPU operator) on the cluster",
        )
    ]


def test_kubernetes_nothing_deployed_and_no_gpu_nodes(env):
    result = engine.compare(
        "kubernetes",
        env,
        Observation(KubernetesFacts((), ())),
        Expectations(node_pool=expected_node_pool(env)),
    )
    assert rows(result) == [
        (
            "deployments",
            "present",
            "a Job labelled app.kubernetes.io/name=demo,envparity.io/stage=production,"
            "app.kubernetes.io/component=workload",  # no run.port: a batch command, a Job
            "none",
            f"deploy it: {UP}",
            "drift",
        ),
        (
            "nodes",
            "GPU nodes",
            ">= 1 node with nvidia.com/gpu.product for demo/production",
            0,
            f"create the node pool: {UP}",
            "drift",
        ),
    ]


def test_kubernetes_without_a_promoted_digest_or_node_pool(env):
    pool = expected_node_pool(env)
    image = f"r/demo:t@{DIGEST}"
    dep = DeploymentFacts(
        "demo",
        "demo",
        {},
        {"envparity.io/fingerprint": env.fingerprint},
        2,
        (WorkloadContainer("demo", image, "1"),),
        dict(pool.labels),
    )
    result = engine.compare(
        "kubernetes", env, Observation(KubernetesFacts((dep,), None)), Expectations()
    )
    assert rows(result) == [
        (
            "deployment demo/demo",
            "nodeSelector",
            {},
            dict(pool.labels),
            f"restore it: {UP}",
            "drift",
        ),
        (
            "deployment demo/demo",
            "image digest",
            "a promoted digest",
            image,
            f"no digest of {env.image_tag} is recorded for stage production: {BUILD} --push",
            "warning",
        ),
    ]


def test_kubernetes_cpu_stage_wants_no_gpu_limit_and_no_nodes(env):
    cpu = dataclasses.replace(env, gpus_per_replica=0)
    dep = DeploymentFacts(
        "demo",
        "demo",
        {},
        {"envparity.io/fingerprint": env.fingerprint},
        2,
        (WorkloadContainer("demo", f"r@{DIGEST}", "1"),),
        {},
    )
    result = engine.compare(
        "kubernetes",
        cpu,
        Observation(KubernetesFacts((dep,), ())),
        Expectations(promoted_digest=DIGEST),
    )
    assert rows(result) == [
        ("deployment demo/demo", "limits.nvidia.com/gpu", None, "1", f"restore it: {UP}", "drift")
    ]


# --- aws ---------------------------------------------------------------------------------
def tags(fingerprint: str) -> dict:
    return {
        "envparity.io/name": "demo",
        "envparity.io/stage": "production",
        "envparity.io/fingerprint": fingerprint,
    }


def test_aws_drift_in_node_groups_and_ecr(env):
    pool = expected_node_pool(env)
    groups = (
        NodeGroupFacts(
            "c1",
            "good",
            tags(env.fingerprint),
            ("p5.48xlarge",),
            "AL2023_x86_64_NVIDIA",
            1,
            2,
            {**pool.labels, "extra": "ignored"},
        ),
        NodeGroupFacts(
            "c1",
            "old",
            tags("0" * 64),
            ("g5.xlarge",),
            "AL2_x86_64_GPU",
            0,
            3,
            {"envparity.io/environment": "demo", "x": "y"},
        ),
    )
    images = (
        EcrImageFacts("gone/demo", "d", None, repository_exists=False),
        EcrImageFacts("production/demo", env.image_tag, DIGEST),
        EcrImageFacts("production/demo", "b", OTHER_DIGEST),
        EcrImageFacts("production/demo", "c", None),
    )
    result = engine.compare(
        "aws",
        env,
        Observation(AwsFacts(("c1",), groups, images)),
        Expectations(promoted_digest=DIGEST, node_pool=pool),
    )
    restore = f"restore it: {UP}"
    push = f"{BUILD} --push"
    assert rows(result) == [
        (
            "nodegroup c1/old",
            "envparity.io/fingerprint",
            env.fingerprint,
            "0" * 64,
            f"created for other software: {UP}",
            "drift",
        ),
        ("nodegroup c1/old", "instanceTypes", ["p5.48xlarge"], ["g5.xlarge"], restore, "drift"),
        ("nodegroup c1/old", "amiType", "AL2023_x86_64_NVIDIA", "AL2_x86_64_GPU", restore, "drift"),
        (
            "nodegroup c1/old",
            "amiType support",
            "supported",
            "end of support 2025-11-26",
            f"move to AL2023_x86_64_NVIDIA: {UP}",
            "warning",
        ),
        ("nodegroup c1/old", "scalingConfig.minSize", 1, 0, restore, "drift"),
        ("nodegroup c1/old", "scalingConfig.maxSize", 2, 3, restore, "drift"),
        (
            "nodegroup c1/old",
            "labels",
            dict(pool.labels),
            {
                "envparity.io/environment": "demo",
                "envparity.io/gpu-product": None,
                "envparity.io/stage": None,
            },
            restore,
            "drift",
        ),
        ("ecr gone/demo:d", "repository", "gone/demo", "none", f"create it: {UP}", "drift"),
        (
            "ecr production/demo:b",
            "digest",
            DIGEST,
            OTHER_DIGEST,
            f"the tag points at another image than the promoted one: {push}",
            "drift",
        ),
        ("ecr production/demo:c", "present", "pushed", "none", f"push it: {push}", "drift"),
    ]
    ecr = f"ecr production/demo:{env.image_tag}"
    assert checks(result) == [
        ("nodegroup c1/good", "envparity.io/fingerprint"),
        ("nodegroup c1/good", "instanceTypes"),
        ("nodegroup c1/good", "amiType"),
        ("nodegroup c1/good", "scalingConfig.minSize"),
        ("nodegroup c1/good", "scalingConfig.maxSize"),
        ("nodegroup c1/good", "labels"),
        (ecr, "present"),
        (ecr, "digest"),
        ("ecr production/demo:b", "present"),
    ]


def test_aws_missing_node_group_only_when_the_stage_has_one(env):
    pool = expected_node_pool(env)
    image = (EcrImageFacts("production/demo", env.image_tag, DIGEST),)
    missing = engine.compare(
        "aws", env, Observation(AwsFacts(("c1",), (), ())), Expectations(node_pool=pool)
    )
    assert rows(missing) == [
        (
            "node groups",
            "present",
            "a node group tagged envparity.io/name=demo,envparity.io/stage=production",
            "none",
            f"create it: {UP}",
            "drift",
        )
    ]
    unlisted = engine.compare(
        "aws", env, Observation(AwsFacts(None, None, None)), Expectations(node_pool=pool)
    )
    assert rows(unlisted) == [] and checks(unlisted) == []
    none_planned = engine.compare("aws", env, Observation(AwsFacts(("c1",), (), image)))
    assert rows(none_planned) == []
    assert checks(none_planned) == [(f"ecr production/demo:{env.image_tag}", "present")]


def test_aws_node_group_for_a_stage_without_instance_type(env):
    group = NodeGroupFacts("c1", "stray", tags(env.fingerprint), ("g5.xlarge",), None, 1, 1, {})
    other = NodeGroupFacts("c1", "stray-2", tags(env.fingerprint), ("g5.xlarge",), None, 1, 1, {})
    result = engine.compare("aws", env, Observation(AwsFacts(("c1",), (group, other), ())))
    assert rows(result) == [
        (
            f"nodegroup c1/{name}",
            "present",
            "none (the stage names no instance_type)",
            name,
            "delete it or set stages.production.instance_type",
            "drift",
        )
        for name in ("stray", "stray-2")
    ]
    assert checks(result) == []


# --- pulumi state ------------------------------------------------------------------------
GROUP = "aws:eks/nodeGroup:NodeGroup"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
BUCKET = "aws:s3/bucket:Bucket"


def test_pulumi_key_inputs_missing_and_extra_resources(env):
    planned = (
        StateResource(
            GROUP,
            "demo-nodes",
            {
                "instanceTypes": ["p5.48xlarge"],
                "amiType": "A",
                "scalingConfig": {"minSize": 1, "maxSize": 2},
                "labels": {"a": "b"},
                "tags": {"t": "1"},
                "nodeRoleArn": "arn:1",  # not a key input: a difference here is not drift
            },
        ),
        StateResource(
            DEPLOYMENT,
            "demo-deploy",
            {
                "metadata": {"annotations": {"f": "1"}},
                "spec": {
                    "replicas": 2,
                    "template": {"spec": {"nodeSelector": {"a": "b"}, "containers": [{"i": 1}]}},
                },
            },
        ),
        StateResource("aws:ecr/repository:Repository", "demo-repo", {"name": "production/demo"}),
        StateResource(BUCKET, "demo-bucket", {"bucket": "b"}),
    )
    state = (
        StateResource(
            GROUP,
            "demo-nodes",
            {
                "instanceTypes": ["p4d.24xlarge"],
                "amiType": "A",
                "scalingConfig": {"minSize": 1, "maxSize": 9},
                "labels": {"a": "b"},
                "tags": {"t": "1"},
                "nodeRoleArn": "arn:2",
            },
        ),
        StateResource(
            DEPLOYMENT,
            "demo-deploy",
            {"metadata": {"annotations": {"f": "1"}}, "spec": {"replicas": 2, "template": "flat"}},
        ),
        StateResource(BUCKET, "demo-bucket", {"bucket": "other"}),  # no key inputs known
        StateResource(BUCKET, "demo", {}),
        StateResource(BUCKET, "demo-extra", {}),
        StateResource(BUCKET, "demonstration", {}),  # another env's name, not a child of demo
        StateResource(BUCKET, "other-thing", {}),
        StateResource("aws:sqs/queue:Queue", "demo-queue", {}),  # sorts after skipped ones
        StateResource("pulumi:providers:aws", "demo-provider", {}),
    )
    result = engine.compare("pulumi", env, Observation(PulumiFacts(state, planned)))
    restore = f"restore it: {UP}"
    extra = ("present", "not in the program", "in the stack")
    remove = f"remove it: {UP} (or add it to the spec)"
    assert rows(result) == [
        (
            f"{GROUP} demo-nodes",
            "instanceTypes",
            ["p5.48xlarge"],
            ["p4d.24xlarge"],
            restore,
            "drift",
        ),
        (f"{GROUP} demo-nodes", "scalingConfig.maxSize", 2, 9, restore, "drift"),
        (
            f"{DEPLOYMENT} demo-deploy",
            "spec.template.spec.nodeSelector",
            {"a": "b"},
            None,
            restore,
            "drift",
        ),
        (
            f"{DEPLOYMENT} demo-deploy",
            "spec.template.spec.containers",
            [{"i": 1}],
            None,
            restore,
            "drift",
        ),
        (
            "aws:ecr/repository:Repository demo-repo",
            "present",
            "in the stack",
            "missing",
            f"create it: {UP}",
            "drift",
        ),
        (f"{BUCKET} demo", *extra, remove, "drift"),
        (f"{BUCKET} demo-extra", *extra, remove, "drift"),
        ("aws:sqs/queue:Queue demo-queue", *extra, remove, "drift"),
    ]
    assert checks(result) == [
        (f"{GROUP} demo-nodes", "present"),
        (f"{GROUP} demo-nodes", "amiType"),
        (f"{GROUP} demo-nodes", "scalingConfig.minSize"),
        (f"{GROUP} demo-nodes", "labels"),
        (f"{GROUP} demo-nodes", "tags"),
        (f"{DEPLOYMENT} demo-deploy", "present"),
        (f"{DEPLOYMENT} demo-deploy", "metadata.annotations"),
        (f"{DEPLOYMENT} demo-deploy", "spec.replicas"),
        (f"{BUCKET} demo-bucket", "present"),
    ]


def test_gfd_driver_needs_major_and_minor():
    current = "nvidia.com/cuda.driver-version"
    assert engine.node_driver({f"{current}.major": "550"}) is None
    assert engine.node_driver({f"{current}.minor": "54", f"{current}.revision": "15"}) is None
    deprecated = {
        "nvidia.com/cuda.driver.major": "570",
        "nvidia.com/cuda.driver.minor": "26",
        "nvidia.com/cuda.driver.rev": "03",
    }
    assert engine.node_driver({f"{current}.major": "550", **deprecated}) == "570.26.03"


def test_every_target_has_a_comparer_and_nothing_observed_is_no_finding(env):
    assert targets.NAMES == ("host", "docker", "kubernetes", "aws", "pulumi")
    for target in targets.NAMES:
        result = engine.compare(target, env, Observation(None))
        assert (result.target, result.findings, result.checks) == (target, (), ())
        assert (result.name, result.stage, result.fingerprint) == (
            "demo",
            "production",
            env.fingerprint,
        )


def test_one_table_of_targets_feeds_the_flow_the_cli_promotion_and_the_workflow():
    from envparity.cli.drift import NAMES as offered

    from envparity.core.render import workflow

    assert tuple(drift_check.COLLECTORS) == targets.NAMES == offered
    assert {f for t in targets.TARGETS for f in t.expects} == set(drift_check.EXPECTED)
    assert all(callable(t.comparer()) for t in targets.TARGETS)
    assert targets.PROMOTION_GATES == ("host", "docker", "kubernetes", "aws")
    assert targets.SCHEDULED == ("aws", "kubernetes")
    assert workflow.SCHEDULED is targets.SCHEDULED
