"""Pulumi target: the stack's exported state against the resources the program would create."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from envparity.core.drift.expectations import Expectations
from envparity.core.drift.findings import Check
from envparity.core.drift.observed import PulumiFacts
from envparity.core.drift.outcome import Outcome
from envparity.core.model import ResolvedStage

# The inputs that decide what a resource is; ids and outputs of the mock runtime are not.
KEY_INPUTS: dict[str, tuple[str, ...]] = {
    "aws:eks/nodeGroup:NodeGroup": (
        "instanceTypes",
        "amiType",
        "scalingConfig.minSize",
        "scalingConfig.maxSize",
        "labels",
        "tags",
    ),
    "aws:eks/cluster:Cluster": ("name", "version", "tags"),
    "aws:ecr/repository:Repository": ("name", "imageTagMutability", "tags"),
    "kubernetes:apps/v1:Deployment": (
        "metadata.annotations",
        "spec.replicas",
        "spec.template.spec.nodeSelector",
        "spec.template.spec.containers",
    ),
    "kubernetes:batch/v1:Job": (  # a batch command (components/workload.py)
        "metadata.annotations",
        "spec.parallelism",
        "spec.backoffLimit",
        "spec.template.spec.nodeSelector",
        "spec.template.spec.containers",
    ),
    "kubernetes:batch/v1:CronJob": (
        "spec.schedule",
        "spec.jobTemplate.spec.template.spec.containers",
    ),
    "kubernetes:core/v1:Namespace": ("metadata.name",),
}
# Maps of which only the keys the program sets are compared: other tools and the user's own
# Pulumi transforms add annotations (e.g. `pulumi.com/skipAwait`) without changing the resource.
OWN_KEYS_ONLY = frozenset({"metadata.annotations"})


def _dig(inputs: Mapping, path: str) -> Any:
    value: Any = inputs
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def compare_pulumi(out: Outcome, env: ResolvedStage, facts: PulumiFacts, exp: Expectations) -> None:
    up = f"pulumi up --stack {env.stage}"
    state = {(r.type, r.name): r for r in facts.resources}
    planned = {(r.type, r.name): r for r in facts.planned}
    for key, want in planned.items():
        obj = f"{key[0]} {key[1]}"
        have = state.get(key)
        if have is None:
            out.differ(obj, "present", "in the stack", "missing", f"create it: {up}")
            continue
        out.checks.append(Check(out.target, obj, "present"))
        for path in KEY_INPUTS.get(key[0], ()):
            expected, actual = _dig(want.inputs, path), _dig(have.inputs, path)
            if path in OWN_KEYS_ONLY and isinstance(actual, Mapping):
                actual = {key: actual[key] for key in actual if key in (expected or {})}
            if expected is not None:
                out.expect(obj, path, expected, actual, f"restore it: {up}")
    for key in sorted(state.keys() - planned.keys()):
        if key[0].startswith("pulumi:") or not _belongs(key[1], env.name):
            continue  # the stack itself, providers, and other environments of the stage
        out.differ(
            f"{key[0]} {key[1]}",
            "present",
            "not in the program",
            "in the stack",
            f"remove it: {up} (or add it to the spec)",
        )


def _belongs(resource_name: str, env_name: str) -> bool:
    """Components name their children `<env>-<role>`."""
    return resource_name == env_name or resource_name.startswith(f"{env_name}-")
