"""The drift targets: one table that the engine, the CLI, promotion and the workflow read.

Each target names its comparer (the rules in `envparity/core/drift/rules/`) and what the
project expects of it beyond the spec. Its collector talks to the outside world, so it is
looked up by name in `envparity.flows.drift_check` (the core imports no adapter:
docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from envparity.core.diagnostics import UserError
from envparity.core.drift.expectations import Expectations
from envparity.core.drift.outcome import Outcome
from envparity.core.drift.rules.aws import compare_aws
from envparity.core.drift.rules.docker import compare_docker
from envparity.core.drift.rules.host import compare_host
from envparity.core.drift.rules.kubernetes import compare_kubernetes
from envparity.core.drift.rules.pulumi import compare_pulumi
from envparity.core.model import ResolvedStage

Comparer = Callable[[Outcome, ResolvedStage, Any, Expectations], None]


class DriftSetupError(UserError):
    """The check cannot start because of the user's input (exit 1): message and hint."""


@dataclass(frozen=True)
class Target:
    """One thing `envparity drift --target` can check."""

    name: str
    compare: Comparer
    # The Expectations fields the flow derives for it: lock, promoted_digest, node_pool.
    expects: tuple[str, ...] = ()
    scheduled: bool = False  # the generated CI workflow checks it (a pip extra of its name)
    gates_promotion: bool = True  # `promote --require-clean-drift` may check it (no --state)


TARGETS = (
    Target("host", compare_host, expects=("lock",)),
    Target("docker", compare_docker),
    Target("kubernetes", compare_kubernetes, ("promoted_digest", "node_pool"), scheduled=True),
    Target("aws", compare_aws, ("promoted_digest", "node_pool"), scheduled=True),
    Target("pulumi", compare_pulumi, gates_promotion=False),  # needs an exported state file
)
BY_NAME: Mapping[str, Target] = {t.name: t for t in TARGETS}
NAMES = tuple(BY_NAME)
PROMOTION_GATES = tuple(t.name for t in TARGETS if t.gates_promotion)
SCHEDULED = tuple(sorted(t.name for t in TARGETS if t.scheduled))


def target(name: str, *, option: str = "target", among: tuple[str, ...] = NAMES) -> Target:
    """The target `name` (one of `among`, as the CLI `option` offers them); DriftSetupError
    naming the choices otherwise."""
    if name not in among:
        raise DriftSetupError(f"unknown {option} {name!r}", f"use one of {', '.join(among)}")
    return BY_NAME[name]
