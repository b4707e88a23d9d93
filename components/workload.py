"""Workload: the environment's namespace, Deployment and (with `run.port`) Service."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from envparity.model import ResolvedStage
from envparity.names import GPU_RESOURCE, k8s_metadata, k8s_selector


def secret_name(env: ResolvedStage) -> str:
    """The Secret the stage's `secrets` are read from: one per environment, created by the user."""
    return f"{env.name}-secrets"


def container(env: ResolvedStage, image: str) -> dict:
    """The one container of the workload, as a Kubernetes Container object."""
    spec: dict = {"name": env.name, "image": image}
    if env.command:
        spec["command"] = list(env.command)
    variables = [{"name": key, "value": value} for key, value in sorted(env.runtime_env.items())]
    variables += [
        {"name": key, "valueFrom": {"secretKeyRef": {"name": secret_name(env), "key": key}}}
        for key in sorted(env.secrets)
    ]
    if variables:
        spec["env"] = variables
    requests = {k: v for k, v in (("cpu", env.cpu), ("memory", env.memory)) if v}
    # Memory is limited to what is requested (no overcommit); CPU is not, to avoid throttling.
    limits = {"memory": env.memory} if env.memory else {}
    if env.gpus_per_replica:
        limits[GPU_RESOURCE] = str(env.gpus_per_replica)  # extended resources go in limits
    resources = {k: v for k, v in (("requests", requests), ("limits", limits)) if v}
    if resources:
        spec["resources"] = resources
    if env.port:
        spec["ports"] = [{"name": "http", "containerPort": env.port, "protocol": "TCP"}]
        # A TCP check: the spec says which port the workload serves, not which path is healthy.
        spec["readinessProbe"] = {
            "tcpSocket": {"port": env.port},
            "periodSeconds": 10,
            "failureThreshold": 3,
        }
    return spec


@dataclass(frozen=True)
class WorkloadArgs:
    env: ResolvedStage
    image: pulumi.Input[str]  # by digest when one is recorded for this fingerprint
    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: Sequence[Mapping[str, str]] = ()


class Workload(pulumi.ComponentResource):
    """Namespace, Deployment and (when the spec has `run.port`) Service, all named `<name>`."""

    namespace: pulumi.Output[str]

    def __init__(
        self, name: str, args: WorkloadArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("envparity:workload:Workload", name, None, opts)
        import pulumi_kubernetes as k8s

        env = args.env
        child = pulumi.ResourceOptions(parent=self)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata=k8s_metadata(env, env.name), opts=child
        )
        ns = namespace.metadata.name
        pod_spec = pulumi.Output.from_input(args.image).apply(
            lambda image: {
                "containers": [container(env, image)],
                **({"nodeSelector": dict(args.node_selector)} if args.node_selector else {}),
                **(
                    {"tolerations": [dict(t) for t in args.tolerations]} if args.tolerations else {}
                ),
            }
        )
        pod_meta = k8s_metadata(env, env.name)
        del pod_meta["name"]  # pods are named by their ReplicaSet
        k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=pulumi.Output.from_input(ns).apply(lambda n: k8s_metadata(env, env.name, n)),
            spec={
                "replicas": env.replicas,
                "selector": {"matchLabels": k8s_selector(env)},
                "template": {"metadata": pod_meta, "spec": pod_spec},
            },
            opts=child,
        )
        if env.port:
            k8s.core.v1.Service(
                f"{name}-service",
                metadata=pulumi.Output.from_input(ns).apply(
                    lambda n: k8s_metadata(env, env.name, n)
                ),
                spec={
                    "selector": k8s_selector(env),
                    "ports": [
                        {
                            "name": "http",
                            "port": env.port,
                            "targetPort": env.port,
                            "protocol": "TCP",
                        }
                    ],
                },
                opts=child,
            )
        self.namespace = ns
        self.register_outputs({"namespace": self.namespace})
