"""The comparison engine: (resolved stage, observed facts, expectations) -> Result. Pure.

One function per target; each walks the facts once with dict lookups, so 10,000
observed objects compare in well under a second (bench/bench_drift.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from packaging.version import InvalidVersion, Version

from envparity import compat_tables
from envparity.drift.findings import DRIFT, WARNING, Check, Finding, Result, Unchecked
from envparity.drift.observed import (
    AwsFacts,
    DockerFacts,
    HostFacts,
    KubernetesFacts,
    Observation,
    PulumiFacts,
)
from envparity.model import ResolvedStage
from envparity.names import (
    FINGERPRINT_KEY,
    FINGERPRINT_LABEL,
    GPU_RESOURCE,
    NAME_KEY,
    NAME_LABEL,
    STAGE_KEY,
    VERSION_LABEL,
    k8s_selector_text,
)
from envparity.requirements import name_of, parse, pinned_version

GFD_PRODUCT = "nvidia.com/gpu.product"
# GPU Feature Discovery driver labels: current names first, then the deprecated ones.
GFD_DRIVER_FULL = "nvidia.com/cuda.driver-version.full"
GFD_DRIVER = (
    (
        "nvidia.com/cuda.driver-version.major",
        "nvidia.com/cuda.driver-version.minor",
        "nvidia.com/cuda.driver-version.revision",
    ),
    ("nvidia.com/cuda.driver.major", "nvidia.com/cuda.driver.minor", "nvidia.com/cuda.driver.rev"),
)


@dataclass(frozen=True)
class ExpectedNodePool:
    """The node group the stack program creates for the stage (components/node_pool.py)."""

    instance_type: str
    ami_type: str
    min_size: int
    max_size: int
    labels: Mapping[str, str]


@dataclass(frozen=True)
class Expectations:
    """What the spec alone does not say but the project recorded or derives for the stage."""

    lock: Mapping[str, str] | None = None  # normalised name -> version, from the lock file
    promoted_digest: str | None = None  # sha256:... recorded by `envparity build --push`
    node_pool: ExpectedNodePool | None = None
    repository: str | None = None  # the ECR repository name, when the stage uses ECR


def spec_file(env: ResolvedStage) -> str:
    """Where the spec lives by the project's convention (hints only; the engine reads no files)."""
    return f"envspecs/{env.name}.yaml"


