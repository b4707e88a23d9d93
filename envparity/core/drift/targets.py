"""The drift targets: one table that the engine, the CLI, promotion and the workflow read.

Each target names its comparer (the rules in `envparity/core/drift/rules/`) and what the
project expects of it beyond the spec. Its collector talks to the outside world, so it is
looked up by name in `envparity.flows.drift_check` (the core imports no adapter:
docs/architecture.md). Comparers are named as `module:function` and imported when first
used: every command's `--help` reads this table, and the rules would slow their start.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from envparity.core.diagnostics import UserError

if TYPE_CHECKING:
    from envparity.core.drift.expectations import Expectations
    from envparity.core.drift.outcome import Outcome
    from envparity.core.model import ResolvedStage

    Comparer = Callable[[Outcome, ResolvedStage, Any, Expectations], None]


class DriftSetupError(UserError):
    """The check cannot start because of the user's input (exit 1): message and hint."""


@dataclass(frozen=True)
class Target:
    """One thing `envparity drift --target` can check."""

    name: str
    rules: str  # its comparer, `module:function`
    # The Expectations fields the flow derives for it: lock, promoted_digest, node_pool.
    expects: tuple[str, ...] = ()
    scheduled: bool = False  # the generated CI workflow checks it (a pip extra of its name)
    gates_promotion: bool = True  # `promote --require-clean-drift` may check it (no --state)
    # It sees the digests that run, which a stage's trust policy wants signed (rules/signature).
    signed: bool = False

    def comparer(self) -> Comparer:
        module, _, function = self.rules.partition(":")
        return getattr(importlib.import_module(module), function)


RULES = "envparity.core.drift.rules"
TARGETS = (
    Target("host", f"{RULES}.host:compare_host", expects=("lock",)),
    Target("docker", f"{RULES}.docker:compare_docker", signed=True),
    Target(
        "kubernetes",
        f"{RULES}.kubernetes:compare_kubernetes",
        expects=("promoted_digest", "node_pool"),
        scheduled=True,
        signed=True,
    ),
    Target(
        "aws",
        f"{RULES}.aws:compare_aws",
        expects=("promoted_digest", "node_pool"),
        scheduled=True,
    ),
    # pulumi needs a state file the user exported (--state), so promotion cannot check it
    Target("pulumi", f"{RULES}.pulumi:compare_pulumi", gates_promotion=False),
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
