"""Resolution: the software environment with one stage's infrastructure applied."""

from __future__ import annotations

from envparity.core.diagnostics import Diagnostic, SpecError, UserError
from envparity.core.model import ResolvedStage, Spec, frozen_map


def resolve(spec: Spec, stage: str) -> ResolvedStage:
    """The resolved stage `stage` of a loaded `spec`; a stage it does not declare is an error.

    The resolved stage carries the spec's knowledge snapshot and completes itself from it
    (model.ResolvedStage, complete.py).
    """
    if stage not in spec.stages:
        declared = ", ".join(spec.stages) or "none"
        raise SpecError(
            [
                Diagnostic(
                    f"{spec.name} has no stage '{stage}' (declared: {declared})",
                    ("stages",),
                    f"add stages.{stage} to the spec, or pick a declared stage",
                    file=spec.source,
                )
            ]
        )
    own = spec.stages[stage]
    run = spec.run
    return ResolvedStage(
        name=spec.name,
        version=spec.version,
        stage=stage,
        fingerprint=spec.fingerprint,
        description=spec.description,
        software=spec.software,
        tables=spec.tables,
        command=run.command,
        port=run.port,
        replicas=1 if own.replicas is None else own.replicas,
        gpus_per_replica=run.gpus if own.gpus is None else own.gpus,
        cpu=own.cpu or run.cpu,
        memory=own.memory or run.memory,
        health_path=run.health_path,
        backoff_limit=run.backoff_limit,
        schedule=own.schedule,
        instance_type=own.instance_type,
        nodes=own.nodes,
        region=own.region,
        cluster=own.cluster,
        registry=own.registry,
        runtime_env=frozen_map(own.env),
        secrets=own.secrets,
        extra_python_packages=own.extra_python_packages,
    )


def resolve_all(spec: Spec) -> dict[str, ResolvedStage]:
    return {stage: resolve(spec, stage) for stage in spec.stages}


class UndeclaredStage(UserError):
    """A command named a stage its spec does not declare."""


def require_stage(spec: Spec, stage: str) -> None:
    """UndeclaredStage, naming the declared stages, unless `spec` declares `stage`.

    Commands check this before resolving: one line naming the spec file, where `resolve`
    reports a diagnostic.
    """
    if stage not in spec.stages:
        raise UndeclaredStage(
            f"{spec.source}: no stage {stage!r}",
            f"use one of {', '.join(spec.stages) or '(none declared)'}",
        )
