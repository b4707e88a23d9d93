"""One drift check: derive what the project expects, run the target's collector, compare.

The targets, their comparers and what each expects are one table in the core
(`envparity/core/drift/targets.py`); their collectors talk to the outside world, so their
table is here, where adapters may be imported (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from envparity.core import ledger
from envparity.core.drift import engine
from envparity.core.drift.expectations import Expectations, ExpectedNodePool
from envparity.core.drift.findings import Result
from envparity.core.drift.observed import Observation
from envparity.core.drift.targets import DriftSetupError, target
from envparity.core.model import ResolvedStage, Spec
from envparity.core.placement import ecr_repository_name, node_pool_plan
from envparity.core.resolve import require_stage, resolve


@dataclass(frozen=True)
class Options:
    stacks_dir: Path = Path("stacks")
    state: Path | None = None  # `pulumi stack export` JSON, for the pulumi target
    timeout: float = 10.0


def check_all(specs: Iterable[Spec], stage: str, name: str, options: Options) -> list[Result]:
    """Check stage `stage` of each spec on target `name`; a spec without the stage is an error."""
    results = []
    for spec in specs:
        require_stage(spec, stage)
        results.append(check(spec, resolve(spec, stage), name, options))
    return results


def check(spec: Spec, env: ResolvedStage, name: str, options: Options = Options()) -> Result:
    """Check one resolved stage on target `name` (DriftSetupError when it is not one)."""
    found = target(name)
    derived = {field: EXPECTED[field](spec, env, options) for field in found.expects}
    expectations = Expectations(spec=spec.source, **derived)
    observation = COLLECTORS[name](spec, env, expectations, options)
    return engine.compare(name, env, observation, expectations)


def _host(spec: Spec, env: ResolvedStage, exp: Expectations, options: Options) -> Observation:
    from envparity.adapters.collectors import host

    return host.collect()


def _docker(spec: Spec, env: ResolvedStage, exp: Expectations, options: Options) -> Observation:
    from envparity.adapters.collectors import docker

    return docker.collect(env, timeout=options.timeout)


def _kubernetes(spec: Spec, env: ResolvedStage, exp: Expectations, options: Options) -> Observation:
    from envparity.adapters.collectors import kubernetes

    return kubernetes.collect(env, exp.node_pool, timeout=options.timeout)


def _aws(spec: Spec, env: ResolvedStage, exp: Expectations, options: Options) -> Observation:
    from envparity.adapters.collectors import aws

    return aws.collect(env, ecr_repository_name(env), timeout=options.timeout)


def _pulumi(spec: Spec, env: ResolvedStage, exp: Expectations, options: Options) -> Observation:
    from envparity.adapters.collectors import pulumi_state

    if options.state is None:
        raise DriftSetupError(
            "the pulumi target needs the stack's state",
            f"pulumi stack export --stack {env.stage} > state.json, then pass --state state.json",
        )
    return pulumi_state.collect(spec, env, options.state, options.stacks_dir)


Collector = Callable[[Spec, ResolvedStage, Expectations, Options], Observation]
# Keyed by the names of the core's table of targets (a test keeps the two equal).
COLLECTORS: dict[str, Collector] = {
    "host": _host,
    "docker": _docker,
    "kubernetes": _kubernetes,
    "aws": _aws,
    "pulumi": _pulumi,
}


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


def expected_node_pool(env: ResolvedStage) -> ExpectedNodePool | None:
    """The node group the stack program creates for the stage; None when it makes none."""
    plan = node_pool_plan(env)
    if plan is None:
        return None
    return ExpectedNodePool(
        plan.instance_type, plan.ami_type, plan.min_size, plan.max_size, dict(plan.labels)
    )


# How each field of Expectations a target names in `expects` is derived.
EXPECTED: dict[str, Callable[[Spec, ResolvedStage, Options], object]] = {
    "lock": lambda spec, env, options: lock_pins(spec, env.stage),
    "promoted_digest": lambda spec, env, options: _digest(
        ledger.recorded(options.stacks_dir, env, strict=False)
    ),
    "node_pool": lambda spec, env, options: expected_node_pool(env),
}


def _digest(image: ledger.ImageRef | None) -> str | None:
    return image.digest if image else None
