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
    if found.signed and observation.facts is not None:
        observation = _signatures(name, env, observation, options)
    return engine.compare(name, env, observation, expectations)


def _signatures(
    name: str, env: ResolvedStage, observation: Observation, options: Options
) -> Observation:
    """With the stage's trust policy on, the signature verdict of each digest that runs, in
    another --timeout of its own (cosign verifies one image in about a second)."""
    from envparity.flows import sign

    policy = sign.policy_of(options.stacks_dir, env.stage)
    if not policy.required:
        return observation
    images = RUNNING[name](env, observation.facts)
    return sign.observe(name, env, images, policy, options.stacks_dir, observation, options.timeout)


def _running_in_kubernetes(env: ResolvedStage, facts) -> list[tuple[str, str | None]]:
    """(workload, repository@digest) of the container the kubernetes rules compare."""
    found = []
    for dep in facts.deployments or ():
        container = next(
            (c for c in dep.containers if c.name == env.name),
            dep.containers[0] if dep.containers else None,
        )
        if container is not None:
            found.append(
                (f"{dep.kind.lower()} {dep.namespace}/{dep.name}", _by_digest(container.image))
            )
    return found


def _running_in_docker(env: ResolvedStage, facts) -> list[tuple[str, str | None]]:
    """(image, repository@digest) of the image the docker rules compare: the newest of the
    spec's software, pushed to the stage's repository if it was pushed there."""
    from envparity.adapters.docker_build import connect
    from envparity.core.names import FINGERPRINT_LABEL, NAME_LABEL

    images = [i for i in facts.images if i.labels.get(NAME_LABEL) == env.name]
    pool = [i for i in images if i.labels.get(FINGERPRINT_LABEL) == env.fingerprint] or images
    if not pool:
        return []
    current = max(pool, key=lambda i: i.created)
    client = connect()
    try:
        pushed = client.images.get(current.id).attrs.get("RepoDigests") or []
    finally:
        client.close()
    ours = [d for d in pushed if d.partition("@")[0] == env.image_repository] or pushed
    return [
        (f"image {current.tags[0] if current.tags else current.id[:19]}", next(iter(ours), None))
    ]


def _by_digest(image: str) -> str | None:
    """`repository@sha256:...` of a reference pinned by digest (its tag dropped), else None."""
    name, _, digest = image.partition("@")
    if not digest:
        return None
    if ":" in name.rpartition("/")[2]:
        name = name.rpartition(":")[0]
    return f"{name}@{digest}"


# Where each target with `signed` sees the digests that run.
RUNNING = {"docker": _running_in_docker, "kubernetes": _running_in_kubernetes}


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