class _Outcome:
    """Accumulates checks, findings and gaps for one target."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.findings: list[Finding] = []
        self.checks: list[Check] = []
        self.unchecked: list[Unchecked] = []

    def expect(
        self,
        obj: str,
        fld: str,
        expected: Any,
        actual: Any,
        hint: str,
        same: bool | None = None,
        severity: str = DRIFT,
    ) -> None:
        if expected == actual if same is None else same:
            self.checks.append(Check(self.target, obj, fld))
        else:
            self.findings.append(Finding(self.target, obj, fld, expected, actual, hint, severity))

    def differ(
        self, obj: str, fld: str, expected: Any, actual: Any, hint: str, severity: str = DRIFT
    ) -> None:
        self.findings.append(Finding(self.target, obj, fld, expected, actual, hint, severity))

    def gap(self, obj: str, reason: str, hint: str) -> None:
        self.unchecked.append(Unchecked(self.target, obj, reason, hint))

    def result(self, env: ResolvedStage, observation: Observation) -> Result:
        return Result(
            env.name,
            env.stage,
            self.target,
            env.fingerprint,
            tuple(self.findings),
            tuple(self.checks),
            tuple(observation.unchecked) + tuple(self.unchecked),
        )


def compare(
    target: str,
    env: ResolvedStage,
    observation: Observation,
    expectations: Expectations | None = None,
) -> Result:
    """Compare what a collector observed with the stage; facts None means nothing was seen."""
    out = _Outcome(target)
    if observation.facts is not None:
        COMPARERS[target](out, env, observation.facts, expectations or Expectations())
    return out.result(env, observation)


# --- host --------------------------------------------------------------------------------
def compare_host(out: _Outcome, env: ResolvedStage, facts: HostFacts, exp: Expectations) -> None:
    out.expect(
        "python",
        "version",
        env.software.python,
        facts.python,
        f"run with Python {env.software.python} (the image or a venv made from it)",
    )
    pins = _pins(env.software.python_packages + env.extra_python_packages)
    _compare_distributions(out, pins, facts.distributions, "pip install")
    if exp.lock is not None:
        locked = {name: version for name, version in exp.lock.items() if name not in pins}
        _compare_distributions(out, locked, facts.distributions, "install what the lock pins:")
    for key, value in {**env.software.env, **env.runtime_env}.items():
        out.expect(
            f"env {key}", "value", value, facts.env.get(key), f"export {key} as the spec sets it"
        )
    for key in env.secrets:  # names only: a secret's value is never printed
        out.expect(
            f"secret {key}",
            "present",
            "set",
            "set" if key in facts.env else "unset",
            f"provide {key} from the stage's secret store",
        )
    if env.needs_gpu:
        _compare_host_gpus(out, env, facts)


def _pins(requirements: tuple[str, ...]) -> dict[str, str]:
    """Exact pins by normalised name; pins whose marker does not apply here are left out."""
    pins = {}
    for text in requirements:
        requirement = parse(text)
        version = pinned_version(requirement)
        if version is not None and (requirement.marker is None or requirement.marker.evaluate()):
            pins[name_of(text)] = version
    return pins


def _same_version(a: str, b: str | None) -> bool:
    if b is None:
        return False
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def _compare_distributions(
    out: _Outcome, wanted: Mapping[str, str], installed: Mapping[str, str], how: str
) -> None:
    for name, version in wanted.items():
        actual = installed.get(name)
        out.expect(
            f"distribution {name}",
            "version",
            version,
            actual,
            f"{how} {name}=={version}",
            same=_same_version(version, actual),
        )


def driver_floor(env: ResolvedStage) -> str | None:
    """The lowest NVIDIA driver the stage may run on: the spec's `driver`, else CUDA's floor."""
    if env.software.driver:
        return env.software.driver
    return compat_tables.min_driver_for_cuda(env.software.cuda) if env.software.cuda else None


def _driver_ok(out: _Outcome, obj: str, env: ResolvedStage, driver: str) -> None:
    floor = driver_floor(env)
    if floor is None:
        out.gap(
            obj,
            f"the driver floor of CUDA {env.software.cuda} is not known to envparity",
            "set `driver:` in the spec",
        )
        return
    try:
        ok = compat_tables.driver_at_least(driver, floor)
    except ValueError:
        out.differ(obj, "driver", f">= {floor}", driver, "the driver reports an unreadable version")
        return
    out.expect(
        obj,
        "driver",
        f">= {floor}",
        driver,
        f"upgrade the NVIDIA driver to {floor} or newer",
        same=ok,
    )


def _product_ok(
    out: _Outcome,
    obj: str,
    env: ResolvedStage,
    device_name: str,
    capability: tuple[int, int] | None,
) -> None:
    product = compat_tables.gpu_for_device_name(device_name)
    allowed = list(env.software.gpus)
    if product is None:
        out.differ(
            obj,
            "gpu",
            allowed or "a GPU CUDA supports",
            device_name,
            f"GPU {device_name!r} is not known to envparity; add it to "
            "compat_tables.GPUS with its source, or run on a GPU the spec lists",
            severity=WARNING if not allowed else DRIFT,
        )
    elif allowed:
        out.expect(
            obj,
            "gpu",
            allowed,
            product,
            f"run on {' or '.join(allowed)}, or add {product} to `gpus` if CUDA supports it",
            same=product in allowed,
        )
    if product is not None and capability is None:
        capability = compat_tables.gpu_info(product).capability
    if capability is not None and env.software.cuda:
        supported = compat_tables.cuda_supports_capability(env.software.cuda, capability)
        if supported is None:
            out.gap(
                obj,
                f"whether CUDA {env.software.cuda} supports "
                f"{compat_tables.sm(capability)} is not known to envparity",
                "add the architecture to compat_tables.ARCH_SUPPORT with its source",
            )
        else:
            out.expect(
                obj,
                "compute capability",
                f"supported by CUDA {env.software.cuda}",
                compat_tables.sm(capability)
                if not supported
                else f"supported by CUDA {env.software.cuda}",
                f"pick a CUDA release that targets {compat_tables.sm(capability)}",
                same=supported,
            )


def _compare_host_gpus(out: _Outcome, env: ResolvedStage, facts: HostFacts) -> None:
    if facts.driver is None:
        out.differ(
            "gpu",
            "present",
            f"{env.gpus_per_replica} NVIDIA GPU(s)",
            f"none ({facts.no_gpu_reason or 'NVML found no driver'})",
            f"stage {env.stage} needs {env.gpus_per_replica} GPU(s) per replica: run it on a "
            "GPU host, or check a CPU stage (gpus: 0)",
        )
        return
    _driver_ok(out, "gpu driver", env, facts.driver)
    out.expect(
        "gpu",
        "count",
        f">= {env.gpus_per_replica}",
        len(facts.devices),
        f"stage {env.stage} needs {env.gpus_per_replica} GPU(s) per replica",
        same=len(facts.devices) >= env.gpus_per_replica,
    )
    for index, device in enumerate(facts.devices):
        _product_ok(out, f"gpu {index}", env, device.name, device.capability)


# --- docker ------------------------------------------------------------------------------
def compare_docker(
    out: _Outcome, env: ResolvedStage, facts: DockerFacts, exp: Expectations
) -> None:
    images = sorted(
        (i for i in facts.images if i.labels.get(NAME_LABEL) == env.name), key=lambda i: i.created
    )
    build = f"envparity build {spec_file(env)} --stage {env.stage}"
    if not images:
        out.differ(
            "image",
            "present",
            f"an image labelled {NAME_LABEL}={env.name}",
            "none",
            f"build it: {build}",
        )
        return
    newest = images[-1]
    label = _image_label(newest)
    out.expect(
        label,
        FINGERPRINT_LABEL,
        env.fingerprint,
        newest.labels.get(FINGERPRINT_LABEL),
        f"the newest image was built from other software: {build}",
    )
    matching = [i for i in images if i.labels.get(FINGERPRINT_LABEL) == env.fingerprint]
    current = matching[-1] if matching else None
    if current is not None:
        label = _image_label(current)
        out.expect(
            label,
            VERSION_LABEL,
            env.version,
            current.labels.get(VERSION_LABEL),
            f"rebuild: {build}",
        )
        if current.python is not None:
            out.expect(label, "python", env.software.python, current.python, f"rebuild: {build}")
        if current.distributions is not None:
            _compare_distributions(
                _Prefixed(out, label),
                _pins(env.software.python_packages),
                current.distributions,
                "rebuild with",
            )
    for container in facts.containers:
        if current is None:
            break
        out.expect(
            f"container {container.name}",
            "image",
            _image_label(current),
            container.image or container.image_id[:19],
            f"restart {container.name} from {_image_label(current)}",
            same=container.image_id == current.id,
        )


def _image_label(image) -> str:
    return f"image {image.tags[0] if image.tags else image.id[:19]}"


class _Prefixed:
    """An outcome whose objects are prefixed (distributions inside one image)."""

    def __init__(self, out: _Outcome, prefix: str) -> None:
        self.out, self.prefix = out, prefix

    def expect(self, obj: str, *args, **kwargs) -> None:
        self.out.expect(f"{self.prefix} {obj}", *args, **kwargs)


# --- kubernetes --------------------------------------------------------------------------
KIND_OBJECTS = {"service": "Deployment", "job": "Job", "cronjob": "CronJob"}


def compare_kubernetes(
    out: _Outcome, env: ResolvedStage, facts: KubernetesFacts, exp: Expectations
) -> None:
    selector = k8s_selector_text(env)
    up = f"pulumi up --stack {env.stage}"
    if facts.deployments is not None and not facts.deployments:
        out.differ(
            "deployments",
            "present",
            f"a {KIND_OBJECTS[env.kind]} labelled {selector}",
            "none",
            f"deploy it: {up}",
        )
    want_selector = dict(exp.node_pool.labels) if exp.node_pool else {}
    for dep in facts.deployments or ():
        obj = f"{dep.kind.lower()} {dep.namespace}/{dep.name}"
        out.expect(
            obj,
            FINGERPRINT_KEY,
            env.fingerprint,
            dep.annotations.get(FINGERPRINT_KEY),
            f"deployed from other software: {up}",
        )
        out.expect(obj, "replicas", env.replicas, dep.replicas, f"scale back: {up}")
        out.expect(obj, "nodeSelector", want_selector, dict(dep.node_selector), f"restore it: {up}")
        container = next(
            (c for c in dep.containers if c.name == env.name),
            dep.containers[0] if dep.containers else None,
        )
        if container is None:
            out.differ(obj, "containers", env.name, "none", f"restore it: {up}")
            continue
        want_gpus = str(env.gpus_per_replica) if env.gpus_per_replica else None
        out.expect(
            obj, f"limits.{GPU_RESOURCE}", want_gpus, container.gpu_limit, f"restore it: {up}"
        )
        digest = container.image.partition("@")[2] or None
        if exp.promoted_digest is None:
            out.differ(
                obj,
                "image digest",
                "a promoted digest",
                container.image,
                f"no digest of {env.image_tag} is recorded for stage {env.stage}: "
                f"envparity build {spec_file(env)} --stage {env.stage} --push",
                severity=WARNING,
            )
        else:
            out.expect(
                obj, "image digest", exp.promoted_digest, digest, f"deploy the promoted image: {up}"
            )
    if env.needs_gpu and facts.nodes is not None:
        _compare_nodes(out, env, facts)


def node_driver(labels: Mapping[str, str]) -> str | None:
    """'550.54.15' from GFD labels: `.full`, else the current parts, else the deprecated ones."""
    if labels.get(GFD_DRIVER_FULL):
        return labels[GFD_DRIVER_FULL]
    for names in GFD_DRIVER:
        parts = [labels.get(name) for name in names]
        if parts[0] and parts[1]:
            return ".".join(p for p in parts if p)
    return None


def _compare_nodes(out: _Outcome, env: ResolvedStage, facts: KubernetesFacts) -> None:
    if not facts.nodes:
        out.differ(
            "nodes",
            "GPU nodes",
            f">= 1 node with {GFD_PRODUCT} for {env.name}/{env.stage}",
            0,
            f"create the node pool: pulumi up --stack {env.stage}",
        )
    for node in facts.nodes:
        obj = f"node {node.name}"
        product = node.labels.get(GFD_PRODUCT)
        driver = node_driver(node.labels)
        if product is None or driver is None:
            out.gap(
                obj,
                "no GPU Feature Discovery labels (nvidia.com/gpu.product, "
                "nvidia.com/cuda.driver-version.*)",
                "install NVIDIA GPU Feature Discovery (the GPU operator) on the cluster",
            )
            continue
        _product_ok(out, obj, env, product, None)
        _driver_ok(out, obj, env, driver)


# --- aws ---------------------------------------------------------------------------------
def compare_aws(out: _Outcome, env: ResolvedStage, facts: AwsFacts, exp: Expectations) -> None:
    up = f"pulumi up --stack {env.stage}"
    pool = exp.node_pool
    if pool is not None and facts.node_groups is not None and not facts.node_groups:
        out.differ(
            "node groups",
            "present",
            f"a node group tagged {NAME_KEY}={env.name},{STAGE_KEY}={env.stage}",
            "none",
            f"create it: {up}",
        )
    for group in facts.node_groups or ():
        obj = f"nodegroup {group.cluster}/{group.name}"
        if pool is None:
            out.differ(
                obj,
                "present",
                "none (the stage names no instance_type)",
                group.name,
                f"delete it or set stages.{env.stage}.instance_type",
            )
            continue
        out.expect(
            obj,
            FINGERPRINT_KEY,
            env.fingerprint,
            group.tags.get(FINGERPRINT_KEY),
            f"created for other software: {up}",
        )
        out.expect(
            obj,
            "instanceTypes",
            [pool.instance_type],
            list(group.instance_types),
            f"restore it: {up}",
        )
        out.expect(obj, "amiType", pool.ami_type, group.ami_type, f"restore it: {up}")
        ami = compat_tables.eks_gpu_ami_type(group.ami_type or "")
        if ami is not None and ami.end_of_support:
            out.differ(
                obj,
                "amiType support",
                "supported",
                f"end of support {ami.end_of_support}",
                f"move to {pool.ami_type}: {up}",
                severity=WARNING,
            )
        out.expect(obj, "scalingConfig.minSize", pool.min_size, group.min_size, f"restore it: {up}")
        out.expect(obj, "scalingConfig.maxSize", pool.max_size, group.max_size, f"restore it: {up}")
        want = dict(pool.labels)
        out.expect(obj, "labels", want, {k: group.labels.get(k) for k in want}, f"restore it: {up}")
    for image in facts.images or ():
        obj = f"ecr {image.repository}:{image.tag}"
        push = f"envparity build {spec_file(env)} --stage {env.stage} --push"
        if not image.repository_exists:
            out.differ(obj, "repository", image.repository, "none", f"create it: {up}")
            continue
        out.expect(
            obj, "present", "pushed", "pushed" if image.digest else "none", f"push it: {push}"
        )
        if image.digest and exp.promoted_digest:
            out.expect(
                obj,
                "digest",
                exp.promoted_digest,
                image.digest,
                f"the tag points at another image than the promoted one: {push}",
            )


# --- pulumi state ------------------------------------------------------------------------
# The inputs that decide what a resource is; ids and outputs of the mock runtime are not.
KEY_INPUTS: dict[str, tuple[str, ...]] = {
    "aws:eks/nodeGroup:NodeGroup": (
        "instanceTypes",
        "amiType",
        "scalingConfig.minSize",
        "scalingConfig.maxSize",
        "labels",
        "tags",
    ),
    "aws:eks/cluster:Cluster": ("name", "version", "tags"),
    "aws:ecr/repository:Repository": ("name", "imageTagMutability", "tags"),
    "kubernetes:apps/v1:Deployment": (
        "metadata.annotations",
        "spec.replicas",
        "spec.template.spec.nodeSelector",
        "spec.template.spec.containers",
    ),
    "kubernetes:batch/v1:CronJob": (
        "spec.schedule",
        "spec.jobTemplate.spec.template.spec.containers",
    ),
    "kubernetes:core/v1:Namespace": ("metadata.name",),
}


def _dig(inputs: Mapping, path: str) -> Any:
    value: Any = inputs
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def compare_pulumi(
    out: _Outcome, env: ResolvedStage, facts: PulumiFacts, exp: Expectations
) -> None:
    up = f"pulumi up --stack {env.stage}"
    state = {(r.type, r.name): r for r in facts.resources}
    planned = {(r.type, r.name): r for r in facts.planned}
    for key, want in planned.items():
        obj = f"{key[0]} {key[1]}"
        have = state.get(key)
        if have is None:
            out.differ(obj, "present", "in the stack", "missing", f"create it: {up}")
            continue
        out.checks.append(Check(out.target, obj, "present"))
        for path in KEY_INPUTS.get(key[0], ()):
            expected = _dig(want.inputs, path)
            if expected is not None:
                out.expect(obj, path, expected, _dig(have.inputs, path), f"restore it: {up}")
    for key in sorted(state.keys() - planned.keys()):
        if key[0].startswith("pulumi:") or not _belongs(key[1], env.name):
            continue  # the stack itself, providers, and other environments of the stage
        out.differ(
            f"{key[0]} {key[1]}",
            "present",
            "not in the program",
            "in the stack",
            f"remove it: {up} (or add it to the spec)",
        )


def _belongs(resource_name: str, env_name: str) -> bool:
    """Components name their children `<env>-<role>`."""
    return resource_name == env_name or resource_name.startswith(f"{env_name}-")


COMPARERS = {
    "host": compare_host,
    "docker": compare_docker,
    "kubernetes": compare_kubernetes,
    "aws": compare_aws,
    "pulumi": compare_pulumi,
}
TARGETS = tuple(COMPARERS)
