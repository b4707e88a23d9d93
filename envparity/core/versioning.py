"""Versioning: a software change must raise `version` as envspec.md says.

A change of Python minor, CUDA major or OS is a MAJOR bump; any other software change
is at least MINOR; description-only and stage-only changes need no bump.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from packaging.version import Version

from envparity.core.diagnostics import Diagnostic, SpecError
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


def check_against(new: Spec, ref: str) -> list[Diagnostic]:
    """Compare `new` with the same file at git `ref`; a missing file there is a new environment."""
    from envparity.core.spec import parse_spec_unchecked

    text = _git_show(Path(new.source), ref)
    if text is None:
        return []
    beside = Path(new.source).parent
    old = parse_spec_unchecked(
        text,
        f"{ref}:{new.source}",
        read=lambda relative: _git_show(beside / relative, ref),
        tables=new.tables,  # judged with the same knowledge as the spec it is compared with
    )
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


def _git_show(path: Path, ref: str) -> str | None:
    """The file's text at `ref`, None when it did not exist there; SpecError when git cannot say."""
    where = path.resolve().parent
    try:
        verify = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SpecError(
            [
                Diagnostic(
                    f"cannot run git: {exc}", file=str(path), hint="install git, or drop --against"
                )
            ]
        ) from None
    if verify.returncode != 0:
        raise SpecError(
            [
                Diagnostic(
                    f"'{ref}' is not a git commit, branch or tag here",
                    file=str(path),
                    hint="pass a ref that `git rev-parse` knows, e.g. origin/main",
                )
            ]
        )
    shown = subprocess.run(
        ["git", "-C", str(where), "show", f"{ref}:./{path.name}"], capture_output=True, timeout=30
    )
    if shown.returncode != 0:
        return None
    return shown.stdout.decode("utf-8", errors="replace")
