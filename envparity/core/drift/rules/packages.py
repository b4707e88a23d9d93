"""Rules shared by the host and docker targets: pinned Python packages against installed ones."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from envparity.core.drift.outcome import Outcome
from envparity.core.image_check import version_differences
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


def compare_distributions(
    out: Outcome, wanted: Mapping[str, str], installed: Mapping[str, str], how: str
) -> None:
    """One check per wanted distribution; a difference's hint is `<how> name==version`."""
    expect_versions(out, "distribution", wanted, installed, lambda n, v: f"{how} {n}=={v}")


def expect_versions(
    out: Outcome,
    prefix: str,
    wanted: Mapping[str, str],
    installed: Mapping[str, str],
    hint: Callable[[str, str], str],
) -> None:
    """`out.expect` for each of `wanted`, in its order, as `<prefix> <name>` "version"; whether
    the versions differ is the image check's verdict (`envparity.core.image_check`), the same
    one `envparity build` verifies an image with. `hint(name, version)` is a difference's hint."""
    differing = {d.what for d in version_differences(wanted, installed)}
    for name, version in wanted.items():
        out.expect(
            f"{prefix} {name}",
            "version",
            version,
            installed.get(name),
            hint(name, version),
            same=name not in differing,
        )
