"""NvidiaDevicePlugin: NVIDIA's device plugin with GPU Feature Discovery, on a cluster's GPU nodes.

Without it no node advertises `nvidia.com/gpu` and GPU pods stay Pending; GPU Feature
Discovery labels nodes with the GPU product and driver version, which `envparity drift
--target kubernetes` reads. Deployed as NVIDIA's Helm chart at a pinned version through
the Kubernetes provider (its `helm.sh/v3` Release): the chart is NVIDIA's supported install,
carries the RBAC and the Node Feature Discovery it needs, and upgrades with one version
bump, where copied manifests would drift from upstream. Its pods need hostPath mounts of
the kubelet's device-plugin socket, so they run in a namespace of their own that allows
the `privileged` profile; every other namespace the stacks create enforces `restricted`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from envparity.components.kube_objects import helm_release, kube_object

from envparity.core.names import GPU_PRODUCT_LABEL, GPU_RESOURCE, MANAGED_BY, PART_OF

CHART = "nvidia-device-plugin"
CHART_VERSION = "0.17.1"  # NVIDIA's k8s-device-plugin release v0.17.1
CHART_REPOSITORY = "https://nvidia.github.io/k8s-device-plugin"
NAMESPACE = "nvidia-device-plugin"
GPU_TOLERATION = {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}
# Only nodes of envparity's GPU node groups (they carry the GPU product label).
GPU_NODES = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": GPU_PRODUCT_LABEL, "operator": "Exists"}]}
            ]
        }
    }
}
LABELS = {
    "app.kubernetes.io/name": CHART,
    "app.kubernetes.io/component": "device-plugin",
    "app.kubernetes.io/part-of": PART_OF,
    "app.kubernetes.io/managed-by": MANAGED_BY,
    "app.kubernetes.io/version": CHART_VERSION,
}


def chart_values() -> dict:
    """The chart's values: GFD on, device plugin, GFD and NFD workers only on GPU nodes."""
    placement = {"affinity": GPU_NODES, "tolerations": [GPU_TOLERATION]}
    return {
        **placement,
        "gfd": {"enabled": True},
        "nfd": {"worker": placement, "master": {"tolerations": [GPU_TOLERATION]}},
    }


@dataclass(frozen=True)
class NvidiaDevicePluginArgs:
    cluster_name: str  # for the resource names: one plugin per cluster


class NvidiaDevicePlugin(pulumi.ComponentResource):
    """A namespace allowing privileged pods, and NVIDIA's chart released into it."""

    def __init__(
        self, name: str, args: NvidiaDevicePluginArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("envparity:gpu:NvidiaDevicePlugin", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = kube_object(
            "v1",
            "Namespace",
            f"{name}-namespace",
            child,
            metadata={
                "name": NAMESPACE,
                "labels": {**LABELS, "pod-security.kubernetes.io/enforce": "privileged"},
            },
        )
        release = helm_release(
            f"{name}-release",
            child,
            name=CHART,
            chart=CHART,
            version=CHART_VERSION,
            repositoryOpts={"repo": CHART_REPOSITORY},
            namespace=namespace.metadata_name,
            values=chart_values(),
        )
        self.release_name = release.name
        self.register_outputs({"release_name": self.release_name})
