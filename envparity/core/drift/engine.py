"""The comparison engine: (resolved stage, observed facts, expectations) -> Result. Pure.

Each target's rules live in their own module under `envparity/core/drift/rules/`; each walks
the facts once with dict lookups, so 10,000 observed objects compare in well under a
second (bench/bench_drift.py).
"""

from __future__ import annotations

from envparity.core.drift.expectations import Expectations, ExpectedNodePool, spec_file
from envparity.core.drift.findings import Result
from envparity.core.drift.observed import Observation
from envparity.core.drift.outcome import Outcome
from envparity.core.drift.rules.aws import compare_aws
from envparity.core.drift.rules.docker import compare_docker
from envparity.core.drift.rules.gpu import driver_floor
from envparity.core.drift.rules.host import compare_host
from envparity.core.drift.rules.kubernetes import GFD_PRODUCT, compare_kubernetes, node_driver
from envparity.core.drift.rules.pulumi import KEY_INPUTS, compare_pulumi
from envparity.core.model import ResolvedStage

__all__ = [
    "COMPARERS",
    "GFD_PRODUCT",
    "KEY_INPUTS",
    "TARGETS",
    "Expectations",
    "ExpectedNodePool",
    "compare",
    "driver_floor",
    "node_driver",
    "spec_file",
]

COMPARERS = {
    "host": compare_host,
    "docker": compare_docker,
    "kubernetes": compare_kubernetes,
    "aws": compare_aws,
    "pulumi": compare_pulumi,
}
TARGETS = tuple(COMPARERS)


def compare(
    target: str,
    env: ResolvedStage,
    observation: Observation,
    expectations: Expectations | None = None,
) -> Result:
    """Compare what a collector observed with the stage; facts None means nothing was seen."""
    out = Outcome(target)
    if observation.facts is not None:
        COMPARERS[target](out, env, observation.facts, expectations or Expectations())
    return out.result(env, observation)
