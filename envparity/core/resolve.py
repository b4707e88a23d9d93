"""Resolution: the software environment with one stage's infrastructure applied."""

from __future__ import annotations

import dataclasses

from envparity.core.complete import complete
from envparity.core.diagnostics import Diagnostic, SpecError, UserError
from envparity.core.fingerprint import software_fields
from envparity.core.model import ResolvedStage, Spec, frozen_map


def resolve(spec: Spec, stage: str) -> ResolvedStage:
    """The resolved stage `stage` of a loaded `spec`; a stage it does not declare is an error.

    The resolved stage carries the spec's knowledge snapshot and the facts completion derived
    from it (complete.py): read them, never derive them again.
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
        # The spec was completed once for every stage; a hand-made spec is completed here.
        completed=spec.completed
        or complete(spec.software, spec.tables, {stage: own.instance_type}),
    )


def restage(env: ResolvedStage, **changes) -> ResolvedStage:
    """`env` with `changes` applied and completed again from its own fields (a plain
    dataclasses.replace would keep the facts of the fields it replaced)."""
    changed = dataclasses.replace(env, **changes)
    done = complete(changed.software, changed.tables, {changed.stage: changed.instance_type})
    return dataclasses.replace(changed, completed=done)


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


def resolved_json(env: ResolvedStage) -> dict:
    """The stable JSON form of a resolved stage, printed by `envparity show --json`."""
    return {
        "name": env.name,
        "version": env.version,
        "stage": env.stage,
        "fingerprint": env.fingerprint,
        "description": env.description,
        "image": env.image_ref,
        "software": software_fields(env.software),
        "cuda": {"runtime": env.cuda_runtime, "from": env.cuda_from},
        "run": {
            "command": list(env.command),
            "port": env.port,
            "replicas": env.replicas,
            "gpus": env.gpus_per_replica,
            "cpu": env.cpu,
            "memory": env.memory,
            "kind": env.kind,
            "health_path": env.health_path,
            "backoff_limit": env.backoff_limit,
            "schedule": env.schedule,
        },
        "infrastructure": {
            "instance_type": env.instance_type,
            "instance_gpu": env.instance_gpu,
            "instance_gpu_count": env.instance_gpu_count,
            "nodes": {"min": env.nodes.min, "max": env.nodes.max} if env.nodes else None,
            "region": env.region,
            "cluster": env.cluster,
            "registry": env.registry,
        },
        "config": {
            "env": dict(env.runtime_env),
            "secrets": list(env.secrets),
            "extra_python_packages": list(env.extra_python_packages),
        },
    }
