"""`envparity plan`: the stack program run offline under Pulumi's mock runtime.

The program is the one `pulumi up` runs (`envparity.components.program.main`); only the
engine is replaced by `pulumi.runtime.set_mocks`, so no credentials, cloud or cluster is
needed. Ids, ARNs and endpoints of resources that do not exist yet are placeholders.
Pulumi's runtime is process-global, so plans run one at a time (a lock makes that so).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envparity.core import ledger
from envparity.core.diagnostics import UserError
from envparity.core.model import Spec
from envparity.core.render.stack_config import stack_config
from envparity.core.stack_settings import SPECS

ACCOUNT = "123456789012"  # the placeholder account id of the AWS documentation
_LOCK = threading.Lock()


@dataclass(frozen=True)
class PlannedResource:
    type: str
    name: str
    parent: str | None  # the parent's name; None for resources at the top of the stack
    inputs: dict[str, Any]

    def to_json(self) -> dict:
        return {"type": self.type, "name": self.name, "parent": self.parent, "inputs": self.inputs}


@dataclass(frozen=True)
class Plan:
    stage: str
    resources: tuple[PlannedResource, ...]
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict:
        return {"resources": [r.to_json() for r in self.resources]}

    def of_type(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_]


class PlanError(UserError):
    """The program refused the stack (stale or wrong config, unplaceable stage): one line."""


def plan_config(specs: Sequence[Spec], stage: str, stacks_dir: Path) -> dict[str, Any]:
    """The stack config the program gets for just `specs`: the stage's file (settings and
    recorded images) with `envparity:specs` listing exactly the given specs."""
    existing = ledger.read_stack_config(ledger.stack_config_path(stacks_dir, stage))
    return stack_config(stage, specs, {**existing, SPECS: []}, stacks_dir.parent)


def plan(specs: Sequence[Spec], stage: str, stacks_dir: Path) -> Plan:
    """The resources `pulumi up --stack <stage>` would create for `specs`."""
    config = plan_config(specs, stage, stacks_dir)
    if not config.get(SPECS):
        declared = ", ".join(sorted({s for spec in specs for s in spec.stages})) or "none"
        raise PlanError(f"no spec given declares stage '{stage}' (declared: {declared})")
    with _LOCK:
        return _run(config, stage, stacks_dir.parent)


def _run(config: dict[str, Any], stage: str, root: Path) -> Plan:
    import pulumi
    from pulumi.runtime import mocks, settings
    from pulumi.runtime.config import set_all_config
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from envparity.components import program

    recorder = _Recorder()
    warnings = _Warnings()
    # A fresh root stack and no RPCs or outputs left from a previous run, even a failed one
    # (what pulumi.runtime.test clears); set_mocks only makes a root stack when there is none.
    settings.ROOT.set(None)
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    mocks.set_mocks(
        recorder,
        project=ledger.PROJECT,
        stack=stage,
        preview=False,
        logger=warnings.logger,
        monitor=_RecordingMonitor(recorder),
    )
    set_all_config(
        {
            key: value if isinstance(value, str) else json.dumps(value)
            for key, value in config.items()
        }
    )
    try:
        _sync_await(run_pulumi_func(lambda: program.main(root)))
    except pulumi.RunError as exc:
        raise PlanError(str(exc)) from None
    finally:
        settings.ROOT.set(None)
    return Plan(stage, recorder.resources(), tuple(warnings.messages))


class _Warnings(logging.Handler):
    """Collects what the program logs with pulumi.log.warn (the mock engine logs it here)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []
        self.logger = logging.getLogger(f"envparity.adapters.pulumi_plan.{id(self)}")
        self.logger.propagate = False
        self.logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class _Recorder:
    """The mocks: records every registration and answers with placeholder outputs."""

    def __init__(self) -> None:
        self.inputs: dict[tuple[str, str], dict] = {}
        self.parents: dict[tuple[str, str], str | None] = {}
        self.regions: dict[str, str] = {}  # provider reference -> its region

    # --- pulumi.runtime.Mocks ---
    def new_resource(self, args) -> tuple[str, dict]:
        inputs = dict(args.inputs)
        self.inputs[(args.typ, args.name)] = inputs
        region = self.regions.get(args.provider or "", "us-east-1")
        resource_id = f"{args.name}-id"
        outputs = dict(inputs)
        if args.typ == "pulumi:providers:aws":
            resource_id = args.name
        elif args.typ == "aws:ecr/repository:Repository":
            outputs["repositoryUrl"] = f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{inputs['name']}"
        elif args.typ == "aws:iam/role:Role":
            outputs |= {"name": args.name, "arn": f"arn:aws:iam::{ACCOUNT}:role/{args.name}"}
            resource_id = args.name
        elif args.typ == "aws:eks/cluster:Cluster":
            outputs |= {
                "endpoint": f"https://{inputs['name']}.eks.{region}.example.invalid",
                "certificateAuthority": {"data": ""},
            }
        return resource_id, outputs

    def call(self, args) -> dict:
        if args.token == "aws:ec2/getVpc:getVpc":
            return {"id": "vpc-default"}
        if args.token == "aws:ec2/getSubnets:getSubnets":
            return {"id": "default-subnets", "ids": ["subnet-default-a", "subnet-default-b"]}
        if args.token == "aws:eks/getCluster:getCluster":
            name = args.args.get("name")
            return {
                "id": name,
                "name": name,
                "endpoint": f"https://{name}.eks.example.invalid",
                "certificateAuthorities": [{"data": ""}],
                "vpcConfig": {"subnetIds": ["subnet-cluster-a", "subnet-cluster-b"]},
            }
        return {}

    def register_transform(self, transform) -> None:  # the program registers none
        pass

    def register_invoke_transform(self, transform) -> None:
        pass

    def resources(self) -> tuple[PlannedResource, ...]:
        """Every registered resource, parents before children, siblings by name."""

        by_name: dict[str, tuple[str, str]] = {}  # a parent's name -> its first registration
        for key in self.parents:
            by_name.setdefault(key[1], key)
        paths: dict[tuple[str, str], tuple[str, ...]] = {}

        def path(key: tuple[str, str]) -> tuple[str, ...]:
            if key not in paths:
                parent = self.parents.get(key)
                found = by_name.get(parent) if parent else None
                paths[key] = (*path(found), key[1]) if found else (key[1],)
            return paths[key]

        stack_first = lambda k: (k[0] != "pulumi:pulumi:Stack", path(k), k[0])  # noqa: E731
        keys = sorted(self.parents, key=stack_first)
        return tuple(
            PlannedResource(t, n, self.parents[(t, n)], _plain(self.inputs.get((t, n), {})))
            for t, n in keys
        )


def _RecordingMonitor(recorder: _Recorder):
    """A MockMonitor that also notes each resource's parent and each AWS provider's region."""
    from pulumi.runtime.mocks import MockMonitor

    class RecordingMonitor(MockMonitor):
        def RegisterResource(self, request):
            response = super().RegisterResource(request)
            parent = request.parent.split("::")[-1] if request.parent else None
            if request.parent and request.parent.split("::")[2].endswith("pulumi:pulumi:Stack"):
                parent = None
            recorder.parents[(request.type, request.name)] = parent
            if request.type == "pulumi:providers:aws":
                region = recorder.inputs.get((request.type, request.name), {}).get("region")
                recorder.regions[f"{response.urn}::{response.id}"] = region
            return response

    return RecordingMonitor(recorder)


def _plain(value: Any) -> Any:
    """Inputs as JSON data: the engine's numbers are doubles (4.0 replicas is 4), and mock
    inputs may hold resource references or unknowns (shown as text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
