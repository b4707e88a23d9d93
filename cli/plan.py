"""`envparity plan`: what `pulumi up` would create, offline, under Pulumi's mock runtime."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from envparity.cli.common import fail, load_or_exit, print_json

# The inputs worth a column per resource type (JSON output has all of them).
KEY_INPUTS = {
    "aws:eks/nodeGroup:NodeGroup": ("instanceTypes", "amiType", "scalingConfig", "taints"),
    "aws:eks/cluster:Cluster": ("name", "accessConfig.authenticationMode"),
    "aws:ecr/repository:Repository": ("name", "imageTagMutability", "imageScanningConfiguration"),
    "aws:iam/rolePolicy:RolePolicy": ("policy",),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("policyArn",),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": ("namespace", "serviceAccount"),
    "pulumi:providers:aws": ("region",),
    "pulumi:providers:kubernetes": ("context",),
    "kubernetes:apps/v1:Deployment": (
        "metadata.namespace",
        "spec.replicas",
        "spec.template.spec.containers.0.image",
        "spec.template.spec.containers.0.resources.limits",
        "spec.template.spec.nodeSelector",
    ),
    "kubernetes:batch/v1:CronJob": (
        "spec.schedule",
        "spec.jobTemplate.spec.template.spec.containers.0.command",
    ),
    "kubernetes:rbac.authorization.k8s.io/v1:Role": ("rules",),
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole": ("rules",),
    "kubernetes:core/v1:Service": ("spec.ports",),
}


def plan(
    specs: list[Path] = typer.Argument(
        ..., help="Spec file(s), e.g. envspecs/train.yaml.", show_default=False
    ),
    stage: str = typer.Option(..., "--stage", "-s", help="local, testing, staging or production."),
    json_out: bool = typer.Option(False, "--json", help='Print {"resources": [...]} for machines.'),
    stacks: Path = typer.Option(
        Path("stacks"),
        "--stacks",
        help="Directory of the stack configs (settings, recorded images).",
    ),
) -> None:
    """List the resources `pulumi up --stack STAGE` would create, without credentials or network.

    Runs the project's Pulumi program under Pulumi's mock runtime; ids, ARNs and
    endpoints of resources that do not exist yet are placeholders. Exit 0, or 1 on an
    invalid spec or stack config.
    """
    try:
        from envparity.adapters.pulumi_plan import plan as run_plan
    except ImportError as exc:  # the `pulumi` extra is not installed
        fail(
            f"plan needs the Pulumi SDK ({exc.name} is missing)", "pip install 'envparity[pulumi]'"
        )
    result = run_plan(load_or_exit(specs), stage, stacks)
    sys.stderr.writelines(f"warning: {w}\n" for w in result.warnings)
    if json_out:
        print_json(result.to_json())
        return
    from envparity.cli.common import console
    from rich.table import Table

    table = Table(title=f"envparity plan: stage {stage} ({len(result.resources)} resources)")
    for column in ("type", "name", "parent"):
        table.add_column(column, overflow="fold")
    table.add_column("key inputs", overflow="fold", min_width=40)
    for resource in result.resources:
        table.add_row(
            _short_type(resource.type),
            resource.name,
            resource.parent or "-",
            _summary(resource.type, resource.inputs),
        )
    out = console()
    out.print(table)
    out.print("Offline plan (Pulumi mock runtime): ids, ARNs and endpoints are placeholders.")


def _short_type(type_: str) -> str:
    """`aws:eks/nodeGroup:NodeGroup` -> `aws:eks:NodeGroup` (table only)."""
    package, _, rest = type_.partition(":")
    module, _, name = rest.rpartition(":")
    group, _, leaf = module.partition("/")
    return f"{package}:{group}:{name}" if leaf.lower() == name.lower() else type_


def _summary(type_: str, inputs: dict) -> str:
    parts = []
    for path in KEY_INPUTS.get(type_, ()):
        value = _at(inputs, path)
        if value is not None:
            parts.append(f"{path.rsplit('.', 1)[-1]}={_short(value)}")
    return "\n".join(parts)


def _at(data, path: str):
    for part in path.split("."):
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, dict):
            data = data.get(part)
        else:
            return None
    return data


def _short(value) -> str:
    import json

    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
