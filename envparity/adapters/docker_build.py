"""Build a stage's image with the Docker SDK, verify it against the spec, push it: the engine.

Data flows one way: ResolvedStage + rendered files (+ a wheelhouse) -> build context
(`build_context`) -> image -> verification (`envparity.core.image_check`: Python version,
installed distributions = the lock) -> pushed digest. Nothing here draws: progress goes to
a callback and a verification mismatch comes back as data, so the CLI decides how it looks.

The `docker` package is imported inside the functions that talk to the engine, never at
module level: `validate` and `render` must not pay for it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from envparity.adapters.build_context import build_context, context_wheels
from envparity.adapters.build_errors import (
    BuildError,
    one_line,
    push_error,
    reason,
    short,
    step_hint,
)
from envparity.adapters.image_probe import ProbeError, probe_image
from envparity.core.image_check import Difference, ImageContents, image_differences
from envparity.core.lockfile import dependency_layers, stage_pins
from envparity.core.model import ResolvedStage

# On every image envparity builds: the digest of its inputs (`input_digest`).
INPUTS_LABEL = "io.envparity.build-inputs"
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
BOOKKEEPING = re.compile(r"---> [0-9a-f]{12}$|---> Running in |Removing intermediate container ")


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
            f"cannot reach the Docker engine at {where}: {reason(exc)}",
            "start dockerd (e.g. `bash .ci/services up`) or set DOCKER_HOST to a running engine",
        ) from None
    return client


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
                    where = f" at step {step}/{total} `{short(step_text)}`" if step else ""
                    detail = COMMAND_FAILED.sub(
                        r"the command exited with code \1", one_line(detail)
                    )
                    raise BuildError(
                        f"the build of {env.image_ref} failed{where}: {one_line(detail)}",
                        step_hint(step_text),
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
                f"the Docker engine refused the build of {env.image_ref}: {reason(exc)}",
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
        repository, _, name = split_tag(tag)
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
            f"base image {ref} is not on the engine and could not be pulled: {reason(exc)}",
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
            f"cannot verify {image}: {reason(exc)}", "check the engine's log"
        ) from None


def verify(client, env: ResolvedStage, files: Mapping[str, bytes], image: str) -> list[Difference]:
    """The differences between `image` and what `env` and its lock say (empty: it matches)."""
    labels = client.images.get(image).labels or {}
    return image_differences(env, stage_pins(files, env.stage), labels, probe(client, image))


# --- push -----------------------------------------------------------------------------------


def push(client, ref: str, on_progress: Callable[[str], None] | None = None) -> str:
    """Push `ref` (`repository:tag`) and return the digest the registry gave it."""
    from docker.errors import APIError

    repository, _, tag = split_tag(ref)
    digest = None
    try:
        for event in client.api.push(repository, tag=tag, stream=True, decode=True):
            if "error" in event:
                raise push_error(
                    ref, (event.get("errorDetail") or {}).get("message") or event["error"]
                )
            if "aux" in event and event["aux"].get("Digest"):
                digest = event["aux"]["Digest"]
            # "Pushing" repeats per chunk; the other statuses say what happened to a layer.
            if on_progress and event.get("status") and event["status"] != "Pushing":
                on_progress(" ".join(str(event[k]) for k in ("id", "status") if event.get(k)))
    except APIError as exc:
        raise push_error(ref, reason(exc)) from None
    if not digest:
        raise BuildError(f"the registry returned no digest for {ref}", "check the registry's log")
    return digest


# --- small helpers ----------------------------------------------------------------------------


def split_tag(ref: str) -> tuple[str, str, str]:
    """`repository`, ':', `tag` of a reference (a ':' before the last '/' is a registry port)."""
    repository, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag:
        return ref, ":", "latest"
    return repository, sep, tag


def _clean(text: str) -> list[str]:
    return [
        line for line in (ANSI.sub("", raw).rstrip() for raw in text.splitlines()) if line.strip()
    ]
