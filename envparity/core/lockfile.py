"""The lock format: hashed lock files as text, read and written here and nowhere else.

uv makes them (`uv pip compile --generate-hashes`, `envparity.adapters.uv`): never a
resolver of ours. This module is the format only, no process is run (docs/architecture.md:
the core never talks to the outside world).

Where they live: beside the spec, committed with it. `envspecs/train.yaml` has
`envspecs/train.lock` (the shared image's closure) and, for each stage that adds
packages, `envspecs/train.<stage>.lock` (only what that stage adds, resolved together
with the shared pins so the two agree). `render` copies them into the build context as
`requirements.lock` and `requirements.<stage>.lock`.

Freshness: each lock's header carries `envparity-lock-inputs: <sha256>`, a digest of
exactly what the resolution depends on (Python version, platform, pins, indexes, and
for a stage lock its extra packages). A lock whose digest differs from the spec's is
stale. Changes that do not affect resolution (env, OS packages, version) keep it fresh.

Sizes: each package of the shared lock carries `# envparity-wheel-bytes: <n>`, the size of
the largest file the index (or --find-links folder) offers for the pinned version, as uv's
pylock.toml output reports it. The Dockerfile's dependency layers are grouped by it
(`envparity.core.render.layers`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from envparity.core.build_layout import LOCK
from envparity.core.model import Spec
from envparity.core.render import RenderError
from envparity.core.requirements import name_of

# The images are linux/amd64 with glibc >= 2.31 (Debian 12, Ubuntu 20.04+); manylinux_2_28
# wheels run on all of them.
PLATFORM = "x86_64-manylinux_2_28"
INPUTS_KEY = "# envparity-lock-inputs: "
BASE = ""  # the key of the shared lock in the maps below; stage locks use the stage name
SIZE_KEY = "    # envparity-wheel-bytes: "


class LockError(RenderError):
    """uv could not make the lock, or a lock is missing, stale or not a lock."""


@dataclass(frozen=True)
class Pin:
    """One locked distribution: canonical name, exact version, the sha256 hashes the lock allows."""

    name: str
    version: str
    hashes: frozenset[str]


@dataclass(frozen=True)
class LockFile:
    key: str  # BASE or a stage name
    path: Path  # beside the spec
    context_name: str  # its name in the build context

    @property
    def label(self) -> str:
        return "shared" if self.key == BASE else self.key


def lock_files(spec: Spec) -> list[LockFile]:
    """The lock files `spec` needs: the shared one, then one per stage that adds packages."""
    source = Path(spec.source)
    out = [LockFile(BASE, source.with_suffix(".lock"), LOCK)]
    for stage, own in spec.stages.items():
        if own.extra_python_packages:
            out.append(
                LockFile(stage, source.with_suffix(f".{stage}.lock"), f"requirements.{stage}.lock")
            )
    return out


def write_locks(spec: Spec, texts: dict[str, str]) -> list[Path]:
    """Write the lock texts beside the spec (atomically); return the paths written."""
    from envparity.core.render.files import write_atomic

    paths = []
    for lock in lock_files(spec):
        write_atomic(lock.path, texts[lock.key].encode())
        paths.append(lock.path)
    return paths


# --- the header: what a lock was made from --------------------------------------------------


def inputs_digest(spec: Spec, key: str = BASE) -> str:
    """sha256 of what the resolution of lock `key` depends on."""
    sw = spec.software
    data = {
        "python": sw.python,
        "platform": PLATFORM,
        "packages": list(sw.python_packages),
        "indexes": list(sw.package_indexes),
    }
    if key != BASE:
        data["extra"] = list(spec.stages[key].extra_python_packages)
    if sw.python_requirements is not None:  # only then, so existing locks stay fresh
        data["index_url"] = sw.python_requirements.index_url
        data["hashes"] = dict(sw.python_requirements.hashes)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def header(spec: Spec, key: str, indexes: list[str]) -> str:
    """The first lines of lock `key`: what made it, its inputs digest, its index options."""
    what = "the shared image" if key == BASE else f"what the {key} stage adds"
    lines = [
        f"# Lock for {what}, made by `envparity lock` with uv for Python "
        f"{spec.software.python} on {PLATFORM}: do not edit.",
        f"{INPUTS_KEY}{inputs_digest(spec, key)}",
    ]
    lines += [url if url.startswith("--") else f"--extra-index-url {url}" for url in indexes]
    return "\n".join(lines) + "\n"


def recorded_digest(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith(INPUTS_KEY):
            return line[len(INPUTS_KEY) :].strip()
    return None


def is_fresh(spec: Spec, key: str, text: str) -> bool:
    return recorded_digest(text) == inputs_digest(spec, key)


# --- the body: one block per package --------------------------------------------------------


def blocks(lock_body: str) -> dict[str, str]:
    """A uv lock body split into one text block per package, keyed by its normalised name."""
    out: dict[str, str] = {}
    current = None
    for line in lock_body.splitlines(keepends=True):
        if line.strip() and not line[0].isspace() and not line.startswith(("#", "-")):
            current = name_of(line.split(" ")[0].split(";")[0].strip())
            out[current] = ""
        if current is not None:
            out[current] += line
    return out


def with_sizes(lock_body: str, sizes: Mapping[str, int]) -> str:
    """`lock_body` with each package's size as the last line of its block."""
    return "".join(
        block + f"{SIZE_KEY}{sizes.get(name, 0)}\n" for name, block in blocks(lock_body).items()
    )


