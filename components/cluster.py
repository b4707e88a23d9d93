"""EksCluster: the Kubernetes cluster of one stage in one region, created or taken as it is."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

CLUSTER_POLICIES = ("arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",)
NODE_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
)


def assume_role_policy(service: str, actions: Sequence[str] = ("sts:AssumeRole",)) -> str:
    """A trust policy letting one AWS service principal assume a role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": list(actions)}
            ],
        },
        sort_keys=True,
    )


def kubeconfig(cluster_name: str, region: str, endpoint: str, ca_data: str) -> str:
    """A kubeconfig that authenticates with `aws eks get-token` (the AWS CLI's documented way)."""
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region],
        }
    }
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": cluster_name,
            "clusters": [
                {
                    "name": cluster_name,
                    "cluster": {"server": endpoint, "certificate-authority-data": ca_data},
                }
            ],
            "contexts": [
                {"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}
            ],
            "users": [{"name": cluster_name, "user": user}],
        },
        sort_keys=True,
    )


def default_subnet_ids(opts: pulumi.InvokeOptions) -> pulumi.Output[list]:
    """The subnets of the region's default VPC: `aws.ec2.get_vpc_output(default=True)` and
    `aws.ec2.get_subnets_output` called by their tokens, with the arguments and package
    version those functions send. Importing `pulumi_aws.ec2` for them would cost about a
    second of CPU, more than the rest of `envparity plan`."""
    from pulumi_aws import _utilities

    opts = pulumi.InvokeOutputOptions.merge(_utilities.get_invoke_opts_defaults(), opts)
    vpc = pulumi.runtime.invoke_output("aws:ec2/getVpc:getVpc", {"default": True}, opts)
    filters = [{"name": "vpc-id", "values": [vpc.apply(lambda found: found["id"])]}]
    subnets = pulumi.runtime.invoke_output(
        "aws:ec2/getSubnets:getSubnets", {"filters": filters}, opts
    )
    return subnets.apply(lambda found: found["ids"])


def _ca_data(authority) -> str:
    """The CA bundle of a created cluster (a dict under mocks, an output object otherwise)."""
    if authority is None:
        return ""
    return authority["data"] if isinstance(authority, dict) else authority.data


@dataclass(frozen=True)
class EksClusterArgs:
    cluster_name: str
    region: str
    mode: str  # "create" or "existing"
    tags: Mapping[str, str]
    aws_provider: pulumi.ProviderResource
    subnet_ids: Sequence[str] = field(default_factory=tuple)  # empty: the region's default VPC


class EksCluster(pulumi.ComponentResource):
    """An EKS cluster (with its IAM role and the Pod Identity agent) or an existing one by name.

    Either way it creates the IAM role that the node groups' instances use, and a
    Kubernetes provider for the cluster (`k8s_provider`).
    """

    cluster_name: pulumi.Output[str]
    subnet_ids: pulumi.Output[list]
    node_role_arn: pulumi.Output[str]
    k8s_provider: pulumi.ProviderResource

    def __init__(
        self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("envparity:cluster:EksCluster", name, None, opts)
        import pulumi_aws as aws
        import pulumi_kubernetes as k8s

        child = pulumi.ResourceOptions(parent=self, provider=args.aws_provider)
        invoke = pulumi.InvokeOptions(parent=self, provider=args.aws_provider)
        tags = dict(args.tags)
        if args.mode == "create":
            if args.subnet_ids:
                subnet_ids = pulumi.Output.from_input(list(args.subnet_ids))
            else:
                subnet_ids = default_subnet_ids(invoke)
            role = aws.iam.Role(
                f"{name}-cluster-role",
                assume_role_policy=assume_role_policy(
                    "eks.amazonaws.com", ("sts:AssumeRole", "sts:TagSession")
                ),
                tags=tags,
                opts=child,
            )
            attachments = [
                aws.iam.RolePolicyAttachment(
                    f"{name}-cluster-policy-{i}", role=role.name, policy_arn=arn, opts=child
                )
                for i, arn in enumerate(CLUSTER_POLICIES)
            ]
            cluster = aws.eks.Cluster(
                f"{name}-cluster",
                name=args.cluster_name,
                role_arn=role.arn,
                vpc_config={"subnet_ids": subnet_ids},
                access_config={
                    "authentication_mode": "API",
                    "bootstrap_cluster_creator_admin_permissions": True,
                },
                tags=tags,
                opts=pulumi.ResourceOptions.merge(
                    child, pulumi.ResourceOptions(depends_on=attachments)
                ),
            )
            # The drift job's IAM role is granted through EKS Pod Identity, which needs this agent.
            aws.eks.Addon(
                f"{name}-pod-identity-agent",
                cluster_name=cluster.name,
                addon_name="eks-pod-identity-agent",
                tags=tags,
                opts=child,
            )
            self.cluster_name = cluster.name
            endpoint = cluster.endpoint
            ca_data = cluster.certificate_authority.apply(_ca_data)
        else:
            found = aws.eks.get_cluster_output(name=args.cluster_name, opts=invoke)
            self.cluster_name = found.name
            subnet_ids = found.vpc_config.subnet_ids
            endpoint = found.endpoint
            ca_data = found.certificate_authorities.apply(lambda cas: cas[0].data if cas else "")
        self.subnet_ids = subnet_ids

        node_role = aws.iam.Role(
            f"{name}-node-role",
            assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
            tags=tags,
            opts=child,
        )
        for i, arn in enumerate(NODE_POLICIES):
            aws.iam.RolePolicyAttachment(
                f"{name}-node-policy-{i}", role=node_role.name, policy_arn=arn, opts=child
            )
        self.node_role_arn = node_role.arn

        config = pulumi.Output.all(self.cluster_name, endpoint, ca_data).apply(
            lambda parts: kubeconfig(parts[0], args.region, parts[1], parts[2])
        )
        self.k8s_provider = k8s.Provider(
            f"{name}-k8s", kubeconfig=config, opts=pulumi.ResourceOptions(parent=self)
        )
        self.register_outputs(
            {"cluster_name": self.cluster_name, "node_role_arn": self.node_role_arn}
        )
