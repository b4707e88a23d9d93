"""Build a stage's image with the Docker SDK, verify it against the spec, push it.

Data flows one way: ResolvedStage + rendered files (+ a wheelhouse) -> build context
(a tar) -> image -> verification (Python version, installed distributions = the lock)
-> pushed digest. Nothing here draws: progress goes to a callback and a verification
mismatch comes back as data, so the CLI decides how it looks.

The `docker` package is imported inside the functions that talk to the engine, never at
module level: `validate` and `render` must not pay for it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from packaging.utils import canonicalize_name

from envparity.adapters.image_probe import ImageContents, ProbeError, probe_image
from envparity.core.diagnostics import UserError
from envparity.core.model import ResolvedStage
from envparity.core.names import image_labels

WHEELHOUSE = "wheelhouse"  # the build-context folder the Dockerfile copies wheels from
LOCK = "requirements.lock"  # the shared lock in the build context; its layers are slices of it
# On every image envparity builds: the digest of its inputs (`input_digest`).
INPUTS_LABEL = "io.envparity.build-inputs"
# What a virtualenv brings itself (ensurepip): checked only when the lock pins them.
VENV_TOOLS = frozenset({"pip", "setuptools", "wheel"})
VENV = "/opt/venv"
TAIL_LINES = 12  # lines of a failing step's output shown with the error
BUILD_TIMEOUT = (
    3600  # seconds one read from the engine may take (a long pip install prints nothing)
)
PING_TIMEOUT = 10

STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
# The pip step of a dependency layer (or of a stage's extra packages) names its lock slice.
LAYER_STEP = re.compile(r"pip install .* -r /tmp/envparity/requirements\.([a-z0-9-]+)\.lock")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# The classic builder repeats the whole RUN line in its error; the step line already shows it.
COMMAND_FAILED = re.compile(r"^The command .* returned a non-zero code: (\d+)$")
# Socket and network failures worth naming alone (the rest of the message is noise).
KNOWN_REASONS = (
    "connection refused",
    "no such file or directory",
    "permission denied",
    "timed out",
    "name or service not known",
)
BOOKKEEPING = re.compile(r"---> [0-9a-f]{12}$|---> Running in |Removing intermediate container ")


class BuildError(UserError):
    """A build, verify or push that failed for a reason the user can act on: one line, a hint,
    and optionally the last lines of output that explain it."""

    def __init__(self, message: str, hint: str | None = None, output: Iterable[str] = ()) -> None:
        super().__init__(message, hint)
        self.output = tuple(output)


@dataclass(frozen=True)
class Pin:
    """One locked distribution: canonical name, exact version, the sha256 hashes the lock allows."""

    name: str
    version: str
    hashes: frozenset[str]


@dataclass(frozen=True)
class Difference:
    """One way the image differs from the spec; None means "absent" on that side."""

    what: str  # "python", "python prefix" or a canonical distribution name
    expected: str | None
    found: str | None


@dataclass(frozen=True)
class Progress:
    """One build event: `step` of `total` (0 before the first step), and a line of output.

    `layer` names the dependency layer the step installs (`1-heavy`, ..., or a stage's
    extras), None for other steps; `reused` says whether the engine took it from its cache.
    """

    step: int
    total: int
    line: str
    layer: str | None = None
    reused: bool = False


@dataclass(frozen=True)
class LayerResult:
    """A dependency layer of the build: reused from the cache, or installed in `seconds`."""

    id: str
    reused: bool
    seconds: float


@dataclass(frozen=True)
class Built:
    image_id: str
    tags: tuple[str, ...]
    labels: Mapping[str, str]
    layers: tuple[LayerResult, ...] = ()
    reused_image: bool = False  # an image built before from the same inputs (INPUTS_LABEL)


# --- the engine ---------------------------------------------------------------------------


def connect():
    """A Docker client for the engine named by DOCKER_HOST (the default socket when unset)."""
    try:
        import docker
        from docker.errors import DockerException
    except ImportError:
        raise BuildError(
            "`envparity build` needs the Docker SDK, which is not installed",
            "pip install 'envparity[docker]'",
        ) from None
    where = os.environ.get("DOCKER_HOST") or "the default socket (unix:///var/run/docker.sock)"
    try:
        # A short timeout first, so an engine that does not answer fails in seconds, not in
        # the hour a build's reads may take.
        probe = docker.from_env(timeout=PING_TIMEOUT)
        probe.ping()
        probe.close()
        client = docker.from_env(timeout=BUILD_TIMEOUT)
    except (DockerException, OSError) as exc:
        raise BuildError(
            f"cannot reach the Docker engine at {where}: {_reason(exc)}",
            "start dockerd (e.g. `bash .ci/services up`) or set DOCKER_HOST to a running engine",
        ) from None
    return client


# --- locks and the wheelhouse ---------------------------------------------------------------


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
                raise BuildError(
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


# --- the build context --------------------------------------------------------------------


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


def _entry(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.uid, info.gid = size, 0, 0o644, 0, 0
    return info


# --- build ----------------------------------------------------------------------------------


def build(
    client,
    env: ResolvedStage,
    files: Mapping[str, bytes],
    *,
    wheelhouse: Path | None = None,
    base_image: str | None = None,
    tags: Iterable[str] = (),
    on_progress: Callable[[Progress], None] | None = None,
    no_cache: bool = False,
) -> Built:
    """Build `env.stage`'s target from the rendered `files`, tagged `env.image_ref` and `tags`.

    With a wheelhouse the build is offline: only hash-matching wheels enter the context,
    pip runs with --no-index, and the build's containers get no network at all.
    """
    from docker.errors import APIError

    base = base_image or base_ref(files)
    if base:
        ensure_image(client, base)
    buildargs = {"ENVPARITY_OFFLINE": "1" if wheelhouse else "0"}
    if base_image:
        buildargs["BASE_IMAGE"] = base_image
    inputs = input_digest(files, env.stage, buildargs, client.images.get(base).id if base else "")
    if not no_cache:
        earlier = built_before(client, inputs, files, env.stage)
        if earlier is not None:
            return _tagged(client, earlier.image_id, [env.image_ref, *tags], earlier.layers, True)
    wheels = context_wheels(wheelhouse, files) if wheelhouse else {}
    # The output of the step running now, to show with its error if it fails.
    step, total, step_text, tail = 0, 0, "", deque(maxlen=TAIL_LINES)
    layers = _LayerClock()
    image_id = None
    with build_context(files, wheels) as context:
        try:
            stream = client.api.build(
                fileobj=context,
                custom_context=True,
                tag=env.image_ref,
                target=env.stage,
                buildargs=buildargs,
                rm=True,
                forcerm=True,
                decode=True,
                nocache=no_cache,
                network_mode="none" if wheelhouse else None,
                labels={INPUTS_LABEL: inputs},
            )
            for event in stream:
                if "error" in event:
                    detail = (event.get("errorDetail") or {}).get("message") or event["error"]
                    where = f" at step {step}/{total} `{_short(step_text)}`" if step else ""
                    detail = COMMAND_FAILED.sub(
                        r"the command exited with code \1", _one_line(detail)
                    )
                    raise BuildError(
                        f"the build of {env.image_ref} failed{where}: {_one_line(detail)}",
                        _step_hint(step_text),
                        tail,
                    )
                if "aux" in event and "ID" in event["aux"]:
                    image_id = event["aux"]["ID"]
                for line in _clean(event.get("stream", "")):
                    match = STEP.match(line)
                    if match:
                        step, total, step_text = int(match[1]), int(match[2]), match[3]
                        layers.step(step_text)
                        tail.clear()
                    else:
                        layers.line(line)
                        if not BOOKKEEPING.match(line.lstrip()):
                            tail.append(line)
                    if on_progress:
                        on_progress(Progress(step, total, line, layers.current, layers.reused))
        except APIError as exc:
            raise BuildError(
                f"the Docker engine refused the build of {env.image_ref}: {_reason(exc)}",
                "check the engine's log",
            ) from None
    if image_id is None:
        raise BuildError(
            f"the engine reported no image for {env.image_ref}", "check the engine's log", tail
        )
    return _tagged(client, image_id, tags, layers.done(), False)


def input_digest(
    files: Mapping[str, bytes], target: str, buildargs: Mapping[str, str], base_id: str
) -> str:
    """sha256 of everything an image's content follows from: the build context's files (the
    Dockerfile, and locks that pin every wheel by hash), the target, the build args and the
    base image's id. The wheels themselves need no hashing: the locks name their hashes."""
    data = {
        "files": {name: hashlib.sha256(content).hexdigest() for name, content in files.items()},
        "target": target,
        "buildargs": dict(buildargs),
        "base": base_id,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def built_before(client, inputs: str, files: Mapping[str, bytes], stage: str) -> Built | None:
    """The image an earlier build made from exactly these inputs, if the engine still has it.

    Reusing it skips sending the context (the wheels) to the engine only to hear that every
    step is cached; every dependency layer counts as reused.
    """
    # all=True: an image as built becomes an untagged parent once a provenance layer is added
    # on top, and those layers inherit the label: the image as built has the fewest layers.
    found = client.images.list(all=True, filters={"label": f"{INPUTS_LABEL}={inputs}"})
    if not found:
        return None
    image = min(found, key=lambda i: (len(i.attrs["RootFS"]["Layers"]), i.id))
    reused = tuple(LayerResult(i, True, 0.0) for i in dependency_layers(files, stage))
    return Built(image.id, (), {}, reused, reused_image=True)


def _tagged(
    client, image_id: str, tags: Iterable[str], layers: tuple[LayerResult, ...], reused: bool
) -> Built:
    image = client.images.get(image_id)
    for tag in tags:
        repository, _, name = _split_tag(tag)
        image.tag(repository, name)
    image.reload()
    return Built(image.id, tuple(sorted(image.tags)), dict(image.labels or {}), layers, reused)


class _LayerClock:
    """Which dependency layer the build stream is in, whether the cache gave it, how long it took.

    The classic builder prints `Step n/N : RUN ...` and then ` ---> Using cache` when it
    reuses the step; the pip step of a layer names its lock slice (LAYER_STEP).
    """

    def __init__(self) -> None:
        self.results: list[LayerResult] = []
        self.current: str | None = None
        self.reused = False
        self.started = 0.0

    def step(self, text: str) -> None:
        self._finish()
        match = LAYER_STEP.search(text)
        self.current, self.reused, self.started = (
            (match[1] if match else None),
            False,
            time.monotonic(),
        )

    def line(self, line: str) -> None:
        if self.current and line.strip() == "---> Using cache":
            self.reused = True

    def done(self) -> tuple[LayerResult, ...]:
        self._finish()
        return tuple(self.results)

    def _finish(self) -> None:
        if self.current:
            seconds = 0.0 if self.reused else time.monotonic() - self.started
            self.results.append(LayerResult(self.current, self.reused, seconds))
        self.current = None


def quarantine(client, built: Built, name: str) -> str:
    """Move `built`'s tags to the local-only `<name>:unverified` and return that; the image
    stays for inspection, but no reference that could be pushed or deployed names it."""
    kept = f"{name}:unverified"
    client.images.get(built.image_id).tag(name, "unverified")
    for tag in built.tags:
        if tag != kept:
            client.images.remove(tag, noprune=True)
    return kept


def ensure_image(client, ref: str) -> None:
    """`ref` is present, pulled if need be; otherwise a BuildError saying the base is missing."""
    from docker.errors import APIError, ImageNotFound

    try:
        client.images.get(ref)
        return
    except ImageNotFound:
        pass
    try:
        client.images.pull(ref)
    except (APIError, OSError) as exc:
        raise BuildError(
            f"base image {ref} is not on the engine and could not be pulled: {_reason(exc)}",
            "pull or import it first, or pass --base-image REF of an image the engine has",
        ) from None


def base_ref(files: Mapping[str, bytes]) -> str | None:
    """The Dockerfile's default base (`ARG BASE_IMAGE=...`).

    Checked before the build so that a missing base is one clear line, not a pull error deep
    in the stream; the provenance record names it.
    """
    match = re.search(r"^ARG BASE_IMAGE=(\S+)$", files["Dockerfile"].decode(), re.M)
    return match[1] if match else None


# --- verify -----------------------------------------------------------------------------------


def probe(client, image: str) -> ImageContents:
    """Run `image` once without network and report its Python, prefix and distributions."""
    from docker.errors import DockerException

    try:
        return probe_image(client, image)
    except ProbeError as exc:
        raise BuildError(
            f"cannot verify {image}: {exc}",
            "the image's PATH must lead to the environment's python",
            [line for line in exc.stderr if line.strip()][-TAIL_LINES:],
        ) from None
    except DockerException as exc:
        raise BuildError(
            f"cannot verify {image}: {_reason(exc)}", "check the engine's log"
        ) from None


def compare(python: str, pins: Iterable[Pin], found: ImageContents) -> list[Difference]:
    """How the probed image differs from the spec's Python and the lock (empty: it matches)."""
    diffs: list[Difference] = []
    if found.python != python:
        diffs.append(Difference("python", python, found.python))
    if found.prefix != VENV:
        diffs.append(Difference("python prefix", VENV, found.prefix))
    expected = {pin.name: pin.version for pin in pins}
    installed = found.distributions
    for name in sorted(expected.keys() | installed.keys()):
        want, have = expected.get(name), installed.get(name)
        if want is None and name in VENV_TOOLS:
            continue
        if want != have:
            diffs.append(Difference(name, want, have))
    return diffs


def compare_labels(env: ResolvedStage, labels: Mapping[str, str]) -> list[Difference]:
    """How the image's envparity labels differ from `env` (empty: they match)."""
    expected = image_labels(env.name, env.version, env.fingerprint)
    return [
        Difference(f"label {key}", value, labels.get(key))
        for key, value in expected.items()
        if labels.get(key) != value
    ]


def compare_cuda(env: ResolvedStage, found: ImageContents) -> list[Difference]:
    """For a stage whose CUDA comes from a wheel: the image's `nvidia-cuda-runtime-cuNN`
    distribution must be of that CUDA minor (empty when it is, or CUDA comes from `cuda`)."""
    if env.cuda_runtime is None or env.cuda_from in (None, "cuda"):
        return []
    major = env.cuda_runtime.split(".")[0]
    have = found.distributions.get(f"nvidia-cuda-runtime-cu{major}")
    if have is not None and have.split(".")[:2] == env.cuda_runtime.split("."):
        return []
    return [Difference(f"cuda runtime ({env.cuda_from})", env.cuda_runtime, have)]


def verify(client, env: ResolvedStage, files: Mapping[str, bytes], image: str) -> list[Difference]:
    """The differences between `image` and what `env` and its lock say (empty: it matches)."""
    labels = client.images.get(image).labels or {}
    found = probe(client, image)
    return (
        compare_labels(env, labels)
        + compare(env.software.python, stage_pins(files, env.stage), found)
        + compare_cuda(env, found)
    )


# --- push -----------------------------------------------------------------------------------


def push(client, ref: str, on_progress: Callable[[str], None] | None = None) -> str:
    """Push `ref` (`repository:tag`) and return the digest the registry gave it."""
    from docker.errors import APIError

    repository, _, tag = _split_tag(ref)
    digest = None
    try:
        for event in client.api.push(repository, tag=tag, stream=True, decode=True):
            if "error" in event:
                raise _push_error(
                    ref, (event.get("errorDetail") or {}).get("message") or event["error"]
                )
            if "aux" in event and event["aux"].get("Digest"):
                digest = event["aux"]["Digest"]
            # "Pushing" repeats per chunk; the other statuses say what happened to a layer.
            if on_progress and event.get("status") and event["status"] != "Pushing":
                on_progress(" ".join(str(event[k]) for k in ("id", "status") if event.get(k)))
    except APIError as exc:
        raise _push_error(ref, _reason(exc)) from None
    if not digest:
        raise BuildError(f"the registry returned no digest for {ref}", "check the registry's log")
    return digest


def _push_error(ref: str, message: str) -> BuildError:
    text = _one_line(message)
    registry = ref.split("/", 1)[0]
    if re.search(
        r"denied|unauthorized|authentication required|no basic auth credentials|forbidden",
        text,
        re.I,
    ):
        return BuildError(
            f"push of {ref} denied by {registry}: {text}",
            f"log in with `docker login {registry}` as a user allowed to push there",
        )
    if re.search(r"connection refused|no such host|dial tcp|timeout|i/o timeout|EOF", text, re.I):
        return BuildError(
            f"registry {registry} unreachable while pushing {ref}: {text}",
            "check the stage's registry: address and that the registry runs",
        )
    return BuildError(f"push of {ref} failed: {text}", "check the registry's log")


# --- small helpers ----------------------------------------------------------------------------


def _split_tag(ref: str) -> tuple[str, str, str]:
    """`repository`, ':', `tag` of a reference (a ':' before the last '/' is a registry port)."""
    repository, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag:
        return ref, ":", "latest"
    return repository, sep, tag


def _clean(text: str) -> list[str]:
    return [
        line for line in (ANSI.sub("", raw).rstrip() for raw in text.splitlines()) if line.strip()
    ]


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _short(text: str, width: int = 80) -> str:
    text = _one_line(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _step_hint(step_text: str) -> str:
    if "pip install" in step_text:
        return (
            "a package could not be installed: is the lock fresh (`envparity lock`) and does "
            "--wheelhouse hold a wheel for every pin?"
        )
    if "python --version" in step_text:
        return "use a base image that provides the spec's Python, or change python: in the spec"
    return "see the step's output above"


def _reason(exc: BaseException) -> str:
    """A one-line reason from a docker / requests exception (their str() is a wall of text)."""
    text = getattr(exc, "explanation", None) or str(exc)
    text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    lowered = text.lower()
    for reason in KNOWN_REASONS:
        if reason in lowered:
            return reason
    return _short(text, 300)
