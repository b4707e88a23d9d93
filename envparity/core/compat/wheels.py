"""Wheels: torch, torchvision and torchaudio pins judged against the index data.

The release exists, has the build the spec installs, and has wheels for its Python and
for the CPU of every stage's instance type.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from packaging.version import Version

from envparity.core.compat.common import REFRESH, gpu_ok, pin_path
from envparity.core.complete import build_of, pin
from envparity.core.diagnostics import Diagnostic
from envparity.core.knowledge import Wheels
from envparity.core.knowledge.tables import Tables
from envparity.core.model import Spec

WHEEL_PROJECTS = ("torch", "torchvision", "torchaudio")
ARCH_OF_INSTANCE = {"x86_64": "x86_64", "arm64": "aarch64"}


def check(spec: Spec) -> Iterator[Diagnostic]:
    sw, t = spec.software, spec.tables
    abi = "cp3" + sw.python.split(".")[1]
    instances = spec.completed.instances.values()  # type: ignore[union-attr]
    arches = {ARCH_OF_INSTANCE[i.info.arch] for i in instances if i is not None}
    for project in WHEEL_PROJECTS:
        found = pin(sw, project)
        if found is None:
            continue
        path = pin_path(spec, project, found[0])
        version = found[1]
        build, how = build_of(sw, version, t)
        public = version.public  # as written, without the local label: hints keep it
        builds = t.wheels(project, public)
        if not builds:
            yield from _unknown_release(t, project, public, path)
            continue
        yield from _companion(spec, project, version, path)
        complete = all(w.complete for w in builds.values())
        row = builds.get(build or "pypi") if build != "pypi" or "pypi" in builds else None
        if build and build != "pypi" and row is None:
            have = sorted(b for b in builds if b != "pypi")
            alt = _closest_build(spec, have, builds)
            hint = (
                _rebuild_hint(project, public, alt, how)
                if alt
                else f"use a release of {project} with a build for this CUDA and driver"
            )
            yield Diagnostic(
                f"{project} {public} has no {build} build on download.pytorch.org"
                f" (its builds: {', '.join(have)})"
                + ("" if complete else "; the snapshot's list of its builds is not complete"),
                path,
                hint if complete else f"{REFRESH}; if it still lacks {build}, {hint}",
                severity="error" if complete else "warning",
            )
            continue
        pythons, pythons_from, wheel_arches = _wheel_tags(row, builds)
        if pythons is not None and abi not in pythons and _covered(abi, pythons_from):
            newer = _release_with(t, project, build, abi, public)
            hint = (
                f"use {project}=={newer}" + (f"+{build}" if version.local else "") + ", or "
                if newer
                else ""
            ) + f"use a Python its wheels have ({_span(pythons)})"
            yield Diagnostic(
                f"{project} {public} has no wheel for Python {_py(sw.python)} ({abi}); "
                f"it has {_span(pythons)}"
                + ("" if complete else "; the snapshot's list of its wheels is not complete"),
                path,
                hint if complete else f"{REFRESH}; if it still lacks {abi}, {hint}",
                severity="error" if complete else "warning",
            )
            continue
        for arch in sorted(arches):
            if wheel_arches is not None and arch not in wheel_arches:
                yield Diagnostic(
                    f"{project} {public} ({build}) has no wheel for {arch}, the CPU of a stage's "
                    f"instance type; it has {', '.join(wheel_arches)}",
                    path,
                    "use an instance type of that CPU, or a release with wheels for it",
                )


def _companion(spec: Spec, project: str, version: Version, path: tuple) -> Iterator[Diagnostic]:
    """torchvision and torchaudio are released with one torch release and require exactly it
    (their wheels' `Requires-Dist: torch==X.Y.Z`): a pin with another torch cannot install."""
    torch = spec.completed.torch  # type: ignore[union-attr]
    if project == "torch" or torch is None:
        return
    t = spec.tables
    expected = (t.companions(torch.version.public) or {}).get(project)
    if expected is None or Version(expected) == Version(version.public):
        return
    label = f"+{version.local}" if version.local else ""
    options = []
    if _installable(t, project, expected, version.local or torch.build):
        options.append(f"use {project}=={expected}{label}")
    partner = t.torch_for(project, version.public)
    if partner and _installable(t, "torch", partner, torch.build):
        local = f"+{torch.version.local}" if torch.version.local else ""
        options.append(
            f"pin torch=={partner}{local} (the release {project} {version.public} goes with)"
        )
    yield Diagnostic(
        f"{project} {version.public} does not go with torch {torch.version.public}: "
        f"torch {torch.version.public} was released with {project} {expected}",
        path,
        " or ".join(options) or f"pin the {project} release of your torch release ({expected})",
    )


def _installable(t: Tables, project: str, version: str, build: str | None) -> bool:
    """Whether the build rule would accept `project==version` with `build` (not known absent)."""
    builds = t.wheels(project, version)
    if not builds or build in (None, "pypi") or build in builds:
        return True
    return not all(w.complete for w in builds.values())


def _wheel_tags(
    row: Wheels | None, builds: dict[str, Wheels]
) -> tuple[tuple[str, ...] | None, str | None, tuple[str, ...] | None]:
    """Pythons, where that list starts being complete, and arches of the wheels judged.

    The plain PyPI wheel, when the snapshot has no row for it, is judged by what the
    release's builds on the PyTorch indexes have in common: the same sources, built alike.
    """
    if row is not None:
        return row.pythons, row.pythons_from, row.arches
    known = [w for w in builds.values() if w.pythons is not None]
    if not known:
        return None, None, None
    pythons = set(known[0].pythons or ())
    for w in known[1:]:
        pythons |= set(w.pythons or ())
    froms = [w.pythons_from for w in known]
    arches = None
    if all(w.arches is not None for w in known):
        arches = tuple(sorted({a for w in known for a in w.arches or ()}))
    return (
        tuple(sorted(pythons, key=_abi_key)),
        None if None in froms else min(froms, key=lambda f: _abi_key(f or "")),
        arches,
    )


def _covered(abi: str, pythons_from: str | None) -> bool:
    return pythons_from is None or _abi_key(abi) >= _abi_key(pythons_from)


def _abi_key(abi: str) -> int:
    digits = re.match(r"cp3(\d+)", abi)
    return int(digits.group(1)) if digits else 0


def _span(pythons: tuple[str, ...]) -> str:
    plain = [p for p in pythons if re.fullmatch(r"cp3\d+", p)]
    return f"{plain[0]} to {plain[-1]}" if len(plain) > 1 else ", ".join(pythons)


def _py(python: str) -> str:
    return ".".join(python.split(".")[:2])


def _release_with(t: Tables, project: str, build: str | None, abi: str, after: str) -> str | None:
    """The oldest release after `after` with a wheel of `build` for `abi`."""
    for version in t.releases(project):
        if Version(version) <= Version(after):
            continue
        builds = t.wheels(project, version)
        row = builds.get(build or "pypi")
        pythons, pythons_from, _ = (
            _wheel_tags(row, builds) if build == "pypi" or row else (None,) * 3
        )
        if pythons is not None and abi in pythons and pythons_from is None:
            return version
    return None


def _unknown_release(t: Tables, project: str, public: str, path: tuple) -> Iterator[Diagnostic]:
    known = t.releases(project)
    if not known:
        return
    if Version(public) < Version(known[0]):
        return  # older than the snapshot's coverage of the project: not judged
    minor = Version(public).release[:2]
    same_minor = [v for v in known if Version(v).release[:2] == minor]
    newest = same_minor[-1] if same_minor else known[-1]
    if Version(public) > Version(newest) or not same_minor:
        yield Diagnostic(
            f"{project} {public} is newer than the knowledge snapshot (newest known: {newest}); "
            "its builds and wheels are not checked",
            path,
            REFRESH,
            severity="warning",
        )
        return
    yield Diagnostic(
        f"{project} {public} is not a release on the package indexes "
        f"(releases of {'.'.join(map(str, minor))}: {', '.join(same_minor)})",
        path,
        f"use {project}=={same_minor[-1]}",
    )


def _closest_build(spec: Spec, have: list[str], builds: dict[str, Wheels]) -> str | None:
    """The build to suggest, one the driver and GPU rules accept: the spec's CUDA minor,
    else the newest that fits; None when no build of the release would pass."""
    sw, t, runtime = spec.software, spec.tables, spec.completed.cuda  # type: ignore[union-attr]
    abi = "cp3" + sw.python.split(".")[1]

    def has_python(build: str) -> bool:
        pythons, pythons_from, _ = _wheel_tags(builds[build], builds)
        return pythons is None or abi in pythons or not _covered(abi, pythons_from)

    if runtime is None:
        return "cpu" if "cpu" in have and has_python("cpu") else None
    floor = sw.driver or (spec.completed.driver_floor if sw.cuda else None)  # type: ignore[union-attr]

    def accepted(build: str) -> bool:
        minor = t.build_cuda(build)
        if not has_python(build):
            return False
        if minor is None:
            return False
        needed = t.wheel_driver_floor(minor)
        if floor and needed and not t.driver_at_least(floor, needed):
            return False
        return all(gpu_ok(t, g, t.dotted(minor)) for g in sw.gpus)

    fitting = [b for b in have if accepted(b)]
    same = [b for b in fitting if sw.cuda and t.build_cuda(b) == t.cuda_minor(sw.cuda)]
    return (same or fitting or [None])[-1]


def _rebuild_hint(project: str, public: str, build: str, how: str) -> str:
    if how.startswith("from "):
        return f"use the index https://download.pytorch.org/whl/{build} in package_indexes"
    return f"use {project}=={public}+{build}"
