"""Workload: the environment's namespace and what runs in it, by the kind of its command.

A service (`run.port`) is a Deployment with a Service, readiness and liveness probes and,
with more than one replica, a PodDisruptionBudget. A batch command (no port) is a Job that
runs to completion (`run.backoff_limit` retries), or a CronJob when the stage sets a
`schedule`. Every pod meets Pod Security "restricted" (components/pod_security.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from envparity.components.kube_objects import kube_object
from envparity.components.pod_security import (
    NAMESPACE_LABELS,
    container_security_context,
    pod_security_context,
)

from envparity.core.model import ResolvedStage
from envparity.core.names import GPU_RESOURCE, identity_env, k8s_labels, k8s_metadata, k8s_selector

# Requests of a container whose spec sets no cpu/memory: the scheduler needs some, and a
# memory limit equal to the request keeps one container from starving a node.
SKIP_AWAIT = "pulumi.com/skipAwait"  # the Kubernetes provider's annotation
DEFAULT_CPU = "250m"
DEFAULT_MEMORY = "512Mi"


def secret_name(env: ResolvedStage) -> str:
    """The Secret the stage's `secrets` are read from: one per environment, created by the user."""
    return f"{env.name}-secrets"


def resources(cpu: str | None, memory: str | None, gpus: int = 0) -> dict:
    """Requests for every container; memory limited to its request (no overcommit), CPU not
    (no throttling); GPUs, an extended resource, in limits."""
    memory = memory or DEFAULT_MEMORY
    limits = {"memory": memory}
    if gpus:
        limits[GPU_RESOURCE] = str(gpus)
    return {"requests": {"cpu": cpu or DEFAULT_CPU, "memory": memory}, "limits": limits}


def probe(env: ResolvedStage) -> dict:
    """An HTTP GET of `run.health_path` when the spec names one, else a TCP connect to the port."""
    if env.health_path:
        return {"httpGet": {"path": env.health_path, "port": env.port}}
    return {"tcpSocket": {"port": env.port}}


def container(env: ResolvedStage, image: str) -> dict:
    """The one container of the workload, as a Kubernetes Container object."""
    spec: dict = {"name": env.name, "image": image}
    if env.command:
        spec["command"] = list(env.command)
    variables = [{"name": k, "value": v} for k, v in identity_env(env, image).items()]
    variables += [{"name": key, "value": value} for key, value in sorted(env.runtime_env.items())]
    variables += [
        {"name": key, "valueFrom": {"secretKeyRef": {"name": secret_name(env), "key": key}}}
        for key in sorted(env.secrets)
    ]
    spec["env"] = variables
    spec["resources"] = resources(env.cpu, env.memory, env.gpus_per_replica)
    spec["securityContext"] = container_security_context()
    if env.port:
        spec["ports"] = [{"name": "http", "containerPort": env.port, "protocol": "TCP"}]
        spec["readinessProbe"] = {**probe(env), "periodSeconds": 10, "failureThreshold": 3}
        # Liveness waits longer: a slow start (a model loading) must not be killed.
        spec["livenessProbe"] = {
            **probe(env),
            "initialDelaySeconds": 30,
            "periodSeconds": 20,
            "failureThreshold": 6,
        }
    return spec


def pod_spec(
    env: ResolvedStage,
    image: str,
    node_selector: Mapping[str, str],
    tolerations: Sequence[Mapping[str, str]],
) -> dict:
    spec: dict = {
        "securityContext": pod_security_context(),
        "automountServiceAccountToken": False,  # the workload does not talk to the API
        "containers": [container(env, image)],
    }
    if env.kind != "service":
        spec["restartPolicy"] = "Never"  # a failed attempt is retried by the Job's backoff
    if node_selector:
        spec["nodeSelector"] = dict(node_selector)
    if tolerations:
        spec["tolerations"] = [dict(t) for t in tolerations]
    return spec


def job_spec(env: ResolvedStage, template: dict) -> dict:
    """A Job running `replicas` pods to completion, each with its index when there are several."""
    spec = {
        "backoffLimit": env.backoff_limit,
        "completions": env.replicas,
        "parallelism": env.replicas,
        "template": template,
    }
    if env.replicas > 1:
        spec["completionMode"] = "Indexed"  # JOB_COMPLETION_INDEX tells each pod its rank
    return spec


@dataclass(frozen=True)
class WorkloadArgs:
    env: ResolvedStage
    image: pulumi.Input[str]  # by digest when one is recorded for this fingerprint
    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: Sequence[Mapping[str, str]] = ()


class Workload(pulumi.ComponentResource):
    """The namespace `<name>` and, by kind: Deployment + Service (+ PodDisruptionBudget), Job,
    or CronJob, each named `<name>`."""

    namespace: pulumi.Output[str]

    def __init__(
        self, name: str, args: WorkloadArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("envparity:workload:Workload", name, None, opts)
        env = args.env
        child = pulumi.ResourceOptions(parent=self)
        namespace_meta = k8s_metadata(env, env.name)
        namespace_meta["labels"] = {**namespace_meta["labels"], **NAMESPACE_LABELS}
        namespace = kube_object(
            "v1", "Namespace", f"{name}-namespace", child, metadata=namespace_meta
        )
        ns = namespace.metadata_name
        meta = pulumi.Output.from_input(ns).apply(lambda n: k8s_metadata(env, env.name, n))
        template = pulumi.Output.from_input(args.image).apply(
            lambda image: {
                "metadata": {"labels": k8s_labels(env)},
                "spec": pod_spec(env, image, args.node_selector, args.tolerations),
            }
        )
        if env.kind == "service":
            self._service(name, env, meta, template, child)
        elif env.kind == "job":
            kube_object(
                "batch/v1",
                "Job",
                f"{name}-job",
                child,
                # `pulumi up` would otherwise wait for the run to finish (10 minutes, then fail):
                # a training run is checked by its pods and by drift, not by the deploy.
                metadata=meta.apply(
                    lambda m: {**m, "annotations": {**m["annotations"], SKIP_AWAIT: "true"}}
                ),
                spec=template.apply(lambda t: job_spec(env, t)),
            )
        else:
            kube_object(
                "batch/v1",
                "CronJob",
                f"{name}-cronjob",
                child,
                metadata=meta,
                spec=template.apply(
                    lambda t: {
                        "schedule": env.schedule,
                        "concurrencyPolicy": "Forbid",  # a run never overlaps the previous one
                        "jobTemplate": {"spec": job_spec(env, t)},
                    }
                ),
            )
        self.namespace = ns
        self.register_outputs({"namespace": self.namespace})

    @staticmethod
    def _service(name: str, env: ResolvedStage, meta, template, child) -> None:
        selector = k8s_selector(env)
        kube_object(
            "apps/v1",
            "Deployment",
            f"{name}-deployment",
            child,
            metadata=meta,
            spec={
                "replicas": env.replicas,
                "selector": {"matchLabels": selector},
                "template": template,
            },
        )
        ports = [{"name": "http", "port": env.port, "targetPort": env.port, "protocol": "TCP"}]
        kube_object(
            "v1",
            "Service",
            f"{name}-service",
            child,
            metadata=meta,
            spec={"selector": selector, "ports": ports},
        )
        if env.replicas > 1:
            kube_object(
                "policy/v1",
                "PodDisruptionBudget",
                f"{name}-pdb",
                child,
                metadata=meta,
                # One pod at a time may be evicted (node drains, upgrades).
                spec={"maxUnavailable": 1, "selector": {"matchLabels": selector}},
            )
