"""What one target's rules accumulate: checks passed, findings, and what could not be checked."""

from __future__ import annotations

from typing import Any

from envparity.core.drift.findings import DRIFT, Check, Finding, Result, Unchecked
from envparity.core.drift.observed import Observation
from envparity.core.model import ResolvedStage


class Outcome:
    """Accumulates checks, findings and gaps for one target."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.findings: list[Finding] = []
        self.checks: list[Check] = []
        self.unchecked: list[Unchecked] = []

    def expect(
        self,
        obj: str,
        fld: str,
        expected: Any,
        actual: Any,
        hint: str,
        same: bool | None = None,
    ) -> None:
        if expected == actual if same is None else same:
            self.checks.append(Check(self.target, obj, fld))
        else:
            self.findings.append(Finding(self.target, obj, fld, expected, actual, hint, DRIFT))

    def differ(
        self, obj: str, fld: str, expected: Any, actual: Any, hint: str, severity: str = DRIFT
    ) -> None:
        self.findings.append(Finding(self.target, obj, fld, expected, actual, hint, severity))

    def gap(self, obj: str, reason: str, hint: str) -> None:
        self.unchecked.append(Unchecked(self.target, obj, reason, hint))

    def result(self, env: ResolvedStage, observation: Observation) -> Result:
        return Result(
            env.name,
            env.stage,
            self.target,
            env.fingerprint,
            tuple(self.findings),
            tuple(self.checks),
            tuple(observation.unchecked) + tuple(self.unchecked),
        )


class Prefixed:
    """An outcome whose objects are prefixed (distributions inside one image)."""

    def __init__(self, out: Outcome, prefix: str) -> None:
        self.out, self.prefix = out, prefix

    def expect(self, obj: str, *args, **kwargs) -> None:
        self.out.expect(f"{self.prefix} {obj}", *args, **kwargs)
