"""The build context sent to the engine: the rendered files and the wheels the locks allow.

Wheelhouse selection is by sha256, never by file name: only a file whose hash a lock names
enters the context, so an offline build installs exactly the locked bytes.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO

from envparity.adapters.build_errors import BuildError
from envparity.core.build_layout import WHEELHOUSE
from envparity.core.lockfile import Pin, install_locks


def context_wheels(directory: Path, files: Mapping[str, bytes]) -> dict[str, Path]:
    """The wheels of every installed lock, as `<id>/<file name>` -> path in `directory`.

    Each dependency layer copies only its own folder, so a changed wheel of one layer never
    invalidates the cache of another. Wheels of every stage's lock, whatever the target: one
    context for all stages keeps the shared layers identical.
    """
    locks = install_locks(files)
    by_hash = _hashed_files(directory, {pin.name for pins in locks.values() for pin in pins})
    return {
        f"{lock_id}/{name}": path
        for lock_id, pins in locks.items()
        for name, path in _choose(directory, by_hash, pins).items()
    }


def wheelhouse_files(directory: Path, pins: Iterable[Pin]) -> dict[str, Path]:
    """The files of `directory` whose sha256 the lock allows, by file name.

    Every pin needs one: a missing or altered wheel fails here, before the build, with the
    package named. Files the lock does not name stay out of the build context.
    """
    pins = list(pins)
    return _choose(directory, _hashed_files(directory, {pin.name for pin in pins}), pins)


def build_context(files: Mapping[str, bytes], wheels: Mapping[str, Path]) -> IO[bytes]:
    """A tar of the rendered files and the chosen wheels, rewound, with fixed metadata.

    Fixed mtime/owner/mode make the same inputs the same context, so the engine's layer
    cache sees only real changes. Spooled: small contexts stay in memory, big wheels do not.
    """
    out = tempfile.SpooledTemporaryFile(max_size=64 << 20)  # noqa: SIM115 -- the caller closes it
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, content in sorted(files.items()):
            tar.addfile(_entry(name, len(content)), io.BytesIO(content))
        # The wheelhouse folder and one per lock (`wheelhouse/1-heavy`), each listed once.
        folders = {f"{WHEELHOUSE}/{n}".rpartition("/")[0] for n in wheels}
        for folder in sorted(folders | ({WHEELHOUSE} if wheels else set())):
            directory = _entry(folder, 0)
            directory.type, directory.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(directory)
        for name, path in sorted(wheels.items()):
            with path.open("rb") as f:
                tar.addfile(_entry(f"{WHEELHOUSE}/{name}", path.stat().st_size), f)
    out.seek(0)
    return out


def _hashed_files(directory: Path, names: set[str]) -> dict[str, Path]:
    """sha256 -> path of the files of `directory` that may belong to one of `names`: a wheel
    or sdist of another project is never read (whose name cannot be parsed, is)."""
    if not directory.is_dir():
        raise BuildError(
            f"wheelhouse {directory} is not a directory",
            "pip download -d DIR the locked packages, then pass --wheelhouse DIR",
        )
    by_hash: dict[str, Path] = {}
    for path in sorted(directory.iterdir()):
        if (
            path.is_file()
            and path.name.endswith((".whl", ".tar.gz", ".zip"))
            and _project_of(path.name) in {*names, None}
        ):
            by_hash[_sha256(path)] = path
    return by_hash


def _project_of(filename: str) -> str | None:
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[0]
        return parse_sdist_filename(filename)[0]
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


def _choose(directory: Path, by_hash: Mapping[str, Path], pins: Iterable[Pin]) -> dict[str, Path]:
    chosen: dict[str, Path] = {}
    for pin in pins:
        found = [by_hash[h] for h in sorted(pin.hashes) if h in by_hash]
        if not found:
            raise BuildError(
                f"wheelhouse {directory} has no file for {pin.name}=={pin.version} "
                "with a hash the lock allows",
                f"pip download --no-deps -d {directory} {pin.name}=={pin.version} "
                "(for the image's Python and platform)",
            )
        for path in found:
            chosen[path.name] = path
    return chosen


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _entry(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.uid, info.gid = size, 0, 0o644, 0, 0
    return info
