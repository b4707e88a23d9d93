"""DriftJob: `envparity drift` on a schedule inside the cluster, with read-only rights only."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
from envparity.components.cluster import assume_role_policy
from envparity.components.kube_objects import RBAC, kube_object
from envparity.components.pod_security import container_security_context, pod_security_context
from envparity.components.workload import resources

from envparity.core.model import ResolvedStage
from envparity.core.names import DRIFT, aws_tags, k8s_labels, k8s_metadata

READ_VERBS = ["get", "list", "watch"]
# What the Kubernetes collector reads in the environment's namespace, and (cluster-wide) nodes.
NAMESPACED_RULES = [
    {"apiGroups": [""], "resources": ["pods", "services", "configmaps"], "verbs": READ_VERBS},
    {"apiGroups": ["apps"], "resources": ["deployments", "replicasets"], "verbs": READ_VERBS},
    {"apiGroups": ["batch"], "resources": ["cronjobs", "jobs"], "verbs": READ_VERBS},
]
CLUSTER_RULES = [{"apiGroups": [""], "resources": ["nodes", "namespaces"], "verbs": READ_VERBS}]
# What the AWS collector reads: Describe/List/Get only, nothing that changes or reveals secrets.
AWS_READ_ACTIONS = sorted(
    [
        "eks:DescribeCluster",
        "eks:DescribeNodegroup",
        "eks:ListNodegroups",
        "eks:ListClusters",
        "ecr:DescribeImages",
        "ecr:DescribeRepositories",
        "ecr:ListImages",
        "ecr:ListTagsForResource",
        "ec2:DescribeInstances",
        "ec2:DescribeInstanceTypes",
        "tag:GetResources",
    ]
)
SPEC_DIR = "/etc/envparity"
SERVICE_ACCOUNT = "envparity-drift"
# One drift run: the CLI and the Kubernetes client, a few hundred objects in memory.
CPU, MEMORY = "100m", "256Mi"


def drift_command(env: ResolvedStage) -> list[str]:
    return [
        "envparity",
        "drift",
        f"{SPEC_DIR}/{env.name}.yaml",
        "--stage",
        env.stage,
        "--target",
        "kubernetes",
        # The stage's recorded image, mounted beside the spec: the digest to expect.
        "--stacks",
        SPEC_DIR,
        "--json",
    ]


@dataclass(frozen=True)
class DriftJobArgs:
    env: ResolvedStage
    namespace: pulumi.Input[str]
    spec_text: str  # the spec file, mounted read-only for the job
    stack_config_text: str  # Pulumi.<stage>.yaml holding only this env's recorded image
    schedule: str  # cron expression
    image: str  # an image with envparity installed
    # On AWS: the cluster and provider for the job's IAM role (EKS Pod Identity); None elsewhere.
    cluster_name: pulumi.Input[str] | None = None
    aws_provider: pulumi.ProviderResource | None = None


class DriftJob(pulumi.ComponentResource):
    """CronJob + ServiceAccount bound to get/list/watch roles; on AWS a Describe/List/Get role."""

    def __init__(
        self, name: str, args: DriftJobArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("envparity:drift:DriftJob", name, None, opts)
        env, child = args.env, pulumi.ResourceOptions(parent=self)
        ns = pulumi.Output.from_input(args.namespace)

        def meta(object_name: str, namespaced: bool = True):
            return ns.apply(
                lambda n: k8s_metadata(env, object_name, n if namespaced else None, DRIFT)
            )

        cluster_wide = f"envparity-drift-{env.name}"  # cluster-scoped names must not collide
        kube_object(
            "v1",
            "ConfigMap",
            f"{name}-spec",
            child,
            metadata=meta("envparity-spec"),
            data={
                f"{env.name}.yaml": args.spec_text,
                f"Pulumi.{env.stage}.yaml": args.stack_config_text,
            },
        )
        account = kube_object(
            "v1", "ServiceAccount", f"{name}-account", child, metadata=meta(SERVICE_ACCOUNT)
        )
        subject = ns.apply(
            lambda n: [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": n}]
        )
        role = kube_object(
            f"{RBAC}/v1",
            "Role",
            f"{name}-role",
            child,
            metadata=meta("envparity-drift-read"),
            rules=NAMESPACED_RULES,
        )
        kube_object(
            f"{RBAC}/v1",
            "RoleBinding",
            f"{name}-binding",
            child,
            metadata=meta("envparity-drift-read"),
            roleRef={
                "apiGroup": RBAC,
                "kind": "Role",
                "name": role.metadata_name,
            },
            subjects=subject,
        )
        cluster_role = kube_object(
            f"{RBAC}/v1",
            "ClusterRole",
            f"{name}-cluster-role",
            child,
            metadata=meta(cluster_wide, False),
            rules=CLUSTER_RULES,
        )
        kube_object(
            f"{RBAC}/v1",
            "ClusterRoleBinding",
            f"{name}-cluster-binding",
            child,
            metadata=meta(cluster_wide, False),
            roleRef={
                "apiGroup": RBAC,
                "kind": "ClusterRole",
                "name": cluster_role.metadata_name,
            },
            subjects=subject,
        )
        pod_labels = k8s_labels(env, DRIFT)  # component=drift: no workload selector matches
        kube_object(
            "batch/v1",
            "CronJob",
            f"{name}-cronjob",
            child,
            metadata=meta("envparity-drift"),
            spec={
                "schedule": args.schedule,
                "concurrencyPolicy": "Forbid",
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {
                    "spec": {
                        "backoffLimit": 0,
                        "template": {
                            "metadata": {"labels": pod_labels},
                            "spec": {
                                "serviceAccountName": account.metadata_name,
                                "restartPolicy": "Never",
                                "securityContext": pod_security_context(),
                                "containers": [
                                    {
                                        "name": "drift",
                                        "image": args.image,
                                        "command": drift_command(env),
                                        "resources": resources(CPU, MEMORY),
                                        "securityContext": container_security_context(),
                                        "volumeMounts": [
                                            {
                                                "name": "spec",
                                                "mountPath": SPEC_DIR,
                                                "readOnly": True,
                                            }
                                        ],
                                    }
                                ],
                                "volumes": [
                                    {"name": "spec", "configMap": {"name": "envparity-spec"}}
                                ],
                            },
                        },
                    }
                },
            },
        )
        if args.aws_provider is not None:
            self._aws_role(name, args)
        self.register_outputs({"service_account": account.metadata_name})

    def _aws_role(self, name: str, args: DriftJobArgs) -> None:
        import pulumi_aws as aws

        child = pulumi.ResourceOptions(parent=self, provider=args.aws_provider)
        tags = aws_tags(args.env)
        role = aws.iam.Role(
            f"{name}-iam-role",
            assume_role_policy=assume_role_policy(
                "pods.eks.amazonaws.com", ("sts:AssumeRole", "sts:TagSession")
            ),
            tags=tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-iam-policy",
            role=role.id,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": AWS_READ_ACTIONS, "Resource": "*"}],
                },
                sort_keys=True,
            ),
            opts=child,
        )
        aws.eks.PodIdentityAssociation(
            f"{name}-pod-identity",
            cluster_name=args.cluster_name,
            namespace=args.namespace,
            service_account=SERVICE_ACCOUNT,
            role_arn=role.arn,
            tags=tags,
            opts=child,
        )
