"""GpuNodePool: the EKS managed node group an environment runs on in one stage."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from envparity.core.model import ResolvedStage
from envparity.core.names import aws_tags
from envparity.core.placement import NodePoolPlan


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
