"""Versioning: a software change must raise `version` as envspec.md says.

A change of Python minor, CUDA major or OS is a MAJOR bump; any other software change
is at least MINOR; description-only and stage-only changes need no bump.

The spec at an earlier git ref is read by `envparity.flows.versioning` (git is an adapter:
docs/architecture.md); this module compares two specs.
"""

from __future__ import annotations

from packaging.version import Version

from envparity.core.diagnostics import Diagnostic
from envparity.core.fingerprint import software_fields
from envparity.core.model import Spec

LEVELS = ("none", "patch", "minor", "major")


def required_bump(old: Spec, new: Spec) -> tuple[str, list[str]]:
    """The least bump the change from `old` to `new` needs, and the software fields that changed."""
    before, after = software_fields(old.software), software_fields(new.software)
    changed = [f for f in after if f != "version" and before.get(f) != after[f]]
    if not changed:
        return "none", changed
    major = (
        _part(old.software.python, 2) != _part(new.software.python, 2)
        or _part(old.software.cuda, 1) != _part(new.software.cuda, 1)
        or old.software.os != new.software.os
    )
    return ("major" if major else "minor"), changed


def actual_bump(old: str, new: str) -> str:
    a, b = Version(old).release, Version(new).release
    if b[0] > a[0]:
        return "major"
    if b[0] == a[0] and b[1] > a[1]:
        return "minor"
    if b[:2] == a[:2] and b[2] > a[2]:
        return "patch"
    return "none"


def check_bump(new: Spec, old: Spec, ref: str) -> list[Diagnostic]:
    """Whether `new` raised `version` enough over `old`, the same spec at git `ref`."""
    need, changed = required_bump(old, new)
    got = actual_bump(old.version, new.version)
    if Version(new.version) < Version(old.version):
        return [
            Diagnostic(
                f"version went down from {old.version} (at {ref}) to {new.version}",
                ("version",),
                f"use a version above {old.version}",
            )
        ]
    if LEVELS.index(got) >= LEVELS.index(need):
        return []
    fields = ", ".join(changed)
    return [
        Diagnostic(
            f"the software changed since {ref} ({fields}) and the fingerprint with it, "
            "which needs a "
            f"{need.upper()} version bump; version is {new.version} (was {old.version})",
            ("version",),
            f"set version: {_bumped(old.version, need)} or higher",
        )
    ]


def _part(version: str | None, n: int) -> tuple | None:
    return tuple(version.split(".")[:n]) if version else None


def _bumped(version: str, level: str) -> str:
    major, minor = Version(version).release[:2]
    return f"{major + 1}.0.0" if level == "major" else f"{major}.{minor + 1}.0"
