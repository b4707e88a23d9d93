"""What `envparity render` produces for one environment, and writing or checking it.

Data flows one way: Spec -> resolved stages -> file contents (bytes) -> disk. The
functions here never re-read YAML; lock files are the only other input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from envparity.core import lockfile
from envparity.core.model import Spec
from envparity.core.render import layers
from envparity.core.render.devcontainer import render_devcontainer
from envparity.core.render.dockerfile import render_dockerfile
from envparity.core.render.dockerignore import render_dockerignore
from envparity.core.render.files import stale_files, write_files


@dataclass(frozen=True)
class Rendered:
    """One environment's generated files (relative path -> bytes) and what the user should know."""

    spec: Spec
    files: Mapping[str, bytes]
    warnings: tuple[str, ...] = ()


def render_env(
    spec: Spec, locks: Mapping[str, str] | None = None, *, require_locks: bool = True
) -> dict[str, bytes]:
    """The files of `spec`'s build context: Dockerfile, .dockerignore, locks, devcontainer.json.

    `locks` maps lock keys ("" for the shared lock, else the stage) to lock texts; by
    default they are read from beside the spec. A stale lock always raises LockError; a
    missing one raises only with `require_locks` (the Dockerfile then fails at its COPY).
    """
    return dict(render(spec, locks, require_locks=require_locks).files)


def render(
    spec: Spec, locks: Mapping[str, str] | None = None, *, require_locks: bool = True
) -> Rendered:
    from envparity.core.resolve import resolve

    needed = lockfile.lock_files(spec)
    warnings: list[str] = []
    if locks is None:
        locks = _read_present_locks(spec, require_locks, warnings)
    for lock in needed:
        if lock.key in locks and not lockfile.is_fresh(spec, lock.key, locks[lock.key]):
            raise lockfile.LockError(
                f"{spec.source}: the {lock.label} lock is stale "
                "(the pins, indexes or Python changed)",
                f"run `envparity lock {spec.source}`",
            )
    stage_locks = {lock.key: lock.context_name for lock in needed[1:]}
    shared = layers.split(locks[lockfile.BASE]) if lockfile.BASE in locks else None
    files: dict[str, str] = {
        "Dockerfile": render_dockerfile(spec, stage_locks, shared),
        ".dockerignore": render_dockerignore(),
    }
    for lock in needed:
        if lock.key in locks:
            files[lock.context_name] = locks[lock.key]
    for layer in shared or ():
        files[layer.context_name] = layer.lock
    if "local" in spec.stages:
        files["devcontainer.json"] = render_devcontainer(resolve(spec, "local"))
    return Rendered(
        spec, {path: text.encode() for path, text in sorted(files.items())}, tuple(warnings)
    )


def _read_present_locks(spec: Spec, require: bool, warnings: list[str]) -> dict[str, str]:
    out, missing = {}, []
    for lock in lockfile.lock_files(spec):
        try:
            out[lock.key] = lock.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            missing.append(str(lock.path))
    if missing:
        message = f"{spec.source}: no lock file {', '.join(missing)}"
        hint = f"run `envparity lock {spec.source}`"
        if require:
            raise lockfile.LockError(message, hint)
        warnings.append(f"{message}; the image cannot be built without it (hint: {hint})")
    return out


def output_dir(out: Path, spec: Spec) -> Path:
    return out / spec.name


def write(rendered: Rendered, out: Path) -> list[Path]:
    """Write the changed files under `out/<name>/`; return the paths written."""
    directory = output_dir(out, rendered.spec)
    return [directory / relative for relative in write_files(directory, rendered.files)]


def stale(rendered: Rendered, out: Path) -> list[Path]:
    """The files under `out/<name>/` that are missing or differ from what render would write."""
    directory = output_dir(out, rendered.spec)
    return [directory / relative for relative in stale_files(directory, rendered.files)]
