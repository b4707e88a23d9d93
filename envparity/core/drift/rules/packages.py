"""Rules shared by the host and docker targets: pinned Python packages against installed ones."""

from __future__ import annotations

from collections.abc import Mapping

from packaging.version import InvalidVersion, Version

from envparity.core.drift.outcome import Outcome
from envparity.core.requirements import name_of, parse, pinned_version


def pins(requirements: tuple[str, ...]) -> dict[str, str]:
    """Exact pins by normalised name; pins whose marker does not apply here are left out."""
    pins = {}
    for text in requirements:
        requirement = parse(text)
        version = pinned_version(requirement)
        if version is not None and (requirement.marker is None or requirement.marker.evaluate()):
            pins[name_of(text)] = version
    return pins


def same_version(a: str, b: str | None) -> bool:
    if b is None:
        return False
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def compare_distributions(
    out: Outcome, wanted: Mapping[str, str], installed: Mapping[str, str], how: str
) -> None:
    for name, version in wanted.items():
        actual = installed.get(name)
        out.expect(
            f"distribution {name}",
            "version",
            version,
            actual,
            f"{how} {name}=={version}",
            same=same_version(version, actual),
        )
