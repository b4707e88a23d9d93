"""Findings as plain data: what differs, what was checked, and what could not be checked.

The table, JSON and JUnit reporters are three views of a `Result`; the exit code is
derived from it alone (docs/drift.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Severities: "drift" is a difference the spec forbids; "warning" is worth knowing but
# does not fail the check (e.g. a GPU AMI past its end of support).
DRIFT, WARNING = "drift", "warning"

IN_SYNC, DRIFTED, UNCHECKED = "in_sync", "drift", "unchecked"
EXIT_CODES = {IN_SYNC: 0, DRIFTED: 2, UNCHECKED: 3}


@dataclass(frozen=True)
class Finding:
    """One difference between the spec and what runs."""

    target: str  # host | docker | kubernetes | aws | pulumi
    object: str  # what was looked at, e.g. "deployment default/train" or "distribution numpy"
    field: str  # which of its facts, e.g. "replicas"
    expected: Any
    actual: Any
    hint: str  # one line: how to bring it back in line
    severity: str = DRIFT

    def to_json(self) -> dict:
        return {
            "target": self.target,
            "object": self.object,
            "field": self.field,
            "expected": self.expected,
            "actual": self.actual,
            "severity": self.severity,
            "hint": self.hint,
        }


@dataclass(frozen=True)
class Check:
    """A fact that was compared and matched (JUnit shows each one as a passed test)."""

    target: str
    object: str
    field: str

    def to_json(self) -> dict:
        return {"target": self.target, "object": self.object, "field": self.field}


@dataclass(frozen=True)
class Unchecked:
    """Something that could not be looked at: unreachable, denied, timed out, half-answered."""

    target: str
    object: str
    reason: str
    hint: str

    def to_json(self) -> dict:
        return {
            "target": self.target,
            "object": self.object,
            "reason": self.reason,
            "hint": self.hint,
        }


@dataclass(frozen=True)
class Result:
    """Everything one drift run found for one environment and stage."""

    name: str
    stage: str
    target: str
    fingerprint: str
    findings: tuple[Finding, ...] = ()
    checks: tuple[Check, ...] = ()
    unchecked: tuple[Unchecked, ...] = ()

    @property
    def drift(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == DRIFT)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == WARNING)

    @property
    def status(self) -> str:
        """drift when any difference was found (even if some checks could not run: a found
        difference is actionable), else unchecked when anything was not checked, else in_sync."""
        if self.drift:
            return DRIFTED
        if self.unchecked:
            return UNCHECKED
        return IN_SYNC


def overall_status(results: list[Result]) -> str:
    statuses = {r.status for r in results}
    for status in (DRIFTED, UNCHECKED):
        if status in statuses:
            return status
    return IN_SYNC


def exit_code(results: list[Result]) -> int:
    return EXIT_CODES[overall_status(results)]
