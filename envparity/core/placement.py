"""Where an environment's stage runs: its node pool and image repository, from the resolved stage.

Pure functions of the resolved stage (its completed instance facts and its knowledge
snapshot): the Pulumi components
create what they describe, and the drift checker expects what they describe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from envparity.core.diagnostics import UserError
from envparity.core.model import ResolvedStage
from envparity.core.names import ENVIRONMENT_LABEL, GPU_PRODUCT_LABEL, GPU_RESOURCE, STAGE_KEY

# EKS AMI types per (GPU node?, CPU architecture). GPU ones must be in the compatibility
# table (which knows their end of support); the standard AL2023 ones carry no GPU driver.
AMI_TYPES = {
    (True, "x86_64"): "AL2023_x86_64_NVIDIA",
    (True, "arm64"): "AL2023_ARM_64_NVIDIA",
    (False, "x86_64"): "AL2023_x86_64_STANDARD",
    (False, "arm64"): "AL2023_ARM_64_STANDARD",
}


class PlacementError(UserError):
    """The stage's instance type cannot be placed (a mistake in the spec or a gap in the tables)."""


@dataclass(frozen=True)
class NodePoolPlan:
    """What the node group of a stage looks like: computed from the resolved stage alone."""

    instance_type: str
    gpu: str | None  # GPU product, None for a CPU node group
    ami_type: str
    min_size: int
    max_size: int
    desired_size: int
    labels: dict
    taints: tuple[dict, ...]

    @property
    def node_selector(self) -> dict[str, str]:
        return dict(self.labels)

    @property
    def tolerations(self) -> list[dict]:
        """Pods tolerate the GPU taint only on GPU node groups."""
        return (
            [{"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}]
            if self.gpu
            else []
        )


def node_pool_plan(env: ResolvedStage) -> NodePoolPlan | None:
    """The node group for `env`, or None when the stage names no instance type."""
    if env.instance_type is None:
        return None
    if env.instance is None:
        raise PlacementError(
            f"{env.name}: stages.{env.stage}.instance_type {env.instance_type!r} "
            "is not known to envparity",
            "use an instance type from docs/compatibility.md",
        )
    info = env.instance.info
    gpu_node = info.gpu is not None
    ami_type = AMI_TYPES[(gpu_node, info.arch)]
    if gpu_node and env.tables.eks_gpu_ami_type(ami_type) is None:
        raise PlacementError(
            f"EKS AMI type {ami_type} is not known to envparity",
            "add it to eks_gpu_ami_types in envparity/core/knowledge/curated.json with its source",
        )
    if gpu_node and env.gpus_per_replica > info.gpu_count:
        raise PlacementError(
            f"{env.name}: stage {env.stage} asks {env.gpus_per_replica} GPUs per replica but "
            f"{env.instance_type} has {info.gpu_count}",
            f"lower gpus in stages.{env.stage} or pick a larger instance type",
        )
    # Enough nodes for every replica: GPUs limit GPU nodes; one replica per node otherwise.
    per_node = info.gpu_count // env.gpus_per_replica if gpu_node and env.gpus_per_replica else 1
    needed = max(1, math.ceil(env.replicas / per_node))
    low, high = (env.nodes.min, env.nodes.max) if env.nodes else (needed, needed)
    labels = {ENVIRONMENT_LABEL: env.name, STAGE_KEY: env.stage}
    if gpu_node:
        labels[GPU_PRODUCT_LABEL] = info.gpu
    taints = ({"key": GPU_RESOURCE, "value": "true", "effect": "NO_SCHEDULE"},) if gpu_node else ()
    return NodePoolPlan(
        env.instance_type,
        info.gpu,
        ami_type,
        low,
        high,
        min(max(needed, low), high),
        dict(sorted(labels.items())),
        taints,
    )


def ecr_repository_name(env: ResolvedStage) -> str | None:
    """The ECR repository the stacks create for `env`: per stage, images are promoted by digest.

    None for the local stage and for a stage that names its own registry.
    """
    return f"{env.stage}/{env.name}" if env.stage != "local" and env.registry is None else None
