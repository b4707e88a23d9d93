"""Python requirements of a spec: exact pins, checked and normalised with `packaging`."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from envparity.diagnostics import Diagnostic


@lru_cache(maxsize=8192)
def parse(text: str) -> Requirement:
    """`Requirement(text)`, parsed once per process (specs repeat the same pins); do not mutate."""
    return Requirement(text)


def name_of(requirement: str) -> str:
    """The PEP 503 normalised project name, or the text itself when it does not parse."""
    try:
        return canonicalize_name(parse(requirement).name)
    except InvalidRequirement:
        return requirement


def pinned_version(requirement: Requirement) -> str | None:
    """The version of an exact `==` pin (local label included), else None."""
    specs = list(requirement.specifier)
    if len(specs) == 1 and specs[0].operator == "==" and "*" not in specs[0].version:
        return specs[0].version
    return None


def normalise(requirement: str) -> str:
    """`NumPy ==1.26.4` -> `numpy==1.26.4`: one spelling per requirement, for stable output."""
    req = parse(requirement)
    extras = f"[{','.join(sorted(canonicalize_name(e) for e in req.extras))}]" if req.extras else ""
    marker = f"; {req.marker}" if req.marker else ""
    return f"{canonicalize_name(req.name)}{extras}=={pinned_version(req)}{marker}"


def normalise_all(requirements: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted((normalise(r) for r in requirements), key=lambda r: (name_of(r), r)))


def check_pins(requirements: list[str], where: tuple) -> list[Diagnostic]:
    """Each requirement parses, is an exact == pin, and names a project only once."""
    out: list[Diagnostic] = []
    seen: dict[str, int] = {}
    for i, text in enumerate(requirements):
        path = (*where, i)
        try:
            req = parse(text)
        except InvalidRequirement as exc:
            first = str(exc).splitlines()[0]
            out.append(
                Diagnostic(
                    f"{text!r} is not a valid PEP 508 requirement: {first}",
                    path,
                    "write name==version, e.g. numpy==1.26.4",
                )
            )
            continue
        if req.url:
            out.append(
                Diagnostic(
                    f"{text!r} installs from a URL, which cannot be pinned by version",
                    path,
                    f"publish it to a package index and pin {req.name}==<version>",
                )
            )
            continue
        if pinned_version(req) is None:
            out.append(
                Diagnostic(
                    f"{text!r} is not pinned to one exact version",
                    path,
                    f"pin it with ==, e.g. {req.name}==<version> "
                    f"(see `pip index versions {req.name}`)",
                )
            )
            continue
        name = canonicalize_name(req.name)
        if name in seen:
            out.append(
                Diagnostic(
                    f"'{name}' is listed twice (first at {where[-1]}[{seen[name]}])",
                    path,
                    "keep one pin per package",
                )
            )
        seen.setdefault(name, i)
    return out
