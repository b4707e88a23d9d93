"""Kubernetes target: the stage's workload (Deployment, Job or CronJob, by the spec's kind) and
its GPU nodes (GPU Feature Discovery labels)."""

from __future__ import annotations

from collections.abc import Mapping

from envparity.core.drift.expectations import Expectations, spec_file
from envparity.core.drift.findings import WARNING
from envparity.core.drift.observed import KubernetesFacts
from envparity.core.drift.outcome import Outcome, Prefixed
from envparity.core.drift.rules.gpu import driver_ok, product_ok
from envparity.core.drift.rules.provenance import compare_provenance
from envparity.core.model import ResolvedStage
from envparity.core.names import FINGERPRINT_KEY, GPU_RESOURCE, k8s_selector_text

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
KIND_OBJECTS = {"service": "Deployment", "job": "Job", "cronjob": "CronJob"}


def compare_kubernetes(
    out: Outcome, env: ResolvedStage, facts: KubernetesFacts, exp: Expectations
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
                f"envparity build {spec_file(env, exp)} --stage {env.stage} --push",
                severity=WARNING,
            )
        else:
            out.expect(
                obj, "image digest", exp.promoted_digest, digest, f"deploy the promoted image: {up}"
            )
        if container.provenance is not None:
            build = f"envparity build {spec_file(env, exp)} --stage {env.stage} --push"
            compare_provenance(
                Prefixed(out, obj), env, container.provenance, f"build, push, then {up}: {build}"
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


def _compare_nodes(out: Outcome, env: ResolvedStage, facts: KubernetesFacts) -> None:
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
        product_ok(out, obj, env, product, None)
        driver_ok(out, obj, env, driver)