def wheel_bytes(block: str) -> int:
    """The size recorded in one package's lock block (0 in a lock made before sizes were)."""
    for line in block.splitlines():
        if line.startswith(SIZE_KEY):
            return int(line[len(SIZE_KEY) :])
    return 0


def only_allowed_hashes(body: str, allowed: Mapping[str, tuple[str, ...]]) -> str:
    """Keep only the file hashes the requirements file lists for a pin, as pip accepts only those.

    A pin none of whose locked files has a listed hash is a LockError: pip would refuse it.
    """
    by_name = {name_of(pin): set(hashes) for pin, hashes in allowed.items()}
    out = []
    for name, block in blocks(body).items():
        if name not in by_name:
            out.append(block)
            continue
        lines = block.splitlines()
        pin = lines[0].rstrip(" \\")
        kept = [h for h in (ln.strip(" \\") for ln in lines[1:]) if h.startswith("--hash=")]
        kept = [h for h in kept if h.removeprefix("--hash=") in by_name[name]]
        if not kept:
            raise LockError(
                f"python_requirements: no file of {pin} has one of the "
                "--hash values the requirements file lists",
                "update the hashes (`pip hash FILE`), or the pin",
            )
        notes = [ln for ln in lines[1:] if ln.strip().startswith("#")]
        hashes = [f"    {h} \\" for h in kept[:-1]] + [f"    {kept[-1]}"]
        out.append("\n".join([pin + " \\", *hashes, *notes]) + "\n")
    return "".join(out)


# --- the pins -------------------------------------------------------------------------------


class LockFormatError(LockError):
    """A lock line that is not an exact `name==version` pin."""


def parse_lock(text: str) -> list[Pin]:
    """The pins of a hashed lock (`name==version \\` then `--hash=sha256:...` lines)."""
    pins: list[Pin] = []
    name = version = None
    hashes: set[str] = set()
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip().rstrip("\\").strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("--hash="):
            hashes.add(line.removeprefix("--hash=").removeprefix("sha256:"))
        elif line.startswith("-"):
            continue  # an option line (--extra-index-url): not a pin
        else:
            if name is not None:
                pins.append(Pin(name, version, frozenset(hashes)))
            requirement = line.split(";", 1)[0].strip()
            left, sep, right = requirement.partition("==")
            if not sep:
                raise LockFormatError(
                    f"lock line {raw.strip()!r} is not an exact name==version pin",
                    "regenerate the lock with `envparity lock`",
                )
            name, version, hashes = canonicalize_name(left.split("[", 1)[0]), right.strip(), set()
    if name is not None:
        pins.append(Pin(name, version, frozenset(hashes)))
    return pins


def install_locks(files: Mapping[str, bytes]) -> dict[str, list[Pin]]:
    """The locks the Dockerfile installs, by id: each dependency layer's slice of the shared
    lock (`requirements.1-heavy.lock` -> `1-heavy`) and each stage's own lock (`testing`).
    Their wheels go in wheelhouse/<id>/ of the build context."""
    return {
        name.removeprefix("requirements.").removesuffix(".lock"): parse_lock(text.decode())
        for name, text in sorted(files.items())
        if name.startswith("requirements.") and name.endswith(".lock") and name != LOCK
    }


def dependency_layers(files: Mapping[str, bytes], stage: str) -> list[str]:
    """The ids of the dependency layers `stage`'s image installs, in build order."""
    ids = sorted(i for i in install_locks(files) if i[:1].isdigit())
    return ids + ([stage] if f"requirements.{stage}.lock" in files else [])


def stage_pins(files: Mapping[str, bytes], stage: str) -> list[Pin]:
    """What the image of `stage` must hold: the whole shared lock (not its layer slices, so a
    package no layer installed is still expected), plus the stage's own lock if it has one."""
    pins = parse_lock(files[LOCK].decode())
    own = files.get(f"requirements.{stage}.lock")
    if own is not None:
        pins += parse_lock(own.decode())
    return pins
