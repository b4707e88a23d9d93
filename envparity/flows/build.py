"""`envparity build`'s use case: render, build, verify, stamp provenance, push, record.

The steps, in order: the push target is checked first (a push that cannot be recorded
deploys nothing), the build context is rendered (locks present and fresh), the image is
built (twice without cache for `--verify-reproducible`), verified against the spec and its
lock (`envparity.core.image_check`), stamped with its provenance record, then optionally
pushed and its digest recorded in the stage's stack config.

Nothing here draws: what the user sees goes through a `BuildView` the CLI implements
(docs/architecture.md: flows are use cases, the CLI parses and prints).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from envparity.adapters import docker_build as engine
from envparity.adapters.build_errors import BuildError
from envparity.core.image_check import Difference
from envparity.core.lockfile import dependency_layers
from envparity.core.model import ResolvedStage, Spec
from envparity.flows.reproducible import Twice


class BuildProgress(Protocol):
    """The display of one build's stream of events."""

    def on_progress(self, event: engine.Progress) -> None: ...

    def done(self, built: engine.Built) -> None: ...


class BuildView(Protocol):
    """What a build shows, step by step; the CLI's implementation decides how it looks."""

    def progress(self, title: str, layers: list[str]) -> AbstractContextManager[BuildProgress]:
        """Shown while the engine builds `title`, whose dependency layers are `layers`."""

    def built(self, built: engine.Built) -> None:
        """The image is built: which dependency layers were reused."""

    def differences(
        self, title: str, differences: Sequence[Difference], columns: tuple[str, str]
    ) -> None:
        """`title` differs from what it should be, as `columns` (expected, found)."""

    def quarantined(self, kept: str) -> None:
        """The image that failed verification is kept, only as `kept`."""

    def verified(self, env: ResolvedStage) -> None: ...

    def reproducible(self, twice: Twice) -> None: ...

    def stamped(self) -> None:
        """The provenance record is the image's last layer."""

    def image(self, ref: str) -> None:
        """The reference of the built image: the command's result."""

    def pushing(self, ref: str) -> AbstractContextManager[Callable[[str], None] | None]:
        """Shown while `ref` is pushed; what it gives receives the push's lines, if anything."""

    def pushed(self, pinned: str) -> None:
        """The pushed image, `repository@digest`: the command's result."""

    def recorded(self, ref: str, digest: str, path: Path) -> None: ...


@dataclass(frozen=True)
class Request:
    """What to build and how: the options of `envparity build`."""

    base_image: str | None = None
    wheelhouse: Path | None = None
    tags: tuple[str, ...] = ()
    push: bool = False
    stacks: Path = Path("stacks")
    twice: bool = False  # --verify-reproducible


def check_push_target(spec: Spec, env: ResolvedStage, stacks: Path) -> None:
    """A BuildError unless `env` can be pushed and its digest recorded under `stacks`."""
    from envparity.core.ledger import stack_config_path

    if not env.registry:
        raise BuildError(
            f"{spec.source}: stage {env.stage} names no registry to push to",
            f"set stages.{env.stage}.registry in the spec, e.g. 127.0.0.1:5000",
        )
    config = stack_config_path(stacks, env.stage)
    if not config.exists():
        raise BuildError(
            f"{config} does not exist, so a pushed digest could not be recorded",
            f"run `envparity render {spec.source}` from the project root (it fills an existing "
            "stacks/), or point --stacks at the stack configs",
        )


def build(spec: Spec, env: ResolvedStage, request: Request, view: BuildView) -> None:
    """Build, verify and stamp `env`'s image (and push and record it, on request)."""
    from envparity.adapters.provenance_image import stamp

    if request.push:  # checked first: a push that cannot be recorded deploys nothing
        check_push_target(spec, env, request.stacks)
    files = _render(spec)
    client = engine.connect()
    layers = dependency_layers(files, env.stage)
    options = {
        "wheelhouse": request.wheelhouse,
        "base_image": request.base_image,
        "tags": request.tags,
    }
    if request.twice:
        built = _build_twice(client, env, files, view, layers, options)
    else:
        with view.progress(env.image_ref, layers) as progress:
            built = engine.build(client, env, files, on_progress=progress.on_progress, **options)
            progress.done(built)
    view.built(built)
    differences = engine.verify(client, env, files, built.image_id)
    if differences:
        view.differences(env.image_ref, differences, ("spec / lock", "image"))
        # The reference must never name an image that failed verification.
        view.quarantined(engine.quarantine(client, built, env.name))
        raise BuildError(
            f"{env.image_ref} does not match {env.name}'s spec: {len(differences)} difference(s)",
            "rebuild without cache, or regenerate the lock with `envparity lock`",
        )
    view.verified(env)
    tags = [env.image_ref, *request.tags]
    stamp(client, spec.source, env, files, built.image_id, request.base_image, tags)
    view.stamped()
    view.image(env.image_ref)
    if request.push:
        _push(client, spec, env, request.stacks, view)


def _render(spec: Spec) -> dict[str, bytes]:
    """The build context's files; a render error names the spec (as `render` says it)."""
    from envparity.core.render import RenderError
    from envparity.core.render.artifacts import render_env

    try:
        return render_env(spec)
    except RenderError as exc:  # also LockError: a missing or stale lock
        if exc.message.startswith(spec.source):
            raise
        raise type(exc)(f"{spec.source}: {exc.message}", exc.hint) from None


def _build_twice(client, env, files, view: BuildView, layers, options) -> engine.Built:
    """`--verify-reproducible`: two cache-less builds compared; a BuildError when they differ."""
    from envparity.flows.reproducible import build_twice

    with view.progress(f"{env.image_ref} (twice, no cache)", layers) as progress:
        twice = build_twice(client, env, files, progress.on_progress, **options)
    if twice.differences:
        view.differences(f"two builds of {env.image_ref}", twice.differences, ("first", "second"))
        raise BuildError(
            f"{env.image_ref} is not reproducible: {len(twice.differences)} difference(s) "
            "between two builds without cache",
            "pin what moves (base image by digest, every package in the lock), then retry",
        )
    view.reproducible(twice)
    return twice.second


def _push(client, spec: Spec, env: ResolvedStage, stacks: Path, view: BuildView) -> None:
    """Push the verified image and record its digest in the stage's stack config."""
    from envparity.adapters.git import spec_commit
    from envparity.core.ledger import StackConfigError, record_image

    with view.pushing(env.image_ref) as on_progress:
        digest = engine.push(client, env.image_ref, on_progress=on_progress)
    view.pushed(f"{env.image_repository}@{digest}")
    try:
        path = record_image(
            stacks,
            env.stage,
            env.name,
            env.image_ref,
            digest,
            env.fingerprint,
            commit=spec_commit(spec.source),
        )
    except StackConfigError as exc:  # the context: the image is pushed, only not recorded
        raise StackConfigError(
            f"pushed {env.image_repository}@{digest} but could not record it: {exc.message}",
            exc.hint,
        ) from None
    view.recorded(env.image_ref, digest, path)
