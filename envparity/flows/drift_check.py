"""One drift check: pick the collector, derive what the project expects, compare.

This is the only module that knows every target; the CLI calls `check` once per spec.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from envparity.core.diagnostics import UserError
from envparity.core.drift import engine
from envparity.core.drift.engine import Expectations, ExpectedNodePool
from envparity.core.drift.findings import Result
from envparity.core.drift.observed import Observation
from envparity.core.model import ResolvedStage, Spec
from envparity.core.placement import PlacementError, ecr_repository_name, node_pool_plan


class DriftSetupError(UserError):
    """The check cannot start because of the user's input (exit 1): message and hint."""


@dataclass(frozen=True)
class Options:
    stacks_dir: Path = Path("stacks")
    state: Path | None = None  # `pulumi stack export` JSON, for the pulumi target
    timeout: float = 10.0


def check(spec: Spec, env: ResolvedStage, target: str, options: Options = Options()) -> Result:
    observation, expectations = _collect(spec, env, target, options)
    return engine.compare(target, env, observation, replace(expectations, spec=spec.source))


def _collect(
    spec: Spec, env: ResolvedStage, target: str, options: Options
) -> tuple[Observation, Expectations]:
    if target == "host":
        from envparity.adapters.collectors import host

        return host.collect(), Expectations(lock=lock_pins(spec, env.stage))
    if target == "docker":
        from envparity.adapters.collectors import docker

        return docker.collect(env, timeout=options.timeout), Expectations()
    if target == "kubernetes":
        from envparity.adapters.collectors import kubernetes

        pool = expected_node_pool(env)
        return (
            kubernetes.collect(env, pool, timeout=options.timeout),
            Expectations(promoted_digest=promoted_digest(options.stacks_dir, env), node_pool=pool),
        )
    if target == "aws":
        from envparity.adapters.collectors import aws

        repository = ecr_repository_name(env)
        return (
            aws.collect(env, repository, timeout=options.timeout),
            Expectations(
                promoted_digest=promoted_digest(options.stacks_dir, env),
                node_pool=expected_node_pool(env),
            ),
        )
    if target == "pulumi":
        from envparity.adapters.collectors import pulumi_state

        if options.state is None:
            raise DriftSetupError(
                "the pulumi target needs the stack's state",
                f"pulumi stack export --stack {env.stage} > state.json, "
                "then pass --state state.json",
            )
        return pulumi_state.collect(spec, env, options.state, options.stacks_dir), Expectations()
    raise DriftSetupError(f"unknown target {target!r}", f"use one of {', '.join(engine.TARGETS)}")


def lock_pins(spec: Spec, stage: str) -> dict[str, str] | None:
    """Normalised name -> version from the spec's lock and the stage's; None without a lock."""
    from envparity.core.lockfile import BASE, lock_files, parse_lock

    pins: dict[str, str] = {}
    found = False
    for lock in lock_files(spec):
        if lock.key not in (BASE, stage) or not lock.path.exists():
            continue
        found = True
        pins.update(
            (pin.name, pin.version) for pin in parse_lock(lock.path.read_text(encoding="utf-8"))
        )
    return pins if found else None


def promoted_digest(stacks_dir: Path, env: ResolvedStage) -> str | None:
    """The digest `envparity build --push` recorded for exactly this software in the stage."""
    from envparity.core.render import stack_config as sc

    try:
        config = sc.read_stack_config(sc.stack_config_path(stacks_dir, env.stage))
    except sc.StackConfigError as exc:
        raise DriftSetupError(exc.message, exc.hint) from None
    images = []
    for text in config.get(sc.IMAGES) or ():
        try:
            images.append(sc.ImageRef.parse(str(text)))
        except sc.StackConfigError:
            continue  # `envparity plan` reports malformed records; here it only means "none"
    ref = sc.recorded_image(images, env)
    return ref.digest if ref else None


def expected_node_pool(env: ResolvedStage) -> ExpectedNodePool | None:
    try:
        plan = node_pool_plan(env)
    except PlacementError as exc:
        raise DriftSetupError(exc.message, exc.hint) from None
    if plan is None:
        return None
    return ExpectedNodePool(
        plan.instance_type, plan.ami_type, plan.min_size, plan.max_size, dict(plan.labels)
    )
