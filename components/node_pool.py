"""GpuNodePool: the EKS managed node group an environment runs on in one stage."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pulumi

from envparity import compat_tables
from envparity.diagnostics import UserError
from envparity.model import ResolvedStage
from envparity.names import (
    ENVIRONMENT_LABEL,
    GPU_PRODUCT_LABEL,
    GPU_RESOURCE,
    STAGE_KEY,
    aws_tags,
)

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
    info = compat_tables.instance_info(env.instance_type)
    if info is None:
        raise PlacementError(
            f"{env.name}: stages.{env.stage}.instance_type {env.instance_type!r} "
            "is not known to envparity",
            "use an instance type from docs/compatibility.md",
        )
    gpu_node = info.gpu is not None
    ami_type = AMI_TYPES[(gpu_node, info.arch)]
    if gpu_node and compat_tables.eks_gpu_ami_type(ami_type) is None:
        raise PlacementError(
            f"EKS AMI type {ami_type} is not known to envparity",
            "add it to compat_tables.EKS_GPU_AMI_TYPES with its source",
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


@dataclass(frozen=True)
class GpuNodePoolArgs:
    env: ResolvedStage
    plan: NodePoolPlan
    cluster_name: pulumi.Input[str]
    node_role_arn: pulumi.Input[str]
    subnet_ids: pulumi.Input[list]
    aws_provider: pulumi.ProviderResource


class GpuNodePool(pulumi.ComponentResource):
    """An EKS managed node group: NVIDIA AMI, GPU product label and `nvidia.com/gpu` taint on
    GPU instances; a plain AL2023 node group for CPU-only environments."""

    def __init__(
        self, name: str, args: GpuNodePoolArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("envparity:nodes:GpuNodePool", name, None, opts)
        import pulumi_aws as aws

        plan = args.plan
        group = aws.eks.NodeGroup(
            f"{name}-group",
            cluster_name=args.cluster_name,
            node_group_name=f"{args.env.name}-{args.env.stage}",
            node_role_arn=args.node_role_arn,
            subnet_ids=args.subnet_ids,
            instance_types=[plan.instance_type],
            ami_type=plan.ami_type,
            scaling_config={
                "min_size": plan.min_size,
                "max_size": plan.max_size,
                "desired_size": plan.desired_size,
            },
            labels=plan.labels,
            taints=[dict(t) for t in plan.taints],
            tags=aws_tags(args.env),
            # A cluster autoscaler owns the desired size once the group exists.
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.aws_provider,
                ignore_changes=["scalingConfig.desiredSize"],
            ),
        )
        self.node_group_name = group.node_group_name
        self.register_outputs({"node_group_name": self.node_group_name})
