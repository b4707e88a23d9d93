"""Python requirements of a spec: exact pins, checked and normalised with `packaging`."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from envparity.core.diagnostics import Diagnostic
from envparity.core.peer_packages import url_requirement_problem


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
    """The version of an exact `==` pin (local label included), else None.

    The version is kept as written ('2.2' stays '2.2'); rules compare it as a PEP 440 version
    (2.2 == 2.2.0). `===` (text equality) and `==2.2.*` (a prefix match) are not exact pins.
    """
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


def check_pin(text: str) -> tuple[str, str, str | None] | None:
    """(message, hint, project name or None when it does not parse) for a bad pin, else None."""
    try:
        req = parse(text)
    except InvalidRequirement as exc:
        url = url_requirement_problem(text)  # a bare or VCS URL is not PEP 508
        if url is not None:
            return (*url, None)
        first = str(exc).splitlines()[0]
        return (
            f"{text!r} is not a valid PEP 508 requirement: {first}",
            "write name==version, e.g. numpy==1.26.4",
            None,
        )
    name = canonicalize_name(req.name)
    if req.url:
        problem = url_requirement_problem(text) or (
            f"{text!r} installs from a URL: a spec pins each package by version and cannot pin "
            "a URL",
            f"publish it to a package index and pin {req.name}==<version>",
        )
        return (*problem, name)
    if len(req.specifier) == 1 and next(iter(req.specifier)).operator == "===":
        version = next(iter(req.specifier)).version
        return (
            f"{text!r} uses arbitrary equality (===), which compares text, not versions",
            f"pin it with ==: {req.name}=={version}",
            name,
        )
    if len(req.specifier) == 1 and next(iter(req.specifier)).version.endswith(".*"):
        return (
            f"{text!r} is not pinned to one exact version: it is a prefix match, allowing "
            f"every release of {next(iter(req.specifier)).version}",
            f"pin one release with ==, e.g. {req.name}==<version> "
            f"(see `pip index versions {req.name}`)",
            name,
        )
    if pinned_version(req) is None:
        return (
            f"{text!r} is not pinned to one exact version",
            f"pin it with ==, e.g. {req.name}==<version> (see `pip index versions {req.name}`)",
            name,
        )
    return None


def check_pins(requirements: list, where: tuple) -> list[Diagnostic]:
    """Each requirement parses, is an exact == pin, and names a project only once.

    Every item is checked on its own, so a range (`pillow>=10.2`) and a second pin of the
    same project (`Pillow==11.2.1`) are reported together. Items that are not text are
    left to the schema.
    """
    out: list[Diagnostic] = []
    seen: dict[str, int] = {}
    for i, text in enumerate(requirements):
        if not isinstance(text, str):
            continue
        path = (*where, i)
        problem = check_pin(text)
        if problem is not None:
            out.append(Diagnostic(problem[0], path, problem[1]))
        name = problem[2] if problem is not None else name_of(text)
        if name is None:
            continue
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
