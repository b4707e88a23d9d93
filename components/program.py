"""The stack program: stack config -> resolved stages -> components.

`stacks/__main__.py` calls `main()` under `pulumi up`; `envparity plan` calls the same
`main()` under Pulumi's mock runtime. Decisions live in the core and the components;
this module only reads, checks that the stack config is not stale, and wires.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pulumi
from envparity.components.cluster import EksCluster, EksClusterArgs
from envparity.components.device_plugin import NvidiaDevicePlugin, NvidiaDevicePluginArgs
from envparity.components.drift_job import DriftJob, DriftJobArgs
from envparity.components.image_repository import ImageRepository, ImageRepositoryArgs
from envparity.components.node_pool import GpuNodePool, GpuNodePoolArgs
from envparity.components.workload import Workload, WorkloadArgs

from envparity.core import ledger
from envparity.core import stack_settings as ss
from envparity.core.diagnostics import SpecError
from envparity.core.model import ResolvedStage
from envparity.core.names import FINGERPRINT_KEY, NAME_KEY, STAGE_KEY
from envparity.core.placement import PlacementError, node_pool_plan


@dataclass(frozen=True)
class Environment:
    """One environment of the stack: its spec path, resolved stage, spec text and recorded image."""

    spec: str
    env: ResolvedStage
    spec_text: str
    recorded: ledger.ImageRef | None


def main(root: Path) -> None:
    """Read the stack (its name is the stage), load the specs it lists, create the resources.

    `root` is the project directory (where Pulumi.yaml is): spec paths are relative to it.
    """
    stage = pulumi.get_stack()
    config = pulumi.Config(ledger.PROJECT)
    try:
        settings = ss.settings(stage, lambda key: _config_value(config, key))
        environments = [load(root, path, stage, settings) for path in settings.specs]
        deploy(settings, environments)
    except (ledger.StackConfigError, PlacementError) as exc:
        raise pulumi.RunError(f"{exc.message} (hint: {exc.hint})") from None
    except SpecError as exc:
        raise pulumi.RunError(str(exc)) from None


def _config_value(config: pulumi.Config, key: str):
    name = key.split(":", 1)[1]
    return config.get_object(name) if key in ss.ARRAYS else config.get(name)


def load(root: Path, spec: str, stage: str, settings: ss.StackSettings) -> Environment:
    """Load and resolve one spec the stack lists, with the image recorded for its fingerprint."""
    from envparity.core.resolve import resolve
    from envparity.core.spec import load_spec

    path = root / spec
    if not path.is_file():
        raise ledger.StackConfigError(
            f"{ss.SPECS}: spec {spec} not found",
            "run `envparity render envspecs/*.yaml` to regenerate the stack configs",
        )
    env = resolve(load_spec(path), stage)
    return Environment(spec, env, path.read_text(encoding="utf-8"), settings.image_for(env))


def deploy(settings: ss.StackSettings, environments: list[Environment]) -> None:
    if settings.on_aws:
        _deploy_aws(settings, environments)
    else:
        _deploy_local(settings, environments)


def _deploy_local(settings: ss.StackSettings, environments: list[Environment]) -> None:
    """A local cluster context; no AWS provider, so no AWS resource can be created."""
    import pulumi_kubernetes as k8s

    provider = k8s.Provider("local-k8s", context=settings.kube_context)
    for item in environments:
        env = item.env
        repository = ImageRepository(f"{env.name}-image", ImageRepositoryArgs(env))
        image = str(item.recorded) if item.recorded else _by_tag(item, repository.repository_url)
        opts = pulumi.ResourceOptions(providers=[provider])
        workload = Workload(env.name, WorkloadArgs(env, image), opts)
        _drift_job(settings, item, workload.namespace, opts)


def _deploy_aws(settings: ss.StackSettings, environments: list[Environment]) -> None:
    import pulumi_aws as aws

    providers: dict[str, pulumi.ProviderResource] = {}
    clusters: dict[tuple[str, str], EksCluster] = {}
    device_plugins: set[tuple[str, str]] = set()
    for item in environments:
        env = item.env
        if env.region is None:
            raise ledger.StackConfigError(
                f"{env.name}: stages.{env.stage}.region is not set",
                f"add `region: us-east-1` (or yours) to stages.{env.stage}",
            )
        if env.region not in providers:
            providers[env.region] = aws.Provider(f"aws-{env.region}", region=env.region)
        provider = providers[env.region]
        cluster_name = env.cluster or settings.cluster_name
        key = (env.region, cluster_name)
        if key not in clusters:
            sharing = [
                e.env
                for e in environments
                if (e.env.region, e.env.cluster or settings.cluster_name) == key
            ]
            clusters[key] = EksCluster(
                f"{cluster_name}-{env.region}",
                EksClusterArgs(
                    cluster_name,
                    env.region,
                    settings.cluster_mode,
                    _shared_tags(cluster_name, sharing),
                    provider,
                    settings.subnet_ids,
                ),
            )
        cluster = clusters[key]

        repository = ImageRepository(
            f"{env.name}-image",
            ImageRepositoryArgs(env, aws_provider=provider),
        )
        image = str(item.recorded) if item.recorded else _by_tag(item, repository.repository_url)
        placement = node_pool_plan(env)
        if placement is not None and placement.taints and key not in device_plugins:
            # GPU nodes in this cluster: without the device plugin no pod gets a GPU.
            device_plugins.add(key)
            NvidiaDevicePlugin(
                f"{cluster_name}-{env.region}-nvidia",
                NvidiaDevicePluginArgs(cluster_name),
                pulumi.ResourceOptions(providers=[cluster.k8s_provider]),
            )
        if placement is not None:
            GpuNodePool(
                f"{env.name}-nodes",
                GpuNodePoolArgs(
                    env,
                    placement,
                    cluster.cluster_name,
                    cluster.node_role_arn,
                    cluster.subnet_ids,
                    provider,
                ),
            )
        opts = pulumi.ResourceOptions(providers=[cluster.k8s_provider])
        workload = Workload(
            env.name,
            WorkloadArgs(
                env,
                image,
                node_selector=placement.node_selector if placement else {},
                tolerations=placement.tolerations if placement else (),
            ),
            opts,
        )
        _drift_job(settings, item, workload.namespace, opts, cluster.cluster_name, provider)


def _drift_job(
    settings: ss.StackSettings,
    item: Environment,
    namespace,
    opts,
    cluster_name=None,
    aws_provider=None,
) -> None:
    if not settings.drift_schedule:
        return
    image = settings.drift_image_ref()
    if image is None:
        pulumi.log.warn(
            f"{item.env.name}: no drift job in stage {item.env.stage}: no envparity-drift image "
            f"is recorded (hint: run `envparity build drift/envparity-drift.yaml --stage "
            f"{item.env.stage} --push`, or set {ss.DRIFT_IMAGE} to an image by digest)"
        )
        return
    DriftJob(
        f"{item.env.name}-drift",
        DriftJobArgs(
            item.env,
            namespace,
            item.spec_text,
            ledger.dump(
                item.env.stage, {ledger.IMAGES: [str(item.recorded)] if item.recorded else []}
            ),
            settings.drift_schedule,
            str(image),
            cluster_name,
            aws_provider,
        ),
        opts,
    )


def _by_tag(item: Environment, repository_url: pulumi.Output[str]) -> pulumi.Output[str]:
    env = item.env
    pulumi.log.warn(
        f"{env.name}: no image recorded for fingerprint {env.fingerprint[:12]} in stage "
        f"{env.stage}; deploying by tag {env.image_tag} (hint: run `envparity build "
        f"{item.spec} --stage {env.stage} --push` to deploy by digest)"
    )
    return pulumi.Output.concat(repository_url, ":", env.image_tag)


def _shared_tags(cluster_name: str, environments: list[ResolvedStage]) -> dict[str, str]:
    """Tags of resources shared by several environments: the fingerprint covers all of them."""
    import hashlib

    combined = json.dumps(sorted(e.fingerprint for e in environments))
    return {
        NAME_KEY: cluster_name,
        STAGE_KEY: environments[0].stage,
        FINGERPRINT_KEY: hashlib.sha256(combined.encode()).hexdigest(),
    }
