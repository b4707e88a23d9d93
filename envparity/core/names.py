"""The names every created object carries (docs/architecture.md, "Names on what it creates").

Images, stacks and the drift checker all use these, so they are written in one place.
"""

from __future__ import annotations

from envparity.core.model import ResolvedStage

# Image labels (besides the OCI org.opencontainers.image.* ones).
NAME_LABEL = "io.envparity.name"
VERSION_LABEL = "io.envparity.version"
FINGERPRINT_LABEL = "io.envparity.fingerprint"
# Kubernetes labels and annotation, AWS tags.
K8S_NAME_LABEL = "app.kubernetes.io/name"
MANAGED_BY = "envparity"
FINGERPRINT_KEY = "envparity.io/fingerprint"
STAGE_KEY = "envparity.io/stage"
NAME_KEY = "envparity.io/name"
# Node labels set on the node groups envparity creates; the workloads select on them.
GPU_PRODUCT_LABEL = "envparity.io/gpu-product"
ENVIRONMENT_LABEL = "envparity.io/environment"
GPU_RESOURCE = "nvidia.com/gpu"  # the NVIDIA device plugin's extended resource and node taint key


def image_labels(name: str, version: str, fingerprint: str) -> dict[str, str]:
    """The envparity labels of an image built from a spec."""
    return {NAME_LABEL: name, VERSION_LABEL: version, FINGERPRINT_LABEL: fingerprint}


def aws_tags(env: ResolvedStage) -> dict[str, str]:
    """Tags on every AWS resource that accepts tags."""
    return {NAME_KEY: env.name, STAGE_KEY: env.stage, FINGERPRINT_KEY: env.fingerprint}


K8S_COMPONENT_LABEL = "app.kubernetes.io/component"
K8S_INSTANCE_LABEL = "app.kubernetes.io/instance"
PART_OF = "envparity"  # app.kubernetes.io/part-of: the environment set envparity deploys
# app.kubernetes.io/component values: what a pod is, so no selector matches another's pods.
WORKLOAD = "workload"
DRIFT = "drift"


def k8s_labels(env: ResolvedStage, component: str = WORKLOAD) -> dict[str, str]:
    """Labels on every Kubernetes object (the recommended app.kubernetes.io set, and the stage)."""
    return {
        K8S_NAME_LABEL: env.name,
        K8S_INSTANCE_LABEL: f"{env.name}-{env.stage}",
        K8S_COMPONENT_LABEL: component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/version": env.version,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        STAGE_KEY: env.stage,
    }


def k8s_selector(env: ResolvedStage, component: str = WORKLOAD) -> dict[str, str]:
    """A pod selector: the labels that never change with the version, component included, so the
    Service never selects the drift job's pods."""
    return {K8S_NAME_LABEL: env.name, STAGE_KEY: env.stage, K8S_COMPONENT_LABEL: component}


def k8s_selector_text(env: ResolvedStage) -> str:
    """`k8s_selector` (the workload's pods and objects) as a label selector for list calls."""
    return ",".join(f"{key}={value}" for key, value in k8s_selector(env).items())


def k8s_annotations(env: ResolvedStage) -> dict[str, str]:
    return {FINGERPRINT_KEY: env.fingerprint}


def k8s_metadata(
    env: ResolvedStage, name: str, namespace: str | None = None, component: str = WORKLOAD
) -> dict:
    """ObjectMeta with the environment's labels and annotation."""
    meta = {
        "name": name,
        "labels": k8s_labels(env, component),
        "annotations": k8s_annotations(env),
    }
    if namespace is not None:
        meta["namespace"] = namespace
    return meta


def identity_env(env: ResolvedStage, image: str) -> dict[str, str]:
    """What the workload is, for its logs: name, version, fingerprint, stage, image and digest.

    The digest is absent when no push is recorded for this fingerprint (deployed by tag):
    Kubernetes and Pulumi drop an empty value, so an empty one would read back as drift.
    """
    identity = {
        "ENVPARITY_NAME": env.name,
        "ENVPARITY_VERSION": env.version,
        "ENVPARITY_FINGERPRINT": env.fingerprint,
        "ENVPARITY_STAGE": env.stage,
        "ENVPARITY_IMAGE": image,
    }
    digest = image.partition("@")[2]
    return {**identity, "ENVPARITY_IMAGE_DIGEST": digest} if digest else identity
