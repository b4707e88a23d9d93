"""Parity: what differs between the stages of one environment, and whether the format allows it.

By construction a stage can change only infrastructure and configuration, so the
software (and so the fingerprint and the image) is the same in every stage. What
the format still forbids is a promoted stage (staging, production) that adds
packages: it could not deploy the digest promoted from testing.
"""

from __future__ import annotations

from dataclasses import dataclass

from envparity.core.model import ResolvedStage, Spec
from envparity.core.resolve import resolve_all

PROMOTED = ("staging", "production")


@dataclass(frozen=True)
class ParityRow:
    field: str
    values: dict[str, str]  # stage -> value as text

    @property
    def differs(self) -> bool:
        return len(set(self.values.values())) > 1


@dataclass(frozen=True)
class ParityReport:
    name: str
    stages: tuple[str, ...]
    rows: tuple[ParityRow, ...]
    problems: tuple[str, ...]

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "stages": list(self.stages),
            "rows": [
                {"field": r.field, "values": r.values, "differs": r.differs} for r in self.rows
            ],
            "problems": list(self.problems),
        }


def _show(value) -> str:
    if value is None or value == () or value == {}:
        return "-"
    if isinstance(value, tuple):
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


ROWS = {
    "fingerprint": lambda r: r.fingerprint[:12],
    "image": lambda r: r.image_tag,
    "replicas": lambda r: r.replicas,
    "gpus per replica": lambda r: r.gpus_per_replica,
    "cpu": lambda r: r.cpu,
    "memory": lambda r: r.memory,
    "instance_type": lambda r: r.instance_type,
    "instance GPUs": lambda r: (
        f"{r.instance_gpu_count} x {r.instance_gpu}" if r.instance_gpu else None
    ),
    "nodes": lambda r: f"{r.nodes.min}-{r.nodes.max}" if r.nodes else None,
    "region": lambda r: r.region,
    "cluster": lambda r: r.cluster,
    "registry": lambda r: r.registry,
    "env (runtime)": lambda r: dict(r.runtime_env),
    "secrets": lambda r: r.secrets,
    "extra_python_packages": lambda r: r.extra_python_packages,
}


def parity(spec: Spec) -> ParityReport:
    resolved: dict[str, ResolvedStage] = resolve_all(spec)
    rows = tuple(
        ParityRow(field, {s: _show(get(r)) for s, r in resolved.items()})
        for field, get in ROWS.items()
    )
    problems = tuple(
        f"{stage} adds extra_python_packages ({', '.join(r.extra_python_packages)}): "
        "a promoted stage must run "
        "the image promoted by digest from testing; move them to python_packages or to testing"
        for stage, r in resolved.items()
        if stage in PROMOTED and r.extra_python_packages
    )
    return ParityReport(spec.name, tuple(resolved), rows, problems)
